// Checks FHIR R4 JSON files with a second independent validator, FHIR.js (npm `fhir`, pinned in
// package.json): structure, cardinality, value sets it knows, and every resource in a Bundle.
//
//     node scripts/fhir/validate.mjs FILE_OR_FOLDER...   exit 0 when all are valid; 1 with one line per error
import fs from "node:fs";
import path from "node:path";
import fhirPkg from "fhir";

const fhir = new fhirPkg.Fhir();
const files = process.argv.slice(2).flatMap((a) =>
  fs.statSync(a).isDirectory() ? fs.readdirSync(a).filter((f) => f.endsWith(".json")).sort().map((f) => path.join(a, f)) : [a],
);
const problems = [];
for (const file of files) {
  const resource = JSON.parse(fs.readFileSync(file, "utf8"));
  const result = fhir.validate(resource);
  for (const m of result.messages.filter((m) => m.severity === "error")) {
    problems.push(`${file}: ${m.location}: ${m.message}`);
  }
}
for (const p of problems) console.log(p);
console.log(`${files.length} files, ${problems.length} errors (FHIR.js)`);
process.exit(problems.length ? 1 : 0);
