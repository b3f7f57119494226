// Browser test of the admin page behind Cloudflare Access (issue 26): no token is asked for;
// the page asks GET /admin/me, shows who is signed in and their role, and shows only the
// actions the role allows. Access itself is stood in for by a local team domain that signs
// tokens with a test key (tests/support/access.mjs) and by the page's extra request header,
// which is what Access adds to every request it lets through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startAccessTeam } from '../support/access.mjs';
import { openAdminPage, visit } from '../support/browser.mjs';

const ROLES = { 'vera@acme.test': 'viewer', 'otto@acme.test': 'operator' };

let team;
let b;
let page;
let clientId;

/** Signs the page in as `email`: every request it makes carries Access's header. */
async function signInAs(email) {
  await page.setExtraHTTPHeaders({ 'cf-access-jwt-assertion': await team.token(email) });
  await page.goto(`${b.worker.url}/admin/`);
  await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
}

const visible = (selector) => page.locator(selector).first().isVisible();

/** Whether the page has `selector` but does not show it (hidden for lack of a permission). */
async function hiddenThere(selector) {
  assert.ok(await page.locator(selector).count() > 0, `${selector} is on the page`);
  return !(await visible(selector));
}

/** The keys screen, its table filled. */
async function keysScreen() {
  await visit(b, '#/keys', 'Signing keys');
  await page.locator('#keys-rows tr').first().waitFor();
}

/** The resources screen, its (empty) list loaded. */
async function resourcesScreen() {
  await visit(b, '#/resources', 'Resources');
  await page.getByText('No resources yet.').waitFor();
}

before(async () => {
  team = await startAccessTeam();
  b = await openAdminPage({ vars: team.vars(ROLES) });
  ({ page } = b);
  const made = await b.adminApi('POST', '/admin/clients', { client_name: 'Payroll exporter' });
  assert.equal(made.status, 201, made.text);
  clientId = made.json.client.client_id;
});

after(async () => {
  await b?.close();
  await team?.close();
});

test('a viewer is signed in by Access, sees who they are, and no create, delete or rotate buttons', async () => {
  await signInAs('vera@acme.test');
  assert.equal(await page.locator('#signin-token').isVisible(), false, 'no token is asked for');
  assert.equal((await page.locator('#whoami').textContent()).trim(), 'vera@acme.test (role viewer)');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), true);
  await page.getByRole('link', { name: 'Payroll exporter' }).waitFor();
  assert.ok(await hiddenThere('#nav [data-nav="new"]'), 'no New client in the menu');
  assert.ok(await hiddenThere('a.button[href="#/clients/new"]'), 'no New client button');
  await visit(b, `#/clients/${clientId}`, 'Payroll exporter');
  await page.locator('#d-secret-rows tr').first().waitFor();
  for (const hidden of ['#d-delete-zone', '#d-revoke-zone', '#add-secret-form', '#edit-form .actions', '#d-secret-rows .danger']) {
    assert.ok(await hiddenThere(hidden), `${hidden} is hidden for a viewer`);
  }
  await keysScreen();
  assert.ok(await hiddenThere('#keys-rotate'), 'no rotate button');
  assert.ok(await hiddenThere('#keys-rows .danger'), 'no revoke button');
  await resourcesScreen();
  assert.ok(await hiddenThere('a[href="#/resources/new"]'), 'no New resource');
  await b.shot('access-viewer');
  assert.deepEqual(b.nativeDialogs, []);
});

test('an operator sees client actions, creates a client through the page, and still no key rotation', async () => {
  await signInAs('otto@acme.test');
  assert.equal((await page.locator('#whoami').textContent()).trim(), 'otto@acme.test (role operator)');
  await page.getByRole('link', { name: 'New client' }).first().click();
  await page.getByRole('heading', { name: 'New client', level: 1 }).waitFor();
  await page.locator('#create-form').getByLabel('Name', { exact: true }).fill('Made by an operator');
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.locator('#secret-dialog').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: /I have saved the secret/ }).click();
  await visit(b, `#/clients/${clientId}`, 'Payroll exporter');
  await page.locator('#d-secret-rows tr').first().waitFor();
  for (const shown of ['#d-delete-zone', '#d-revoke-zone', '#add-secret-form', '#d-secret-rows .danger']) {
    assert.equal(await visible(shown), true, `${shown} is shown to an operator`);
  }
  await keysScreen();
  assert.ok(await hiddenThere('#keys-rotate'), 'no rotate button');
  await resourcesScreen();
  assert.ok(await hiddenThere('a[href="#/resources/new"]'), 'no New resource');
  // The change went through Access from the page itself (Origin is the issuer's), audited as
  // the person.
  const trail = await b.adminApi('GET', '/admin/audit');
  const created = trail.json.events.find((e) => e.action === 'client.created' && e.actor === 'otto@acme.test');
  assert.equal(created?.via, 'access', JSON.stringify(trail.json.events.slice(0, 3)));
  await b.shot('access-operator');
  assert.deepEqual(b.pageErrors, []);
});
