// Practices and their staff in the browser suite: a practice made with `carry practice create`,
// staff registering and joining by their emailed links, and clinicians with a passkey session
// (made with JavaScript on, and carried into a JavaScript-off context when the project says so).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, open, mailTo, linkIn, addAuthenticator, startRegistration, jsOn } from "./helpers.mjs";

export const PASSWORD = "kettle lantern orbit meadow";

/** `carry practice create`, against the database the test server uses. */
export function createPractice(name, ods, adminName, adminEmail, baseURL) {
  const url = fs.readFileSync(path.join(process.env.E2E_MAIL_DIR, "database-url"), "utf8").trim();
  const out = execFileSync(process.env.CARRY_BIN || "target/release/carry", [
    "practice", "create", "--name", name, "--ods", ods, "--admin-name", adminName, "--admin-email", adminEmail,
  ], { env: { ...process.env, CARRY_MODE: "development", DATABASE_URL: url, CARRY_PUBLIC_URL: baseURL, CARRY_MAIL_FOLDER: fs.mkdtempSync("/tmp/carry-cli-") } });
  expect(out.toString()).toContain(`made practice ${name}`);
}

/** A person's own browser context (JavaScript as the project says, unless told otherwise). */
export async function person(browser, baseURL, js = jsOn()) {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: js });
  return { context, page: await context.newPage() };
}

/** Staff are invited before they have an account: their first email is the invitation, their
 * second the registration link. Registers with a password from the second. */
export async function registerInvited(page, name, email) {
  await startRegistration(page, name, email);
  await open(page, linkIn(await mailTo(email, 2), "/welcome/"));
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your details", exact: true })).toBeVisible();
}

/** Opens the emailed staff invitation (their first email) and joins. */
export async function join(page, email, practice) {
  await open(page, linkIn(await mailTo(email, 1), "/practice/join/"));
  await page.getByRole("button", { name: `Join ${practice}` }).click();
  await expect(page.getByText("You have joined the practice.")).toBeVisible();
}

/** A clinician: registers with a passkey (JavaScript on), joins, and comes back in a context
 * with the project's JavaScript setting and the same passkey session. */
export async function clinician(browser, baseURL, name, email, practice) {
  const setup = await person(browser, baseURL, true);
  await addAuthenticator(setup.page);
  await startRegistration(setup.page, name, email);
  await open(setup.page, linkIn(await mailTo(email, 2), "/welcome/"));
  await setup.page.getByRole("button", { name: "Create a passkey" }).click();
  await expect(setup.page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
  await open(setup.page, linkIn(await mailTo(email, 1), "/practice/join/"));
  await setup.page.getByRole("button", { name: `Join ${practice}` }).click();
  await expect(setup.page.getByText("You have joined the practice.")).toBeVisible();
  if (jsOn()) return setup;
  const state = await setup.context.storageState();
  await setup.context.close();
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false, storageState: state });
  return { context, page: await context.newPage() };
}

