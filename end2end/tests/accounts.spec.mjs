// Registering, verifying the address, signing out and in with a password; wrong passwords;
// signing out everywhere. Each runs with JavaScript on and off.
import { test, expect, open, uniqueEmail, registerWithPassword, signInWithPassword, signOut, jsOn } from "./helpers.mjs";

const PASSWORD = "kettle lantern orbit meadow";

test("register with a password from the emailed link, sign out, and sign in again", async ({ page }) => {
  const email = uniqueEmail("sam");
  await registerWithPassword(page, "Sam Patel", email, PASSWORD);
  await expect(page.getByText("Your account is ready.")).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
  await expect(page.getByText("Signed in as Sam Patel")).toBeVisible();

  await signOut(page);
  await open(page, "/account");
  await expect(page).toHaveURL(/\/sign-in\?next=/);

  await signInWithPassword(page, email, PASSWORD);
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
  await expect(page.getByText("Signed in as Sam Patel")).toBeVisible();
});

test("a wrong password is refused with one plain message, tied to nothing that reveals the account", async ({ page }) => {
  const email = uniqueEmail("wrong");
  await registerWithPassword(page, "Wren Jones", email, PASSWORD);
  await signOut(page);

  await signInWithPassword(page, email, "this is not the password");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Email or password not recognised.");
  await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();

  await signInWithPassword(page, uniqueEmail("nobody"), "this is not the password");
  await expect(page.getByRole("alert")).toContainText("Email or password not recognised.");
});

test("signing out everywhere ends the session in another browser", async ({ page, browser }) => {
  const email = uniqueEmail("everywhere");
  await registerWithPassword(page, "Eve Rywhere", email, PASSWORD);

  const other = await browser.newContext({ javaScriptEnabled: jsOn(), baseURL: test.info().project.use.baseURL });
  const otherPage = await other.newPage();
  await signInWithPassword(otherPage, email, PASSWORD);
  await expect(otherPage.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();

  await open(page, "/account");
  await expect(page.getByRole("cell", { name: /this browser/ })).toBeVisible();
  await expect(page.locator("tbody tr")).toHaveCount(2);
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page.getByRole("heading", { name: "You have signed out", exact: true })).toBeVisible();
  await expect(page.getByText("signed out on every browser and device")).toBeVisible();

  await otherPage.reload();
  await expect(otherPage).toHaveURL(/\/sign-in\?next=/);
  await other.close();
});

test("registration names the fields at fault", async ({ page }) => {
  await open(page, "/register");
  await page.getByLabel("Email address").fill("not-an-email");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("There is a problem");
  const name = page.getByLabel("Your name");
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#field-name-error")).toContainText("Enter your name.");
  await expect(page.locator("#field-email-error")).toContainText("Enter an email address like name@example.com.");
});

test("a short password is refused on the welcome page with the rule in words", async ({ page }) => {
  const email = uniqueEmail("short");
  const { startRegistration, mailTo, linkIn } = await import("./helpers.mjs");
  await startRegistration(page, "Shaun Ort", email);
  await open(page, linkIn(await mailTo(email), "/welcome/"));
  await page.getByLabel("Password", { exact: true }).fill("too short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#field-password-error")).toContainText("Use at least 15 characters");
});
