// Browser test of federated credentials on the admin page (www/admin/views/client-federation.js):
// a private_key_jwt client created without keys, credentials added with the GitHub Actions and
// Kubernetes presets and listed as the API has them, the server's 422 shown beside the form
// with its field marked and nothing typed lost, delete after a confirmation, the last use
// ("Never"), a secret client without the section, 375 px.
// Run: node --test tests/browser/federation.test.mjs   (Debian Chromium at /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { SHOTS, openAdminPage, poll, signIn, visit } from '../support/browser.mjs';
import { UUID_V4, nowSec, tokenRequest } from '../support/http.mjs';

const GITHUB = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'acme/deploy/.github/workflows/release.yml@refs/heads/main';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let b; // the harness: { worker, adminApi, page, nativeDialogs, pageErrors, shot, overflow, close }
let page;
let oidcIssuer; // a local OpenID Connect issuer (discovery and keys) for the token request
const s = {}; // state shared by the steps below, which run in order

const form = () => page.locator('#add-fed-form');
const rows = () => page.locator('#d-fed-rows tr');
const exactly = (t) => new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const rowOf = (name) => rows().filter({ has: page.locator('.fed-name', { hasText: exactly(name) }) });
const cellOf = (name, label) => rowOf(name).locator(`td[data-label="${label}"]`);
const text = async (locator) => (await locator.textContent()).trim();
const listed = async (id = s.id) => {
  const r = await b.adminApi('GET', `/admin/clients/${id}/federated-credentials`);
  assert.equal(r.status, 200, r.text);
  return r.json.federated_credentials;
};
const byName = async (name) => (await listed()).find((c) => c.name === name);
const field = (id) => page.locator(`#${id}`);
// What the add form holds: every field an admin types into.
const typed = () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#add-fed-form input, #add-fed-form textarea, #add-fed-form select')]
  .map((el) => [el.id, el.type === 'radio' ? el.checked : el.value])));

async function add(name) {
  await form().getByRole('button', { name: 'Add credential' }).click();
  await page.locator('#add-fed-status').filter({ hasText: `Added “${name}”.` }).waitFor();
  await rowOf(name).waitFor();
}

before(async () => {
  b = await openAdminPage();
  page = b.page;
  await signIn(b);
  const meta = await (await fetch(`${b.worker.url}/.well-known/oauth-authorization-server`)).json();
  s.issuer = meta.issuer;
});

after(async () => {
  await b?.close();
  oidcIssuer?.close();
});

// An issuer on 127.0.0.1 that serves its discovery document and one ES256 key, as a CI
// platform does; resolves to { url, sign(claims) }.
async function localIssuer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'ci-1', alg: 'ES256', use: 'sig' };
  let url;
  oidcIssuer = createServer((req, res) => {
    const body = req.url === '/.well-known/openid-configuration' ? { issuer: url, jwks_uri: `${url}/keys` }
      : req.url === '/keys' ? { keys: [jwk] } : null;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise((r) => oidcIssuer.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${oidcIssuer.address().port}`;
  const sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
    .setIssuer(url).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  return { url, sign };
}

test('New client: a private_key_jwt client without keys, explained on the page', async () => {
  await page.getByRole('link', { name: 'New client' }).first().click();
  await page.getByRole('heading', { name: 'New client', level: 1 }).waitFor();
  const create = page.locator('#create-form');
  await create.getByLabel('Name', { exact: true }).fill('Deploy pipeline');
  const note = page.locator('#c-federated-note');
  assert.equal(await note.isVisible(), false);
  const choice = create.getByLabel(/^Tokens from another issuer only/);
  await choice.check();
  await note.waitFor({ state: 'visible' });
  assert.match(await note.textContent(), /created without keys of its own: it then authenticates only through its federated credentials/);
  assert.equal(await choice.getAttribute('aria-describedby'), 'c-federated-note');
  for (const id of ['c-jwks-uri-field', 'c-pem-field', 'c-jwks-field', 'c-secret-fields']) {
    assert.equal(await page.locator(`#${id}`).isVisible(), false, `${id} hidden`);
  }
  await b.shot('federation-create', false);
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { name: 'Deploy pipeline', level: 1 }).waitFor();
  assert.equal(await page.locator('#secret-dialog').isVisible(), false, 'no secret for a key-based client');
  s.id = (await text(page.locator('#d-client-id')));
  const c = (await b.adminApi('GET', `/admin/clients/${s.id}`)).json;
  assert.equal(c.token_endpoint_auth_method, 'private_key_jwt');
  assert.equal(c.jwks, undefined);
  assert.equal(c.jwks_uri ?? null, null);

  // The client page: the section, the keyless note, no credentials yet.
  await page.locator('#d-fed-empty').waitFor({ state: 'visible' });
  assert.equal(await text(page.locator('#d-fed-empty')),
    'No federated credentials. This client has no keys either: it cannot authenticate until you add one.');
  assert.equal(await text(page.locator('#d-fed-keyless')), 'This client has no keys of its own: it authenticates only through its federated credentials.');
  assert.equal(await page.locator('#d-fed-none').isVisible(), false);
  assert.equal(await rows().count(), 0);
  assert.equal(await page.locator('#d-fed-rows').locator('xpath=ancestor::table').isVisible(), false);
  assert.deepEqual(await listed(), []);
});

test('GitHub Actions preset: fills issuer, subject and audience; the credential is listed as the API has it', async () => {
  // Lengths come from the server's limits; every field points at its error text.
  const limits = (await b.adminApi('GET', '/admin/limits')).json.federated_credential;
  assert.equal(await field('f-name').getAttribute('maxlength'), String(limits.name_max));
  assert.equal(await field('f-subject').getAttribute('maxlength'), String(limits.value_max));
  for (const id of ['f-name', 'f-description', 'f-issuer', 'f-audiences', 'f-subject', 'f-jwks-uri']) {
    const refs = (await field(id).getAttribute('aria-describedby')).split(' ');
    assert.ok(refs.includes(`${id}-error`), `${id} points at its error`);
    for (const ref of refs) assert.equal(await page.locator(`#${ref}`).count(), 1, `${id}: #${ref} exists`);
  }
  await page.locator('#f-name').fill('deploy-main');
  await page.locator('#f-description').fill('release workflow on main');
  await form().getByLabel(/^GitHub Actions/).check();
  const gh = page.locator('#f-gh');
  await gh.waitFor({ state: 'visible' });
  assert.equal(await field('f-issuer').inputValue(), GITHUB);
  assert.equal(await field('f-subject').inputValue(), '', 'no subject before the inputs are filled');
  assert.match(await text(page.locator('#f-preset-subject')), /Fill in the organization, the repository and the branch or environment/);
  // The audience suggested is this server's issuer URL.
  await page.waitForFunction((want) => document.querySelector('#f-audiences').value === want, s.issuer);

  await gh.getByLabel('Organization or user').fill('acme');
  await gh.getByLabel('Repository').fill('deploy');
  await gh.getByLabel('Branch', { exact: true }).fill('main');
  assert.equal(await field('f-subject').inputValue(), 'repo:acme/deploy:ref:refs/heads/main');
  assert.equal(await text(page.locator('#f-preset-subject')), 'Subject: repo:acme/deploy:ref:refs/heads/main');
  // An environment instead of a branch.
  await gh.getByLabel('Runs on').selectOption('environment');
  await gh.getByLabel('Environment', { exact: true }).fill('production');
  assert.equal(await field('f-subject').inputValue(), 'repo:acme/deploy:environment:production');
  await gh.getByLabel('Runs on').selectOption('branch');
  await gh.getByLabel('Branch', { exact: true }).fill('main');
  assert.equal(await field('f-subject').inputValue(), 'repo:acme/deploy:ref:refs/heads/main');
  assert.equal(await field('f-subject-exact').isChecked(), true);

  // A claim condition on the workflow (a second row, removed, hands focus back to the first).
  await form().getByRole('button', { name: 'Add claim condition' }).click();
  await form().getByRole('button', { name: 'Add claim condition' }).click();
  assert.equal(await page.locator('#f-claims li').count(), 2);
  await form().getByRole('button', { name: 'Remove claim condition 2' }).click();
  assert.equal(await page.locator('#f-claims li').count(), 1);
  await page.waitForFunction(() => document.activeElement?.classList.contains('claim-name'));
  await page.locator('#f-claims .claim-name').fill('job_workflow_ref');
  await page.locator('#f-claims .claim-pattern').fill(WORKFLOW);
  await b.shot('federation-github-form');
  const started = nowSec();
  await add('deploy-main');

  const api = await byName('deploy-main');
  assert.match(api.credential_id, UUID_V4);
  assert.deepEqual({ ...api, credential_id: null, created_at: null }, {
    credential_id: null,
    name: 'deploy-main',
    description: 'release workflow on main',
    issuer: GITHUB,
    jwks_uri: null,
    audiences: [s.issuer],
    subject: 'repo:acme/deploy:ref:refs/heads/main',
    subject_pattern: null,
    claims: { job_workflow_ref: WORKFLOW },
    created_at: null,
    last_used_at: null,
  });
  assert.ok(api.created_at >= started - 1 && api.created_at <= nowSec() + 1, `created now: ${api.created_at}`);
  s.github = api;

  assert.equal(await text(cellOf('deploy-main', 'Name')), 'deploy-mainrelease workflow on main');
  assert.equal(await text(cellOf('deploy-main', 'Issuer')), GITHUB);
  assert.equal(await text(cellOf('deploy-main', 'Subject')), 'Exact: repo:acme/deploy:ref:refs/heads/main');
  assert.equal(await text(cellOf('deploy-main', 'Audiences')), s.issuer);
  assert.equal(await text(cellOf('deploy-main', 'Claim conditions')), `job_workflow_ref = ${WORKFLOW}`);
  assert.equal(await text(cellOf('deploy-main', 'Keys')), 'Discovered');
  assert.equal(await text(cellOf('deploy-main', 'Last used')), 'Never');
  assert.equal(await cellOf('deploy-main', 'Created').locator('time').getAttribute('datetime'), new Date(api.created_at * 1000).toISOString());

  // The form is empty again, the preset back to none; the empty text is gone.
  assert.equal(await field('f-name').inputValue(), '');
  assert.equal(await field('f-issuer').inputValue(), '');
  assert.equal(await field('f-preset-none').isChecked(), true);
  assert.equal(await gh.isVisible(), false);
  assert.equal(await page.locator('#f-claims li').count(), 0);
  assert.equal(await page.locator('#d-fed-empty').isVisible(), false);
});

test('Kubernetes preset: the subject from namespace and service account, the issuer left to the admin', async () => {
  await page.locator('#f-name').fill('payments-exporter');
  // An issuer written by the GitHub preset goes when Kubernetes is chosen.
  await form().getByLabel(/^GitHub Actions/).check();
  assert.equal(await field('f-issuer').inputValue(), GITHUB);
  await form().getByLabel(/^Kubernetes/).check();
  const k8s = page.locator('#f-k8s');
  await k8s.waitFor({ state: 'visible' });
  assert.equal(await page.locator('#f-gh').isVisible(), false);
  assert.equal(await field('f-issuer').inputValue(), '');
  assert.match(await k8s.textContent(), /Enter your cluster’s issuer URL below/);
  await k8s.getByLabel('Namespace').fill('payments');
  await k8s.getByLabel('Service account').fill('exporter');
  assert.equal(await field('f-subject').inputValue(), 'system:serviceaccount:payments:exporter');
  await page.waitForFunction((want) => document.querySelector('#f-audiences').value === want, s.issuer);

  await field('f-issuer').fill('https://oidc.cluster-1.example.com');
  // Audiences: one per line or comma-separated, edited over the suggestion.
  await field('f-audiences').fill('edgeauth, https://api.example.com\nsts.example.com');
  await field('f-jwks-uri').fill('https://oidc.cluster-1.example.com/openid/v1/jwks');
  await add('payments-exporter');

  const api = await byName('payments-exporter');
  assert.equal(api.issuer, 'https://oidc.cluster-1.example.com');
  assert.equal(api.subject, 'system:serviceaccount:payments:exporter');
  assert.equal(api.subject_pattern, null);
  assert.deepEqual(api.audiences, ['edgeauth', 'https://api.example.com', 'sts.example.com']);
  assert.equal(api.jwks_uri, 'https://oidc.cluster-1.example.com/openid/v1/jwks');
  assert.deepEqual(api.claims, {});
  assert.equal(api.description, '');

  assert.equal(await text(cellOf('payments-exporter', 'Issuer')), 'https://oidc.cluster-1.example.com');
  assert.equal(await text(cellOf('payments-exporter', 'Subject')), 'Exact: system:serviceaccount:payments:exporter');
  assert.deepEqual(await cellOf('payments-exporter', 'Audiences').locator('li').allTextContents(),
    ['edgeauth', 'https://api.example.com', 'sts.example.com']);
  assert.equal(await text(cellOf('payments-exporter', 'Claim conditions')), 'None');
  assert.equal(await text(cellOf('payments-exporter', 'Keys')), 'https://oidc.cluster-1.example.com/openid/v1/jwks');
  assert.equal(await text(cellOf('payments-exporter', 'Last used')), 'Never');
  // Newest first.
  assert.deepEqual(await rows().locator('.fed-name').allTextContents(), ['payments-exporter', 'deploy-main']);
  await b.shot('federation-listed');
});

test("the server's 422 is shown beside the form with its field marked, and nothing typed is lost", async () => {
  await page.locator('#f-name').fill('any-branch');
  await field('f-issuer').fill('http://issuer.example'); // plain http: only for localhost
  await field('f-audiences').fill('edgeauth');
  await field('f-subject-pattern').check();
  assert.equal(await text(page.locator('#f-subject-label')), 'Subject pattern');
  assert.match(await text(page.locator('#f-subject-hint')), /A pattern of only \* is refused as too broad\.$/);
  await field('f-subject').fill('repo:acme/*');
  await form().getByRole('button', { name: 'Add claim condition' }).click();
  await page.locator('#f-claims .claim-name').fill('repository_owner');
  await page.locator('#f-claims .claim-pattern').fill('acme');
  const before = await typed();
  await form().getByRole('button', { name: 'Add credential' }).click();
  const err = page.locator('#add-fed-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await text(err), /^The credential was not added: issuer must be an https URL.* \[invalid_client_metadata\] \(HTTP 422\)$/);
  assert.equal(await field('f-issuer').getAttribute('aria-invalid'), 'true');
  await page.waitForFunction(() => document.activeElement?.id === 'f-issuer');
  assert.deepEqual(await typed(), before, 'the form keeps what was typed');
  assert.equal((await listed()).length, 2);
  await b.shot('federation-422');

  // A pattern of only * is refused by the server too, naming subject_pattern.
  await field('f-issuer').fill('https://issuer.example');
  await field('f-subject').fill('*');
  await form().getByRole('button', { name: 'Add credential' }).click();
  await page.waitForFunction(() => /subject_pattern/.test(document.querySelector('#add-fed-error').textContent));
  assert.match(await text(err), /\(HTTP 422\)$/);
  assert.equal(await field('f-subject').getAttribute('aria-invalid'), 'true');
  assert.equal(await field('f-issuer').getAttribute('aria-invalid'), null, 'the issuer is no longer marked');
  await page.waitForFunction(() => document.activeElement?.id === 'f-subject');

  // The page's own checks: a reserved claim and a name already taken, before any request.
  await page.locator('#f-claims .claim-name').fill('sub');
  await page.locator('#f-name').fill('deploy-main');
  await field('f-subject').fill('repo:acme/*');
  let posts = 0;
  const count = (req) => { if (req.method() === 'POST' && req.url().includes('/federated-credentials')) posts += 1; };
  page.on('request', count);
  await form().getByRole('button', { name: 'Add credential' }).click();
  await page.locator('#f-name-error').waitFor({ state: 'visible' });
  assert.equal(await text(page.locator('#f-name-error')), 'This client already has a federated credential named “deploy-main”.');
  assert.match(await text(page.locator('#f-claims-error')), /^Condition 1 names sub, which the issuer, audience, subject and time checks govern already\.$/);
  assert.equal(await page.locator('#f-claims .claim-name').getAttribute('aria-invalid'), 'true');
  assert.equal(await err.isVisible(), false, 'the server was not asked');
  page.off('request', count);
  assert.equal(posts, 0);

  // Put right, it is added, and listed as a pattern with its claim condition.
  await page.locator('#f-name').fill('any-branch');
  await page.locator('#f-claims .claim-name').fill('repository_owner');
  await add('any-branch');
  assert.equal(await err.isVisible(), false);
  const api = await byName('any-branch');
  assert.equal(api.subject, null);
  assert.equal(api.subject_pattern, 'repo:acme/*');
  assert.deepEqual(api.claims, { repository_owner: 'acme' });
  assert.equal(await text(cellOf('any-branch', 'Subject')), 'Pattern: repo:acme/*');
  assert.equal(await text(cellOf('any-branch', 'Claim conditions')), 'repository_owner = acme');
  assert.equal(await field('f-subject-exact').isChecked(), true, 'the form is reset to an exact subject');
  assert.equal(await text(page.locator('#f-subject-label')), 'Subject');
  assert.equal(await text(page.locator('#f-subject-hint')), 'Compared exactly with the token’s sub.');
});

test('delete a credential after a confirmation', async () => {
  const del = () => rowOf('any-branch').getByRole('button', { name: 'Delete federated credential any-branch' });
  await del().click();
  const confirm = page.locator('#confirm-dialog');
  await page.getByRole('dialog', { name: 'Delete this federated credential?' }).waitFor();
  assert.match(await confirm.textContent(), /Tokens from https:\/\/issuer\.example that “any-branch” accepts will no longer get access tokens/);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(await rows().count(), 3, 'cancel keeps it');
  assert.equal((await listed()).length, 3);

  await del().click();
  await confirm.getByRole('button', { name: 'Delete credential' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#d-fed-rows tr').length === 2);
  await page.waitForFunction(() => document.activeElement?.id === 'd-federated-title');
  assert.deepEqual(await rows().locator('.fed-name').allTextContents(), ['payments-exporter', 'deploy-main']);
  assert.deepEqual((await listed()).map((c) => c.name).sort(), ['deploy-main', 'payments-exporter']);

  // The client's audit trail on the page shows the additions and the deletion.
  const audit = page.locator('#d-audit-rows tr');
  await audit.filter({ hasText: 'federated_credential.deleted' }).waitFor();
  assert.equal(await audit.filter({ hasText: 'federated_credential.created' }).count(), 3);
  assert.match(await audit.filter({ hasText: 'federated_credential.deleted' }).textContent(), /any-branch/);
});

test('the page read again shows the credentials as the API lists them; server text stays text', async () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const r = await b.adminApi('POST', `/admin/clients/${s.id}/federated-credentials`, {
    name: hostile, description: '<script>alert(2)</script>', issuer: 'https://issuer.example', audiences: ['<b>aud</b>'], subject: '<i>sub</i>',
  });
  assert.equal(r.status, 201, r.text);
  await visit(b, '#/clients', 'Clients');
  await visit(b, `#/clients/${s.id}`, 'Deploy pipeline');
  // The page may show its kept list first, then the one it reads again: wait for the new row.
  await rowOf(hostile).waitFor();
  const api = await listed();
  assert.equal(await rows().count(), api.length);
  for (const c of api) {
    assert.equal(await text(cellOf(c.name, 'Last used')), c.last_used_at === null ? 'Never' : 'unexpected');
    assert.equal(await text(cellOf(c.name, 'Issuer')), c.issuer);
  }
  assert.equal(await text(cellOf(hostile, 'Name')), `${hostile}<script>alert(2)</script>`);
  assert.equal(await text(cellOf(hostile, 'Audiences')), '<b>aud</b>');
  assert.equal(await page.locator('#d-fed-rows img, #d-fed-rows b, #d-fed-rows i, #d-fed-rows script').count(), 0);
  await rowOf(hostile).getByRole('button', { name: `Delete federated credential ${hostile}` }).click();
  await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete credential' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#d-fed-rows tr').length === 2);
});

test('a credential used by a workload shows when, from the API\'s last_used_at', async () => {
  // The token side writes last_used_at as it trades a token; here the answer is fed to the page
  // (a federated token request needs the grant of issue 23 item 3).
  const at = nowSec() - 300;
  const pattern = `**/admin/clients/${s.id}/federated-credentials`;
  await page.route(pattern, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const res = await route.fetch();
    const json = await res.json();
    const used = json.federated_credentials.map((c) => (c.name === 'deploy-main' ? { ...c, last_used_at: at } : c));
    return route.fulfill({ response: res, json: { federated_credentials: used } });
  });
  try {
    await page.reload();
    const time = cellOf('deploy-main', 'Last used').locator('time');
    await time.waitFor();
    assert.equal(await time.getAttribute('datetime'), new Date(at * 1000).toISOString());
    assert.match(await text(cellOf('deploy-main', 'Last used')), /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}\s[AP]M UTC \((4|5|6) min ago\)$/);
    assert.equal(await text(cellOf('payments-exporter', 'Last used')), 'Never');
  } finally {
    await page.unroute(pattern);
  }
});

test('a federated token request shows as the credential\'s last use', async (t) => {
  const meta = await (await fetch(`${b.worker.url}/.well-known/oauth-authorization-server`)).json();
  if (!(meta.grant_types_supported || []).includes(JWT_BEARER)) {
    t.skip('this Worker has no jwt-bearer grant yet (issue 23 item 3)');
    return;
  }
  const issuer = await localIssuer();
  await visit(b, `#/clients/${s.id}`, 'Deploy pipeline');
  await rowOf('deploy-main').waitFor();
  await page.locator('#f-name').fill('local-ci');
  await field('f-issuer').fill(issuer.url);
  await field('f-audiences').fill(s.issuer);
  await field('f-subject').fill('repo:acme/deploy:ref:refs/heads/main');
  await add('local-ci');
  assert.equal(await text(cellOf('local-ci', 'Last used')), 'Never');

  const assertion = await issuer.sign({ sub: 'repo:acme/deploy:ref:refs/heads/main', aud: s.issuer, repository: 'acme/deploy' });
  // The Worker caches the client for a few seconds: the new credential bites within that.
  const r = await poll(() => tokenRequest(b.worker.url, { grant_type: JWT_BEARER, client_id: s.id, assertion }), (x) => x.status === 200, 15_000);
  assert.equal(r.status, 200, r.text);
  // The last use is written in the background: wait for the API to have it, then the page.
  const used = (await poll(() => byName('local-ci'), (c) => typeof c.last_used_at === 'number', 20_000)).last_used_at;
  assert.equal(typeof used, 'number', 'last_used_at written');
  await page.reload();
  const time = cellOf('local-ci', 'Last used').locator('time');
  await time.waitFor();
  assert.equal(await time.getAttribute('datetime'), new Date(used * 1000).toISOString());
  assert.equal(await text(cellOf('deploy-main', 'Last used')), 'Never');
});

test('a client at the cap: the page says so before sending, as the server would (409)', async () => {
  const r = await b.adminApi('POST', '/admin/clients', { client_name: 'Busy pipeline', token_endpoint_auth_method: 'private_key_jwt' });
  assert.equal(r.status, 201, r.text);
  const id = r.json.client.client_id;
  const max = (await b.adminApi('GET', '/admin/limits')).json.federated_credential.per_client;
  const one = (i) => ({ name: `job-${i}`, issuer: 'https://issuer.example', audiences: ['edgeauth'], subject: `job-${i}` });
  for (let i = 0; i < max; i++) assert.equal((await b.adminApi('POST', `/admin/clients/${id}/federated-credentials`, one(i))).status, 201);
  const over = await b.adminApi('POST', `/admin/clients/${id}/federated-credentials`, one(max));
  assert.equal(over.status, 409, over.text);
  await visit(b, `#/clients/${id}`, 'Busy pipeline');
  await page.waitForFunction((n) => document.querySelectorAll('#d-fed-rows tr').length === n, max);
  await page.locator('#f-name').fill('one-more');
  await field('f-issuer').fill('https://issuer.example');
  await field('f-audiences').fill('edgeauth');
  await field('f-subject').fill('one-more');
  await form().getByRole('button', { name: 'Add credential' }).click();
  const err = page.locator('#add-fed-error');
  await err.waitFor({ state: 'visible' });
  assert.equal(await text(err), `A client can hold at most ${max} federated credentials: delete one first.`);
  assert.equal(await field('f-name').inputValue(), 'one-more', 'the form keeps what was typed');
  assert.equal((await listed(id)).length, max);

  // Claim conditions stop at the server's cap too.
  const claimsMax = (await b.adminApi('GET', '/admin/limits')).json.federated_credential.claims_max;
  const addClaim = form().getByRole('button', { name: 'Add claim condition' });
  for (let i = 0; i < claimsMax; i++) await addClaim.click();
  assert.equal(await page.locator('#f-claims li').count(), claimsMax);
  assert.equal(await addClaim.isDisabled(), true);
  await form().getByRole('button', { name: `Remove claim condition ${claimsMax}` }).click();
  assert.equal(await addClaim.isEnabled(), true);
});

test('a secret client has no federated credentials section', async () => {
  const r = await b.adminApi('POST', '/admin/clients', { client_name: 'Secret holder' });
  assert.equal(r.status, 201, r.text);
  await visit(b, `#/clients/${r.json.client.client_id}`, 'Secret holder');
  await page.locator('#d-fed-none').waitFor({ state: 'visible' });
  assert.equal(await text(page.locator('#d-fed-none')),
    'Only a client that authenticates with a signed JWT (private_key_jwt) holds federated credentials.');
  assert.equal(await page.locator('#add-fed-form').isVisible(), false);
  assert.equal(await rows().count(), 0, 'nothing left from the previous client');
});

test('375 px: the client page with credentials does not scroll sideways', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await visit(b, `#/clients/${s.id}`, 'Deploy pipeline');
  await rowOf('deploy-main').waitFor();
  await form().getByLabel(/^GitHub Actions/).check();
  await form().getByRole('button', { name: 'Add claim condition' }).click();
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`).slice(0, 5));
  assert.ok((await b.overflow()) <= 0, `the client page overflows at 375 px: ${wide.join(', ')}`);
  await page.locator('#d-federated').screenshot({ path: path.join(SHOTS, 'narrow-federation.png') });
  await page.setViewportSize({ width: 1200, height: 860 });
  assert.deepEqual(b.nativeDialogs, []);
  assert.deepEqual(b.pageErrors, []);
});
