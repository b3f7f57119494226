// Admins are people (issue 26), end to end against the built wasm: a local stand-in for the
// Cloudflare Access team domain serves /cdn-cgi/access/certs with a test RSA key and the test
// signs Access tokens with it, as Access would for the people it lets through. Each role's
// allowed and refused calls, an expired or wrong-audience Access token, the cross-site form post,
// a management token (admin:clients:read: lists, cannot create; revoked: refused within 5 s),
// /admin/me, and the audit trail naming the person.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { SignJWT, generateKeyPair } from 'jose';

import { assertError, basic, eventually, nowSec, request, tokenRequest } from '../support/http.mjs';
import { ACCESS_AUD as AUD, startAccessTeam } from '../support/access.mjs';
import { recipeBlock } from '../support/recipes.mjs';
import { admin, startWorker } from '../support/worker.mjs';

const run = promisify(execFile);
const RECIPE = '## Admins: single sign-on with Cloudflare Access, and a management client for automation';

const ROLES = {
  'vera@acme.test': 'viewer', 'otto@acme.test': 'operator', 'ada@acme.test': 'admin', '*@contractor.test': 'viewer',
};

let team;
let teamUrl;
let w;
let api;

const accessToken = (email, over) => team.token(email, over);

/** The admin API as Access forwards it for `email`, from the admin page (same origin). */
async function as(email, over) {
  const jwt = await accessToken(email, over);
  return admin(w.url, null, { 'cf-access-jwt-assertion': jwt, origin: w.url });
}

before(async () => {
  team = await startAccessTeam();
  teamUrl = team.url;
  w = await startWorker({ vars: team.vars(ROLES) });
  api = admin(w.url, w.adminToken);
});
after(async () => {
  await w?.stop();
  await team?.close();
});

describe('people signed in through Cloudflare Access', () => {
  it('each role may do what its permissions allow and is refused the rest, naming the permission', async () => {
    const viewer = await as('vera@acme.test');
    assert.equal((await viewer('GET', '/admin/clients')).status, 200);
    assert.equal((await viewer('GET', '/admin/keys')).status, 200);
    assert.deepEqual((await viewer('POST', '/admin/clients', { client_name: 'v' })).json, {
      error: 'forbidden',
      error_description: 'vera@acme.test (role viewer) may not POST /admin/clients: it needs clients:write',
    });
    const operator = await as('otto@acme.test');
    const made = await operator('POST', '/admin/clients', { client_name: 'made by otto' });
    assert.equal(made.status, 201, made.text);
    const id = made.json.client.client_id;
    assert.equal((await operator('POST', `/admin/clients/${id}/revoke-tokens`)).status, 200);
    assertError(await operator('POST', '/admin/keys/rotate'), 403, 'forbidden');
    assertError(await operator('POST', '/admin/resources', { identifier: 'urn:x', name: 'x' }), 403, 'forbidden');
    const boss = await as('ada@acme.test');
    const resource = await boss('POST', '/admin/resources', { identifier: 'urn:e2e:admins', name: 'r' });
    assert.equal(resource.status, 201, resource.text);
    assert.equal((await viewer('DELETE', `/admin/resources/${resource.json.resource_id}`)).status, 403);
    assert.equal((await boss('DELETE', `/admin/resources/${resource.json.resource_id}`)).status, 204);
    const nobody = await as('eve@elsewhere.test');
    assertError(await nobody('GET', '/admin/clients'), 403, 'forbidden');
  });

  it('GET /admin/me says who is signed in, how, and what they may do', async () => {
    const r = await (await as('dan@contractor.test'))('GET', '/admin/me');
    assert.deepEqual(r.json, { actor: 'dan@contractor.test', via: 'access', role: 'viewer', permissions: ['clients:read'] });
    const me = await api('GET', '/admin/me');
    assert.equal(me.json.via, 'admin_token');
  });

  it('refuses an expired, a not-yet-valid or a wrong-audience Access token, and one signed by another key', async () => {
    const now = nowSec();
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({ email: 'ada@acme.test' }).setProtectedHeader({ alg: 'RS256', kid: team.kid })
      .setIssuer(teamUrl).setAudience(AUD).setIssuedAt().setExpirationTime('1h').sign(other.privateKey);
    const tokens = {
      expired: await accessToken('ada@acme.test', { exp: now - 120, iat: now - 3720, nbf: now - 3720 }),
      'not yet valid': await accessToken('ada@acme.test', { nbf: now + 600 }),
      'wrong audience': await accessToken('ada@acme.test', { aud: ['some-other-application'] }),
      'wrong issuer': await accessToken('ada@acme.test', { iss: 'https://evil.cloudflareaccess.com' }),
      forged,
    };
    for (const [what, jwt] of Object.entries(tokens)) {
      const r = await admin(w.url, null, { 'cf-access-jwt-assertion': jwt, origin: w.url })('GET', '/admin/clients');
      assertError(r, 401, 'unauthorized', what);
    }
  });

  it('refuses a cross-site form post to POST /admin/keys/rotate, and a change without Origin', async () => {
    const jwt = await accessToken('ada@acme.test');
    // What a page elsewhere makes the browser send: the Access cookie gets the header added,
    // but the Origin is the other site's.
    const cross = await request(`${w.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: {
        'cf-access-jwt-assertion': jwt, origin: 'https://evil.test', 'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'x=1',
    });
    assertError(cross, 403, 'forbidden');
    assert.equal(cross.json.error_description,
      `a change signed in through Cloudflare Access must come from the admin page: Origin must be ${w.url}`);
    const bare = await request(`${w.url}/admin/keys/rotate`, { method: 'POST', headers: { 'cf-access-jwt-assertion': jwt } });
    assertError(bare, 403, 'forbidden');
    const keys = await api('GET', '/admin/keys');
    assert.equal(keys.json.keys.length, 1, 'nothing was rotated');
  });

  it('records the person and how they signed in on every change', async () => {
    const operator = await as('otto@acme.test');
    const made = await operator('POST', '/admin/clients', { client_name: 'audited' });
    const id = made.json.client.client_id;
    const trail = await api('GET', `/admin/clients/${id}/audit`);
    assert.equal(trail.status, 200, trail.text);
    const [created] = trail.json.events;
    assert.equal(created.action, 'client.created');
    assert.equal(created.actor, 'otto@acme.test');
    assert.equal(created.via, 'access');
  });
});

describe('management tokens issued by edgeauth itself', () => {
  const resource = () => `${w.url}/admin`;

  async function managementClient(scope) {
    const made = await api('POST', '/admin/clients', {
      client_name: 'terraform', grants: [{ resource: resource(), scope }],
    });
    assert.equal(made.status, 201, made.text);
    return { id: made.json.client.client_id, secret: made.json.secret.client_secret };
  }

  async function managementToken({ id, secret }) {
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials', resource: resource() },
      { authorization: basic(id, secret) });
    assert.equal(r.status, 200, r.text);
    return r.json.access_token;
  }

  it('a token with admin:clients:read lists clients but cannot create one', async () => {
    const client = await managementClient('admin:clients:read');
    const token = await managementToken(client);
    const robot = admin(w.url, token);
    assert.equal((await robot('GET', '/admin/clients')).status, 200);
    const refused = await robot('POST', '/admin/clients', { client_name: 'nope' });
    assert.deepEqual(refused.json, {
      error: 'forbidden',
      error_description: `client:${client.id} (scopes admin:clients:read) may not POST /admin/clients: it needs clients:write`,
    });
    assert.deepEqual((await robot('GET', '/admin/me')).json,
      { actor: `client:${client.id}`, via: 'management_token', role: null, permissions: ['clients:read'] });
  });

  it('a token with admin:clients:write creates clients, audited as the client', async () => {
    const client = await managementClient('admin:clients:read admin:clients:write');
    const robot = admin(w.url, await managementToken(client));
    const made = await robot('POST', '/admin/clients', { client_name: 'made by terraform' });
    assert.equal(made.status, 201, made.text);
    const trail = await api('GET', `/admin/clients/${made.json.client.client_id}/audit`);
    assert.equal(trail.json.events[0].actor, `client:${client.id}`);
    assert.equal(trail.json.events[0].via, 'management_token');
  });

  it('an operator may not grant admin scopes', async () => {
    const operator = await as('otto@acme.test');
    const r = await operator('POST', '/admin/clients', { client_name: 'x', grants: [{ resource: resource(), scope: 'admin:keys:write' }] });
    assertError(r, 403, 'forbidden');
  });

  it('a revoked management token is refused within 5 s', async () => {
    const client = await managementClient('admin:clients:read');
    const token = await managementToken(client);
    const robot = admin(w.url, token);
    assert.equal((await robot('GET', '/admin/clients')).status, 200);
    const revoked = await api('POST', '/admin/tokens/revoke', { token });
    assert.equal(revoked.status, 200, revoked.text);
    const started = Date.now();
    await eventually(async () => assertError(await robot('GET', '/admin/clients'), 401, 'unauthorized'),
      { timeoutMs: 5_000, intervalMs: 100 });
    assert.ok(Date.now() - started <= 5_000);
  });

  it("the recipe's curl blocks, run as written, make a management client, get its token and list clients", async () => {
    const env = { PATH: process.env.PATH, ISSUER: w.url, ADMIN_TOKEN: w.adminToken };
    const made = await run('bash', ['--noprofile', '--norc', '-e', '-c', recipeBlock(RECIPE, 'sh', 0)], { env });
    const { client, secret } = JSON.parse(made.stdout);
    assert.deepEqual(client.grants.map((g) => [g.resource, g.scope]), [[`${w.url}/admin`, 'admin:clients:read admin:clients:write']]);
    const listed = await run('bash', ['--noprofile', '--norc', '-e', '-c', recipeBlock(RECIPE, 'sh', 1)],
      { env: { ...env, ADMIN_TOKEN: '', CLIENT_ID: client.client_id, CLIENT_SECRET: secret.client_secret } });
    const page = JSON.parse(listed.stdout);
    assert.ok(page.clients.some((c) => c.client_id === client.client_id), listed.stdout.slice(0, 300));
  });
});
