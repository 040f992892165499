// GP practices in Chromium, with JavaScript on and off: a practice made with `carry practice
// create`, its administrator and staff joining by emailed link, a patient linking with their NHS
// number, a week of home blood pressure and a note shared, the GP's inbox with the NICE summary,
// accepting the readings and asking about the note, the patient's answer, and a social care
// worker who sees only the social-care item. Clinical staff sign in with a passkey, which needs
// JavaScript: without it, the GP's passkey session is made in a JavaScript context and carried
// into a context with JavaScript off for the clinical work.
import { test, expect, open, uniqueEmail, mailTo, registerWithPassword, jsOn, expectAccessible } from "./helpers.mjs";
import { PASSWORD, createPractice, person, registerInvited, join, clinician } from "./staff.mjs";

const CANARY = "CANARY-e2e-practice-unshared";

/** "YYYY-MM-DDTHH:MM" for `daysAgo` days before today at `hour` (UTC, which is UK time in winter). */
function when(daysAgo, hour) {
  const d = new Date(Date.now() - daysAgo * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().slice(0, 16);
}

test("a patient links to a practice; the GP reviews their shared readings and note; social care sees only its item", async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const tag = `${jsOn() ? "js" : "nojs"}${Math.floor(Math.random() * 1e5)}`;
  const practice = `Riverside Practice ${tag}`;
  const ods = `E${String(Math.floor(Math.random() * 1e5)).padStart(5, "0")}`;
  const adminEmail = uniqueEmail("admin");
  const gpEmail = uniqueEmail("gp");
  const socialEmail = uniqueEmail("social");
  const patientEmail = uniqueEmail("patient");

  // The practice, from the command line; its administrator joins by the emailed link.
  createPractice(practice, ods, "Jo Lee", adminEmail, baseURL);
  const admin = await person(browser, baseURL);
  await registerInvited(admin.page, "Jo Lee", adminEmail);
  await join(admin.page, adminEmail, practice);
  for (const [name, email, job] of [["Dr Priya Shah", gpEmail, "GP"], ["Chris Morgan", socialEmail, "Social care worker"]]) {
    await admin.page.getByLabel("Their name", { exact: true }).fill(name);
    await admin.page.getByLabel("Their work email address", { exact: true }).fill(email);
    await admin.page.getByLabel("Job", { exact: true }).selectOption({ label: job });
    await admin.page.getByRole("button", { name: "Send the invitation" }).click();
    await expect(admin.page.getByText("The invitation is on its way.")).toBeVisible();
  }
  await expectAccessible(admin.page);

  // The patient asks to link, with their NHS number (a typo first).
  await registerWithPassword(page, "Sam Patel", patientEmail, PASSWORD);
  await open(page, "/record/practice");
  await page.getByLabel("Your GP practice", { exact: true }).selectOption({ label: `${practice} (${ods})` });
  await page.getByLabel("Your NHS number").fill("943 476 5918");
  await page.getByLabel("Your date of birth").fill("1980-04-02");
  await page.getByRole("button", { name: "Ask to link" }).click();
  await expect(page.getByText("That is not a valid NHS number").first()).toBeVisible();
  // With JavaScript off the refused form comes back empty (as every form in Carry does today).
  await page.getByLabel("Your GP practice", { exact: true }).selectOption({ label: `${practice} (${ods})` });
  await page.getByLabel("Your NHS number").fill("943 476 5870");
  await page.getByLabel("Your date of birth").fill("1980-04-02");
  await page.getByRole("button", { name: "Ask to link" }).click();
  await expect(page.getByText(`You asked ${practice} to link your record`)).toBeVisible();
  await expectAccessible(page);

  // The administrator opens the request; meanwhile the patient asks again with another NHS
  // number. Accepting what was on screen decides nothing: the new request is shown to check.
  await open(admin.page, "/practice");
  await expect(admin.page.getByText("943 476 5870")).toBeVisible();
  await expect(admin.page.getByText("2 Apr 1980")).toBeVisible();
  await open(page, "/record/practice");
  await page.getByLabel("Your GP practice", { exact: true }).selectOption({ label: `${practice} (${ods})` });
  await page.getByLabel("Your NHS number").fill("943 476 5919");
  await page.getByLabel("Your date of birth").fill("1980-04-02");
  await page.getByRole("button", { name: "Ask to link" }).click();
  await expect(page.getByText("with NHS number 943 476 5919")).toBeVisible();
  await admin.page.getByRole("button", { name: "Accept: this is our patient Sam Patel" }).click();
  await expect(admin.page.getByText("This was changed after you opened it").first()).toBeVisible();
  await open(page, "/record/practice");
  await expect(page.getByText(`You asked ${practice} to link your record`)).toBeVisible();

  // The administrator checks the request as it is now, and accepts.
  await open(admin.page, "/practice");
  await expect(admin.page.getByText("943 476 5919")).toBeVisible();
  await expect(admin.page.getByText("943 476 5870")).toHaveCount(0);
  await admin.page.getByRole("button", { name: "Accept: this is our patient Sam Patel" }).click();
  await expect(admin.page.getByText("The record is linked.")).toBeVisible();
  await open(page, "/record/practice");
  await expect(page.getByText(`Your record is linked to ${practice}`)).toBeVisible();

  // A week of home blood pressure, twice a day: the first by the form, the rest by the same call.
  await open(page, "/record/readings/new?kind=blood-pressure");
  await page.getByLabel("Systolic (the top number)").fill("150");
  await page.getByLabel("Diastolic (the bottom number)").fill("95");
  await page.getByLabel("When did you take it?").fill(when(7, 8));
  await page.getByLabel("Share with my GP practice").check();
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();
  const origin = new URL(baseURL).origin;
  for (let day = 7; day >= 1; day--) {
    for (const hour of day === 7 ? [20] : [8, 20]) {
      const res = await page.request.post("/api/record/add-reading", {
        headers: { Origin: origin, Accept: "application/json" },
        form: { kind: "blood-pressure", value: hour === 8 ? "142" : "138", diastolic: "88", occurred_at: when(day, hour), label: "general", share: "on" },
      });
      expect(res.status()).toBe(200);
    }
  }
  for (const [title, label, share] of [["Dizzy spells", "General", true], ["Help with shopping", "Social care", true], [CANARY, "General", false]]) {
    await open(page, "/record/notes/new");
    await page.getByLabel("Title", { exact: true }).fill(title);
    await page.getByLabel("Note", { exact: true }).fill(`${title}: details`);
    await page.getByLabel(label, { exact: true }).check();
    if (share) await page.getByLabel("Share with my GP practice").check();
    await page.getByRole("button", { name: "Save note", exact: true }).click();
    await expect(page.getByText("Saved to your record.")).toBeVisible();
  }

  // The GP: the inbox with the summary; accept the readings, ask about the note.
  const gp = await clinician(browser, baseURL, "Dr Priya Shah", gpEmail, practice);
  await open(gp.page, "/practice/inbox");
  await expect(gp.page.getByRole("heading", { name: "Review inbox" })).toBeVisible();
  await expect(gp.page.getByText(/7 days .* 14 readings, twice daily on 7 of 7 days\. First day discarded; average of the other 12: 140\/88 mmHg, at or above the home threshold of 135\/85/)).toBeVisible();
  await expect(gp.page.getByText(CANARY)).toHaveCount(0);
  await expectAccessible(gp.page);
  await gp.page.getByRole("link", { name: /Sam Patel \(NHS 943 476 5919/ }).click();
  await expect(gp.page.getByRole("button", { name: "Record the decision" })).toBeVisible();
  for (const box of await gp.page.getByRole("checkbox", { name: "Blood pressure" }).all()) await box.check();
  await gp.page.getByLabel("Accept into the record").check();
  await gp.page.getByRole("button", { name: "Record the decision" }).click();
  await expect(gp.page.getByText("Done. The patient has been told there is an update.")).toBeVisible();
  await gp.page.getByRole("checkbox", { name: "Dizzy spells" }).check();
  await gp.page.getByLabel("Ask the patient a question").check();
  await gp.page.getByLabel("Reason or question (the patient reads it)").fill("How long did the dizziness last?");
  await gp.page.getByRole("button", { name: "Record the decision" }).click();
  await expect(gp.page.getByText("Asked the patient by Dr Priya Shah")).toBeVisible();
  await expectAccessible(gp.page);

  // The patient sees the outcomes and answers.
  await open(page, "/record?type=notes");
  await page.getByRole("link", { name: "Dizzy spells" }).click();
  await expect(page.getByText("How long did the dizziness last?")).toBeVisible();
  await page.getByLabel("Your answer").fill("About ten minutes each time.");
  await page.getByRole("button", { name: "Send your answer" }).click();
  await expect(page.getByText("Your answer has gone to your GP practice.")).toBeVisible();
  await expectAccessible(page);
  await open(page, "/record?type=blood-pressure");
  await page.getByRole("link", { name: "Blood pressure" }).first().click();
  await expect(page.getByText(/Reviewed by Dr Priya Shah on .*: accepted into your record/)).toBeVisible();
  await open(page, "/record/access-log");
  await expect(page.getByText(`Dr Priya Shah at ${practice} reviewed an entry in your record`).first()).toBeVisible();
  // The emails that told Sam say only that there is an update.
  for (const n of [2, 3, 4]) {
    const m = await mailTo(patientEmail, n);
    expect(m.text).toContain("There is an update in Carry");
    expect(m.text).not.toContain("Dizzy");
    expect(m.text).not.toContain("142/88");
  }

  // The GP sees the answer back in the inbox.
  await open(gp.page, "/practice/inbox");
  await expect(gp.page.getByText("Dizzy spells: details")).toBeVisible();
  await expect(gp.page.getByText("Blood pressure", { exact: true })).toHaveCount(0);
  await gp.page.getByRole("link", { name: /Sam Patel/ }).click();
  await expect(gp.page.getByText(/The patient answered, .*: About ten minutes each time\./)).toBeVisible();

  // The social care worker sees only the social-care item, and adds a note Sam can read.
  const social = await clinician(browser, baseURL, "Chris Morgan", socialEmail, practice);
  await open(social.page, "/practice");
  await social.page.getByRole("link", { name: "Sam Patel" }).click();
  await expect(social.page.getByText("Help with shopping: details")).toBeVisible();
  await expect(social.page.getByText("Dizzy spells")).toHaveCount(0);
  await expect(social.page.getByText("Blood pressure")).toHaveCount(0);
  await social.page.getByLabel("Title", { exact: true }).fill("Shopping help arranged");
  await social.page.getByLabel("Note (the patient can read it)").fill("A volunteer will call on Fridays.");
  await social.page.getByRole("button", { name: "Add the note" }).click();
  await expect(social.page.getByText("Your note is in the patient\u2019s record.")).toBeVisible();
  await expectAccessible(social.page);
  await open(page, "/record");
  await expect(page.getByText("Shopping help arranged")).toBeVisible();

  // Sam moves the note the GP asked about to social care. The social care worker now sees the
  // note, but not the question or the answer: they are about a version labelled general.
  await open(page, "/record?type=notes");
  await page.getByRole("link", { name: "Dizzy spells" }).click();
  await page.getByLabel("Social care", { exact: true }).check();
  await page.getByRole("button", { name: "Save who can see this" }).click();
  await expect(page.getByText("Who can see this entry has been updated.")).toBeVisible();
  await open(social.page, "/practice");
  await social.page.getByRole("link", { name: "Sam Patel" }).click();
  await expect(social.page.getByText("Dizzy spells: details")).toBeVisible();
  await expect(social.page.getByText("How long did the dizziness last?")).toHaveCount(0);
  await expect(social.page.getByText("About ten minutes each time.")).toHaveCount(0);

  // Sam stops sharing with the practice: at once its staff see nothing of Sam.
  await open(page, "/record/practice");
  await page.getByRole("button", { name: `Stop sharing with ${practice}` }).click();
  await expect(page.getByText("Done. The practice no longer sees anything in your record.")).toBeVisible();
  await open(gp.page, "/practice/inbox");
  await expect(gp.page.getByText("Sam Patel")).toHaveCount(0);

  for (const c of [admin, gp, social]) await c.context.close();
});
