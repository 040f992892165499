// axe-core on every page (WCAG 2.2 A and AA), signed out and signed in, with errors showing,
// and at 320 px wide.
import { test, expect, open, uniqueEmail, expectAccessible, registerWithPassword, startRegistration, mailTo, linkIn, signInWithPassword } from "./helpers.mjs";

test("every signed-out page is accessible", async ({ page }) => {
  for (const path of ["/", "/register", "/register/sent", "/sign-in", "/signed-out", "/recover", "/recover/sent", "/no-such-page", "/welcome/not-a-real-token"]) {
    await open(page, path);
    await expectAccessible(page);
  }
});

test("the welcome, account and recovery pages are accessible, with errors showing too", async ({ page }) => {
  const email = uniqueEmail("axe");
  await startRegistration(page, "Axel Able", email);
  await open(page, linkIn(await mailTo(email), "/welcome/"));
  await expectAccessible(page);
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expectAccessible(page);

  await page.getByLabel("Password", { exact: true }).fill("kettle lantern orbit meadow");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
  await expectAccessible(page);

  await signInWithPassword(page, uniqueEmail("nobody"), "wrong password here");
  await expect(page.getByRole("alert")).toBeVisible();
  await expectAccessible(page);

  await open(page, "/recover");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await expect(page.getByRole("heading", { name: "Check your email", exact: true })).toBeVisible();
  await open(page, linkIn(await mailTo(email, 2), "/recover/"));
  await expectAccessible(page);
});

test("pages fit 320 px without sideways scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  const email = uniqueEmail("narrow");
  await registerWithPassword(page, "Nara Row", email, "kettle lantern orbit meadow");
  for (const path of ["/", "/register", "/sign-in", "/account"]) {
    await open(page, path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  }
});

test("sign-in works by keyboard alone", async ({ page }) => {
  const email = uniqueEmail("keys");
  await registerWithPassword(page, "Kay Board", email, "kettle lantern orbit meadow");
  await page.getByRole("button", { name: "Sign out", exact: true }).first().click();
  await open(page, "/sign-in");
  await page.getByLabel("Email address").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("kettle lantern orbit meadow");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
});
