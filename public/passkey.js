// Passkeys for Carry: a small progressive enhancement. Pages work without it (password forms);
// with it, buttons marked data-passkey-action run a WebAuthn ceremony against Carry's server
// functions. Events are delegated from the document, so pages shown later by client-side
// navigation work too. Carry's server holds all ceremony state; this file holds none.

const supported = typeof window.PublicKeyCredential !== "undefined" &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

if (supported) document.documentElement.classList.add("passkeys");

const api = {
  register: ["/api/passkey/register/start", "/api/passkey/register/finish"],
  recover: ["/api/passkey/recover/start", "/api/passkey/recover/finish"],
  add: ["/api/passkey/add/start", "/api/passkey/add/finish"],
  "sign-in": ["/api/passkey/sign-in/start", "/api/passkey/sign-in/finish"],
};

async function post(url, fields) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams(fields),
    credentials: "same-origin",
  });
  const text = await res.text();
  let value;
  try { value = JSON.parse(text); } catch { value = text; }
  if (!res.ok) throw new CarryError(value);
  return value;
}

class CarryError extends Error {
  constructor(value) {
    super(messageFor(value));
  }
}

// AppError arrives as serde's JSON of the enum.
function messageFor(value) {
  if (value && typeof value === "object") {
    if (typeof value.Refused === "string") return value.Refused;
    if (Array.isArray(value.Invalid)) return value.Invalid.map((f) => f.message).join(" ");
    if (value.ReauthRequired !== undefined || value === "ReauthRequired") return "For your safety, sign in again to make this change.";
    if (typeof value.Internal === "string") return `Something went wrong on our side. If it keeps happening, quote incident ${value.Internal}.`;
  }
  if (value === "ReauthRequired") return "For your safety, sign in again to make this change.";
  if (value === "NotSignedIn") return "Please sign in to continue.";
  return "Something went wrong. Please try again.";
}

function statusFor(el) {
  const section = el.closest("main") || document;
  return section.querySelector("[data-passkey-status]");
}

function say(el, text) {
  const status = statusFor(el);
  if (status) status.textContent = text;
}

let conditional = null; // the pending autofill request, if any

// Only ever go to a path on Carry itself (the server checks this too).
function localPath(next) {
  return typeof next === "string" && /^\/(?!\/)[\x21-\x7e]*$/.test(next) && !next.includes("\\") ? next : "/account";
}

async function run(button) {
  const action = button.dataset.passkeyAction;
  const [startUrl, finishUrl] = api[action] || [];
  if (!startUrl) return;
  const fields = {};
  if (button.dataset.token) fields.token = button.dataset.token;
  button.disabled = true;
  say(button, action === "sign-in" ? "Waiting for your passkey\u2026" : "Follow your browser\u2019s steps to create a passkey\u2026");
  try {
    if (conditional) { conditional.abort(); conditional = null; }
    const challenge = await post(startUrl, fields);
    const options = JSON.parse(challenge.options_json);
    let credential;
    if (action === "sign-in") {
      credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey) });
    } else {
      credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey) });
    }
    const finish = { ceremony_id: challenge.ceremony_id, credential: JSON.stringify(credential.toJSON()) };
    if (action === "add") {
      const name = document.getElementById("passkey-name");
      finish.name = name && name.value.trim() ? name.value.trim() : "Passkey";
    }
    if (action === "sign-in") finish.next = button.dataset.next || "";
    const next = await post(finishUrl, finish);
    say(button, "Done.");
    window.location.assign(localPath(next));
  } catch (e) {
    button.disabled = false;
    if (e && e.name === "NotAllowedError") {
      say(button, "The passkey request was cancelled or timed out. You can try again.");
    } else if (e && e.name === "InvalidStateError") {
      say(button, "This device already has a passkey for your account.");
    } else {
      say(button, e instanceof CarryError ? e.message : "Your browser could not use a passkey. You can try again, or use a password.");
    }
  }
}

// Passkey autofill: offer passkeys in the email field's suggestions on the sign-in page.
async function startAutofill(input) {
  if (conditional || !supported || !PublicKeyCredential.isConditionalMediationAvailable) return;
  if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
  conditional = new AbortController();
  const signal = conditional.signal;
  try {
    const challenge = await post(api["sign-in"][0], {});
    const options = JSON.parse(challenge.options_json);
    const credential = await navigator.credentials.get({
      mediation: "conditional",
      signal,
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
    });
    const form = input.closest("form");
    const nextField = form && form.querySelector("input[name=next]");
    const next = await post(api["sign-in"][1], {
      ceremony_id: challenge.ceremony_id,
      credential: JSON.stringify(credential.toJSON()),
      next: nextField ? nextField.value : "",
    });
    window.location.assign(localPath(next));
  } catch (e) {
    if (!signal.aborted) say(input, e instanceof CarryError ? e.message : "");
  } finally {
    if (conditional && conditional.signal === signal) conditional = null;
  }
}

if (supported) {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-passkey-action]");
    if (button) {
      event.preventDefault();
      run(button);
    }
  });
  document.addEventListener("focusin", (event) => {
    const input = event.target.closest("input[autocomplete~=webauthn]");
    if (input) startAutofill(input);
  });
}
