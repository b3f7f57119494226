// Governance over real HTTP: zero-downtime secret rotation, the secret cap, resources and
// grants at the token endpoint, the audit trail, optimistic concurrency (version), usage
// counts and secrets' last use. Written against docs/CONTRACT.md; where the contract is silent
// the expectation is marked as such.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient as newClient, discover, grant as grantAt, grantError, verifyAccessToken } from '../support/oauth.mjs';
import { UUID_V4, assertError, basic, eventually, nowSec, sleep, tokenRequest } from '../support/http.mjs';

const LABEL = 'governance-e2e'; // ADMIN_TOKEN_LABEL: the audit actor for admin changes

let w;
let api;
let jwks;
let issuer;
/** Every plaintext secret this file ever saw, to prove none of them reaches the audit trail. */
const plaintexts = new Set();

before(async () => {
  w = await startWorker({ vars: { ADMIN_TOKEN_LABEL: LABEL } });
  api = admin(w.url, w.adminToken);
  issuer = w.url;
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
});
after(async () => { await w?.stop(); });

async function createClient(body) {
  const json = await newClient(api, body);
  if (json.secret?.client_secret) plaintexts.add(json.secret.client_secret);
  return json;
}

async function addSecret(clientId, body = {}) {
  const r = await api('POST', `/admin/clients/${clientId}/secrets`, body);
  assert.equal(r.status, 201, r.text);
  plaintexts.add(r.json.client_secret);
  return r.json;
}

/** openid-client configuration for one client secret (discovery once, reused by every grant). */
/** openid-client configuration for one client secret (discovery once, reused by every grant). */
const configFor = (clientId, secret) => discover(w.url, clientId, oidc.ClientSecretBasic(secret));
const grant = (clientId, secret, params = {}) => grantAt(w.url, clientId, oidc.ClientSecretBasic(secret), params);
const verify = (token, audience) => verifyAccessToken(jwks, issuer, token, audience);

/** Every event of an audit listing, following next_cursor. */
async function allEvents(path, limit) {
  const events = [];
  let cursor = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const q = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await api('GET', q);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    assert.deepEqual(Object.keys(r.json).sort(), ['events', 'next_cursor'], q);
    assert.ok(r.json.events.length <= limit, `${q}: at most ${limit} events`);
    events.push(...r.json.events);
    cursor = r.json.next_cursor;
    assert.ok(cursor === null || (typeof cursor === 'string' && cursor.length > 0), `cursor: ${cursor}`);
    pages++;
    assert.ok(pages < 500, 'pagination terminates');
  } while (cursor !== null);
  return { events, pages };
}

/** Checks one AuditEvent's shape and returns it. */
function checkEvent(e) {
  const keys = ['action', 'actor', 'at', 'detail', 'event_id', 'via'];
  if ('client_id' in e) keys.push('client_id');
  if ('resource_id' in e) keys.push('resource_id');
  assert.deepEqual(Object.keys(e).sort(), keys.sort(), JSON.stringify(e));
  assert.equal(typeof e.event_id, 'string');
  assert.ok(e.event_id.length > 0);
  assert.ok(['admin_token', 'system'].includes(e.via), e.via);
  assert.ok(Number.isInteger(e.at) && Math.abs(e.at - nowSec()) < 3600, `at: ${e.at}`);
  assert.ok([
    'client.created', 'client.updated', 'client.deleted', 'secret.created', 'secret.deleted',
    'resource.created', 'resource.updated', 'resource.deleted', 'client.locked',
  ].includes(e.action), e.action);
  assert.equal(typeof e.detail, 'string');
  assert.ok(e.detail.length > 0);
  if ('client_id' in e) assert.match(e.client_id, UUID_V4);
  if ('resource_id' in e) assert.match(e.resource_id, UUID_V4);
  return e;
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------

describe('secret rotation without a failed request', () => {
  it('adds B, moves traffic to B, deletes A: every request in the loop succeeds', async () => {
    // lockout off: the refusal polling of A at the end must not be able to lock out B.
    const c = await createClient({ client_name: 'rotating', scope: 'read', lockout_enabled: false });
    const id = c.client.client_id;
    const secretA = c.secret;
    const configA = await configFor(id, secretA.client_secret);

    const attempts = []; // { secret: 'A' | 'B', ok, error? }
    let current = { name: 'A', config: configA };
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const { name, config } = current;
        try {
          const t = await oidc.clientCredentialsGrant(config, { scope: 'read' });
          const { payload } = await verify(t.access_token, issuer);
          assert.equal(payload.client_id, id);
          assert.equal(payload.scope, 'read');
          attempts.push({ secret: name, ok: true });
        } catch (e) {
          attempts.push({ secret: name, ok: false, error: `${e?.name}: ${e?.error ?? ''} ${e?.message ?? e}` });
        }
      }
    })();
    const count = (name) => attempts.filter((a) => a.secret === name && a.ok).length;
    const waitFor = async (pred, what, ms = 20_000) => {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; attempts ${JSON.stringify(attempts.slice(-5))}`);
        await sleep(50);
      }
    };

    try {
      await waitFor(() => count('A') >= 5, '5 tokens with A');
      // 1. Add B while A is in use.
      const secretB = await addSecret(id, { description: 'B' });
      const configB = await configFor(id, secretB.client_secret);
      // Rotation procedure: confirm B is accepted (outside the loop) before moving traffic to it.
      await eventually(async () => { await oidc.clientCredentialsGrant(configB, { scope: 'read' }); });
      const aBefore = count('A');
      await waitFor(() => count('A') >= aBefore + 3, 'A still working after B was added');
      // 2. Switch the loop to B.
      current = { name: 'B', config: configB };
      // Once B has answered, no A request is in flight any more (the loop is sequential).
      await waitFor(() => count('B') >= 5, '5 tokens with B');
      // 3. Delete A.
      const d = await api('DELETE', `/admin/clients/${id}/secrets/${secretA.secret_id}`);
      assert.equal(d.status, 204, d.text);
      assert.equal(d.text, '');
      const bAfterDelete = count('B');
      // Keep the loop going past the isolate cache time (5 s) so a stale record would show.
      await sleep(6000);
      await waitFor(() => count('B') >= bAfterDelete + 5, 'B still working after A was deleted');
    } finally {
      stop = true;
      await loop;
    }

    const failures = attempts.filter((a) => !a.ok);
    assert.deepEqual(failures, [], `${failures.length} of ${attempts.length} requests failed`);
    assert.ok(count('A') >= 8 && count('B') >= 10, `A ${count('A')}, B ${count('B')}`);
    // Once A stopped, B only: the switch happened once.
    const firstB = attempts.findIndex((a) => a.secret === 'B');
    assert.ok(attempts.slice(firstB).every((a) => a.secret === 'B'));

    // Afterwards A is refused (records are cached for a few seconds) and B works.
    await eventually(async () => {
      const r = await tokenRequest(w.url, { grant_type: 'client_credentials' },
        { authorization: basic(id, secretA.client_secret) });
      assertError(r, 401, 'invalid_client', 'deleted secret A');
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="edgeauth"');
    }, { timeoutMs: 10_000 });
    const { json: stored } = await api('GET', `/admin/clients/${id}/secrets`);
    assert.deepEqual(stored.secrets.map((s) => s.description), ['B']);
    const secretBId = stored.secrets[0].secret_id;
    const t = await oidc.clientCredentialsGrant(current.config, { scope: 'read' });
    assert.equal((await verify(t.access_token, issuer)).payload.sub, id);

    // The client's history tells the story (newest first).
    const h = await allEvents(`/admin/clients/${id}/audit`, 50);
    assert.deepEqual(h.events.map((e) => e.action), ['secret.deleted', 'secret.created', 'client.created']);
    assert.ok(h.events[0].detail.includes(secretA.secret_id), h.events[0].detail);
    assert.equal(h.events[1].detail, `secret ${secretBId} added`);
  });
});

describe('a client holds at most 20 secrets', () => {
  let id;
  it('20 secrets in total are fine, the 21st is 409 conflict', async () => {
    const c = await createClient({ client_name: 'twenty' });
    id = c.client.client_id;
    assert.equal(c.client.version, 1);
    for (let n = 2; n <= 20; n++) await addSecret(id, { description: `s${n}` });
    const l = await api('GET', `/admin/clients/${id}/secrets`);
    assert.equal(l.status, 200, l.text);
    assert.equal(l.json.secrets.length, 20);
    const before21 = await api('GET', `/admin/clients/${id}`);
    assert.equal(before21.json.version, 20, 'version: 1 at create, +1 per secret added');

    const r = await api('POST', `/admin/clients/${id}/secrets`, { description: 'one too many' });
    assertError(r, 409, 'conflict');
    // CONTRACT GAP: docs/CONTRACT.md does not state the secret cap or its answer; this is the
    // text the worker and tests/host/admin.rs use.
    assert.deepEqual(r.json, {
      error: 'conflict',
      error_description: 'a client may hold at most 20 secrets; delete one first',
    });
    const after21 = await api('GET', `/admin/clients/${id}`);
    assert.deepEqual(after21.json, before21.json, 'the refused add changed nothing');
    assert.equal(after21.json.secrets.length, 20);

    // Deleting one makes room again.
    const victim = l.json.secrets.find((s) => s.description === 's20');
    assert.equal((await api('DELETE', `/admin/clients/${id}/secrets/${victim.secret_id}`)).status, 204);
    await addSecret(id, { description: 'replacement' });
    const final = await api('GET', `/admin/clients/${id}`);
    assert.equal(final.json.secrets.length, 20);
    assert.equal(final.json.version, 22);
  });
});

describe('resources and grants', () => {
  const ID = 'https://billing.example.com/api';
  const OTHER_ID = 'urn:example:inventory';
  let resource;
  let other;
  let c; // the granted client

  it('creates a resource with permission groups and a lifetime cap', async () => {
    const body = {
      identifier: ID,
      name: 'Billing API',
      scopes: [
        { value: 'invoices:read', description: 'Read invoices' },
        { value: 'invoices:write', description: 'Create and change invoices' },
        { value: 'billing:admin', description: 'Everything' },
      ],
      access_token_lifetime: 600,
    };
    const r = await api('POST', '/admin/resources', body);
    assert.equal(r.status, 201, r.text);
    const res = r.json;
    assert.match(res.resource_id, UUID_V4);
    assert.ok(Math.abs(res.created_at - nowSec()) < 120);
    assert.deepEqual(res, {
      resource_id: res.resource_id,
      identifier: ID,
      name: 'Billing API',
      scopes: body.scopes,
      access_token_lifetime: 600,
      provider_client_id: null,
      created_at: res.created_at,
      updated_at: res.updated_at,
    });
    assert.equal(typeof res.updated_at, 'number');
    resource = res;
    const g = await api('GET', `/admin/resources/${res.resource_id}`);
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(g.json, res);

    const dup = await api('POST', '/admin/resources', { identifier: ID, name: 'again' });
    assertError(dup, 409, 'conflict');
    assert.equal(dup.json.error_description, 'a resource with this identifier already exists');

    const o = await api('POST', '/admin/resources', {
      identifier: OTHER_ID, name: 'Inventory', scopes: [{ value: 'stock:read', description: '' }],
    });
    assert.equal(o.status, 201, o.text);
    assert.equal(o.json.access_token_lifetime, null, 'no cap unless set');
    other = o.json;
  });

  it('refuses grants naming an unknown resource or a scope the resource lacks', async () => {
    const before = await api('GET', '/admin/clients?limit=100');
    const unknown = await api('POST', '/admin/clients', {
      client_name: 'bad grant', grants: [{ resource: 'https://nope.example.com', scope: 'x' }],
    });
    assertError(unknown, 422, 'invalid_client_metadata');
    assert.deepEqual(unknown.json, {
      error: 'invalid_client_metadata',
      error_description: "no registered resource has the identifier 'https://nope.example.com'",
    });
    const lacking = await api('POST', '/admin/clients', {
      client_name: 'bad grant', grants: [{ resource: ID, scope: 'invoices:read invoices:delete' }],
    });
    assertError(lacking, 422, 'invalid_client_metadata');
    assert.deepEqual(lacking.json, {
      error: 'invalid_client_metadata',
      error_description: `scope 'invoices:delete' is not among the scopes of resource '${ID}'`,
    });
    const after = await api('GET', '/admin/clients?limit=100');
    assert.equal(after.json.clients.length, before.json.clients.length, 'nothing was created');
  });

  it('creates a client with a grant, read back with the resource id', async () => {
    c = await createClient({
      client_name: 'billing worker',
      grants: [{ resource: ID, scope: 'invoices:read invoices:write' }],
      access_token_lifetime: 3600,
      lockout_enabled: false,
    });
    assert.deepEqual(c.client.grants, [
      { resource: ID, resource_id: resource.resource_id, scope: 'invoices:read invoices:write' },
    ]);
    assert.equal(c.client.scope, '');
    assert.deepEqual(c.client.resources, []);
    assert.equal(c.client.access_token_lifetime, 3600);
    const g = await api('GET', `/admin/clients/${c.client.client_id}`);
    assert.deepEqual(g.json, c.client);
  });

  it('resource=X with a grant: aud X, the granted scopes, the resource lifetime cap', async () => {
    const id = c.client.client_id;
    const secret = c.secret.client_secret;
    const t = await grant(id, secret, { resource: ID });
    assert.equal(t.scope, 'invoices:read invoices:write');
    assert.equal(t.expires_in, 600, 'min(client 3600, resource 600)');
    const { payload } = await verify(t.access_token, ID);
    assert.equal(payload.aud, ID);
    assert.equal(payload.sub, id);
    assert.equal(payload.client_id, id);
    assert.equal(payload.scope, 'invoices:read invoices:write');
    assert.equal(payload.exp - payload.iat, 600);

    // Without resource: the first grant's resource.
    const t0 = await grant(id, secret);
    const v0 = await verify(t0.access_token, ID);
    assert.equal(v0.payload.aud, ID);
    assert.equal(v0.payload.exp - v0.payload.iat, 600);

    // A granted subset.
    const t1 = await grant(id, secret, { resource: ID, scope: 'invoices:write' });
    assert.equal(t1.scope, 'invoices:write');
    assert.equal((await verify(t1.access_token, ID)).payload.scope, 'invoices:write');
  });

  it('an ungranted scope is invalid_scope, an ungranted resource invalid_target', async () => {
    const id = c.client.client_id;
    const secret = c.secret.client_secret;
    const e1 = await grantError(grant(id, secret, { resource: ID, scope: 'invoices:read billing:admin' }));
    assert.deepEqual(e1, { status: 400, error: 'invalid_scope', description: "scope 'billing:admin' is not allowed for this client" });
    // Raw answer: exact JSON.
    const r1 = await tokenRequest(w.url, { grant_type: 'client_credentials', resource: ID, scope: 'billing:admin' },
      { authorization: basic(id, secret) });
    assertError(r1, 400, 'invalid_scope');
    assert.deepEqual(r1.json, { error: 'invalid_scope', error_description: "scope 'billing:admin' is not allowed for this client" });

    for (const target of [OTHER_ID, 'https://unregistered.example.com']) {
      const e = await grantError(grant(id, secret, { resource: target }));
      assert.deepEqual(e, { status: 400, error: 'invalid_target', description: `resource '${target}' is not allowed for this client` });
    }
    const r2 = await tokenRequest(w.url, { grant_type: 'client_credentials', resource: OTHER_ID },
      { authorization: basic(id, secret) });
    assertError(r2, 400, 'invalid_target');
    assert.deepEqual(r2.json, { error: 'invalid_target', error_description: `resource '${OTHER_ID}' is not allowed for this client` });
  });

  it('a secret with its own scope limit narrows the grant further', async () => {
    const id = c.client.client_id;
    // A secret's scope must be within the client's scope plus the granted scopes.
    const bad = await api('POST', `/admin/clients/${id}/secrets`, { scope: 'billing:admin' });
    assertError(bad, 422, 'invalid_client_metadata');
    const s = await addSecret(id, { description: 'read only', scope: 'invoices:read' });
    assert.equal(s.scope, 'invoices:read');
    const t = await grant(id, s.client_secret, { resource: ID });
    assert.equal(t.scope, 'invoices:read');
    assert.equal(t.expires_in, 600);
    const { payload } = await verify(t.access_token, ID);
    assert.equal(payload.scope, 'invoices:read');
    const e = await grantError(grant(id, s.client_secret, { resource: ID, scope: 'invoices:write' }));
    assert.deepEqual(e, { status: 400, error: 'invalid_scope', description: "scope 'invoices:write' is not allowed for this client" });
  });

  it('a granted resource cannot be deleted until its grants are removed', async () => {
    const second = await createClient({
      client_name: 'second holder', grants: [{ resource: ID, scope: 'invoices:read' }],
    });
    const r2 = await api('DELETE', `/admin/resources/${resource.resource_id}`);
    assertError(r2, 409, 'conflict');
    // CONTRACT: "the resource is granted to N client(s); remove those grants first" (N = 2 here).
    assert.deepEqual(r2.json, {
      error: 'conflict',
      error_description: 'the resource is granted to 2 clients; remove those grants first',
    });
    const p = await api('PATCH', `/admin/clients/${second.client.client_id}`, { grants: [] });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json.grants, []);
    const r1 = await api('DELETE', `/admin/resources/${resource.resource_id}`);
    assertError(r1, 409, 'conflict');
    // The contract's "N client(s)" read as singular for N = 1 (as tests/host/resources.rs does).
    assert.deepEqual(r1.json, {
      error: 'conflict',
      error_description: 'the resource is granted to 1 client; remove those grants first',
    });
    const g = await api('GET', `/admin/resources/${resource.resource_id}`);
    assert.deepEqual(g.json, resource, 'still there');
    // The other resource holds no grant: deleting it works.
    const d = await api('DELETE', `/admin/resources/${other.resource_id}`);
    assert.equal(d.status, 204, d.text);
    const gone = await api('GET', `/admin/resources/${other.resource_id}`);
    assertError(gone, 404, 'not_found');
    assert.deepEqual(gone.json, { error: 'not_found', error_description: 'no such resource' });
  });
});

describe('audit trail', () => {
  it('records one client\'s changes newest first, with actor, action, client_id and detail', async () => {
    const c = await createClient({ client_name: 'audited', scope: 'read' });
    const id = c.client.client_id;
    const first = c.secret;
    const p = await api('PATCH', `/admin/clients/${id}`, { enabled: false, scope: 'read write' });
    assert.equal(p.status, 200, p.text);
    const s = await addSecret(id, { description: 'second', scope: 'write' });
    assert.equal((await api('DELETE', `/admin/clients/${id}/secrets/${first.secret_id}`)).status, 204);
    const p2 = await api('PATCH', `/admin/clients/${id}`, { description: 'now described' });
    assert.equal(p2.status, 200, p2.text);
    assert.equal((await api('DELETE', `/admin/clients/${id}`)).status, 204);

    // Still readable after the client is deleted.
    const { events } = await allEvents(`/admin/clients/${id}/audit`, 50);
    events.forEach(checkEvent);
    assert.deepEqual(events.map((e) => e.action), [
      'client.deleted', 'client.updated', 'secret.deleted', 'secret.created', 'client.updated', 'client.created',
    ]);
    for (const e of events) {
      assert.equal(e.actor, LABEL, 'actor is ADMIN_TOKEN_LABEL');
      assert.equal(e.client_id, id);
      assert.ok(!('resource_id' in e), 'resource_id omitted when not concerned');
    }
    for (let i = 1; i < events.length; i++) assert.ok(events[i - 1].at >= events[i].at, 'newest first');
    const [deleted, updated2, secretDeleted, secretCreated, updated1, created] = events;
    assert.ok(created.detail.includes(first.secret_id), `created names its first secret: ${created.detail}`);
    assert.equal(updated1.detail, 'changed enabled, scope', 'the contract\'s own example');
    assert.equal(secretCreated.detail, `secret ${s.secret_id} added`);
    assert.ok(secretDeleted.detail.includes(first.secret_id), secretDeleted.detail);
    assert.equal(updated2.detail, 'changed description');
    assert.ok(deleted.detail.length > 0);

    // limit=2 pages join up without duplicates into the same list.
    const paged = await allEvents(`/admin/clients/${id}/audit`, 2);
    assert.equal(paged.pages, 3);
    assert.deepEqual(paged.events, events);

    // An unknown (well-formed) id has an empty history; a malformed id is 404.
    const none = await api('GET', '/admin/clients/00000000-0000-4000-8000-000000000000/audit');
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.json, { events: [], next_cursor: null });
    assertError(await api('GET', '/admin/clients/not-a-uuid/audit'), 404, 'not_found');
  });

  it('GET /admin/audit lists everything newest first; limit=2 pages join up', async () => {
    const full = await allEvents('/admin/audit', 100);
    full.events.forEach(checkEvent);
    for (let i = 1; i < full.events.length; i++) {
      assert.ok(full.events[i - 1].at >= full.events[i].at, `newest first at ${i}`);
    }
    assert.ok(full.events.every((e) => e.actor === LABEL), 'all changes were made with ADMIN_TOKEN');
    const ids = full.events.map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate events');
    // Earlier parts of this file show up: resources with resource_id and no client_id.
    const res = full.events.filter((e) => e.action.startsWith('resource.'));
    assert.deepEqual(res.map((e) => e.action), ['resource.deleted', 'resource.created', 'resource.created']);
    for (const e of res) {
      assert.ok('resource_id' in e && !('client_id' in e), JSON.stringify(e));
    }
    assert.ok(res[0].detail.includes('urn:example:inventory'), res[0].detail);
    const counts = {};
    for (const e of full.events) counts[e.action] = (counts[e.action] ?? 0) + 1;
    assert.ok(counts['client.created'] >= 5 && counts['secret.created'] >= 20 && counts['secret.deleted'] >= 3,
      JSON.stringify(counts));

    const paged = await allEvents('/admin/audit', 2);
    assert.deepEqual(paged.events, full.events, 'limit=2 pages give the same list');
    assert.equal(paged.pages, Math.ceil(full.events.length / 2));

    // No plaintext secret anywhere in the audit JSON.
    const text = JSON.stringify(full.events);
    assert.ok(plaintexts.size >= 25, `${plaintexts.size} secrets seen`);
    for (const p of plaintexts) assert.ok(!text.includes(p), 'a client_secret leaked into the audit trail');
    assert.ok(!/client_secret/.test(text));
  });
});

describe('optimistic concurrency with version', () => {
  it('a PATCH with the current version wins, a stale one is 409 and changes nothing', async () => {
    const c = await createClient({ client_name: 'versioned', description: 'original' });
    const id = c.client.client_id;
    const read = (await api('GET', `/admin/clients/${id}`)).json;
    assert.equal(read.version, 1);

    const a = await api('PATCH', `/admin/clients/${id}`, { version: read.version, description: 'first admin' });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json, {
      ...read, description: 'first admin', version: read.version + 1, updated_at: a.json.updated_at,
    });

    const b = await api('PATCH', `/admin/clients/${id}`, { version: read.version, client_name: 'second admin' });
    assertError(b, 409, 'conflict');
    assert.deepEqual(b.json, { error: 'conflict', error_description: 'the client changed since you read it' });

    const stored = await api('GET', `/admin/clients/${id}`);
    assert.deepEqual(stored.json, a.json, 'only the first change is stored');
    assert.equal(stored.json.client_name, 'versioned');

    // Re-read and retry works; a PATCH without version is unconditional.
    const retry = await api('PATCH', `/admin/clients/${id}`, { version: stored.json.version, client_name: 'second admin' });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.version, 3);
    assert.equal(retry.json.description, 'first admin');
    const free = await api('PATCH', `/admin/clients/${id}`, { enabled: false });
    assert.equal(free.status, 200, free.text);
    assert.equal(free.json.version, 4);
    // version on create is 400.
    assertError(await api('POST', '/admin/clients', { client_name: 'x', version: 1 }), 400, 'invalid_request');

    const { events } = await allEvents(`/admin/clients/${id}/audit`, 50);
    assert.deepEqual(events.map((e) => e.action), ['client.updated', 'client.updated', 'client.updated', 'client.created'],
      'the refused PATCH left no event');
  });
});

describe('usage counts', () => {
  it('shows today (UTC) with between 1 and N tokens, in a 30-day window', async () => {
    const c = await createClient({ client_name: 'counted' });
    const id = c.client.client_id;
    const fresh = await api('GET', `/admin/clients/${id}/usage`);
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.json.days.length, 30);
    assert.ok(fresh.json.days.every((d) => d.tokens === 0), 'no tokens yet');

    const N = 5;
    const config = await configFor(id, c.secret.client_secret);
    for (let i = 0; i < N; i++) await oidc.clientCredentialsGrant(config);

    const usage = await eventually(async () => {
      const r = await api('GET', `/admin/clients/${id}/usage`);
      assert.equal(r.status, 200, r.text);
      const last = r.json.days.at(-1);
      assert.ok(last.tokens >= 1, `today's tokens: ${JSON.stringify(last)}`);
      return r.json;
    }, { timeoutMs: 15_000, intervalMs: 500 });

    assert.deepEqual(Object.keys(usage), ['days']);
    assert.equal(usage.days.length, 30);
    for (const d of usage.days) {
      assert.deepEqual(Object.keys(d).sort(), ['date', 'tokens']);
      assert.ok(Number.isInteger(d.tokens) && d.tokens >= 0);
    }
    // 30 consecutive UTC days, oldest first, ending today.
    const today = todayUtc();
    const last = usage.days.at(-1);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    assert.ok(last.date === today || last.date === yesterday /* midnight race */, `${last.date} vs ${today}`);
    for (let i = 1; i < usage.days.length; i++) {
      const prev = Date.parse(`${usage.days[i - 1].date}T00:00:00Z`);
      assert.equal(Date.parse(`${usage.days[i].date}T00:00:00Z`) - prev, 86_400_000, `consecutive at ${i}`);
    }
    // Counting is approximate and flushed at most once a minute: at least the first token, never more than issued.
    assert.ok(last.tokens >= 1 && last.tokens <= N, `today: ${last.tokens}, issued ${N}`);
    assert.ok(usage.days.slice(0, -1).every((d) => d.tokens === 0), 'only today has tokens');
  });
});

describe('last_used_at', () => {
  it('a used secret eventually shows last_used_at; an unused one stays null', async () => {
    const c = await createClient({ client_name: 'last use' });
    const id = c.client.client_id;
    const unused = await addSecret(id, { description: 'unused' });
    const start = nowSec();
    const t = await grant(id, c.secret.client_secret);
    await verify(t.access_token, issuer);

    const secrets = await eventually(async () => {
      const r = await api('GET', `/admin/clients/${id}/secrets`);
      assert.equal(r.status, 200, r.text);
      const used = r.json.secrets.find((s) => s.secret_id === c.secret.secret_id);
      assert.notEqual(used.last_used_at, null, 'last_used_at written');
      return r.json.secrets;
    }, { timeoutMs: 15_000, intervalMs: 500 });
    const used = secrets.find((s) => s.secret_id === c.secret.secret_id);
    assert.ok(Number.isInteger(used.last_used_at));
    assert.ok(used.last_used_at >= start - 60 && used.last_used_at <= nowSec() + 60, `${used.last_used_at} ~ ${start}`);
    const { client_secret: _p, ...meta } = c.secret;
    assert.deepEqual(used, { ...meta, last_used_at: used.last_used_at });
    assert.equal(secrets.find((s) => s.secret_id === unused.secret_id).last_used_at, null);

    // Merged into the single-client read as well.
    const g = await api('GET', `/admin/clients/${id}`);
    assert.equal(g.json.secrets.find((s) => s.secret_id === c.secret.secret_id).last_used_at, used.last_used_at);
  });
});
