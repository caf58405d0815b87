// Drive the ConnectWise console inside the Airflow 3 UI in headless Chromium: log in, open the
// "ConnectWise" entry of the navigation, read the figures, open "Issues", fix the
// mapping file the way an operator would, press Re-process and watch the group disappear.
//
// Usage: node console.mjs '<json config>'   (run by test_console_ui.py)
// Config: baseUrl, username, password, chromium, userDataDir, timeoutSeconds, expected
// ({totalRows, entities: {name: {rows, quarantined}}}), issueEntity, issueValue, mappingPath,
// fixedMapping (the file's new text), overviewPng, issuesPng, resolvedPng, failurePng.
// Prints progress lines "step: ..." and, last, one line "RESULT {json}" (also on failure).
import { writeFileSync } from "node:fs";
import { launch, login, recorder } from "./airflow_ui.mjs";

const config = JSON.parse(process.argv[2]);
const { result, step } = recorder();
const { browser, page } = await launch(config);
await page.setViewportSize({ width: 1440, height: 1100 });

// The console page the UI shows in its iframe.
const consoleFrame = () => page.frameLocator("iframe").first();
const text = async (locator) => ((await locator.textContent()) || "").trim();

// The navigation's entry of a plugin view (its link ends with /plugin/<url_route>).
async function openNavEntry(route) {
  const link = page.locator(`nav a[href$="/plugin/${route}"], a[href$="/plugin/${route}"]`).first();
  await link.waitFor();
  result.navLabels = result.navLabels ?? [];
  result.navLabels.push(((await link.getAttribute("aria-label")) || (await link.innerText())).trim());
  await link.click();
}

try {
  step("open the UI");
  await login(page, config);
  step("logged in");

  // 1. Sync health, from the navigation.
  await openNavEntry("connectwise");
  await page.waitForURL(/\/plugin\/connectwise$/);
  const frame = consoleFrame();
  await frame.locator("#entities").waitFor();
  result.totalRows = await text(frame.locator("#total-rows"));
  result.entities = {};
  for (const name of Object.keys(config.expected.entities)) {
    const row = frame.locator(`tr[data-entity="${name}"]`);
    result.entities[name] = {
      rows: await text(row.locator('[data-figure="rows"]')),
      quarantined: await text(row.locator('[data-figure="quarantined"]')),
      charts: await row.locator("svg.bars").count(),
    };
  }
  result.preflight = await text(frame.locator("#preflight-summary"));
  await page.screenshot({ path: config.overviewPng });
  step("sync health read; screenshot saved");

  // 2. Issues, from the navigation.
  await openNavEntry("connectwise-issues");
  await page.waitForURL(/\/plugin\/connectwise-issues$/);
  const issues = consoleFrame();
  const group = issues
    .locator(`section.issue[data-entity="${config.issueEntity}"]`)
    .filter({ hasText: `'${config.issueValue}'` });
  await group.waitFor();
  result.groupTitle = await text(group.locator("h3"));
  result.groupCount = await text(group.locator('[data-figure="count"]'));
  result.groupFix = await text(group.locator("p.fix"));
  result.exampleRows = await group.locator("table.examples tbody tr").count();
  await page.screenshot({ path: config.issuesPng });
  step("issues read; screenshot saved");

  // 3. The operator fixes the mapping file, then presses Re-process.
  writeFileSync(config.mappingPath, config.fixedMapping);
  step("mapping fixed");
  await group.getByRole("button", { name: /^Re-process/ }).click();
  await group
    .locator("output")
    .filter({ hasText: /Run .* (queued|running|success)/ })
    .waitFor({ timeout: 30_000 });
  result.progress = await text(group.locator("output"));
  step(`re-process triggered: ${result.progress}`);
  // The page reloads when the run has succeeded; the group is gone then.
  await issues
    .locator(`section.issue[data-entity="${config.issueEntity}"]`)
    .filter({ hasText: `'${config.issueValue}'` })
    .waitFor({ state: "detached", timeout: config.timeoutSeconds * 1000 });
  await issues.locator("h2").first().waitFor();
  result.remainingGroups = await issues.locator("section.issue").count();
  await page.screenshot({ path: config.resolvedPng });
  step("group gone after re-process; screenshot saved");
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
  result.url = page.url();
  result.nav = await page.locator("nav").first().innerHTML().catch(() => "");
  await page.screenshot({ path: config.failurePng }).catch(() => {});
} finally {
  await browser.close().catch(() => {});
  console.log(`RESULT ${JSON.stringify(result)}`);
}
process.exit(result.ok ? 0 : 1);
