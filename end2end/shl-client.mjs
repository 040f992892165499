// An outside SMART Health Links client, written only from the specification and sharing no code
// with Carry: it reads the QR code from a PNG (jsQR, pngjs), takes the `shlink:/` payload from
// the address it holds, asks the manifest for the files (with a recipient, and the passcode if
// given), fetches any file named by address, and decrypts each with jose (JWE dir, A256GCM).
//
//     node end2end/shl-client.mjs QR.png RECIPIENT [PASSCODE]
//     node end2end/shl-client.mjs https://...#shlink:/... RECIPIENT [PASSCODE]   (a link sent as text)
//
// Prints one JSON object: {status, payload, viewerUrl, body} when the manifest refuses, or
// {status: 200, payload, viewerUrl, manifest, header, bundle} with the decrypted Bundle.
import fs from "node:fs";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { base64url, compactDecrypt } from "jose";

const [pngPath, recipient, passcode] = process.argv.slice(2);
if (!pngPath || !recipient) {
  console.error("usage: node end2end/shl-client.mjs QR.png|LINK RECIPIENT [PASSCODE]");
  process.exit(2);
}
function fromQr(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!code) {
    console.log(JSON.stringify({ error: "no QR code found in the image" }));
    process.exit(3);
  }
  return code.data;
}
const viewerUrl = /^https?:/.test(pngPath) ? pngPath : fromQr(pngPath);
const at = viewerUrl.indexOf("shlink:/");
if (at < 0) {
  console.log(JSON.stringify({ error: "the QR code holds no shlink:/ payload", viewerUrl }));
  process.exit(3);
}
const payload = JSON.parse(new TextDecoder().decode(base64url.decode(viewerUrl.slice(at + "shlink:/".length))));

const body = { recipient };
if (passcode) body.passcode = passcode;
const res = await fetch(payload.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
if (!res.ok) {
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {}
  console.log(JSON.stringify({ status: res.status, payload, viewerUrl, body: parsed ?? text }));
  process.exit(0);
}
const manifest = await res.json();
const file = manifest.files.find((f) => f.contentType === "application/fhir+json");
const jwe = file.embedded ?? (await (await fetch(file.location)).text());
const { plaintext, protectedHeader } = await compactDecrypt(jwe, base64url.decode(payload.key));
const bundle = JSON.parse(new TextDecoder().decode(plaintext));
console.log(JSON.stringify({ status: 200, payload, viewerUrl, manifest: { status: manifest.status }, header: protectedHeader, bundle }));
