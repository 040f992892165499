// Carry's SMART Health Links viewer. The link comes after `#` in the address, which a browser
// never sends to a server, so the key that opens the summary stays here. It asks who is looking
// (and the passcode, for a link that needs one), fetches the manifest, decrypts each file with
// Web Crypto (JWE: dir, A256GCM) and shows the International Patient Summary as text: nothing
// from the file is ever inserted as HTML.

const root = document.getElementById("shl-viewer");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function show(...nodes) {
  root.replaceChildren(...nodes);
}

function problem(words) {
  show(el("div", { class: "error-summary", role: "alert", tabindex: "-1" }, el("h2", { text: "This link cannot be opened" }), el("p", { text: words })));
  root.querySelector(".error-summary").focus();
}

function fromB64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// The link's payload, from `#shlink:/...` or `#<viewer>#shlink:/...`.
function readLink() {
  const at = location.hash.indexOf("shlink:/");
  if (at < 0) return null;
  try {
    const payload = JSON.parse(new TextDecoder().decode(fromB64url(location.hash.slice(at + 8))));
    if (typeof payload.url !== "string" || typeof payload.key !== "string" || payload.key.length !== 43) return null;
    return payload;
  } catch {
    return null;
  }
}

async function decrypt(jwe, keyText) {
  const [header, encryptedKey, iv, ciphertext, tag] = jwe.split(".");
  const h = JSON.parse(new TextDecoder().decode(fromB64url(header)));
  if (h.alg !== "dir" || h.enc !== "A256GCM" || encryptedKey !== "") throw new Error("not a file this viewer can open");
  const key = await crypto.subtle.importKey("raw", fromB64url(keyText), "AES-GCM", false, ["decrypt"]);
  const sealed = new Uint8Array([...fromB64url(ciphertext), ...fromB64url(tag)]);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromB64url(iv), additionalData: new TextEncoder().encode(header) },
    key,
    sealed,
  );
  return JSON.parse(new TextDecoder().decode(plain));
}

// A narrative's words, read as text in an inert document: its list items and paragraphs.
function narrativeLines(div) {
  if (typeof div !== "string") return [];
  const doc = new DOMParser().parseFromString(div, "text/html");
  const parts = [...doc.querySelectorAll("li, p")].map((n) => n.textContent.trim()).filter(Boolean);
  return parts.length ? parts : [doc.body.textContent.trim()].filter(Boolean);
}

function summary(bundle, label) {
  const entries = bundle.entry || [];
  const composition = entries[0] && entries[0].resource;
  if (!composition || composition.resourceType !== "Composition") throw new Error("the file is not a patient summary");
  const subject = entries.find((e) => e.fullUrl === (composition.subject || {}).reference);
  const patient = (subject && subject.resource) || {};
  const name = ((patient.name || [])[0] || {}).text || "Unknown";
  const facts = [];
  if (patient.birthDate) facts.push(`Born ${patient.birthDate}`);
  const nhs = (patient.identifier || []).find((i) => i.system === "https://fhir.nhs.uk/Id/nhs-number");
  if (nhs) facts.push(`NHS number ${nhs.value}`);
  const sections = (composition.section || []).map((s, i) => {
    const id = `shl-section-${i}`;
    const lines = narrativeLines((s.text || {}).div);
    return el(
      "section",
      { "aria-labelledby": id },
      el("h2", { id, text: s.title || "Section" }),
      el("ul", {}, ...lines.map((line) => el("li", { text: line }))),
    );
  });
  const json = new Blob([JSON.stringify(bundle, null, 2)], { type: "application/fhir+json" });
  const download = el("a", { href: URL.createObjectURL(json), download: "health-summary.json", class: "button secondary", text: "Download the summary as FHIR JSON" });
  const heading = el("h2", { id: "shl-patient", tabindex: "-1", text: `Health summary: ${name}` });
  show(
    el(
      "article",
      { class: "shl-summary", "aria-labelledby": "shl-patient" },
      heading,
      el("p", { class: "summary-made", text: `${composition.title || "Patient summary"}. Shared through the link \u201c${label}\u201d, from Carry, held by the patient.` }),
      facts.length ? el("p", { text: facts.join(". ") + "." }) : null,
      ...sections,
      el("p", {}, download),
    ),
  );
  heading.focus();
}

async function open(link, recipient, passcode) {
  if (new URL(link.url, location.href).origin !== location.origin) {
    problem("This viewer opens links made by this Carry only. Open the link in the SMART Health Links viewer of the service that made it.");
    return;
  }
  const body = { recipient };
  if (passcode) body.passcode = passcode;
  const res = await fetch(link.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (res.status === 401) {
    const { remainingAttempts } = await res.json();
    ask(link, `The passcode is not right. ${remainingAttempts} ${remainingAttempts === 1 ? "try is" : "tries are"} left before the link stops working.`, recipient);
    return;
  }
  if (res.status === 404) {
    problem("The link has ended, expired or been locked, or it is not a link Carry knows. Ask the person who gave it to you for a new one.");
    return;
  }
  if (!res.ok) {
    problem("Something went wrong. Please try again.");
    return;
  }
  const manifest = await res.json();
  for (const file of manifest.files || []) {
    if (file.contentType !== "application/fhir+json") continue;
    const jwe = file.embedded || (await (await fetch(file.location)).text());
    summary(await decrypt(jwe, link.key), link.label || "");
    return;
  }
  problem("The link holds no summary this viewer can show.");
}

function ask(link, error, recipient = "") {
  const needsPasscode = (link.flag || "").includes("P");
  const form = el("form", { novalidate: "" });
  const parts = [];
  if (error) parts.push(el("div", { class: "error-summary", role: "alert" }, el("p", { text: error })));
  parts.push(
    el("p", { text: `You have been given a link to a health summary: \u201c${link.label || "Health summary"}\u201d.` }),
    link.exp ? el("p", { text: `It works until ${new Date(link.exp * 1000).toLocaleString("en-GB")}.` }) : null,
    el("p", { text: "The person who shared it will see your name in their record's access log." }),
    el("div", { class: "field" }, el("label", { for: "shl-recipient", text: "Your name and role" }), el("input", { id: "shl-recipient", name: "recipient", type: "text", autocomplete: "name", required: "", value: recipient })),
  );
  if (needsPasscode) {
    parts.push(el("div", { class: "field" }, el("label", { for: "shl-passcode", text: "Passcode" }), el("p", { class: "hint", text: "Ask the person who gave you the link." }), el("input", { id: "shl-passcode", name: "passcode", type: "password", autocomplete: "off" })));
  }
  parts.push(el("button", { type: "submit", class: "button", text: "Show the summary" }));
  form.append(...parts.filter(Boolean));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const who = form.recipient.value.trim();
    if (!who) {
      form.recipient.focus();
      return;
    }
    show(el("p", { role: "status", text: "Opening the summary\u2026" }));
    open(link, who, needsPasscode ? form.passcode.value : "").catch(() => problem("The summary could not be opened. Please try again."));
  });
  show(form);
  if (error) (form.passcode || form.recipient).focus();
}

const link = readLink();
if (!link) problem("There is no health link in this address. Scan the QR code again, or open the whole link you were given.");
else if (link.exp && link.exp * 1000 < Date.now()) problem("This link has expired. Ask the person who gave it to you for a new one.");
else ask(link, null);
