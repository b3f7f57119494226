// Browser test of the governance screens of the admin page: resources, grants, usage,
// audit trail, version conflicts and lockout, against the built worker under wrangler dev.
// Run: node --test tests/browser/   (Debian Chromium at /usr/bin/chromium, or CHROMIUM=...)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { askConfirm, openAdminPage, poll, requestToken as tokenFor, signIn, visit } from '../support/browser.mjs';

const IDENTIFIER = 'https://invoices.example.com/api';

let b; // the harness: { worker, adminApi, page, nativeDialogs, pageErrors, shot, overflow, close }
let worker;
let adminApi;
let page;
let nativeDialogs;
let pageErrors;
const s = {}; // state shared by the steps below, which run in order

const shot = (name, fullPage) => b.shot(name, fullPage);
const overflow = () => b.overflow();
const requestToken = (clientId, secret, form) => tokenFor(worker.url, clientId, secret, form);
// The worker caches clients for a few seconds: ask again until the answer is 200.
const tokenOnceAllowed = (clientId, secret, form) =>
  poll(() => requestToken(clientId, secret, form), (r) => r.status === 200, 15_000);

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

before(async () => {
  b = await openAdminPage();
  ({ worker, adminApi, page, nativeDialogs, pageErrors } = b);
  await signIn(b);
});

after(async () => {
  await b?.close();
});

test('Resources screen: create a resource with scopes, with errors next to their cause', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Resources' }).click();
  await page.getByRole('heading', { name: 'Resources', level: 1 }).waitFor();
  await page.locator('#res-empty').waitFor(); // nothing registered yet
  assert.equal(await page.getByText(/not yet available/).count(), 0, 'the "not yet available" note is gone');
  await page.getByRole('link', { name: 'New resource' }).click();
  await page.getByRole('heading', { name: 'New resource', level: 1 }).waitFor();

  const form = page.locator('#resource-form');
  await form.getByLabel(/^Identifier/).fill('not a uri');
  await form.getByLabel('Name', { exact: true }).fill('Invoices API');
  await form.getByLabel('Scope 1', { exact: true }).fill('invoices read');
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.locator('#r-identifier-error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#r-scopes-error').textContent(), /Scope 1 “invoices read” may not contain spaces/);
  assert.equal(await form.getByLabel('Scope 1', { exact: true }).getAttribute('aria-invalid'), 'true');

  await form.getByLabel(/^Identifier/).fill(IDENTIFIER);
  await form.getByLabel('Scope 1', { exact: true }).fill('invoices:read');
  await form.getByLabel('Description 1').fill('Read invoices and credit notes');
  for (const [value, description] of [['invoices:write', 'Create and change invoices'], ['invoices:admin', 'Void invoices']]) {
    await page.getByRole('button', { name: 'Add scope' }).click();
    const n = await page.locator('#r-scopes li').count();
    // Add scope moves focus into the new row: type with the keyboard.
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('scope-value')), true);
    await page.keyboard.type(value);
    await form.getByLabel(`Description ${n}`).fill(description);
  }
  await form.getByLabel(/Maximum access token lifetime/).fill('900');
  assert.equal(await page.locator('#r-identifier-error').isVisible(), false, 'editing clears the field error');
  assert.equal(await page.locator('#r-scopes-error').isVisible(), false);
  await shot('resource-form');
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.getByRole('heading', { name: 'Invoices API', level: 1 }).waitFor();
  assert.equal((await page.locator('#r-identifier-text').textContent()).trim(), IDENTIFIER);
  assert.equal(await page.locator('#r-identifier').isVisible(), false, 'the identifier is not editable');

  const list = await adminApi('GET', '/admin/resources');
  assert.equal(list.json.resources.length, 1);
  const r = list.json.resources[0];
  assert.equal(r.identifier, IDENTIFIER);
  assert.deepEqual(r.scopes.map((x) => x.value), ['invoices:read', 'invoices:write', 'invoices:admin']);
  assert.equal(r.access_token_lifetime, 900);
  s.resourceId = r.resource_id;

  // The same identifier again: the 409 lands on the identifier field.
  await page.goto(`${worker.url}/admin/#/resources/new`);
  await page.getByRole('heading', { name: 'New resource', level: 1 }).waitFor();
  await form.getByLabel(/^Identifier/).fill(IDENTIFIER);
  await form.getByLabel('Name', { exact: true }).fill('Duplicate');
  await page.getByRole('button', { name: 'Create resource' }).click();
  const idErr = page.locator('#r-identifier-error');
  await idErr.waitFor({ state: 'visible' });
  assert.match(await idErr.textContent(), /already exists.*409/);

  // A second, small resource through the API, to have something else in the grant picker.
  const other = await adminApi('POST', '/admin/resources', { identifier: 'urn:example:reports', name: 'Reports', scopes: [{ value: 'reports.read', description: '' }] });
  assert.equal(other.status, 201);

  await page.getByRole('link', { name: 'All resources' }).click();
  await page.locator('#res-rows tr').nth(1).waitFor();
  const row = page.locator('#res-rows tr').filter({ hasText: 'Invoices API' });
  assert.match(await row.textContent(), /invoices:read.*invoices:write.*invoices:admin/);
  assert.match(await row.textContent(), /900 s \(15 min\)/);
  await shot('resources');
});

test('edit a resource: name, scopes and lifetime; the identifier stays', async () => {
  await page.locator('#res-rows').getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
  const form = page.locator('#resource-form');
  await form.getByLabel('Name', { exact: true }).fill('Reports API');
  await page.getByRole('button', { name: 'Add scope' }).click();
  await page.keyboard.type('reports.export');
  await form.getByLabel(/Maximum access token lifetime/).fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#resource-status').filter({ hasText: 'Saved.' }).waitFor();
  const list = (await adminApi('GET', '/admin/resources')).json.resources;
  const r = list.find((x) => x.identifier === 'urn:example:reports');
  assert.equal(r.name, 'Reports API');
  assert.deepEqual(r.scopes.map((x) => x.value), ['reports.read', 'reports.export']);
  assert.equal(r.access_token_lifetime, null);
});

test('grant a client two scopes of the resource in the page; the token carries aud and scope', async () => {
  const made = await adminApi('POST', '/admin/clients', { client_name: 'Invoice sync' });
  assert.equal(made.status, 201);
  s.clientId = made.json.client.client_id;
  s.secret = made.json.secret.client_secret;

  await page.goto(`${worker.url}/admin/#/clients/${s.clientId}`);
  await page.getByRole('heading', { name: 'Invoice sync', level: 1 }).waitFor();
  const grants = page.locator('#d-grants');
  await grants.getByLabel('Grant another resource').selectOption({ label: `Invoices API (${IDENTIFIER})` });
  await grants.getByRole('button', { name: 'Add grant' }).click();
  const fs = grants.locator('fieldset.grant').filter({ hasText: 'Invoices API' });
  await fs.waitFor();
  assert.match(await fs.textContent(), /default audience/);
  await fs.getByRole('checkbox', { name: /invoices:read/ }).check();
  await fs.getByRole('checkbox', { name: /invoices:write/ }).check();
  assert.equal(await fs.getByRole('checkbox', { name: /invoices:admin/ }).isChecked(), false);
  assert.equal((await page.locator('#grants-status').textContent()).trim(), 'Unsaved changes.');
  await grants.getByRole('button', { name: 'Save grants' }).click();
  await page.locator('#grants-status').filter({ hasText: 'Grants saved.' }).waitFor();
  await shot('detail-grants');

  const c = (await adminApi('GET', `/admin/clients/${s.clientId}`)).json;
  assert.deepEqual(c.grants.map((g) => [g.resource, g.scope]), [[IDENTIFIER, 'invoices:read invoices:write']]);
  assert.equal(c.version, 2);

  // The worker caches clients for a few seconds: poll until the grant is seen.
  const r = await tokenOnceAllowed(s.clientId, s.secret, { resource: IDENTIFIER });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const claims = claimsOf(r.json.access_token);
  assert.deepEqual([claims.aud].flat(), [IDENTIFIER]);
  assert.deepEqual(claims.scope.split(' ').sort(), ['invoices:read', 'invoices:write']);
  assert.deepEqual(r.json.scope.split(' ').sort(), ['invoices:read', 'invoices:write']);
  assert.ok(r.json.expires_in <= 900, `the resource caps the lifetime: ${r.json.expires_in}`);

  const refused = await requestToken(s.clientId, s.secret, { resource: IDENTIFIER, scope: 'invoices:admin' });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error, 'invalid_scope');
});

test('usage for the last 30 days is shown as a bar list with numbers', async () => {
  await page.reload();
  await page.getByRole('heading', { name: 'Invoice sync', level: 1 }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#usage-bars li').length === 30);
  const summary = (await page.locator('#usage-summary').textContent()).trim();
  assert.match(summary, /last 30 days/);
  const today = new Date().toISOString().slice(0, 10);
  assert.equal((await page.locator('#usage-last').textContent()).trim(), today);
  await page.getByText('Daily numbers').click();
  assert.equal(await page.locator('#usage-table-rows tr').count(), 30);
  assert.match(await page.locator('#usage-table-rows tr').first().textContent(), new RegExp(today));
});

test('deleting a granted resource shows the 409 plainly, with the clients holding it', async () => {
  await visit(b, `#/resources/${s.resourceId}`, 'Invoices API');
  const confirm = await askConfirm(page, 'Delete resource…');
  assert.match(await confirm.textContent(), /Invoices API/);
  await confirm.getByRole('button', { name: 'Delete resource' }).click();
  const err = page.locator('#r-delete-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /Not deleted: the resource is granted to 1 client.*HTTP 409/);
  assert.match(await page.locator('#r-holders').textContent(), /Remove the grant on these clients' pages first/);
  await page.locator('#r-holders').getByRole('link', { name: 'Invoice sync' }).waitFor();
  await shot('resource-delete-409');
  assert.equal((await adminApi('GET', `/admin/resources/${s.resourceId}`)).status, 200);
});

test('a stale version is refused with the conflict message and a Reload action', async () => {
  await page.goto(`${worker.url}/admin/#/clients/${s.clientId}`);
  await page.getByRole('heading', { name: 'Invoice sync', level: 1 }).waitFor();
  // Someone else changes the client after the page read it.
  const other = await adminApi('PATCH', `/admin/clients/${s.clientId}`, { description: 'changed elsewhere' });
  assert.equal(other.status, 200);

  await page.locator('#e-name').fill('Invoice sync (renamed)');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const box = page.locator('#edit-conflict');
  await box.waitFor({ state: 'visible' });
  assert.match(await box.textContent(), /the client changed since you read it/);
  await shot('conflict');
  assert.equal((await adminApi('GET', `/admin/clients/${s.clientId}`)).json.client_name, 'Invoice sync', 'nothing saved');

  // Grants too: the same stale version.
  const fs = page.locator('#d-grants fieldset.grant').first();
  await fs.getByRole('checkbox', { name: /invoices:admin/ }).check();
  await page.getByRole('button', { name: 'Save grants' }).click();
  const gbox = page.locator('#grants-conflict');
  await gbox.waitFor({ state: 'visible' });
  assert.match(await gbox.textContent(), /the client changed since you read it/);

  await gbox.getByRole('button', { name: 'Reload the client' }).click();
  await gbox.waitFor({ state: 'hidden' });
  assert.equal(await box.isVisible(), false);
  assert.equal(await page.locator('#e-description').inputValue(), 'changed elsewhere');
  assert.equal(await page.locator('#e-name').inputValue(), 'Invoice sync');
  assert.equal(await fs.getByRole('checkbox', { name: /invoices:admin/ }).isChecked(), false);
  assert.match(await page.locator('#grants-status').textContent(), /Reloaded/);

  // After the reload the same edit goes through.
  await page.locator('#e-name').fill('Invoice sync (renamed)');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  await page.getByRole('heading', { name: 'Invoice sync (renamed)', level: 1 }).waitFor();
});

test('lockout: the on/off checkbox saves; locked_until and failed_attempts drive the Unlock box', async () => {
  const box = page.getByRole('checkbox', { name: /^Lockout/ });
  assert.equal(await box.isChecked(), true);
  assert.match(await page.locator('#e-lockout-field').textContent(), /Lockout: on/);
  await box.uncheck();
  assert.match(await page.locator('#e-lockout-field').textContent(), /Lockout: off/);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await adminApi('GET', `/admin/clients/${s.clientId}`)).json.lockout_enabled, false);
  assert.match(await page.locator('#d-lockout').textContent(), /^Off/);
  await box.check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await adminApi('GET', `/admin/clients/${s.clientId}`)).json.lockout_enabled, true);

  // The introspection permission (RFC 7662) is off by default and saves like the others.
  const introspection = page.getByRole('checkbox', { name: /^May introspect any token/ });
  assert.equal(await introspection.isChecked(), false);
  await introspection.check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await adminApi('GET', `/admin/clients/${s.clientId}`)).json.introspection_allowed, true);

  // DPoP-bound tokens (RFC 9449 section 5.2): off by default, saved like the others (what the
  // token endpoint does with it is tested in tests/host/dpop.rs and tests/e2e/dpop.test.mjs).
  const dpop = page.getByRole('checkbox', { name: /^Tokens must be DPoP-bound/ });
  assert.equal(await dpop.isChecked(), false);
  await dpop.check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await adminApi('GET', `/admin/clients/${s.clientId}`)).json.dpop_bound_access_tokens, true);
  await dpop.uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await adminApi('GET', `/admin/clients/${s.clientId}`)).json.dpop_bound_access_tokens, false);

  // Five failed authentications in a row lock the client (CONTRACT: Lockout).
  for (let i = 0; i < 5; i += 1) {
    const bad = await requestToken(s.clientId, 'not-the-secret', {});
    assert.equal(bad.status, 401);
  }
  const after = (await adminApi('GET', `/admin/clients/${s.clientId}`)).json;
  const realLock = typeof after.locked_until === 'number' && after.locked_until > Date.now() / 1000;
  const getPattern = `**/admin/clients/${s.clientId}`;
  if (!realLock) {
    // A server without lockout yet: feed the page the fields the contract describes.
    const until = Math.floor(Date.now() / 1000) + 3600;
    await page.route(getPattern, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const res = await route.fetch();
      const json = await res.json();
      await route.fulfill({ response: res, json: { ...json, locked_until: until, failed_attempts: 5 } });
    });
  } else {
    assert.equal(after.failed_attempts, 5);
    const refused = await requestToken(s.clientId, s.secret, { resource: IDENTIFIER });
    assert.equal(refused.status, 401, 'a correct secret is refused while locked');
    assert.match(refused.json.error_description, /locked/);
  }
  await page.reload();
  const locked = page.locator('#d-locked');
  await locked.waitFor({ state: 'visible' });
  assert.match(await locked.textContent(), /locked until .* after 5 failed authentications/);
  assert.match(await page.locator('#d-lockout').textContent(), /On · 5 failed attempts/);
  assert.equal((await page.locator('#d-status').textContent()).trim(), 'Locked');
  await shot('detail-locked', false);
  if (!realLock) await page.unroute(getPattern);

  const unlockPattern = `**/admin/clients/${s.clientId}/unlock`;
  if (!realLock) {
    const probe = await adminApi('POST', `/admin/clients/${s.clientId}/unlock`, {});
    if (probe.status === 404) {
      // Without the route the page says what happened, next to the button...
      await page.getByRole('button', { name: 'Unlock' }).click();
      const err = page.locator('#d-unlock-error');
      await err.waitFor({ state: 'visible' });
      assert.match(await err.textContent(), /Unlock failed: .*HTTP 404/);
    }
    // ...and with the contract's answer (200 with the client) the box goes away.
    await page.route(unlockPattern, async (route) => {
      const c = (await adminApi('GET', `/admin/clients/${s.clientId}`)).json;
      await route.fulfill({ status: 200, json: { ...c, locked_until: null, failed_attempts: 0 } });
    });
  }
  await page.getByRole('button', { name: 'Unlock' }).click();
  await locked.waitFor({ state: 'hidden' });
  await page.locator('#d-flash').filter({ hasText: 'Unlocked' }).waitFor();
  assert.equal((await page.locator('#d-status').textContent()).trim(), 'Enabled');
  assert.match(await page.locator('#d-lockout').textContent(), /^On/);
  if (!realLock) await page.unroute(unlockPattern);
  else {
    const c = (await adminApi('GET', `/admin/clients/${s.clientId}`)).json;
    assert.equal(c.locked_until, null);
    assert.equal(c.failed_attempts, 0);
    const ok = await tokenOnceAllowed(s.clientId, s.secret, { resource: IDENTIFIER });
    assert.equal(ok.status, 200, 'the client gets tokens again after Unlock');
  }
});

test('the client audit trail lists what was done, newest first, with "Load more"', async () => {
  await page.goto(`${worker.url}/admin/#/clients/${s.clientId}`);
  await page.getByRole('heading', { name: 'Invoice sync (renamed)', level: 1 }).waitFor();
  const rows = page.locator('#d-audit-rows tr');
  await rows.first().waitFor();
  const texts = await rows.allTextContents();
  assert.match(texts.at(-1), /client\.created/);
  assert.ok(texts.some((t) => /client\.updated.*grants/.test(t)), `no grants change in ${texts.join(' | ')}`);
  assert.ok(texts.some((t) => /client\.updated.*client_name/.test(t)));
  assert.ok(texts.some((t) => /client\.updated.*lockout_enabled/.test(t)));
  assert.ok(texts.some((t) => /client\.unlocked/.test(t)) || !texts.some((t) => /client\.locked/.test(t)));
  await shot('detail');

  // A busy client: 25 changes, 20 per page.
  const busyClient = (await adminApi('POST', '/admin/clients', { client_name: 'Busy client' })).json.client.client_id;
  for (let i = 0; i < 25; i += 1) {
    assert.equal((await adminApi('PATCH', `/admin/clients/${busyClient}`, { description: `change ${i}` })).status, 200);
  }
  await page.goto(`${worker.url}/admin/#/clients/${busyClient}`);
  await page.getByRole('heading', { name: 'Busy client', level: 1 }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#d-audit-rows tr').length === 20);
  await page.locator('#d-audit').getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#d-audit-rows tr').length === 26);
  assert.equal(await page.locator('#d-audit-more').isVisible(), false);
  assert.match(await rows.last().textContent(), /client\.created/);
});

test('the global Audit screen pages through events', async () => {
  // Enough events for a second page of 50.
  const total = (await adminApi('GET', '/admin/audit?limit=100')).json.events.length;
  const filler = (await adminApi('POST', '/admin/clients', { client_name: 'Filler' })).json.client.client_id;
  for (let i = total + 1; i < 60; i += 1) {
    assert.equal((await adminApi('PATCH', `/admin/clients/${filler}`, { description: `filler ${i}` })).status, 200);
  }
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
  const rows = page.locator('#audit-rows tr');
  await page.waitForFunction(() => document.querySelectorAll('#audit-rows tr').length === 50);
  assert.match(await rows.first().textContent(), /client\.updated/);
  await shot('audit');
  await page.locator('#view-audit').getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#audit-rows tr').length > 50);
  const all = await rows.allTextContents();
  assert.ok(all.some((t) => /resource\.created.*Invoices API/.test(t)), 'resource.created names the resource');
  assert.ok(all.some((t) => /resource\.updated/.test(t)));
  assert.ok(all.some((t) => /client\.updated.*Invoice sync.*grants/.test(t)));
  const ids = await page.locator('#audit-rows tr').evaluateAll((els) => els.map((e) => e.dataset.event));
  assert.equal(new Set(ids).size, all.length, 'no event listed twice');
  const api = (await adminApi('GET', '/admin/audit?limit=100')).json.events.map((e) => e.event_id);
  assert.deepEqual(ids, api.slice(0, ids.length), 'newest first, in the server order');
});

test('375 px: the new screens do not scroll sideways', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  for (const [hash, heading, name] of [
    ['#/resources', 'Resources', 'narrow-resources'],
    [`#/resources/${s.resourceId}`, 'Invoices API', 'narrow-resource'],
    [`#/clients/${s.clientId}`, 'Invoice sync (renamed)', 'narrow-detail-governance'],
    ['#/audit', 'Audit trail', 'narrow-audit'],
  ]) {
    await page.goto(`${worker.url}/admin/${hash}`);
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    if (hash.startsWith('#/clients')) await page.waitForFunction(() => document.querySelectorAll('#usage-bars li').length === 30);
    if (hash === '#/audit') await page.locator('#audit-rows tr').first().waitFor();
    if (hash === '#/resources') await page.locator('#res-rows tr').first().waitFor();
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`).slice(0, 5));
    assert.ok((await overflow()) <= 0, `${hash} overflows at 375 px: ${wide.join(', ')}`);
    await shot(name);
    await shot(`${name}-top`, false); // what the first screen shows
    if (hash.startsWith('#/clients')) {
      for (const id of ['d-grants', 'd-usage']) {
        await page.locator(`#${id}`).scrollIntoViewIfNeeded();
        await shot(`narrow-${id}`, false);
      }
    }
  }
  await page.setViewportSize({ width: 1200, height: 860 });
  assert.deepEqual(nativeDialogs, []);
  assert.deepEqual(pageErrors, []);
});
