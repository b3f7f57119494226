// Browser test of token quotas on the admin page: set on the New client form, changed on the
// client page, a refused number shown next to its field, and the use against the quota shown.
// Run: node --test tests/browser/quota.test.mjs   (Debian Chromium at /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdminPage, poll, requestToken, signIn, visit } from '../support/browser.mjs';

let b;
let page;
const s = {};

before(async () => {
  b = await openAdminPage();
  page = b.page;
  await signIn(b);
});

after(async () => {
  await b?.close();
});

test('a quota set on the New client form is stored and shown on the client page', async () => {
  await page.getByRole('link', { name: 'New client' }).first().click();
  await page.getByRole('heading', { name: 'New client', level: 1 }).waitFor();
  const form = page.locator('#create-form');
  await form.getByLabel('Name', { exact: true }).fill('Quota client');
  await form.getByText('Token settings').click();
  const quota = page.locator('#c-quota');
  await quota.getByLabel(/^Tokens per hour/).fill('3');
  await quota.getByLabel('Over the quota').selectOption('monitor');
  await page.getByRole('button', { name: 'Create client' }).click();
  const dialog = page.locator('#secret-dialog');
  await dialog.waitFor({ state: 'visible' });
  s.secret = (await dialog.locator('#sd-client-secret').textContent()).trim();
  await dialog.getByRole('button', { name: 'I have saved the secret, close' }).click();
  await page.getByRole('heading', { name: 'Quota client', level: 1 }).waitFor();
  s.id = (await page.locator('#d-client-id').textContent()).trim();
  assert.equal((await page.locator('#d-quota').textContent()).trim(), 'Monitored (tokens still issued): 0 of 3 this hour (UTC)');
  const stored = await b.adminApi('GET', `/admin/clients/${s.id}`);
  assert.deepEqual(stored.json.token_quota, { per_hour: 3, enforce: false });
});

test('the client page changes the quota, refuses a bad number beside it, and shows the use', async () => {
  const quota = page.locator('#e-quota');
  assert.equal(await quota.getByLabel(/^Tokens per hour/).inputValue(), '3');
  await quota.getByLabel(/^Tokens per day/).fill('0');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const err = page.locator('#e-quota-error');
  await err.waitFor({ state: 'visible' });
  assert.equal((await err.textContent()).trim(), 'Enter a whole number of tokens from 1 to 10,000,000, or leave it empty.');
  assert.equal(await quota.getByLabel(/^Tokens per day/).getAttribute('aria-invalid'), 'true');

  await quota.getByLabel(/^Tokens per hour/).fill('2');
  await quota.getByLabel(/^Tokens per day/).fill('100');
  await quota.getByLabel('Over the quota').selectOption('enforce');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await page.locator('#d-quota').textContent()).trim(), 'Enforced: 0 of 2 this hour, 0 of 100 today (UTC)');
  const stored = await b.adminApi('GET', `/admin/clients/${s.id}`);
  assert.deepEqual(stored.json.token_quota, { per_hour: 2, per_day: 100, enforce: true });

  // Two tokens, then the quota refuses; the page, opened again, shows the two against it.
  for (let i = 0; i < 2; i++) assert.equal((await requestToken(b.worker.url, s.id, s.secret)).status, 200);
  const refused = await requestToken(b.worker.url, s.id, s.secret);
  assert.equal(refused.status, 429, refused.text);
  const used = await poll(() => b.adminApi('GET', `/admin/clients/${s.id}`), (r) => r.json.token_quota_use?.per_hour === 2);
  assert.deepEqual(used.json.token_quota_use, { per_hour: 2, per_day: 2 });
  await visit(b, '#/clients', 'Clients');
  await visit(b, `#/clients/${s.id}`, 'Quota client');
  // The page may show its kept copy first and then the one it reads again: wait for the use.
  await page.locator('#d-quota').filter({ hasText: 'Enforced: 2 of 2 this hour, 2 of 100 today (UTC)' }).waitFor();
  await b.shot('client-quota');

  // Emptying both fields removes the quota.
  await quota.getByLabel(/^Tokens per hour/).fill('');
  await quota.getByLabel(/^Tokens per day/).fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await page.locator('#d-quota').textContent()).trim(), 'None');
  assert.equal((await b.adminApi('GET', `/admin/clients/${s.id}`)).json.token_quota, undefined);
  assert.deepEqual(b.nativeDialogs, []);
  assert.deepEqual(b.pageErrors, []);
  assert.ok((await b.overflow()) <= 0, 'no sideways scroll');
});
