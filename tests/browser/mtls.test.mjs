// Browser test of client certificates (RFC 8705) on the admin page
// (www/admin/views/client-certificates.js, client-create.js): a self_signed_tls_client_auth
// client created with bound tokens, a certificate uploaded by paste and another by file, each
// listed with its subject, expiry and SHA-256 fingerprint as the API has them, a refused upload
// shown beside the form with the text kept, delete after a confirmation (audited), a
// tls_client_auth client created with its subject DN, a secret client without the section,
// 375 px.
// Run: node --test tests/browser/mtls.test.mjs   (Debian Chromium at /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { askConfirm, openAdminPage, signIn, visit } from '../support/browser.mjs';
import { ROOT } from '../support/worker.mjs';

const seed = (name) => path.join(ROOT, 'tests', 'seeds', 'cert', `${name}.pem`);
const CERT = readFileSync(seed('acme'), 'utf8');
const fingerprint = (pem) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const grouped = (hex) => hex.match(/.{1,4}/g).join(' ');

let b;
let page;
const s = {};
const rows = () => page.locator('#d-cert-rows tr');
const rowOf = (fp) => page.locator(`#d-cert-rows tr[data-fingerprint="${fp}"]`);
const text = async (locator) => (await locator.textContent()).trim();
const listed = async () => {
  const r = await b.adminApi('GET', `/admin/clients/${s.id}/certificates`);
  assert.equal(r.status, 200, r.text);
  return r.json.certificates;
};

before(async () => {
  b = await openAdminPage();
  page = b.page;
  await signIn(b);
});
after(async () => { await b?.close(); });

test('New client: a registered-certificate client with certificate-bound tokens', async () => {
  await page.getByRole('link', { name: 'New client' }).first().click();
  await page.getByRole('heading', { name: 'New client', level: 1 }).waitFor();
  const create = page.locator('#create-form');
  await create.getByLabel('Name', { exact: true }).fill('Payments robot');
  await create.getByLabel(/^Client certificate registered with the client/).check();
  await page.locator('#c-self-signed-note').waitFor({ state: 'visible' });
  for (const id of ['c-secret-fields', 'c-dn-field', 'c-pem-field']) {
    assert.equal(await page.locator(`#${id}`).isVisible(), false, `${id} hidden`);
  }
  await create.getByLabel('Bind tokens to the client certificate').check();
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { name: 'Payments robot', level: 1 }).waitFor();
  assert.equal(await page.locator('#secret-dialog').isVisible(), false, 'no secret for a certificate client');
  s.id = await text(page.locator('#d-client-id'));
  const c = (await b.adminApi('GET', `/admin/clients/${s.id}`)).json;
  assert.equal(c.token_endpoint_auth_method, 'self_signed_tls_client_auth');
  assert.equal(c.tls_client_certificate_bound_access_tokens, true);
  assert.equal(await text(page.locator('#d-method')), 'Client certificate (registered) (self_signed_tls_client_auth)');
  assert.equal(await page.locator('#e-cert-bound').isChecked(), true);
  await page.locator('#d-cert-empty').waitFor({ state: 'visible' });
  assert.match(await text(page.locator('#d-cert-empty')), /cannot get tokens until you upload one/);
  assert.equal(await page.locator('#d-cert-none').isVisible(), false);
  assert.equal(await page.locator('#d-fed-body').isVisible(), false, 'no federated credentials here');
});

test('Upload by paste: listed with subject, expiry and fingerprint as the API has them', async () => {
  const form = page.locator('#add-cert-form');
  await form.getByLabel('PEM certificate').fill(CERT);
  await form.getByRole('button', { name: 'Upload certificate' }).click();
  await page.locator('#add-cert-status').filter({ hasText: /^Uploaded “/ }).waitFor();
  const [api] = await listed();
  assert.equal(api.fingerprint, fingerprint(CERT));
  const row = rowOf(api.fingerprint);
  await row.waitFor();
  assert.equal(await text(row.locator('td[data-label="Subject"]')), api.subject);
  assert.match(api.subject, /CN=client\.example/);
  assert.equal(await text(row.locator('td[data-label="Fingerprint (SHA-256)"]')), grouped(api.fingerprint));
  assert.match(await text(row.locator('td[data-label="Expires"]')), /2036/);
  assert.equal(await form.getByLabel('PEM certificate').inputValue(), '', 'the form is cleared');
});

test('A refused upload: the server\'s reason beside the form, the text kept', async () => {
  const form = page.locator('#add-cert-form');
  await form.getByLabel('PEM certificate').fill(CERT);
  await form.getByRole('button', { name: 'Upload certificate' }).click();
  const error = page.locator('#add-cert-error');
  await error.waitFor({ state: 'visible' });
  assert.equal(await text(error), 'The certificate was not uploaded: the client already has this certificate [conflict] (HTTP 409)');
  assert.equal(await form.getByLabel('PEM certificate').inputValue(), CERT);
  // Checked on the page before it is sent.
  await form.getByLabel('PEM certificate').fill('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----');
  await form.getByRole('button', { name: 'Upload certificate' }).click();
  await page.locator('#cert-pem-error').filter({ hasText: /holds a private key/ }).waitFor();
  assert.equal(await form.getByLabel('PEM certificate').getAttribute('aria-invalid'), 'true');
  await form.getByLabel('PEM certificate').fill('');
});

test('Upload by file, then delete after a confirmation', async () => {
  const form = page.locator('#add-cert-form');
  await form.getByLabel('Or a certificate file').setInputFiles(seed('second'));
  await form.getByRole('button', { name: 'Upload certificate' }).click();
  await page.locator('#add-cert-status').filter({ hasText: 'Uploaded “O=Example,CN=second.example”.' }).waitFor();
  assert.equal(await rows().count(), 2);
  const first = fingerprint(CERT);
  const confirm = await askConfirm(page, `Delete certificate ${(await listed())[0].subject}`);
  assert.match(await confirm.textContent(), /will no longer authenticate this client/);
  await confirm.getByRole('button', { name: 'Delete certificate' }).click();
  await rowOf(first).waitFor({ state: 'detached' });
  assert.deepEqual((await listed()).map((c) => c.subject), ['O=Example,CN=second.example']);
  await page.locator('#d-audit-rows tr', { hasText: 'certificate.deleted' }).first().waitFor();
  await b.shot('mtls-certificates');
});

test('tls_client_auth: created with its subject DN; a secret client has no certificate section', async () => {
  await page.getByRole('link', { name: 'New client' }).first().click();
  const create = page.locator('#create-form');
  await create.getByLabel('Name', { exact: true }).fill('Bank gateway');
  await create.getByLabel(/^Client certificate from a CA/).check();
  await page.locator('#c-dn-field').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.locator('#c-dn-error').filter({ hasText: /subject DN/ }).waitFor();
  await create.getByLabel('Certificate subject DN').fill('CN=gateway.bank.example,O=Bank');
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { name: 'Bank gateway', level: 1 }).waitFor();
  const id = await text(page.locator('#d-client-id'));
  const c = (await b.adminApi('GET', `/admin/clients/${id}`)).json;
  assert.equal(c.token_endpoint_auth_method, 'tls_client_auth');
  assert.equal(c.tls_client_auth_subject_dn, 'CN=gateway.bank.example,O=Bank');
  assert.equal(await page.locator('#e-dn').inputValue(), 'CN=gateway.bank.example,O=Bank');
  assert.equal(await page.locator('#d-cert-none').isVisible(), true);

  const secret = (await b.adminApi('POST', '/admin/clients', { client_name: 'plain' })).json.client.client_id;
  await visit(b, `#/clients/${secret}`, 'plain');
  assert.equal(await page.locator('#d-cert-body').isVisible(), false);
  assert.equal(await page.locator('#e-dn-field').isVisible(), false);
});

test('375 px wide: the certificate table does not scroll sideways', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await visit(b, `#/clients/${s.id}`, 'Payments robot');
  await rows().first().waitFor();
  assert.ok((await b.overflow()) <= 0, 'the client page overflows at 375 px');
  await page.setViewportSize({ width: 1200, height: 860 });
  assert.deepEqual(b.nativeDialogs, []);
  assert.deepEqual(b.pageErrors, []);
});
