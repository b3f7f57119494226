// Admin API: auth, client CRUD, secrets, federated credentials, pagination, validation. Exact
// JSON assertions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { B64URL_32, UUID_V4, assertError, nowSec, request } from '../support/http.mjs';

let w;
let api;
before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
});
after(async () => { await w?.stop(); });

const YEAR = 365 * 86400;

/** Check a SecretMeta's dynamic fields and return the expected object for deepEqual. */
function secretMeta(s, { description, scope = null, expiresIn, hasPlain = false }) {
  assert.equal(typeof s.secret_id, 'string');
  assert.ok(s.secret_id.length > 0);
  assert.equal(typeof s.created_at, 'number');
  assert.ok(Math.abs(s.created_at - nowSec()) < 120, `created_at ~ now: ${s.created_at}`);
  const expected = {
    secret_id: s.secret_id,
    description,
    created_at: s.created_at,
    expires_at: expiresIn === null ? null : s.created_at + expiresIn,
    scope,
    last_used_at: null,
  };
  if (hasPlain) {
    assert.match(s.client_secret, B64URL_32, 'client_secret: 32 bytes base64url');
    expected.client_secret = s.client_secret;
  }
  return expected;
}

/** A new client's whole record: `settings` as sent (or defaulted), the rest made by the server. */
function newClientRecord(c, settings, secrets) {
  return {
    client_id: c.client_id,
    introspection_allowed: false,
    dpop_bound_access_tokens: false,
    ...settings,
    client_id_issued_at: c.client_id_issued_at,
    updated_at: c.updated_at,
    grants: [],
    version: 1,
    locked_until: null,
    failed_attempts: 0,
    tokens_valid_after: null,
    secrets,
    federated_credentials: [],
  };
}

describe('admin authentication', () => {
  const paths = [
    ['GET', '/admin/clients'],
    ['POST', '/admin/clients'],
    ['GET', '/admin/clients/00000000-0000-4000-8000-000000000000'],
    ['DELETE', '/admin/clients/00000000-0000-4000-8000-000000000000'],
    ['GET', '/admin/clients/00000000-0000-4000-8000-000000000000/secrets'],
  ];
  it('rejects a missing token with 401 unauthorized', async () => {
    const anon = admin(w.url, null);
    for (const [m, p] of paths) {
      const r = await anon(m, p, m === 'POST' ? { client_name: 'x' } : undefined);
      assertError(r, 401, 'unauthorized', `${m} ${p}`);
    }
  });
  it('rejects a wrong token, a wrong scheme and a token prefix with 401', async () => {
    const wrong = admin(w.url, w.adminToken + 'x');
    for (const [m, p] of paths) assertError(await wrong(m, p), 401, 'unauthorized', `${m} ${p}`);
    assertError(await admin(w.url, w.adminToken.slice(0, -1))('GET', '/admin/clients'), 401, 'unauthorized');
    const r = await request(`${w.url}/admin/clients`, { headers: { authorization: `Basic ${w.adminToken}` } });
    assertError(r, 401, 'unauthorized', 'Basic scheme');
    const r2 = await request(`${w.url}/admin/clients`, { headers: { authorization: `Bearer` } });
    assertError(r2, 401, 'unauthorized', 'empty Bearer');
  });
  it('did not create anything through unauthorized calls', async () => {
    const r = await api('GET', '/admin/clients?limit=100');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.clients.filter((c) => c.client_name === 'x'), []);
  });
});

describe('clients', () => {
  let full;
  let fullSecret;

  it('creates a client with defaults and a first secret', async () => {
    const r = await api('POST', '/admin/clients', { client_name: 'minimal' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['client', 'secret']);
    const c = r.json.client;
    assert.match(c.client_id, UUID_V4);
    assert.ok(Math.abs(c.client_id_issued_at - nowSec()) < 120);
    assert.equal(typeof c.updated_at, 'number');
    assert.equal(c.description, '', 'default description');
    assert.equal(c.lockout_enabled, true, 'lockout on by default');
    const s = r.json.secret;
    const expSecret = secretMeta(s, { description: '', expiresIn: YEAR, hasPlain: true });
    assert.deepEqual(s, expSecret, 'first secret: default expiry one year, client scope');
    const { client_secret: _plain, ...meta } = s;
    assert.deepEqual(c, newClientRecord(c, {
      client_name: 'minimal',
      description: c.description,
      enabled: true,
      token_endpoint_auth_method: 'client_secret_basic',
      scope: '',
      resources: [],
      access_token_lifetime: 3600,
      lockout_enabled: c.lockout_enabled,
    }, [meta]));
  });

  it('creates a client with every writable field and a first-secret spec', async () => {
    const settings = {
      client_name: 'full',
      description: 'billing service',
      enabled: true,
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read write',
      resources: ['https://api.example.com', 'https://other.example.com'],
      access_token_lifetime: 600,
      lockout_enabled: false,
    };
    const body = { ...settings, secret: { description: 'ci key', expires_in: 7200, scope: 'read' } };
    const r = await api('POST', '/admin/clients', body);
    assert.equal(r.status, 201, r.text);
    const { client: c, secret: s } = r.json;
    assert.deepEqual(s, secretMeta(s, { description: 'ci key', scope: 'read', expiresIn: 7200, hasPlain: true }));
    const { client_secret: _p, ...meta } = s;
    assert.deepEqual(c, newClientRecord(c, settings, [meta]));
    full = c;
    fullSecret = s;
  });

  it('GET returns the client without secret material', async () => {
    const r = await api('GET', `/admin/clients/${full.client_id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, full);
    assert.ok(!r.text.includes(fullSecret.client_secret), 'plaintext secret never returned again');
    assert.ok(!/client_secret"/.test(r.text), 'no client_secret field');
  });

  it('PATCH changes metadata and returns the client', async () => {
    const patch = {
      client_name: 'full renamed',
      description: '',
      scope: 'read write admin',
      access_token_lifetime: 86400,
      enabled: false,
      resources: ['https://api.example.com'],
      lockout_enabled: true,
    };
    const r = await api('PATCH', `/admin/clients/${full.client_id}`, patch);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.updated_at >= full.updated_at);
    const expected = { ...full, ...patch, updated_at: r.json.updated_at, version: full.version + 1 };
    assert.deepEqual(r.json, expected);
    const g = await api('GET', `/admin/clients/${full.client_id}`);
    assert.deepEqual(g.json, expected);
    // A PATCH touching one field leaves the others alone.
    const r2 = await api('PATCH', `/admin/clients/${full.client_id}`, { enabled: true });
    assert.equal(r2.status, 200, r2.text);
    assert.deepEqual(r2.json, { ...expected, enabled: true, updated_at: r2.json.updated_at, version: expected.version + 1 });
    full = r2.json;
  });

  it('PATCH cannot change server-made fields', async () => {
    for (const body of [{ client_id: '00000000-0000-4000-8000-000000000000' }, { client_id_issued_at: 1 }, { secrets: [] }]) {
      const r = await api('PATCH', `/admin/clients/${full.client_id}`, body);
      assert.ok([400, 422].includes(r.status), `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
      assert.ok(['invalid_request', 'invalid_client_metadata'].includes(r.json?.error), r.text);
    }
    const g = await api('GET', `/admin/clients/${full.client_id}`);
    assert.deepEqual(g.json, full);
  });

  it('lists clients with pagination', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', '/admin/clients', { client_name: `page-${i}` });
      assert.equal(r.status, 201);
      ids.push(r.json.client.client_id);
    }
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const r = await api('GET', `/admin/clients${q}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json).sort(), ['clients', 'next_cursor']);
      assert.ok(r.json.clients.length <= 2);
      for (const c of r.json.clients) {
        assert.match(c.client_id, UUID_V4);
        assert.ok(!('client_secret' in c));
        seen.push(c.client_id);
      }
      cursor = r.json.next_cursor;
      assert.ok(cursor === null || typeof cursor === 'string');
      pages++;
      assert.ok(pages < 50, 'pagination terminates');
    } while (cursor !== null);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates across pages');
    for (const id of [...ids, full.client_id]) assert.ok(seen.includes(id), `listed ${id}`);
    assert.ok(pages >= 3, `5+ clients over limit=2 gives 3+ pages (got ${pages})`);
    // The list shows the same records as GET.
    const all = await api('GET', '/admin/clients?limit=100');
    assert.deepEqual(all.json.clients.find((c) => c.client_id === full.client_id), full);
    assert.equal(all.json.next_cursor, null);
  });

  it('rejects bad list parameters', async () => {
    for (const q of ['?limit=0', '?limit=101', '?limit=abc', '?cursor=%%%']) {
      const r = await api('GET', `/admin/clients${q}`);
      assert.ok([400, 422].includes(r.status), `${q} -> ${r.status} ${r.text}`);
      assert.ok(typeof r.json?.error === 'string' && r.json.error_description, r.text);
    }
  });

  it('answers 404 not_found for unknown clients', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [m, p, b] of [
      ['GET', `/admin/clients/${id}`],
      ['PATCH', `/admin/clients/${id}`, { enabled: false }],
      ['DELETE', `/admin/clients/${id}`],
      ['GET', `/admin/clients/${id}/secrets`],
      ['POST', `/admin/clients/${id}/secrets`, {}],
      ['DELETE', `/admin/clients/${id}/secrets/abc`],
      ['GET', `/admin/clients/${id}/federated-credentials`],
      ['POST', `/admin/clients/${id}/federated-credentials`, {}],
      ['DELETE', `/admin/clients/${id}/federated-credentials/${id}`],
      ['GET', '/admin/clients/not-a-uuid'],
    ]) {
      assertError(await api(m, p, b), 404, 'not_found', `${m} ${p}`);
    }
  });

  it('DELETE removes the client and its secrets', async () => {
    const r = await api('POST', '/admin/clients', { client_name: 'doomed' });
    const id = r.json.client.client_id;
    const d = await api('DELETE', `/admin/clients/${id}`);
    assert.equal(d.status, 204);
    assert.equal(d.text, '');
    assertError(await api('GET', `/admin/clients/${id}`), 404, 'not_found');
    assertError(await api('GET', `/admin/clients/${id}/secrets`), 404, 'not_found');
    assertError(await api('DELETE', `/admin/clients/${id}`), 404, 'not_found', 'second delete');
    const list = await api('GET', '/admin/clients?limit=100');
    assert.ok(!list.json.clients.some((c) => c.client_id === id));
  });
});

describe('secrets', () => {
  let id;
  let first;
  before(async () => {
    const r = await api('POST', '/admin/clients', { client_name: 'secrets', scope: 'read write' });
    assert.equal(r.status, 201, r.text);
    id = r.json.client.client_id;
    first = r.json.secret;
  });

  it('adds secrets with each expiry form', async () => {
    const cases = [
      [{ description: 'never', expires_at: 0 }, { description: 'never', expiresIn: null }],
      [{ description: 'two hours', expires_in: 7200 }, { description: 'two hours', expiresIn: 7200 }],
      [{ description: 'scoped', scope: 'read' }, { description: 'scoped', scope: 'read', expiresIn: YEAR }],
    ];
    for (const [body, exp] of cases) {
      const r = await api('POST', `/admin/clients/${id}/secrets`, body);
      assert.equal(r.status, 201, `${JSON.stringify(body)}: ${r.text}`);
      assert.deepEqual(r.json, secretMeta(r.json, { ...exp, hasPlain: true }));
    }
    const at = nowSec() + 3 * 86400;
    const r = await api('POST', `/admin/clients/${id}/secrets`, { description: 'dated', expires_at: at });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.expires_at, at);
    assert.match(r.json.client_secret, B64URL_32);
  });

  it('lists secret metadata only, and the client shows the same', async () => {
    const r = await api('GET', `/admin/clients/${id}/secrets`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['secrets']);
    assert.equal(r.json.secrets.length, 5);
    const { client_secret: plain, ...firstMeta } = first;
    assert.deepEqual(r.json.secrets.find((s) => s.secret_id === first.secret_id), firstMeta);
    for (const s of r.json.secrets) {
      assert.deepEqual(Object.keys(s).sort(),
        ['created_at', 'description', 'expires_at', 'last_used_at', 'scope', 'secret_id']);
    }
    assert.ok(!r.text.includes(plain));
    assert.equal(new Set(r.json.secrets.map((s) => s.secret_id)).size, 5);
    const c = await api('GET', `/admin/clients/${id}`);
    const byId = (a, b) => a.secret_id.localeCompare(b.secret_id);
    assert.deepEqual([...c.json.secrets].sort(byId), [...r.json.secrets].sort(byId));
  });

  it('deletes one secret', async () => {
    const d = await api('DELETE', `/admin/clients/${id}/secrets/${first.secret_id}`);
    assert.equal(d.status, 204, d.text);
    assert.equal(d.text, '');
    const r = await api('GET', `/admin/clients/${id}/secrets`);
    assert.equal(r.json.secrets.length, 4);
    assert.ok(!r.json.secrets.some((s) => s.secret_id === first.secret_id));
    assertError(await api('DELETE', `/admin/clients/${id}/secrets/${first.secret_id}`), 404, 'not_found', 'again');
  });

  it('rejects invalid secret requests with 422 invalid_client_metadata', async () => {
    for (const body of [
      { expires_at: nowSec() - 10 },
      { expires_in: 0 },
      { expires_at: nowSec() + 100, expires_in: 100 },
      { scope: 'admin' }, // not within the client's scope
    ]) {
      assertError(await api('POST', `/admin/clients/${id}/secrets`, body), 422, 'invalid_client_metadata', JSON.stringify(body));
    }
    assertError(await api('POST', `/admin/clients/${id}/secrets`, { expires_in: -5 }), [400, 422],
      ['invalid_request', 'invalid_client_metadata'], 'negative expires_in');
    for (const body of [{ expires_in: 'soon' }, { nope: 1 }, '{"description":']) {
      assertError(await api('POST', `/admin/clients/${id}/secrets`, body), 400, 'invalid_request', JSON.stringify(body));
    }
  });

  it('caps a client at 20 secrets', async () => {
    const r0 = await api('GET', `/admin/clients/${id}/secrets`);
    for (let n = r0.json.secrets.length; n < 20; n++) {
      const r = await api('POST', `/admin/clients/${id}/secrets`, { description: `s${n}` });
      assert.equal(r.status, 201, `secret ${n + 1}: ${r.text}`);
    }
    const r = await api('POST', `/admin/clients/${id}/secrets`, { description: 'one too many' });
    assert.ok([409, 422].includes(r.status), `21st secret -> ${r.status} ${r.text}`);
    assert.ok(r.json?.error && r.json.error_description, r.text);
    const l = await api('GET', `/admin/clients/${id}/secrets`);
    assert.equal(l.json.secrets.length, 20);
  });
});

describe('federated credentials', () => {
  const GITHUB = 'https://token.actions.githubusercontent.com';
  const path = (id) => `/admin/clients/${id}/federated-credentials`;
  let id;
  let release;
  before(async () => {
    // No jwks or jwks_uri: the client authenticates only through its federated credentials.
    const r = await api('POST', '/admin/clients',
      { client_name: 'ci', token_endpoint_auth_method: 'private_key_jwt', scope: 'deploy' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.secret, undefined);
    id = r.json.client.client_id;
  });

  it('adds a credential and answers it whole', async () => {
    const body = {
      name: 'release', description: 'the release workflow', issuer: GITHUB,
      audiences: ['https://edgeauth.example'], subject_pattern: 'repo:acme/deploy:*',
      claims: { job_workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/main' },
    };
    const r = await api('POST', path(id), body);
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.credential_id, UUID_V4);
    assert.ok(Math.abs(r.json.created_at - nowSec()) < 120, `created_at ~ now: ${r.json.created_at}`);
    assert.deepEqual(r.json, {
      credential_id: r.json.credential_id, name: 'release', description: 'the release workflow',
      issuer: GITHUB, jwks_uri: null, audiences: ['https://edgeauth.example'], subject: null,
      subject_pattern: 'repo:acme/deploy:*', claims: body.claims, created_at: r.json.created_at,
      last_used_at: null,
    });
    release = r.json;
  });

  it('lists it, and the client shows the same', async () => {
    const r = await api('GET', path(id));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { federated_credentials: [release] });
    const c = await api('GET', `/admin/clients/${id}`);
    assert.deepEqual(c.json.federated_credentials, [release]);
  });

  it('refuses bad input naming the field, and secret clients', async () => {
    const base = { name: 'x', issuer: GITHUB, audiences: ['a'], subject: 'repo:a/b:ref:refs/heads/main' };
    for (const [change, description] of [
      [{ issuer: 'http://issuer.example' }, 'issuer must be an https URL without user info, query or fragment (http only for localhost, 127.0.0.1 or [::1]), at most 512 characters'],
      [{ audiences: [] }, 'audiences must list 1 to 10 values'],
      [{ subject_pattern: '*' }, 'give subject or subject_pattern, not both'],
      [{ subject: undefined, subject_pattern: '**' }, "subject_pattern must not be only '*': it would match every subject"],
      [{ claims: { sub: 'x' } }, 'claims must not name iss, sub, aud, exp, nbf or iat: issuer, audiences and subject govern them, and the token checks the times'],
      [{ name: 'release' }, null],
    ]) {
      const r = await api('POST', path(id), { ...base, ...change });
      if (description === null) {
        assertError(r, 409, 'conflict');
        assert.equal(r.json.error_description, "the client already has a federated credential named 'release'");
      } else {
        assertError(r, 422, 'invalid_client_metadata', JSON.stringify(change));
        assert.equal(r.json.error_description, description);
      }
    }
    assertError(await api('POST', path(id), { ...base, subjects: 'x' }), 400, 'invalid_request');
    const s = await api('POST', '/admin/clients', { client_name: 'secret client' });
    const r = await api('POST', path(s.json.client.client_id), base);
    assertError(r, 409, 'conflict');
    assert.equal(r.json.error_description,
      'only private_key_jwt clients hold federated credentials; this client authenticates with secrets');
    const p = await api('PATCH', `/admin/clients/${id}`, { token_endpoint_auth_method: 'client_secret_basic' });
    assertError(p, 409, 'conflict', 'no switch away while credentials are held');
  });

  it('deletes one; an unknown one is 404', async () => {
    const d = await api('DELETE', `${path(id)}/${release.credential_id}`);
    assert.equal(d.status, 204, d.text);
    assert.equal(d.text, '');
    assert.deepEqual((await api('GET', path(id))).json, { federated_credentials: [] });
    assertError(await api('DELETE', `${path(id)}/${release.credential_id}`), 404, 'not_found', 'again');
    assertError(await api('DELETE', `${path(id)}/nope`), 404, 'not_found', 'malformed id');
    const events = (await api('GET', `/admin/clients/${id}/audit`)).json.events;
    assert.deepEqual(events.slice(0, 2).map((e) => [e.action, e.detail]), [
      ['federated_credential.deleted', `federated credential ${release.credential_id} 'release' removed`],
      ['federated_credential.created', `federated credential ${release.credential_id} 'release' added`],
    ]);
  });
});

describe('admin input validation', () => {
  it('422 invalid_client_metadata for invalid field values', async () => {
    const missing = await api('POST', '/admin/clients', {});
    assertError(missing, [400, 422], ['invalid_client_metadata', 'invalid_request'], 'missing client_name');
    for (const body of [
      { client_name: '' },
      { client_name: 'x', access_token_lifetime: 59 },
      { client_name: 'x', access_token_lifetime: 86401 },
      { client_name: 'x', token_endpoint_auth_method: 'none' },
      { client_name: 'x', resources: ['not a uri'] },
      { client_name: 'x', resources: ['https://api.example.com#frag'] },
      { client_name: 'x', scope: 'bad"scope' },
    ]) {
      assertError(await api('POST', '/admin/clients', body), 422, 'invalid_client_metadata', JSON.stringify(body));
    }
  });

  it('400 invalid_request for malformed JSON, wrong types and unknown fields', async () => {
    for (const body of [
      '{"client_name":',
      'not json',
      '[]',
      '"x"',
      { client_name: 'x', unknown_field: 1 },
      { client_name: 42 },
      { client_name: 'x', enabled: 'yes' },
      { client_name: 'x', resources: 'https://api.example.com' },
      { client_name: 'x', access_token_lifetime: 1.5 },
    ]) {
      assertError(await api('POST', '/admin/clients', body), 400, 'invalid_request', JSON.stringify(body));
    }
  });

  it('PATCH validates the same way', async () => {
    const c = await api('POST', '/admin/clients', { client_name: 'patchme' });
    const id = c.json.client.client_id;
    assertError(await api('PATCH', `/admin/clients/${id}`, { access_token_lifetime: 10 }), 422, 'invalid_client_metadata');
    assertError(await api('PATCH', `/admin/clients/${id}`, { client_name: '' }), 422, 'invalid_client_metadata');
    assertError(await api('PATCH', `/admin/clients/${id}`, { bogus: true }), 400, 'invalid_request');
    assertError(await api('PATCH', `/admin/clients/${id}`, '{'), 400, 'invalid_request');
    const g = await api('GET', `/admin/clients/${id}`);
    assert.deepEqual(g.json, c.json.client, 'failed PATCHes changed nothing');
  });

  it('400 for a body over 64 KiB, and nothing is created', async () => {
    const before = await api('GET', '/admin/clients?limit=100');
    const r = await api('POST', '/admin/clients', { client_name: 'big', description: 'x'.repeat(70 * 1024) });
    assertError(r, 400, 'invalid_request');
    assert.equal(r.json.error_description, 'the request body is larger than 65536 bytes');
    const after = await api('GET', '/admin/clients?limit=100');
    assert.equal(after.json.clients.length, before.json.clients.length);
  });

  it('never answers 500 to junk', async () => {
    const junk = ['', '\u0000', '{"client_name":"\\ud800"}', '{"client_name":"x","resources":[null]}',
      `{"client_name":"${'é'.repeat(1000)}"}`, '{"client_name":"x","scope":null}', '1e999', '{"a":'.repeat(500)];
    for (const body of junk) {
      for (const [m, p] of [['POST', '/admin/clients'], ['PATCH', '/admin/clients/00000000-0000-4000-8000-000000000000']]) {
        const r = await api(m, p, body);
        assert.ok(r.status < 500, `${m} ${p} ${JSON.stringify(body).slice(0, 60)} -> ${r.status} ${r.text}`);
      }
    }
  });
});
