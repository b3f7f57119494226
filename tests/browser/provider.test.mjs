// Browser test of a resource's provider and a client's token claims on the admin page: the
// provider set, refused and cleared on the resource screen; token claims edited on the client
// page, refused beside their field, and carried by the client's next token.
// Run: node --test tests/browser/provider.test.mjs   (Debian Chromium at /usr/bin/chromium)

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
  const created = await b.adminApi('POST', '/admin/clients', { client_name: 'Orders API', scope: 'read' });
  assert.equal(created.status, 201, created.text);
  s.id = created.json.client.client_id;
  s.secret = created.json.secret.client_secret;
});

after(async () => {
  await b?.close();
});

test('the resource screen sets the provider, refuses an unknown one beside its field, and clears it', async () => {
  await visit(b, '#/resources/new', 'New resource');
  const form = page.locator('#resource-form');
  await form.getByLabel(/^Identifier/).fill('https://orders.example');
  await form.getByLabel('Name', { exact: true }).fill('Orders');
  await form.getByLabel('Scope 1', { exact: true }).fill('orders:read');
  const provider = form.getByLabel(/^Provider client/);
  await provider.fill('orders-api');
  await page.getByRole('button', { name: 'Create resource' }).click();
  const err = page.locator('#r-provider-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /Enter a client ID/);
  // A well-formed id of no client: the server's 422, placed beside the field.
  await provider.fill('0f8fad5b-d9cb-469f-a165-70867728950e');
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.locator('#r-provider-error').filter({ hasText: 'provider_client_id must be the client_id of a registered client' }).waitFor();
  assert.equal(await provider.getAttribute('aria-invalid'), 'true');

  await provider.fill(s.id);
  await page.getByRole('button', { name: 'Create resource' }).click();
  await page.getByRole('heading', { name: 'Orders', level: 1 }).waitFor();
  assert.equal(await provider.inputValue(), s.id);
  assert.equal((await page.locator('#r-provider-link').textContent()).trim(), s.id);
  const [stored] = (await b.adminApi('GET', '/admin/resources')).json.resources;
  assert.equal(stored.provider_client_id, s.id);
  await b.shot('resource-provider');

  await provider.fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#resource-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal(await page.locator('#r-provider-link-wrap').isVisible(), false);
  assert.equal((await b.adminApi('GET', `/admin/resources/${stored.resource_id}`)).json.provider_client_id, null);
  assert.deepEqual(b.pageErrors, []);
});

test('the client page edits token claims, refuses bad ones beside the field, and tokens carry them', async () => {
  await visit(b, `#/clients/${s.id}`, 'Orders API');
  const claims = page.locator('#e-claims');
  assert.equal(await claims.inputValue(), '');
  const err = page.locator('#e-claims-error');
  for (const [text, want] of [
    ['{"tenant": ', /not valid JSON/],
    ['["tenant"]', /Enter a JSON object/],
    ['{"sub": "x"}', /“sub” is set by edgeauth/],
    ['{"ids": [1]}', /“ids” must be a string, a number, a boolean or an array of strings/],
  ]) {
    await claims.fill(text);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await err.filter({ hasText: want }).waitFor();
    assert.equal(await claims.getAttribute('aria-invalid'), 'true', text);
  }
  // Over the size cap: the page lets the server decide, and shows its answer.
  await claims.fill(JSON.stringify({ big: 'x'.repeat(1100) }));
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-error').filter({ hasText: 'token_claims takes 1110 bytes serialized, more than 1024' }).waitFor();

  await claims.fill('{"tenant": "acme", "tier": 2, "regions": ["eu"]}');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.deepEqual((await b.adminApi('GET', `/admin/clients/${s.id}`)).json.token_claims, { regions: ['eu'], tenant: 'acme', tier: 2 });
  await b.shot('client-token-claims');
  const payload = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  const carried = await poll(() => requestToken(b.worker.url, s.id, s.secret, { scope: 'read' }),
    (r) => r.status === 200 && payload(r.json.access_token).tenant === 'acme');
  assert.deepEqual([payload(carried.json.access_token).tier, payload(carried.json.access_token).regions], [2, ['eu']]);

  await claims.fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#edit-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await b.adminApi('GET', `/admin/clients/${s.id}`)).json.token_claims, undefined);
  assert.deepEqual(b.nativeDialogs, []);
  assert.deepEqual(b.pageErrors, []);
  assert.ok((await b.overflow()) <= 0, 'no sideways scroll');
});
