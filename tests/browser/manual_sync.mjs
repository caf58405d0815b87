// Drive the Airflow 3 UI in headless Chromium: log in, open connectwise_manual_sync, trigger it
// with two data types picked in the form, wait for the run to succeed, take two screenshots.
//
// Usage: node manual_sync.mjs '<json config>'   (run by test_manual_sync_ui.py)
// Config: baseUrl, username, password, dagId, labels (form labels to pick), values (the entity
// names those labels stand for), modeHelpProbe and emptyHelpProbe (texts of the help the form
// must show), chromium, userDataDir, formPng, emptyPng, successPng, failurePng, timeoutSeconds.
// Prints progress lines "step: ..." and, last, one line "RESULT {json}" (also on failure).
import { launch, login, recorder } from "./airflow_ui.mjs";

const config = JSON.parse(process.argv[2]);
const { result, step } = recorder();
const { browser, page } = await launch(config);

try {
  // 1. The real login page: the UI redirects there when there is no session.
  step("open the UI");
  await login(page, config);
  step("logged in");

  // 2. Dags list → the manual sync DAG.
  await page.getByRole("link", { name: "Dags", exact: true }).click();
  // The DAG's own link (its name), not one of its latest runs' or tasks' links.
  await page.locator(`a[href$="/dags/${config.dagId}"]`).first().click();
  await page.waitForURL(new RegExp(`/dags/${config.dagId}$`));
  await page.getByRole("heading", { name: config.dagId, exact: true }).waitFor();
  step("DAG page open");

  // 3. The trigger form.
  await page.getByRole("button", { name: /^Trigger/ }).first().click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("heading", { name: `Trigger Dag - ${config.dagId}` }).waitFor();
  const field = dialog.locator("#element_data_types");
  await field.waitFor();
  const isMultiSelect = (await field.getByRole("combobox").count()) === 1;
  result.widget = isMultiSelect ? "multi-select" : await field.evaluate((e) => e.tagName);
  if (!isMultiSelect) {
    throw new Error(
      `"Data types" is not a multi-select (it rendered as a ${result.widget}). Airflow 3.3's form ` +
        "shows an array Param as chips only when the Param has `examples` (or a top-level " +
        "`enum`): add examples=REGISTRY.names() to the data_types Param.",
    );
  }
  const hidden = field.locator('input[type="hidden"][name="element_data_types"]');
  const selected = () => hidden.evaluateAll((inputs) => inputs.map((i) => i.value).filter(Boolean));
  result.defaultSelection = await selected();

  // What a first-time operator reads: the mode's help, the deletes toggle off.
  const submit = dialog.getByTestId("trigger-dag-submit");
  result.modeHelp = await dialog.getByText(config.modeHelpProbe).first().isVisible();
  result.findDeletedChecked = await dialog
    .locator('input[name="element_find_deleted"]')
    .evaluate((e) => e.checked);

  // Clear the default (every data type): Trigger is disabled and the help says why.
  await field.locator('[aria-label="Clear selected options"]').click();
  await field.locator('[aria-label^="Remove "]').first().waitFor({ state: "detached" });
  result.triggerDisabledWhenEmpty = await submit.isDisabled();
  result.emptyHelp = await dialog.getByText(config.emptyHelpProbe).first().isVisible();
  await page.screenshot({ path: config.emptyPng });
  const combobox = field.getByRole("combobox");
  for (const label of config.labels) {
    await combobox.click();
    await combobox.fill(label);
    await page.getByRole("option", { name: label, exact: true }).click();
    await field.getByText(label, { exact: true }).waitFor();
  }
  // Close the option menu without closing the dialog (Escape would close both).
  await dialog.getByRole("heading", { name: `Trigger Dag - ${config.dagId}` }).click();
  await page.getByRole("listbox").waitFor({ state: "detached" }).catch(() => {});
  result.selection = await selected();
  result.chips = await Promise.all(
    config.labels.map((label) => field.getByText(label, { exact: true }).count()),
  );
  if (JSON.stringify(result.selection) !== JSON.stringify(config.values)) {
    throw new Error(`form holds ${JSON.stringify(result.selection)}, wanted ${config.values}`);
  }
  result.triggerDisabledWhenPicked = await submit.isDisabled();
  await page.screenshot({ path: config.formPng });
  step("form filled; screenshot saved");

  // 4. Trigger; the UI opens the new run's page.
  await dialog.getByRole("button", { name: "Trigger", exact: true }).click();
  await page.waitForURL(new RegExp(`/dags/${config.dagId}/runs/[^/]+$`));
  result.runId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  step(`triggered ${result.runId}`);

  // 5. Watch the run's state badge (next to the run id heading) until it is final.
  const badge = page
    .getByRole("heading", { name: result.runId, exact: true })
    .locator("xpath=..")
    .getByTestId("state-badge");
  const deadline = Date.now() + config.timeoutSeconds * 1000;
  let lastReload = Date.now();
  let state = "";
  for (;;) {
    state = ((await badge.textContent({ timeout: 10_000 }).catch(() => "")) || "").trim();
    if (state !== result.states?.at(-1)) {
      (result.states ??= []).push(state);
      step(`run state: ${state || "(not shown)"}`);
    }
    if (/^(success|failed)$/i.test(state)) break;
    if (Date.now() > deadline) throw new Error(`run still "${state}" after ${config.timeoutSeconds} s`);
    // The page refreshes itself while a run is active; reload now and then in case it stalls.
    if (Date.now() - lastReload > 45_000) {
      await page.reload();
      lastReload = Date.now();
    }
    await page.waitForTimeout(1000);
  }
  result.finalState = state.toLowerCase();
  if (result.finalState !== "success") throw new Error(`the run ended ${state}`);
  // Let the grid and the task list catch up with the final state before the screenshot.
  await page.getByRole("row").filter({ hasText: "summarize" }).getByText("Success").waitFor();
  await page.screenshot({ path: config.successPng });
  step("run succeeded; screenshot saved");
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
  result.url = page.url();
  await page.screenshot({ path: config.failurePng }).catch(() => {});
} finally {
  await browser.close().catch(() => {});
  console.log(`RESULT ${JSON.stringify(result)}`);
}
process.exit(result.ok ? 0 : 1);
