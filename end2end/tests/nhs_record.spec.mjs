// The shared care record in Chromium, with JavaScript on and off, against the real FHIR server
// the suite starts (sekmet-fhir): a patient whose record is there links to their practice and
// reads their NHS record by section with its sources (nothing entered in error, a comparator
// kept) and in the summary to print; the GP accepts a home reading and it arrives on the
// shared care record exactly once.
import fs from "node:fs";
import path from "node:path";
import { test, expect, open, uniqueEmail, registerWithPassword, jsOn, expectAccessible } from "./helpers.mjs";
import { PASSWORD, createPractice, person, registerInvited, join, clinician } from "./staff.mjs";

const root = () => fs.readFileSync(path.join(process.env.E2E_MAIL_DIR, "care-record-root"), "utf8").trim();

/** A valid NHS number (modulus 11) no other test uses. */
function nhsNumber() {
  for (;;) {
    const d = Array.from({ length: 9 }, () => Math.floor(Math.random() * 10));
    const sum = d.reduce((s, x, i) => s + x * (10 - i), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return [...d, check].join("");
  }
}

/** The suite's own client at the FHIR server (seeding and checking it). */
async function fhir(request) {
  const res = await request.post(`${root()}/auth/token`, {
    headers: { Authorization: `Basic ${Buffer.from("tests:tests-secret").toString("base64")}` },
    form: { grant_type: "client_credentials", scope: "system/*.*" },
  });
  expect(res.status()).toBe(200);
  const token = (await res.json()).access_token;
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/fhir+json", Accept: "application/fhir+json" };
  return {
    async post(type, body) {
      const r = await request.post(`${root()}/fhir/${type}`, { headers, data: body });
      expect(r.status()).toBe(201);
      return (await r.json()).id;
    },
    async put(path, body) {
      const r = await request.put(`${root()}/fhir/${path}`, { headers, data: body });
      expect(r.status()).toBeLessThan(300);
    },
    async search(query) {
      const r = await request.get(`${root()}/fhir/${query}`, { headers });
      expect(r.status()).toBe(200);
      return r.json();
    },
  };
}

/** The patient asks the practice to link their record by NHS number and date of birth; its administrator accepts. */
async function linkRecord(page, adminPage, practice, ods, nhs, name, born) {
  await open(page, "/record/practice");
  await page.getByLabel("Your GP practice", { exact: true }).selectOption({ label: `${practice} (${ods})` });
  await page.getByLabel("Your NHS number").fill(nhs);
  await page.getByLabel("Your date of birth").fill(born);
  await page.getByRole("button", { name: "Ask to link" }).click();
  await expect(page.getByText(`You asked ${practice} to link your record`)).toBeVisible();
  await open(adminPage, "/practice");
  await adminPage.getByRole("button", { name: `Accept: this is our patient ${name}` }).click();
  await expect(adminPage.getByText("The record is linked.")).toBeVisible();
}

test("a linked patient reads their NHS record with its sources; a reading the GP accepts reaches it once", async ({ page, browser, baseURL, request }) => {
  test.setTimeout(180_000);
  const tag = `${jsOn() ? "js" : "nojs"}${Math.floor(Math.random() * 1e5)}`;
  const practice = `Hillside Surgery ${tag}`;
  const ods = `F${String(Math.floor(Math.random() * 1e5)).padStart(5, "0")}`;
  const adminEmail = uniqueEmail("admin");
  const gpEmail = uniqueEmail("gp");
  const patientEmail = uniqueEmail("patient");
  const nhs = nhsNumber();

  // The shared care record already knows the patient.
  const remote = await fhir(request);
  const patient = await remote.post("Patient", {
    resourceType: "Patient", identifier: [{ system: "https://fhir.nhs.uk/Id/nhs-number", value: nhs }],
    name: [{ family: "Okafor", given: ["Kim"] }], birthDate: "1975-09-30",
  });
  const subject = { reference: `Patient/${patient}` };
  await remote.post("Condition", { resourceType: "Condition", subject, code: { text: "Asthma" },
    clinicalStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "active" }] },
    onsetDateTime: "2001-05-01", recorder: { display: "Hillside Surgery" } });
  await remote.post("AllergyIntolerance", { resourceType: "AllergyIntolerance", patient: subject, code: { text: "Peanuts" },
    reaction: [{ manifestation: [{ text: "Swelling of the lips" }] }] });
  // Entered in error there: never shown as the patient's problem. A result below what the test
  // can measure: shown as "<2", never as 2.
  await remote.post("Condition", { resourceType: "Condition", subject, code: { text: "Diabetes entered wrongly" },
    verificationStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", code: "entered-in-error" }] } });
  await remote.post("Observation", { resourceType: "Observation", status: "final", subject, effectiveDateTime: "2026-03-01",
    code: { text: "Troponin" }, valueQuantity: { value: 2, comparator: "<", unit: "ng/L" } });
  for (const [value, on] of [[420, "2026-01-10"], [450, "2026-06-10"]]) {
    await remote.post("Observation", { resourceType: "Observation", status: "final", subject, effectiveDateTime: on,
      code: { coding: [{ system: "http://loinc.org", code: "19935-6", display: "Peak expiratory flow rate" }], text: "Peak flow" },
      performer: [{ display: "Royal Infirmary" }], valueQuantity: { value, unit: "L/min", system: "http://unitsofmeasure.org", code: "L/min" } });
  }

  // The practice links the patient's record.
  createPractice(practice, ods, "Jo Lee", adminEmail, baseURL);
  const admin = await person(browser, baseURL);
  await registerInvited(admin.page, "Jo Lee", adminEmail);
  await join(admin.page, adminEmail, practice);
  await admin.page.getByLabel("Their name", { exact: true }).fill("Dr Priya Shah");
  await admin.page.getByLabel("Their work email address", { exact: true }).fill(gpEmail);
  await admin.page.getByLabel("Job", { exact: true }).selectOption({ label: "GP" });
  await admin.page.getByRole("button", { name: "Send the invitation" }).click();
  await expect(admin.page.getByText("The invitation is on its way.")).toBeVisible();

  await registerWithPassword(page, "Kim Okafor", patientEmail, PASSWORD);
  await open(page, "/record/nhs");
  await expect(page.getByText(/once your GP practice has linked your record/)).toBeVisible();
  await linkRecord(page, admin.page, practice, ods, nhs, "Kim Okafor", "1975-09-30");

  // The patient's NHS record arrives (the worker pulls it at once); "Update now" asks again.
  await open(page, "/record");
  await page.getByRole("link", { name: "Your NHS record" }).click();
  await expect(page.getByRole("heading", { name: "Your NHS record" })).toBeVisible();
  await expect(async () => {
    await page.getByRole("button", { name: "Update now" }).click();
    await expect(page.getByText("Asthma")).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByText(/Last updated/)).toBeVisible();
  const problems = page.locator("section", { has: page.getByRole("heading", { name: "Problems" }) });
  await expect(problems.getByText("Asthma")).toBeVisible();
  await expect(problems.getByText("Hillside Surgery")).toBeVisible();
  await expect(problems.getByText("GP", { exact: true })).toBeVisible();
  const allergies = page.locator("section", { has: page.getByRole("heading", { name: "Allergies" }) });
  await expect(allergies.getByText("Reaction: Swelling of the lips")).toBeVisible();
  const results = page.locator("section", { has: page.getByRole("heading", { name: "Test results" }) });
  await expect(results.getByText("Hospital", { exact: true }).first()).toBeVisible();
  await expect(results.getByRole("cell", { name: "up from 420 to 450 L/min" })).toBeVisible();
  await expect(results.getByText("<2 ng/L")).toBeVisible();
  await expect(page.getByText("Diabetes entered wrongly")).toHaveCount(0);
  await expectAccessible(page);

  // A home reading, shared; the GP accepts it; it reaches the shared care record once.
  await open(page, "/record/readings/new?kind=peak-flow");
  await page.getByLabel("Peak flow", { exact: true }).fill("460");
  await page.getByLabel("Share with my GP practice").check();
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();
  const entry = new URL(page.url()).pathname.split("/").pop();

  // The summary to print: the NHS record's problems and allergies (nothing entered in error),
  // the latest home reading, the practice to contact; printed, only the summary shows.
  await open(page, "/record");
  await page.getByRole("link", { name: "A health summary to print" }).click();
  const summary = page.getByRole("article", { name: "Health summary: Kim Okafor" });
  await expect(summary).toBeVisible();
  await expect(summary.getByText(/^Made on .* from Carry, held by the patient\.$/)).toBeVisible();
  const part = (name) => summary.locator("section", { has: page.getByRole("heading", { name, exact: true }) });
  await expect(part("Problems").getByText("Asthma")).toBeVisible();
  await expect(part("Allergies").getByText("Peanuts")).toBeVisible();
  await expect(part("Recent home readings").getByRole("row", { name: /Peak flow 460 litres a minute/ })).toBeVisible();
  await expect(part("Who to contact").getByText(practice)).toBeVisible();
  await expect(summary.getByText("Diabetes entered wrongly")).toHaveCount(0);
  await expectAccessible(page);
  await page.emulateMedia({ media: "print" });
  await expect(page.locator(".site-header")).toBeHidden();
  await expect(page.getByRole("link", { name: "Back to the record" })).toBeHidden();
  await expect(summary).toBeVisible();
  await page.emulateMedia({ media: "screen" });

  const gp = await clinician(browser, baseURL, "Dr Priya Shah", gpEmail, practice);
  await open(gp.page, "/practice/inbox");
  await gp.page.getByRole("link", { name: /Kim Okafor/ }).click();
  await gp.page.getByRole("checkbox", { name: "Peak flow" }).check();
  await gp.page.getByLabel("Accept into the record").check();
  await gp.page.getByRole("button", { name: "Record the decision" }).click();
  await expect(gp.page.getByText("Done. The patient has been told there is an update.")).toBeVisible();
  const system = encodeURIComponent(`${new URL(baseURL).origin}/fhir/id/entry|${entry}`);
  await expect(async () => {
    const found = await remote.search(`Observation?identifier=${system}`);
    expect(found.total ?? (found.entry || []).length).toBe(1);
  }).toPass({ timeout: 30_000 });
  await open(page, `/record/entries/${entry}`);
  await expect(page.getByText(/Sent to the shared care record on/)).toBeVisible();

  // Back on the NHS record, after the next pull, the reading shows as the patient's own.
  await open(page, "/record/nhs");
  await expect(async () => {
    await page.getByRole("button", { name: "Update now" }).click();
    await expect(results.getByText("You", { exact: true })).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await open(page, "/record/access-log?who=all");
  await expect(page.getByText("The regional care record system added to your NHS record").first()).toBeVisible();

  for (const c of [admin, gp]) await c.context.close();
});

test("a record whose name differs on the shared care record is held for the practice to check, then matched", async ({ page, browser, baseURL, request }) => {
  test.setTimeout(180_000);
  const tag = `${jsOn() ? "js" : "nojs"}${Math.floor(Math.random() * 1e5)}`;
  const practice = `Brookside Surgery ${tag}`;
  const ods = `H${String(Math.floor(Math.random() * 1e5)).padStart(5, "0")}`;
  const adminEmail = uniqueEmail("admin");
  const nhs = nhsNumber();
  const remote = await fhir(request);
  const patientResource = (family) => ({
    resourceType: "Patient", identifier: [{ system: "https://fhir.nhs.uk/Id/nhs-number", value: nhs }],
    name: [{ family, given: ["Ola"] }], birthDate: "1968-02-11",
  });
  const id = await remote.post("Patient", patientResource("Adeyemo"));
  await remote.post("Condition", { resourceType: "Condition", subject: { reference: `Patient/${id}` }, code: { text: "Gout" },
    onsetDateTime: "2015-07-01", recorder: { display: "Brookside Surgery" } });

  createPractice(practice, ods, "Jo Lee", adminEmail, baseURL);
  const admin = await person(browser, baseURL);
  await registerInvited(admin.page, "Jo Lee", adminEmail);
  await join(admin.page, adminEmail, practice);
  await registerWithPassword(page, "Ola Adeyemi", uniqueEmail("patient"), PASSWORD);
  await linkRecord(page, admin.page, practice, ods, nhs, "Ola Adeyemi", "1968-02-11");

  // The family name differs there: held, never merged; the administrator sees why.
  const held = admin.page.getByRole("table", { name: "Records held for a person to check" });
  await expect(async () => {
    await open(admin.page, "/practice");
    await expect(held.getByRole("cell", { name: "Ola Adeyemi", exact: true })).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(held.getByText("the name in the shared care record is different")).toBeVisible();
  await expectAccessible(admin.page);
  await open(page, "/record/nhs");
  await expect(page.getByText("Gout")).toHaveCount(0);

  // Corrected there, the administrator has it checked again: matched, and the record arrives.
  await remote.put(`Patient/${id}`, { ...patientResource("Adeyemi"), id });
  await admin.page.getByRole("button", { name: "Check again for Ola Adeyemi" }).click();
  await expect(admin.page.getByText("Carry will look the record up in the shared care record again now.")).toBeVisible();
  await expect(async () => {
    await open(page, "/record/nhs");
    await expect(page.getByText("Gout")).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await open(admin.page, "/practice");
  await expect(held).toHaveCount(0);
  await admin.context.close();
});
