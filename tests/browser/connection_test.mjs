// Drive the Airflow 3 connection form in headless Chromium: log in, Admin → Connections → Add,
// fill a `connectwise` connection, Save, press the row's Test button (success expected), then
// Edit the private key to a wrong one, Save, Test again (the failure expected), and read both
// toasts. A screenshot is taken while the success toast shows.
//
// Usage: node connection_test.mjs '<json config>'   (run by test_connection_form_ui.py)
// Config: baseUrl, username, password, chromium, userDataDir, connectionId, typeName (the
// connection type's name in the form), fields ({site, port, publicKey, privateKey, companyId,
// clientId}), extraJson (keys to add in the "Extra Fields JSON" editor), wrongPrivateKey,
// successPng, wrongKeyPng, errorPng (taken when a step fails).
// Prints progress lines "step: ..." and, last, one line "RESULT {json}" (also on failure).
// RESULT.requests lists every connection write and test the UI sent (method, path, host, port,
// status; no other field, so no secret), RESULT.toasts the title and message of each Test.
import { launch, login, recorder } from "./airflow_ui.mjs";

const config = JSON.parse(process.argv[2]);
const { result, step } = recorder();
const { browser, page } = await launch(config);

result.requests = [];
const sent = new Map();
page.on("request", (request) => {
  const path = new URL(request.url()).pathname;
  if (!path.startsWith("/api/v2/connections") || request.method() === "GET") return;
  const body = request.postDataJSON() ?? {};
  const entry = { method: request.method(), path, host: body.host, port: body.port ?? null };
  sent.set(request, entry);
  result.requests.push(entry);
});
page.on("response", (response) => {
  const entry = sent.get(response.request());
  if (entry) entry.status = response.status();
});

const dialog = page.getByRole("dialog");
const row = () => page.getByRole("row").filter({ hasText: config.connectionId });

/** Press the row's Test button; return the title and message of the toast it shows. */
async function pressTest(expectedTitle) {
  await row().getByRole("button", { name: "Test Connection" }).click();
  const toast = page.getByRole("status").filter({ hasText: /^Test Connection (Successful|Failed)/ });
  await toast.waitFor();
  await toast.hover(); // the toast closes after 2 s unless hovered
  const title = (await toast.locator('[data-part="title"]').innerText()).trim();
  const message = (await toast.locator('[data-part="description"]').innerText()).trim();
  result.toasts = [...(result.toasts ?? []), { title, message }];
  if (title !== expectedTitle) throw new Error(`Test showed "${title}: ${message}"`);
}

/** Wait until every toast has closed, so the next one cannot be mistaken for an old one. */
async function waitForNoToasts() {
  await page.mouse.move(0, 0);
  await page.waitForFunction(() => document.querySelectorAll('[role="status"]').length === 0);
}

try {
  step("open the UI");
  await login(page, config);
  step("logged in");

  // 1. Admin → Connections → Add Connection.
  await page.getByRole("button", { name: "Admin" }).click();
  await page.getByRole("menuitem", { name: "Connections" }).click();
  await page.waitForURL(/\/connections$/);
  await page.getByRole("button", { name: "Add Connection" }).click();
  await dialog.getByRole("heading", { name: "Add Connection" }).waitFor();
  step("add form open");

  // 2. The form as an operator fills it: standard fields, the extra fields, one JSON key.
  const f = config.fields;
  await dialog.getByRole("textbox", { name: "Connection ID" }).fill(config.connectionId);
  await dialog.getByRole("combobox", { name: "Connection Type" }).click();
  await page.getByRole("option", { name: config.typeName, exact: true }).click();
  await dialog.getByRole("textbox", { name: "Site" }).fill(f.site);
  if (f.port !== null) {
    // Left empty when the test says so: what a first-time operator does.
    await dialog.getByRole("spinbutton", { name: "Port" }).fill(String(f.port));
  }
  await dialog.getByRole("textbox", { name: "Public key" }).fill(f.publicKey);
  await dialog.getByRole("textbox", { name: "Private key" }).fill(f.privateKey);
  await dialog.getByRole("button", { name: "Extra Fields", exact: true }).click();
  // Airflow 3.3.2 renders the extra fields without accessible names; their ids are stable.
  await dialog.locator("#element_company_id").fill(f.companyId);
  await dialog.locator("#element_client_id").fill(f.clientId);
  await dialog.getByRole("button", { name: "Extra Fields JSON" }).click();
  await dialog.locator(".view-lines").click();
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("End"); // just after the opening brace
  for (const [key, value] of Object.entries(config.extraJson)) {
    await page.keyboard.insertText(`\n  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  }
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await row().waitFor();
  step("connection saved");

  // 3. Test: the stored settings reach the simulator.
  await waitForNoToasts();
  await pressTest("Test Connection Successful");
  await page.screenshot({ path: config.successPng });
  step("Test succeeded; screenshot saved");

  // 4. Edit the private key to a wrong one, Save, Test again.
  await waitForNoToasts();
  await row().getByRole("button", { name: "Edit Connection" }).click();
  await dialog.getByRole("heading", { name: "Edit Connection" }).waitFor();
  await dialog.getByRole("textbox", { name: "Private key" }).fill(config.wrongPrivateKey);
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  step("private key changed");
  await waitForNoToasts();
  await pressTest("Test Connection Failed");
  await page.screenshot({ path: config.wrongKeyPng });
  step("Test failed as expected");
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
  result.url = page.url();
  await page.screenshot({ path: config.errorPng }).catch(() => {});
} finally {
  await browser.close().catch(() => {});
  console.log(`RESULT ${JSON.stringify(result)}`);
}
process.exit(result.ok ? 0 : 1);
