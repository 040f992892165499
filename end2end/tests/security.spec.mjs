// Cross-site request forgery from another origin in Chromium (T12), with JavaScript on and off.
import { test, expect, open, uniqueEmail, registerWithPassword } from "./helpers.mjs";

test("a form on another site cannot sign you out everywhere", async ({ page }) => {
  const email = uniqueEmail("csrf");
  await registerWithPassword(page, "Cee Surf", email, "kettle lantern orbit meadow");
  const carry = new URL(page.url()).origin;

  await page.route("https://attacker.example/**", (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><html lang="en"><title>Win a prize</title>
      <form method="post" action="${carry}/api/sign-out-everywhere"><button>Claim your prize</button></form></html>`,
  }));
  await page.goto("https://attacker.example/");
  const [response] = await Promise.all([
    page.waitForResponse(`${carry}/api/sign-out-everywhere`),
    page.getByRole("button", { name: "Claim your prize" }).click(),
  ]);
  expect(response.status()).toBe(403);

  await open(page, `${carry}/account`);
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
});
