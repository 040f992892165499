// Shared pieces of Carry's browser suite.
import { test as base, expect } from "@playwright/test";
import { AxeBuilder } from "@axe-core/playwright";
import fs from "node:fs";
import path from "node:path";

/** Every test fails if the page logged an error or threw (CSP violations, hydration panics...). */
export const test = base.extend({
  page: async ({ page }, use) => {
    const problems = [];
    page.on("console", (m) => {
      // Chromium logs every 4xx answer; Carry gives those on purpose (wrong password, 404...).
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    await use(page);
    expect(problems, "errors in the browser console").toEqual([]);
  },
});
export { expect };

/** Whether this run has JavaScript on. */
export const jsOn = () => test.info().project.name === "js";

/** Opens a page; with JavaScript on, waits until it is hydrated. */
export async function open(page, url) {
  await page.goto(url);
  if (jsOn()) await page.waitForSelector("html[data-hydrated]", { state: "attached" });
}

/** A fresh address for one test. */
export function uniqueEmail(who) {
  return `${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`.toLowerCase();
}

/** Waits for the nth message the SMTP server received for `to`. */
export async function mailTo(to, n = 1) {
  const dir = process.env.E2E_MAIL_DIR;
  for (let i = 0; i < 200; i++) {
    const mine = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
          .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))
          .filter((m) => m.to.includes(to.toLowerCase()))
      : [];
    if (mine.length >= n) return mine[n - 1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message ${n} for ${to}`);
}

/** The first link in a message whose path starts with `prefix`. */
export function linkIn(mail, prefix) {
  const link = mail.text.split(/\s+/).find((w) => new URL(w, "http://x").pathname.startsWith(prefix) && w.startsWith("http"));
  if (!link) throw new Error(`no ${prefix} link in: ${mail.text}`);
  return link;
}

/** A virtual passkey authenticator with user verification, on this page's browser context. */
export async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** Runs axe-core on the page and fails on any WCAG 2.x A or AA violation. */
export async function expectAccessible(page) {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
  if (jsOn()) {
    report(page.url(), await new AxeBuilder({ page }).withTags(tags).analyze());
    return;
  }
  // axe is a script, and this page runs none: audit exactly the HTML it shows (scripts removed)
  // at the same address, in a page that allows axe to run.
  const url = page.url();
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "");
  const context = await page.context().browser().newContext({ javaScriptEnabled: true });
  try {
    const copy = await context.newPage();
    await copy.route(url, (route) => route.fulfill({ contentType: "text/html; charset=utf-8", body: html }));
    await copy.goto(url);
    report(url, await new AxeBuilder({ page: copy }).withTags(tags).analyze());
  } finally {
    await context.close();
  }
}

function report(url, results) {
  const found = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(found, `accessibility violations on ${url}`).toEqual([]);
}

/** Registration through the emailed link, finishing with a password. Ends on the account page. */
export async function registerWithPassword(page, name, email, password) {
  await startRegistration(page, name, email);
  const link = linkIn(await mailTo(email), "/welcome/");
  await open(page, link);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  // "Your details" appears only when the account loaded (an error shows the page heading too).
  await expect(page.getByRole("heading", { name: "Your details", exact: true })).toBeVisible();
}

/** The first step of registration: name and email, then "check your email". */
export async function startRegistration(page, name, email) {
  await open(page, "/register");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { name: "Check your email", exact: true })).toBeVisible();
}

/** Signs in with a password from the sign-in page. */
export async function signInWithPassword(page, email, password) {
  await open(page, "/sign-in");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Signs out with the header button. */
export async function signOut(page) {
  await page.getByRole("button", { name: "Sign out", exact: true }).first().click();
  await expect(page.getByRole("heading", { name: "You have signed out", exact: true })).toBeVisible();
}
