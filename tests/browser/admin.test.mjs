// Browser test of the admin page (www/admin/) against the built worker under wrangler dev.
// Run: node --test tests/browser/
// Needs Debian's Chromium at /usr/bin/chromium (override with CHROMIUM) and playwright-core.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { askConfirm, openAdminPage, poll, requestToken as tokenFor, visit } from '../support/browser.mjs';

const XSS_NAME = '<img src=x onerror=alert(1)>';

let b; // the harness: { worker, adminApi, page, nativeDialogs, pageErrors, shot, close }
let worker; // { url, adminToken, stop }
let adminApi; // (method, path, body) => {status, headers, json}
let page;
let nativeDialogs; // alert/confirm/prompt: the page must never open one
let pageErrors; // uncaught exceptions and console errors (CSP violations included)
const created = {}; // state shared by the steps below, which run in order

const shot = (name, fullPage) => b.shot(name, fullPage);

// RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding.
const formEncode = (s) => new URLSearchParams([['', s]]).toString().slice(1);

const requestToken = (clientId, secret) => tokenFor(worker.url, clientId, secret);

// The worker caches client records for a few seconds: poll until `want` holds.
const pollToken = (clientId, secret, want, timeoutMs = 12_000) => poll(() => requestToken(clientId, secret), want, timeoutMs);

function assertTokenResponse(r) {
  assert.equal(r.status, 200, `token request failed: ${JSON.stringify(r.json)}`);
  assert.equal(typeof r.json.access_token, 'string');
  assert.equal(r.json.access_token.split('.').length, 3, 'access_token is a JWS compact serialisation');
  assert.match(r.json.token_type, /^bearer$/i);
  assert.equal(typeof r.json.expires_in, 'number');
  assert.match(r.headers.get('cache-control') || '', /no-store/);
}

async function readSecretDialog() {
  const dlg = page.locator('#secret-dialog');
  await dlg.waitFor({ state: 'visible' });
  await page.locator('#sd-token-endpoint').filter({ hasText: /\S/ }).waitFor();
  return {
    clientId: (await page.locator('#sd-client-id').textContent()).trim(),
    secret: (await page.locator('#sd-client-secret').textContent()).trim(),
    tokenEndpoint: (await page.locator('#sd-token-endpoint').textContent()).trim(),
    curl: (await page.locator('#sd-curl').textContent()).trim(),
    warning: await dlg.locator('.callout').textContent(),
  };
}

async function closeSecretDialog() {
  await page.getByRole('button', { name: /I have saved the secret/ }).click();
  await page.locator('#secret-dialog').waitFor({ state: 'hidden' });
}

before(async () => {
  b = await openAdminPage();
  ({ worker, adminApi, page, nativeDialogs, pageErrors } = b);
});

after(async () => {
  await b?.close();
});

test('/admin/ is served with the security headers', async () => {
  const res = await fetch(`${worker.url}/admin/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /text\/html/);
  const csp = res.headers.get('content-security-policy') || '';
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
    "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(d), `CSP lacks ${d}: ${csp}`);
  }
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline scripts');
  assert.doesNotMatch(html, /\sstyle=/i, 'no inline style attributes');

  const landing = await fetch(`${worker.url}/`);
  assert.equal(landing.status, 200);
  const body = await landing.text();
  assert.match(body, /href="\/admin\/"/);
  assert.match(body, /href="\/\.well-known\/oauth-authorization-server"/);
});

test('a wrong admin token is refused with a visible message', async () => {
  await page.goto(`${worker.url}/admin/`);
  // Keyboard only: the token field has focus on arrival and Enter submits.
  await page.waitForFunction(() => document.activeElement?.id === 'signin-token');
  await page.keyboard.type('not-the-admin-token');
  await page.keyboard.press('Enter');
  const err = page.locator('#signin-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /refused.*401/);
  await shot('signin-refused');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.getByRole('heading', { name: 'Clients' }).count(), 0);
});

test('sign in keeps the token in sessionStorage only', async () => {
  await page.getByLabel('Admin token').fill(worker.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
  assert.equal(await page.locator('#signin-error').isVisible(), false);
  const stored = await page.evaluate(() => ({ session: { ...sessionStorage }, local: localStorage.length, cookie: document.cookie }));
  assert.deepEqual(Object.values(stored.session), [worker.adminToken]);
  assert.equal(stored.local, 0);
  assert.equal(stored.cookie, '');
  // Resources: a note only while the server has no /admin/resources.
  const resources = await adminApi('GET', '/admin/resources');
  if (resources.status === 404) await page.locator('#resources-note').waitFor({ state: 'visible' });
});

test('create a secret client; the secret is shown once and works at the token endpoint', async () => {
  await page.getByRole('link', { name: 'New client' }).first().click();
  await page.getByRole('heading', { name: 'New client' }).waitFor();
  const form = page.locator('#create-form');
  await form.getByLabel('Name', { exact: true }).fill('Billing exporter');
  await form.getByLabel(/^Description/).fill('Nightly export of invoices to the data warehouse');
  await form.getByLabel(/HTTP Basic/).check();
  await form.getByLabel(/Secret description/).fill('ci pipeline');
  await form.getByLabel('Expires').selectOption('1y');
  await shot('create-form');
  await page.getByRole('button', { name: 'Create client' }).click();

  const d = await readSecretDialog();
  assert.match(d.clientId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(d.secret.length >= 40, 'a 256-bit secret');
  assert.match(d.tokenEndpoint, /^https?:\/\/[^/]+\/oauth\/token$/);
  assert.equal(d.curl, `curl -u "${formEncode(d.clientId)}:${formEncode(d.secret)}" -d grant_type=client_credentials ${d.tokenEndpoint}`);
  assert.match(d.warning, /will not be shown again/);
  await shot('secret-dialog', false); // a modal: the viewport is what the user sees

  const token = await requestToken(d.clientId, d.secret);
  assertTokenResponse(token);

  await closeSecretDialog();
  assert.ok(!(await page.content()).includes(d.secret), 'secret text left in the DOM');
  const leftovers = await page.evaluate((s) => [document.body.innerText.includes(s),
    JSON.stringify({ ...sessionStorage }).includes(s), JSON.stringify({ ...localStorage }).includes(s)], d.secret);
  assert.deepEqual(leftovers, [false, false, false]);

  // The dialog leads to the new client's detail view.
  await page.getByRole('heading', { name: 'Billing exporter', level: 1 }).waitFor();
  assert.equal((await page.locator('#d-client-id').textContent()).trim(), d.clientId);
  assert.equal(await page.locator('#d-secret-rows tr').count(), 1);
  created.clientId = d.clientId;
  created.firstSecret = d.secret;
});

test('add a secret and delete a secret in the detail view', async () => {
  // A secret that expires in 10 days is marked as expiring soon, in text.
  const soon = new Date(Date.now() + 10 * 86400_000).toISOString().slice(0, 10);
  await page.locator('#s-description').fill('rotation 2');
  await page.locator('#s-expiry').selectOption('date');
  await page.locator('#s-date').fill(soon);
  await page.getByRole('button', { name: 'Add secret' }).click();
  const d = await readSecretDialog();
  assert.equal(d.clientId, created.clientId);
  assert.notEqual(d.secret, created.firstSecret);
  await closeSecretDialog();
  assert.ok(!(await page.content()).includes(d.secret));

  const rows = page.locator('#d-secret-rows tr');
  await page.waitForFunction(() => document.querySelectorAll('#d-secret-rows tr').length === 2);
  const soonRow = rows.filter({ hasText: 'rotation 2' });
  assert.match(await soonRow.textContent(), /Expires soon: in 10 days/);
  await shot('detail');

  // Delete the first secret, after a confirmation.
  const firstRow = rows.filter({ hasText: 'ci pipeline' });
  await firstRow.getByRole('button', { name: /Delete secret/ }).click();
  const confirm = page.locator('#confirm-dialog');
  await confirm.waitFor({ state: 'visible' });
  assert.match(await confirm.textContent(), /ci pipeline/);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await rows.count(), 2, 'cancel keeps the secret');
  await firstRow.getByRole('button', { name: /Delete secret/ }).click();
  await confirm.getByRole('button', { name: 'Delete secret' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#d-secret-rows tr').length === 1);
  assert.match(await rows.first().textContent(), /rotation 2/);

  const list = await adminApi('GET', `/admin/clients/${created.clientId}/secrets`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.secrets.map((s) => s.description), ['rotation 2']);

  // The remaining secret works; the deleted one stops working once the cache lets go.
  assertTokenResponse(await pollToken(created.clientId, d.secret, (r) => r.status === 200));
  const old = await pollToken(created.clientId, created.firstSecret, (r) => r.status === 401);
  assert.equal(old.status, 401, 'deleted secret still accepted after ~12 s');
  created.secret = d.secret;
});

test('disabling the client in the page makes token requests fail', async () => {
  const enabled = page.getByRole('checkbox', { name: /^Enabled/ });
  assert.equal(await enabled.isChecked(), true);
  await enabled.uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await page.locator('#d-status').textContent()).trim(), 'Disabled');
  const r = await pollToken(created.clientId, created.secret, (x) => x.status !== 200);
  assert.equal(r.status, 401, `expected invalid_client, got ${r.status} ${JSON.stringify(r.json)}`);
  assert.equal(r.json.error, 'invalid_client');
  const c = await adminApi('GET', `/admin/clients/${created.clientId}`);
  assert.equal(c.json.enabled, false);
});

test('a locked client shows "locked until" and an Unlock button', async () => {
  // locked_until arrives with a later issue: feed it to the page through an intercepted answer.
  const until = Math.floor(Date.now() / 1000) + 3600;
  const pattern = `**/admin/clients/${created.clientId}`;
  await page.route(pattern, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const res = await route.fetch();
    const json = await res.json();
    await route.fulfill({ response: res, json: { ...json, locked_until: until } });
  });
  await page.reload();
  const box = page.locator('#d-locked');
  await box.waitFor({ state: 'visible' });
  assert.match(await box.textContent(), /locked until/i);
  assert.equal((await page.locator('#d-status').textContent()).trim(), 'Locked');
  await page.unroute(pattern);
  await page.getByRole('button', { name: 'Unlock' }).click();
  // Until the governance issue lands the server may answer 404: the page must say so.
  await page.waitForFunction(() => !document.querySelector('#d-unlock').disabled);
  const unlock = await adminApi('POST', `/admin/clients/${created.clientId}/unlock`, {});
  if (unlock.status >= 400) {
    const err = page.locator('#d-unlock-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), new RegExp(`Unlock failed: .*HTTP ${unlock.status}`));
  } else {
    await box.waitFor({ state: 'hidden' });
  }
});

test('key-based create: invalid JWK Set JSON is reported next to the field; server errors next to the form', async () => {
  await page.goto(`${worker.url}/admin/#/clients/new`);
  await page.getByRole('heading', { name: 'New client' }).waitFor();
  const form = page.locator('#create-form');
  await form.getByLabel('Name', { exact: true }).fill('Edge API caller');
  await form.getByLabel(/pasted JWK Set/).check();
  await form.getByLabel('JWK Set (JSON)').fill('{"keys": [');
  await page.getByRole('button', { name: 'Create client' }).click();
  const fieldErr = page.locator('#c-jwks-error');
  await fieldErr.waitFor({ state: 'visible' });
  assert.match(await fieldErr.textContent(), /Not valid JSON/);
  assert.equal(await page.locator('#c-jwks').getAttribute('aria-invalid'), 'true');

  const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1', alg: 'EdDSA', use: 'sig' };
  await form.getByLabel('JWK Set (JSON)').fill(JSON.stringify({ keys: [jwk] }));
  await page.getByRole('button', { name: 'Create client' }).click();
  // Today the server may refuse private_key_jwt (422); later it creates the client.
  await page.waitForFunction(() =>
    !document.querySelector('#create-error').hidden || !document.querySelector('#view-detail').hidden);
  assert.equal(await fieldErr.isVisible(), false);
  if (await page.locator('#create-error').isVisible()) {
    assert.match(await page.locator('#create-error').textContent(), /not created: .*HTTP 4\d\d/);
    await shot('create-key-refused');
  } else {
    await page.getByRole('heading', { name: 'Edge API caller', level: 1 }).waitFor();
    assert.equal(await page.locator('#secret-dialog').isVisible(), false, 'no secret for a key-based client');
  }
});

test('a hostile client name renders as text', async () => {
  const res = await adminApi('POST', '/admin/clients', { client_name: XSS_NAME, description: '<script>alert(2)</script>' });
  assert.equal(res.status, 201);
  const id = res.json.client.client_id;
  await page.goto(`${worker.url}/admin/#/clients`);
  const link = page.getByRole('link', { name: XSS_NAME, exact: true });
  await link.waitFor();
  await page.getByLabel('Search by name or client ID').fill('onerror');
  assert.equal(await page.locator('#client-rows tr').count(), 1);
  await page.getByLabel('Search by name or client ID').fill(id.slice(0, 8));
  assert.equal(await page.locator('#client-rows tr').count(), 1);
  await page.getByLabel('Search by name or client ID').fill('');
  await link.click();
  await page.getByRole('heading', { name: XSS_NAME, level: 1 }).waitFor();
  assert.equal(await page.locator('#e-description').inputValue(), '<script>alert(2)</script>');
  assert.equal(await page.locator('img').count(), 0, 'an <img> element was created from data');
  await page.waitForTimeout(300);
  assert.deepEqual(nativeDialogs, []);
  await page.goto(`${worker.url}/admin/#/clients`);
  await page.locator('#client-rows tr').first().waitFor();
  await shot('list');
});

test('375 px wide screen: no horizontal scrolling, everything reachable', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto(`${worker.url}/admin/#/clients`);
  await page.locator('#client-rows tr').first().waitFor();
  const { overflow } = b;
  assert.ok((await overflow()) <= 0, 'list overflows at 375 px');
  await shot('narrow-list');
  await page.goto(`${worker.url}/admin/#/clients/${created.clientId}`);
  await page.getByRole('heading', { name: 'Billing exporter', level: 1 }).waitFor();
  assert.ok((await overflow()) <= 0, 'detail overflows at 375 px');
  await shot('narrow-detail');
  await page.setViewportSize({ width: 1200, height: 860 });
});

test('"Load more" pages through next_cursor and search covers loaded pages', async () => {
  const before = (await adminApi('GET', '/admin/clients?limit=100')).json.clients.length;
  const extra = Math.max(0, 53 - before);
  for (let i = 0; i < extra; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, extra - i) }, (_, j) =>
      adminApi('POST', '/admin/clients', { client_name: `bulk client ${String(i + j).padStart(2, '0')}` })
        .then((r) => assert.equal(r.status, 201))));
  }
  const total = before + extra;
  await page.goto(`${worker.url}/admin/#/clients`);
  await page.locator('#client-rows tr').first().waitFor();
  const more = page.getByRole('button', { name: 'Load more' });
  await more.waitFor();
  const firstPage = await page.locator('#client-rows tr').count();
  assert.ok(firstPage < total, `first page shows ${firstPage} of ${total}`);
  while (await more.isVisible()) {
    await more.click();
    await page.waitForFunction(() => !document.querySelector('#list-more:disabled'));
  }
  assert.equal(await page.locator('#client-rows tr').count(), total);
  await page.getByLabel('Search by name or client ID').fill('BULK CLIENT');
  assert.equal(await page.locator('#client-rows tr').count(), extra);
});

test('revoke every token of a client, after a confirmation', async () => {
  await visit(b, `#/clients/${created.clientId}`, 'Billing exporter');
  const confirm = await askConfirm(page, 'Revoke all tokens…');
  await confirm.getByRole('button', { name: 'Revoke all tokens' }).click();
  await page.locator('#d-flash').filter({ hasText: 'Revoked: tokens issued until' }).waitFor();
  const mark = (await adminApi('GET', `/admin/clients/${created.clientId}`)).json.tokens_valid_after;
  assert.equal(typeof mark, 'number');
  assert.ok(Math.abs(mark - Date.now() / 1000) < 60, 'the mark is now');
});

test('delete a client with confirmation', async () => {
  await visit(b, `#/clients/${created.clientId}`, 'Billing exporter');
  const confirm = await askConfirm(page, 'Delete client…');
  await confirm.getByRole('button', { name: 'Delete client' }).click();
  await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
  await page.locator('#list-flash').filter({ hasText: 'Deleted client' }).waitFor();
  assert.equal((await adminApi('GET', `/admin/clients/${created.clientId}`)).status, 404);
});

test('sign out clears the token', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.reload();
  await page.getByLabel('Admin token').waitFor();
  assert.equal(await page.locator('#view-list').isVisible(), false);
  assert.deepEqual(nativeDialogs, []);
  assert.deepEqual(pageErrors, []);
});
