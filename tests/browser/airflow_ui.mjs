// Shared pieces of the scripts that drive the Airflow 3 UI in headless Chromium: a progress
// recorder that always ends with one "RESULT {json}" line, the browser launch, the login.
import { chromium } from "playwright-core";

/** Progress lines "step: <seconds>s <name>" on stdout, kept in result.steps too. */
export function recorder() {
  const started = Date.now();
  const result = { ok: false, steps: [] };
  const step = (name) => {
    const line = `${((Date.now() - started) / 1000).toFixed(1)}s ${name}`;
    result.steps.push(line);
    console.log(`step: ${line}`);
  };
  return { result, step };
}

/** Debian's Chromium, headless, as root, on a machine with no outside network. */
export async function launch(config) {
  const browser = await chromium.launchPersistentContext(config.userDataDir, {
    executablePath: config.chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 1000 },
    timezoneId: "UTC",
    locale: "en-US",
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(30_000);
  return { browser, page };
}

/** Log in on the real login page (the UI redirects there when there is no session). */
export async function login(page, config) {
  await page.goto(`${config.baseUrl}/`);
  await page.waitForURL(/\/auth\/login/);
  await page.getByRole("heading", { name: "Sign into Airflow" }).waitFor();
  await page.getByLabel("Username").fill(config.username);
  await page.getByLabel("Password").fill(config.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/auth/"));
}
