// The patient's own record: every kind of reading and a note, the timeline and a chart, editing
// with history, deleting and restoring, "about me", and refusal of impossible values. Each
// journey runs with JavaScript on and off.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test, expect, open, uniqueEmail, registerWithPassword, expectAccessible, jsOn } from "./helpers.mjs";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const PASSWORD = "kettle lantern orbit meadow";

async function newPatient(page, who) {
  await registerWithPassword(page, `${who} Patient`, uniqueEmail(who), PASSWORD);
}

/** Adds a reading from the record page through the kind chooser; ends on the saved entry. */
async function addReading(page, kindName, values) {
  await open(page, "/record");
  await page.getByRole("link", { name: "Add a reading", exact: true }).click();
  await page.getByRole("link", { name: kindName, exact: true }).click();
  await expect(page.getByRole("heading", { name: `Add a ${kindName.toLowerCase()} reading`, exact: true })).toBeVisible();
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();
}

test("a patient adds each kind of reading and a note, and sees them on the timeline and a chart", async ({ page }) => {
  await newPatient(page, "every");
  const readings = [
    ["Blood pressure", { "Systolic (the top number)": "182", "Diastolic (the bottom number)": "118", "Pulse (optional)": "72" }, "182/118 mmHg, pulse 72"],
    ["Heart rate", { "Heart rate": "64" }, "64 beats a minute"],
    ["Weight", { Weight: "72.4" }, "72.4 kg"],
    ["Height", { Height: "175" }, "175.0 cm"],
    ["Temperature", { Temperature: "36.8" }, "36.8 °C"],
    ["Oxygen saturation", { "Oxygen saturation": "97" }, "97%"],
    ["Blood glucose", { "Blood glucose": "5.6" }, "5.6 mmol/L"],
    ["Peak flow", { "Peak flow": "450" }, "450 litres a minute"],
  ];
  for (const [kind, values, shown] of readings) {
    await addReading(page, kind, values);
    await expect(page.getByText(shown, { exact: true })).toBeVisible();
  }
  // A very high blood pressure is kept, and flagged with plain advice.
  await open(page, "/record?type=blood-pressure");
  await expect(page.getByText("This blood pressure is very high.")).toBeVisible();
  // The height reading shows the BMI worked out from the latest weight.
  await open(page, "/record?type=height");
  await page.getByRole("link", { name: "Height", exact: true }).click();
  await expect(page.getByText("BMI 23.6")).toBeVisible();

  await open(page, "/record");
  await page.getByRole("link", { name: "Write a note", exact: true }).click();
  await page.getByLabel("Title", { exact: true }).fill("Bad night");
  await page.getByLabel("Note", { exact: true }).fill("<b>Slept</b> three hours.\nFelt better after breakfast.");
  await page.getByLabel("Tags (optional)").fill("sleep, mood");
  await page.getByRole("button", { name: "Save note", exact: true }).click();
  await expect(page.getByText("Saved to your record.")).toBeVisible();
  await expect(page.getByText("<b>Slept</b> three hours.", { exact: false })).toBeVisible();

  await open(page, "/record");
  const timeline = page.getByRole("list", { name: "Timeline" });
  await expect(timeline.getByRole("listitem")).toHaveCount(9);
  await expect(timeline.getByRole("listitem").first()).toContainText("Bad night");
  for (const [, , shown] of readings) await expect(timeline.getByText(shown, { exact: true })).toBeVisible();

  // Filtering by type shows only that type.
  await page.getByLabel("Type", { exact: true }).selectOption({ label: "Notes" });
  await page.getByRole("button", { name: "Show entries" }).click();
  await expect(page.getByRole("list", { name: "Timeline" }).getByRole("listitem")).toHaveCount(1);

  await open(page, "/record/charts/blood-pressure");
  await expect(page.getByRole("img", { name: "Blood pressure chart" })).toBeVisible();
  const table = page.getByRole("table");
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table).toContainText("182/118");
  await expect(page.locator("figcaption")).toContainText("Usual range for systolic: 90 to 135 mmHg");
});

test("an impossible value is refused with a message naming the field and range", async ({ page }) => {
  await newPatient(page, "wrong");
  await open(page, "/record/readings/new?kind=oxygen-saturation");
  await page.getByLabel("Oxygen saturation", { exact: true }).fill("140");
  await page.getByRole("button", { name: "Save reading", exact: true }).click();
  const summary = page.getByRole("alert");
  await expect(summary).toContainText("The oxygen saturation must be between 50 and 100 %.");
  await expect(page.getByLabel("Oxygen saturation", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await open(page, "/record");
  await expect(page.getByText("Nothing here yet.")).toBeVisible();
});

test("editing a reading keeps the earlier version in its history", async ({ page }) => {
  await newPatient(page, "edit");
  await addReading(page, "Weight", { Weight: "80.2" });
  await page.getByRole("link", { name: "Change this entry" }).click();
  await page.getByLabel("Weight", { exact: true }).fill("79.8");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Your change is saved.")).toBeVisible();
  await expect(page.getByText("79.8 kg", { exact: true })).toBeVisible();
  const history = page.locator("ol.history");
  await expect(history).toContainText("Value changed from 80.2 kg to 79.8 kg");
  await expect(history).toContainText("Added");

  // Changing who can see it is recorded too.
  await page.getByLabel("Mental health").check();
  await page.getByLabel("Share with my GP practice").check();
  await page.getByRole("button", { name: "Save who can see this" }).click();
  await expect(page.getByText("Who can see this entry has been updated.")).toBeVisible();
  await expect(history).toContainText("Label changed from general to mental health");
  await expect(history).toContainText("Shared with the GP practice");
});

test("a deleted entry leaves the timeline and can be restored", async ({ page }) => {
  await newPatient(page, "undo");
  await addReading(page, "Heart rate", { "Heart rate": "71" });
  await page.getByRole("button", { name: "Delete this entry" }).click();
  await expect(page.getByText("The entry was deleted.")).toBeVisible();
  await expect(page.getByText("Nothing here yet.")).toBeVisible();
  await page.getByRole("link", { name: "recently deleted entries", exact: true }).click();
  await expect(page.getByText("71 beats a minute")).toBeVisible();
  await page.getByRole("button", { name: "Restore Heart rate" }).click();
  await expect(page.getByText("The entry is back in your record.")).toBeVisible();
  await expect(page.locator("ol.history")).toContainText("Restored");
  await open(page, "/record");
  await expect(page.getByText("71 beats a minute")).toBeVisible();
});

test("about me is shown first on the record", async ({ page }) => {
  await newPatient(page, "about");
  await open(page, "/record");
  await page.getByRole("link", { name: "Add about me" }).click();
  await page.getByLabel("What would you like to be called?").fill("Sunny");
  await page.getByLabel("Pronouns").fill("she/her");
  await page.getByLabel("Phone call").check();
  await page.getByLabel("Letter").check();
  await page.getByLabel("What matters to you").fill("Getting back to the allotment.");
  await page.getByRole("button", { name: "Save about me" }).click();
  await expect(page.getByText("Saved. Anyone you let see your record will see this first.")).toBeVisible();
  await open(page, "/record");
  const about = page.getByRole("region", { name: "About me" });
  await expect(about).toContainText("Sunny");
  await expect(about).toContainText("Phone call, Letter");
  await expect(about).toContainText("Getting back to the allotment.");
});

test("the record's pages are accessible, fit 320 px, and a reading can be added by keyboard", async ({ page }) => {
  await newPatient(page, "axe");
  await addReading(page, "Blood pressure", { "Systolic (the top number)": "128", "Diastolic (the bottom number)": "82" });
  const entry = page.url();
  for (const path of ["/record", "/record/readings/new", "/record/readings/new?kind=blood-pressure", "/record/notes/new", "/record/about-me", "/record/deleted", "/record/charts", "/record/charts/blood-pressure", entry, `${entry.split("?")[0]}/edit`]) {
    await open(page, path);
    await expectAccessible(page);
  }
  await open(page, "/record/readings/new?kind=weight");
  await page.getByRole("button", { name: "Save reading" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expectAccessible(page);

  await page.setViewportSize({ width: 320, height: 640 });
  for (const path of ["/record", "/record/readings/new?kind=blood-pressure", "/record/charts/blood-pressure", entry]) {
    await open(page, path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  }

  await open(page, "/record/readings/new?kind=heart-rate");
  await page.getByLabel("Heart rate", { exact: true }).focus();
  await page.keyboard.type("66");
  await page.keyboard.press("Enter");
  await expect(page.getByText("Saved to your record.")).toBeVisible();
  await expect(page.getByText("66 beats a minute", { exact: true })).toBeVisible();
});

test("a patient downloads a copy of their record: the document to read and the FHIR record", async ({ page }) => {
  await newPatient(page, "export");
  await addReading(page, "Weight", { Weight: "72.4" });
  await open(page, "/record");
  await page.getByRole("link", { name: "Download a copy of the record", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Download a copy of your record", exact: true })).toBeVisible();
  // General only, unless the patient ticks more.
  await expect(page.getByLabel("General", { exact: true })).toBeChecked();
  await expect(page.getByLabel("Mental health", { exact: true })).not.toBeChecked();
  await expectAccessible(page);
  await page.getByRole("button", { name: "Prepare the copy", exact: true }).click();
  // The page refreshes itself until the copy is ready (without JavaScript too).
  await expect(page.getByText(/^Ready to download until/)).toBeVisible({ timeout: 20000 });
  await expectAccessible(page);
  const [json] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download the FHIR record" }).click()]);
  expect(json.suggestedFilename()).toMatch(/^carry-record-export-patient-\d{4}-\d{2}-\d{2}\.json$/);
  const bundle = JSON.parse(fs.readFileSync(await json.path(), "utf8"));
  expect(bundle.resourceType).toBe("Bundle");
  expect(bundle.entry.some((e) => e.resource.resourceType === "Observation" && e.resource.valueQuantity?.value === 72.4)).toBe(true);
  const [html] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download the document to read or print" }).click()]);
  const text = fs.readFileSync(await html.path(), "utf8");
  expect(text).toContain("72.4 kg");
  expect(text).toContain("From Carry, held by the patient");
  // Both are in the access log.
  await open(page, "/record/access-log?who=all");
  await expect(page.getByText("You downloaded a copy of your record").first()).toBeVisible();
});

/** Runs the outside SMART Health Links client on a picture of the QR code. */
function shlClient(png, recipient, passcode) {
  const args = [path.join(root, "end2end", "shl-client.mjs"), png, recipient];
  if (passcode) args.push(passcode);
  return JSON.parse(execFileSync("node", args, { cwd: root, encoding: "utf8" }));
}

test("a patient makes a passcode health link; an outside client reads its QR code and summary until it is ended", async ({ page, browser }, testInfo) => {
  await newPatient(page, "shl");
  await addReading(page, "Weight", { Weight: "72.4" });
  await open(page, "/record");
  await page.getByRole("link", { name: "Health links and QR codes", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Health links and QR codes", exact: true })).toBeVisible();
  await expect(page.getByLabel("General", { exact: true })).toBeChecked();
  await expect(page.getByLabel("Mental health", { exact: true })).not.toBeChecked();
  await expect(page.getByLabel("24 hours", { exact: true })).toBeChecked();
  await expectAccessible(page);
  await page.getByLabel("Name of the link", { exact: true }).fill("A&E card");
  await page.getByLabel("Passcode (optional)", { exact: true }).fill("kettle-22");
  await page.getByRole("button", { name: "Make the link and its QR code", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Health link made: A&E card", exact: true })).toBeVisible();
  await expect(page.getByText("This is the only time you can print this card")).toBeVisible();
  await expectAccessible(page);

  // Printed, the page is the card alone: the name, the QR code, the expiry, the passcode note.
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("heading", { name: "Health link made: A&E card" })).toBeHidden();
  const card = page.locator("#shl-card");
  await expect(card).toBeVisible();
  await expect(card).toContainText("shl Patient");
  await expect(card).toContainText("Scan to see my health summary");
  await expect(card).toContainText("Passcode needed");
  await page.emulateMedia({ media: "screen" });

  // The QR code as the page drew it, photographed large enough to read.
  const svg = await card.locator("svg").evaluate((node) => node.outerHTML);
  const photo = await browser.newPage();
  await photo.setContent(`<body style="margin:0;background:#fff"><div style="width:600px;height:600px">${svg.replace("<svg ", '<svg width="600" height="600" ')}</div></body>`);
  const png = testInfo.outputPath("qr.png");
  await photo.locator("div").screenshot({ path: png });
  await photo.close();

  // An outside client: a wrong passcode is counted; the right one gives the summary, which validates.
  const wrong = shlClient(png, "Dr Jones, A&E", "kettle-23");
  expect(wrong.status).toBe(401);
  expect(wrong.body).toEqual({ remainingAttempts: 4 });
  const read = shlClient(png, "Dr Jones, A&E", "kettle-22");
  expect(read.status).toBe(200);
  expect(read.payload.flag).toBe("P");
  expect(read.payload.label).toBe("A&E card");
  expect(read.header).toMatchObject({ alg: "dir", enc: "A256GCM" });
  expect(read.viewerUrl.startsWith(`${testInfo.project.use.baseURL}/shl#shlink:/`)).toBe(true);
  expect(read.bundle.type).toBe("document");
  expect(read.bundle.entry[0].resource.resourceType).toBe("Composition");
  expect(read.bundle.entry.some((e) => e.resource.resourceType === "Observation" && e.resource.valueQuantity?.value === 72.4)).toBe(true);
  const file = testInfo.outputPath("summary.json");
  fs.writeFileSync(file, JSON.stringify(read.bundle));
  execFileSync("node", [path.join(root, "scripts", "fhir", "validate.mjs"), file], { cwd: root, encoding: "utf8" });

  // Carry's own viewer: with JavaScript it opens the link in the browser; without, it says what to do.
  const viewerContext = await browser.newContext({ javaScriptEnabled: jsOn() });
  const viewer = await viewerContext.newPage();
  await viewer.goto(read.viewerUrl);
  if (jsOn()) {
    await viewer.getByLabel("Your name and role", { exact: true }).fill("Nurse Patel, ward 4");
    await viewer.getByLabel("Passcode", { exact: true }).fill("kettle-22");
    await viewer.getByRole("button", { name: "Show the summary", exact: true }).click();
    await expect(viewer.getByRole("heading", { name: "Health summary: shl Patient", exact: true })).toBeVisible();
    await expect(viewer.getByText(/72\.4 kg/).first()).toBeVisible();
    await expectAccessible(viewer);
  } else {
    await expect(viewer.getByText("This page needs JavaScript to open a health link")).toBeVisible();
  }
  await viewerContext.close();

  // The patient sees every use, and ends the link: the next fetch is refused.
  await open(page, "/record/links");
  await expect(page.getByText(/who gave the name Dr Jones, A&E, viewed your health summary/).first()).toBeVisible();
  await expect(page.getByText(/the passcode was wrong/).first()).toBeVisible();
  await page.getByRole("button", { name: "End \u201cA&E card\u201d now", exact: true }).click();
  await expect(page.getByText("Ended", { exact: true })).toBeVisible();
  expect(shlClient(png, "Dr Jones, A&E", "kettle-22").status).toBe(404);
  await open(page, "/record/access-log?who=all");
  await expect(page.getByText("You ended a health link to your summary").first()).toBeVisible();
});

test("a patient reads their health summary to print, and downloads it as an International Patient Summary", async ({ page }) => {
  await newPatient(page, "ips");
  await addReading(page, "Weight", { Weight: "72.4" });
  await open(page, "/record");
  await page.getByRole("link", { name: "A health summary to print", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Health summary: ips Patient", exact: true })).toBeVisible();
  await expect(page.getByText("from Carry, held by the patient")).toBeVisible();
  await expect(page.getByLabel("General", { exact: true })).toBeChecked();
  await expectAccessible(page);
  // Printed, the form for the file is left out.
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("button", { name: "Download the summary file" })).toBeHidden();
  await page.emulateMedia({ media: "screen" });
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the summary file", exact: true }).click()]);
  expect(file.suggestedFilename()).toMatch(/^carry-summary-ips-patient-\d{4}-\d{2}-\d{2}\.json$/);
  const bundle = JSON.parse(fs.readFileSync(await file.path(), "utf8"));
  expect(bundle.type).toBe("document");
  expect(bundle.entry[0].resource.section.map((s) => s.code.coding[0].code)).toEqual(["11450-4", "10160-0", "48765-2", "8716-3"]);
  expect(bundle.entry.some((e) => e.resource.resourceType === "Observation" && e.resource.valueQuantity?.value === 72.4)).toBe(true);
  await open(page, "/record/access-log?who=all");
  await expect(page.getByText("You downloaded your health summary (International Patient Summary)").first()).toBeVisible();
});
