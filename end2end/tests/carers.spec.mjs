// A carer's whole journey, with JavaScript on and off: the patient invites, the carer reads the
// email, registers and accepts, sees exactly the allowed labels, adds a reading marked as theirs;
// the patient sees the carer's views in the access log and revokes; the carer's open session is
// refused on its next click.
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test, expect, open, jsOn, uniqueEmail, registerWithPassword, startRegistration, mailTo, linkIn, expectAccessible } from "./helpers.mjs";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const PASSWORD = "kettle lantern orbit meadow";
const CANARY = "CANARY-e2e-sexual-health";

test("a patient invites a carer, who accepts, sees only what is allowed, adds a reading, and is cut off on revocation", async ({ page, browser }) => {
  const patientEmail = uniqueEmail("patient");
  const carerEmail = uniqueEmail("carer");
  await registerWithPassword(page, "Robin Patient", patientEmail, PASSWORD);

  // Two entries: one general, one with a sensitive label that the carer must never see.
  await open(page, "/record/readings/new?kind=weight");
  await page.getByLabel("Weight", { exact: true }).fill("70.5");
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();
  await open(page, "/record/notes/new");
  await page.getByLabel("Title", { exact: true }).fill(CANARY);
  await page.getByLabel("Note", { exact: true }).fill(CANARY);
  await page.getByLabel("Sexual health", { exact: true }).check();
  await page.getByRole("button", { name: "Save note", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();

  // The invitation: general only (the default), and adding allowed.
  await open(page, "/record");
  await page.getByRole("link", { name: "Who can see my record", exact: true }).click();
  await expect(page.getByText("Nobody else can see your record.")).toBeVisible();
  await expectAccessible(page);
  await page.getByLabel("Their name", { exact: true }).fill("Casey Carer");
  await page.getByLabel("Their email address", { exact: true }).fill(carerEmail);
  await page.getByLabel("How are they related to you?").selectOption({ label: "Friend" });
  await expect(page.getByLabel("General", { exact: true }).first()).toBeChecked();
  await expect(page.getByLabel("Sexual health", { exact: true }).first()).not.toBeChecked();
  await page.getByLabel("They may add readings and notes for me", { exact: true }).last().check();
  await page.getByRole("button", { name: "Send the invitation", exact: true }).click();
  await expect(page.getByText("Invitation sent. It works for 7 days.")).toBeVisible();
  await expect(page.getByText("Invited: not accepted yet")).toBeVisible();

  // The carer, in a browser of their own.
  const carerContext = await browser.newContext({ javaScriptEnabled: jsOn() });
  const carer = await carerContext.newPage();
  const invitation = await mailTo(carerEmail, 1);
  expect(invitation.text).not.toContain(CANARY);
  expect(invitation.text).not.toContain("70.5");
  const link = linkIn(invitation, "/invitations/");
  await open(carer, link);
  await expect(carer.getByRole("heading", { name: "Robin Patient has invited you to help with their record" })).toBeVisible();
  await expect(carer.getByRole("link", { name: "Sign in to accept" })).toBeVisible();
  // The carer's own account: the welcome link is their second message (the invitation came first).
  await startRegistration(carer, "Casey Carer", carerEmail);
  await open(carer, linkIn(await mailTo(carerEmail, 2), "/welcome/"));
  await carer.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await carer.getByRole("button", { name: "Create account" }).click();
  await expect(carer.getByRole("heading", { name: "Your details", exact: true })).toBeVisible();
  await open(carer, link);
  await carer.getByRole("button", { name: "Accept", exact: true }).click();
  await expect(carer.getByText("You are acting for Robin Patient.")).toBeVisible();
  await expect(carer.getByRole("heading", { name: "Robin Patient\u2019s record", exact: true })).toBeVisible();
  await expect(carer.getByText("70.5 kg", { exact: true })).toBeVisible();
  await expect(carer.locator("body")).not.toContainText(CANARY);
  await expect(carer.locator("body")).not.toContainText("Sexual health");
  await expectAccessible(carer);

  // The carer adds a reading; it is marked as theirs, for the patient.
  await carer.getByRole("link", { name: "Add a reading", exact: true }).click();
  await carer.getByRole("link", { name: "Weight", exact: true }).click();
  await expect(carer.getByText("You are acting for Robin Patient.")).toBeVisible();
  await carer.getByLabel("Weight", { exact: true }).fill("71.2");
  await carer.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(carer.getByText("Saved to your record.")).toBeVisible();
  await expect(carer.getByText("Entered by you for Robin Patient", { exact: false }).first()).toBeVisible();
  await open(carer, "/caring");
  await expect(carer.getByRole("link", { name: "Robin Patient", exact: true })).toBeVisible();

  // The patient sees the carer's entry and the carer's views.
  await open(page, "/record");
  await expect(page.getByText("Entered by Casey Carer for you", { exact: false }).first()).toBeVisible();
  await page.getByRole("link", { name: "Who has looked at my record", exact: true }).click();
  await expect(page.getByText("Casey Carer (your carer) viewed your record", { exact: false }).first()).toBeVisible();
  await expect(page.getByText("Casey Carer (your carer) added to your weight readings", { exact: false })).toBeVisible();
  await expectAccessible(page);

  // The patient revokes; the carer's open session is refused on its next click.
  await open(page, "/record/people");
  await page.getByRole("button", { name: "Stop access now", exact: true }).click();
  await expect(page.getByText("They can no longer see your record", { exact: false })).toBeVisible();
  // The carer's dashboard was opened before the revocation; the next click is refused.
  await carer.getByRole("link", { name: "Robin Patient", exact: true }).click();
  await expect(carer.getByText("You do not have access to this record.")).toBeVisible();
  await expect(carer.locator("body")).not.toContainText("70.5 kg");
  await open(carer, "/notices");
  await expect(carer.getByText("Robin Patient stopped your access to their record.")).toBeVisible();
  await carerContext.close();
});

test("a parent gives a young person their own record, who takes it and decides on the parent's access", async ({ page, browser }) => {
  const parentEmail = uniqueEmail("parent");
  const youngEmail = uniqueEmail("young");
  await registerWithPassword(page, "Pat Parent", parentEmail, PASSWORD);

  // A record for a child of fourteen, kept by the parent.
  const today = new Date();
  const born = `${today.getUTCFullYear() - 14}-01-15`;
  await open(page, "/caring");
  await page.getByLabel("The child\u2019s name", { exact: true }).fill("Kim");
  await page.getByLabel("Date of birth", { exact: true }).fill(born);
  await page.getByRole("button", { name: "Make the record", exact: true }).click();
  await expect(page.getByText("You are acting for Kim.")).toBeVisible();

  // The parent offers it to Kim's own address.
  await open(page, "/caring");
  await expect(page.getByLabel("Whose record")).toHaveValue(/.+/);
  await page.getByLabel("Their email address", { exact: true }).fill("not an address");
  await page.getByRole("button", { name: "Send them the link", exact: true }).click();
  await expect(page.getByText("Enter the young person's email address", { exact: false }).first()).toBeVisible();
  await page.getByLabel("Their email address", { exact: true }).fill(youngEmail);
  await page.getByRole("button", { name: "Send them the link", exact: true }).click();
  await expect(page.getByText("The link is on its way. It works for 7 days.")).toBeVisible();
  await expect(page.getByText(`You offered Kim their own record at ${youngEmail}.`, { exact: false })).toBeVisible();
  await expectAccessible(page);

  // Kim, in a browser of their own: the offer, an account, and taking the record.
  const youngContext = await browser.newContext({ javaScriptEnabled: jsOn() });
  const young = await youngContext.newPage();
  const offer = await mailTo(youngEmail, 1);
  const link = linkIn(offer, "/records/take/");
  await open(young, link);
  await expect(young.getByRole("heading", { name: "Your own record, Kim", exact: true })).toBeVisible();
  await expect(young.getByRole("link", { name: "Sign in to take it" })).toBeVisible();
  await startRegistration(young, "Kim Young", youngEmail);
  await open(young, linkIn(await mailTo(youngEmail, 2), "/welcome/"));
  await young.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await young.getByRole("button", { name: "Create account" }).click();
  await expect(young.getByRole("heading", { name: "Your details", exact: true })).toBeVisible();
  await open(young, link);
  await young.getByRole("button", { name: "Take my record", exact: true }).click();
  await expect(young.getByText("Your record is now yours.", { exact: false })).toBeVisible();
  await expect(young.getByRole("heading", { name: "Pat Parent (Parent)", exact: true })).toBeVisible();
  await expectAccessible(young);

  // At fourteen there is nothing to confirm yet (that opens 3 months before 16); Kim can stop it.
  await expect(young.getByRole("button", { name: "Keep this access after I turn 16" })).toHaveCount(0);
  await expect(young.getByRole("button", { name: "Stop access now", exact: true })).toBeVisible();

  // The parent hears of both, and can no longer hand the record over.
  await open(page, "/notices");
  await expect(page.getByText("Kim Young now holds their own record", { exact: false })).toBeVisible();
  await page.getByRole("button", { name: "Mark all as read", exact: true }).click();
  await expect(page.getByRole("button", { name: "Mark all as read" })).toHaveCount(0);
  await open(page, "/caring");
  await expect(page.getByRole("link", { name: "Kim Young", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Send them the link" })).toHaveCount(0);
  await youngContext.close();
});

test("a carer makes a health link only once the patient allows it, holding only the carer's labels", async ({ page, browser }) => {
  const patientEmail = uniqueEmail("linkpatient");
  const carerEmail = uniqueEmail("linkcarer");
  await registerWithPassword(page, "Lee Patient", patientEmail, PASSWORD);
  await open(page, "/record/readings/new?kind=weight");
  await page.getByLabel("Weight", { exact: true }).fill("70.5");
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();
  // A later weight under a label the carer may not see.
  await open(page, "/record/readings/new?kind=weight");
  await page.getByLabel("Weight", { exact: true }).fill("88.8");
  await page.getByLabel("Sexual health", { exact: true }).check();
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();

  // Invited with general only and nothing else ticked.
  await open(page, "/record/people");
  await page.getByLabel("Their name", { exact: true }).fill("Casey Carer");
  await page.getByLabel("Their email address", { exact: true }).fill(carerEmail);
  await page.getByLabel("How are they related to you?").selectOption({ label: "Friend" });
  await expect(page.getByLabel("They may download my record and make health links to my summary", { exact: true }).last()).not.toBeChecked();
  await page.getByRole("button", { name: "Send the invitation", exact: true }).click();
  await expect(page.getByText("Invitation sent. It works for 7 days.")).toBeVisible();
  const carerContext = await browser.newContext({ javaScriptEnabled: jsOn() });
  const carer = await carerContext.newPage();
  const link = linkIn(await mailTo(carerEmail, 1), "/invitations/");
  await startRegistration(carer, "Casey Carer", carerEmail);
  await open(carer, linkIn(await mailTo(carerEmail, 2), "/welcome/"));
  await carer.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await carer.getByRole("button", { name: "Create account" }).click();
  await expect(carer.getByRole("heading", { name: "Your details", exact: true })).toBeVisible();
  await open(carer, link);
  await carer.getByRole("button", { name: "Accept", exact: true }).click();
  await expect(carer.getByText("You are acting for Lee Patient.")).toBeVisible();
  const patientId = new URL(carer.url()).searchParams.get("patient");

  // Without the grant's action: no way in, and the page refuses.
  await expect(carer.getByRole("link", { name: "Health links and QR codes" })).toHaveCount(0);
  await open(carer, `/record/links?patient=${patientId}`);
  await expect(carer.getByRole("heading", { name: "Make a new link" })).toHaveCount(0);

  // The patient allows it.
  await open(page, "/record/people");
  await page.getByText("Change their access", { exact: true }).click();
  await page.getByLabel("They may download my record and make health links to my summary", { exact: true }).first().check();
  await page.getByRole("button", { name: "Save changes", exact: true }).click();
  await expect(page.getByText(/download and make health links/).first()).toBeVisible();

  // Now the carer may, with only the labels they may see.
  await open(carer, `/record?patient=${patientId}`);
  await carer.getByRole("link", { name: "Health links and QR codes", exact: true }).click();
  await expect(carer.getByRole("heading", { name: "Make a new link", exact: true })).toBeVisible();
  await expect(carer.getByLabel("Sexual health", { exact: true })).toHaveCount(0);
  await expectAccessible(carer);
  await carer.getByLabel("Name of the link", { exact: true }).fill("For the clinic");
  await carer.getByRole("button", { name: "Make the link and its QR code", exact: true }).click();
  await expect(carer.getByRole("heading", { name: "Health link made: For the clinic", exact: true })).toBeVisible();
  const viewerUrl = await carer.locator("#shl-link").inputValue();
  const read = JSON.parse(execFileSync("node", [path.join(root, "end2end", "shl-client.mjs"), viewerUrl, "Clinic nurse"], { cwd: root, encoding: "utf8" }));
  expect(read.status).toBe(200);
  const weights = read.bundle.entry.filter((e) => e.resource.resourceType === "Observation").map((e) => e.resource.valueQuantity?.value);
  expect(weights).toEqual([70.5]);

  // The patient is told, and sees the carer's link with its use.
  await open(page, "/notices");
  await expect(page.getByText("Casey Carer made a health link to your summary", { exact: false })).toBeVisible();
  await open(page, "/record/links");
  await expect(page.getByText(/Made by Casey Carer/)).toBeVisible();
  await expect(page.getByText(/who gave the name Clinic nurse, viewed your health summary/)).toBeVisible();
  await carerContext.close();
});
