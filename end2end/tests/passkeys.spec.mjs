// Passkeys through Chromium's virtual authenticator (T14): register from the emailed link, sign
// out, sign in with the passkey; a replayed answer and an answer made for another origin are
// refused; removing a passkey ends the sessions signed in with it. Passkeys need JavaScript:
// without it the pages must say so and offer the password instead.
import { test, expect, open, uniqueEmail, mailTo, linkIn, addAuthenticator, startRegistration, signOut, jsOn, signInWithPassword } from "./helpers.mjs";

async function registerWithPasskey(page, name, email) {
  await startRegistration(page, name, email);
  await open(page, linkIn(await mailTo(email), "/welcome/"));
  await page.getByRole("button", { name: "Create a passkey" }).click();
  await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
}

test("without JavaScript the passkey button is hidden and the password is offered", async ({ page }) => {
  test.skip(jsOn(), "this is the JavaScript-off fallback");
  await open(page, "/sign-in");
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toBeHidden();
  await expect(page.getByText("Passkeys need JavaScript")).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toBeVisible();
});

test.describe("with an authenticator", () => {
  test.skip(() => !jsOn(), "WebAuthn is a JavaScript API: the no-JavaScript run covers the password fallback");

  test("register with a passkey from the emailed link, sign out, sign in with the passkey", async ({ page }) => {
    const { cdp } = await addAuthenticator(page);
    const added = [];
    cdp.on("WebAuthn.credentialAdded", (event) => added.push(event.credential));
    const email = uniqueEmail("pk");
    await registerWithPasskey(page, "Priya Kaur", email);
    expect(added).toHaveLength(1);
    expect(added[0].isResidentCredential, "a discoverable passkey, so sign-in needs no typed address").toBe(true);
    await expect(page.getByText(/Passkey on Chrome on Linux/)).toBeVisible();

    await signOut(page);
    await open(page, "/sign-in");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
    await expect(page.getByText("Signed in as Priya Kaur")).toBeVisible();
    await expect(page.getByRole("cell", { name: "Passkey", exact: true })).toBeVisible();
  });

  test("a replayed passkey answer is refused", async ({ page }) => {
    await addAuthenticator(page);
    const email = uniqueEmail("replay");
    await registerWithPasskey(page, "Ray Play", email);
    await signOut(page);

    let captured;
    await page.route("**/api/passkey/sign-in/finish", async (route) => {
      captured = route.request().postData();
      await route.continue();
    });
    await open(page, "/sign-in");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
    expect(captured).toBeTruthy();

    const replay = await page.request.post("/api/passkey/sign-in/finish", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: new URL(page.url()).origin, Accept: "application/json" },
      data: captured,
    });
    expect(replay.status()).toBe(403);
    expect(replay.headers()["set-cookie"] || "").not.toContain("__Host-carry-session=");
  });

  test("an answer made for another origin is refused", async ({ page }) => {
    await addAuthenticator(page);
    const email = uniqueEmail("origin");
    await registerWithPasskey(page, "Oren Gin", email);
    const carry = new URL(page.url()).origin;

    // Carry issues a challenge; a look-alike site on another origin (same host name, so the
    // authenticator will answer) gets the browser to sign it, and posts the answer to Carry.
    const start = await page.request.post("/api/passkey/sign-in/start", { headers: { Origin: carry, Accept: "application/json" } });
    const challenge = await start.json();
    const otherOrigin = carry.replace(/:(\d+)$/, (_, p) => `:${Number(p) + 1}`);
    await page.route(`${otherOrigin}/**`, (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>Look-alike</title><p>Hello</p>" }));
    await page.goto(`${otherOrigin}/`);
    const answer = await page.evaluate(async (optionsJson) => {
      const options = JSON.parse(optionsJson);
      const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey) });
      return JSON.stringify(credential.toJSON());
    }, challenge.options_json);
    expect(JSON.parse(Buffer.from(JSON.parse(answer).response.clientDataJSON, "base64url").toString()).origin).toBe(otherOrigin);

    const finish = await page.request.post(`${carry}/api/passkey/sign-in/finish`, {
      headers: { Origin: carry, Accept: "application/json" },
      form: { ceremony_id: challenge.ceremony_id, credential: answer, next: "" },
    });
    expect(finish.status()).toBe(403);
    expect(finish.headers()["set-cookie"] || "").not.toContain("__Host-carry-session=");
  });

  test("removing a passkey ends the sessions signed in with it", async ({ page, browser }) => {
    await addAuthenticator(page);
    const email = uniqueEmail("remove");
    await registerWithPasskey(page, "Remy Move", email);

    // Add a password in the same (recent) session, so the passkey is not the only way in.
    await page.getByLabel("Choose a password").fill("violet harbour quiet tide");
    await page.getByRole("button", { name: "Save password" }).click();
    await expect(page.getByText("Your password is saved.")).toBeVisible();

    // Sign in with the passkey (a passkey session), and with the password in another browser.
    await signOut(page);
    await open(page, "/sign-in");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();

    const other = await browser.newContext({ baseURL: test.info().project.use.baseURL });
    const otherPage = await other.newPage();
    await signInWithPassword(otherPage, email, "violet harbour quiet tide");
    await expect(otherPage.getByRole("heading", { name: "Your account", exact: true })).toBeVisible();
    await otherPage.getByRole("button", { name: "Remove", exact: true }).click();
    await expect(otherPage.getByText("You have no passkeys")).toBeVisible().catch(async () => {
      await expect(otherPage.locator("li.passkey")).toHaveCount(0);
    });

    await page.reload();
    await expect(page).toHaveURL(/\/sign-in\?next=/);
    await other.close();
  });

  test("a signed-in person adds a second passkey and names it", async ({ page }) => {
    await addAuthenticator(page);
    const email = uniqueEmail("second");
    const { registerWithPassword } = await import("./helpers.mjs");
    await registerWithPassword(page, "Sid Cond", email, "kettle lantern orbit meadow");
    await page.getByLabel("Name for a new passkey").fill("Work laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect(page.getByText("Your new passkey is ready to use.")).toBeVisible();
    await expect(page.getByText("Work laptop", { exact: true })).toBeVisible();
    const notice = await mailTo(email, 2);
    expect(notice.subject).toBe("A passkey was added to your Carry account");
  });

  test("a passkey is renamed, and after losing it, recovery by email enrols a new one", async ({ page }) => {
    const { cdp, authenticatorId } = await addAuthenticator(page);
    const email = uniqueEmail("lost");
    await registerWithPasskey(page, "Rhea Cover", email);

    await page.getByLabel("New name").fill("My phone");
    await page.getByRole("button", { name: "Rename" }).click();
    await expect(page.locator(".passkey-name")).toHaveText("My phone");

    // The phone is lost: its passkey is gone from this device.
    await signOut(page);
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    await open(page, "/recover");
    await page.getByLabel("Email address").fill(email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect(page.getByRole("heading", { name: "Check your email", exact: true })).toBeVisible();
    await open(page, linkIn(await mailTo(email, 2), "/recover/"));
    await page.getByRole("button", { name: "Create a passkey" }).click();
    await expect(page.getByText("You are back in.")).toBeVisible();
    await expect(page.locator("li.passkey")).toHaveCount(2);
    expect((await mailTo(email, 3)).subject).toContain("A new passkey was added");

    await signOut(page);
    await open(page, "/sign-in");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(page.getByText("Signed in as Rhea Cover")).toBeVisible();
  });
});
