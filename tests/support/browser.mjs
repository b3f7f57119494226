// Shared harness for the browser tests of the admin page: the built Worker under `wrangler
// dev` (tests/support/worker.mjs) and Debian's Chromium driven by playwright-core.
//
//   const b = await openAdminPage();        // in before()
//   await b.page.goto(`${b.worker.url}/admin/`);
//   await b.shot('list');                   // tests/browser/screenshots/list.png
//   await b.close();                        // in after()
//
// Needs /usr/bin/chromium (override with CHROMIUM) and `bash scripts/build.sh`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startWorker, admin } from './worker.mjs';
import { basic, tokenRequest } from './http.mjs';

export const SHOTS = path.join(ROOT, 'tests', 'browser', 'screenshots');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Start the Worker and a page in a fresh Chromium. Returns { worker, adminApi, browser, page,
 * nativeDialogs, pageErrors, shot, overflow, close }: `nativeDialogs` collects alert/confirm/
 * prompt (the page must never open one), `pageErrors` uncaught exceptions and console errors
 * (CSP violations included).
 */
export async function openAdminPage({ vars = {} } = {}) {
  await mkdir(SHOTS, { recursive: true });
  const worker = await startWorker({ vars });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  } catch (e) {
    await worker.stop();
    throw e;
  }
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const nativeDialogs = [];
  const pageErrors = [];
  page.on('dialog', (d) => { nativeDialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A failed admin call (401, 404, 422) is logged by Chromium as a resource error: expected here.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
  return {
    worker,
    adminApi: admin(worker.url, worker.adminToken),
    browser,
    page,
    nativeDialogs,
    pageErrors,
    /** A screenshot; `fullPage` false keeps what the viewport shows (e.g. a modal). */
    shot: (name, fullPage = true) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage }),
    /** How far the page scrolls sideways (0 or less: it does not). */
    overflow: () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    close: async () => {
      await browser.close();
      await worker.stop();
    },
  };
}

/** Sign in through the page with the Worker's admin token and wait for the client list. */
export async function signIn(b) {
  await b.page.goto(`${b.worker.url}/admin/`);
  await b.page.getByLabel('Admin token').fill(b.worker.adminToken);
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
}

/** A client-credentials token request with HTTP Basic auth; `form` adds parameters. */
export function requestToken(baseUrl, clientId, secret, form = {}) {
  return tokenRequest(baseUrl, { grant_type: 'client_credentials', ...form }, { authorization: basic(clientId, secret) });
}

/** Repeat `request()` until `want(answer)` holds (the Worker caches clients for a few seconds). */
export async function poll(request, want, timeoutMs = 12_000, intervalMs = 500) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await request();
    if (want(last) || Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Go to a screen of the admin page (`hash` like '#/clients/…') and wait for its heading. */
export async function visit(b, hash, heading) {
  await b.page.goto(`${b.worker.url}/admin/${hash}`);
  await b.page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

/** Click a button that asks first; resolves to the visible confirmation dialog. */
export async function askConfirm(page, buttonName) {
  await page.getByRole('button', { name: buttonName }).click();
  const confirm = page.locator('#confirm-dialog');
  await confirm.waitFor({ state: 'visible' });
  return confirm;
}
