// The admin API's OpenAPI document: served at GET /admin/openapi.json to the admin only (it is a
// static asset the Worker reads through its ASSETS binding after the bearer check, and no other
// spelling of its path reaches it), and a valid OpenAPI 3.1 document whose every schema compiles.
// That every admin answer of the e2e suite matches it is checked by the admin() helper itself
// (tests/support/worker.mjs, tests/support/openapi.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { assertError, request } from '../support/http.mjs';
import {
  DOCUMENT, checkAdminAnswer, compileAll, openApi31Errors,
} from '../support/openapi.mjs';
import { admin, startWorker } from '../support/worker.mjs';

let w;
let api;
before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
});
after(async () => { await w?.stop(); });

const PATH = '/admin/openapi.json';

describe('GET /admin/openapi.json', () => {
  it('answers the document kept in the repository to the admin', async () => {
    const r = await api('GET', PATH);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, DOCUMENT);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-edgeauth-asset'), null, 'the shell removes its marker');
    const head = await api('HEAD', PATH);
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('is 401 without the admin bearer, with a wrong one and with another scheme', async () => {
    for (const token of [null, `${w.adminToken}x`, w.adminToken.slice(0, -1)]) {
      const r = await admin(w.url, token)('GET', PATH);
      assertError(r, 401, 'unauthorized', `token ${token === null ? 'none' : 'wrong'}`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="edgeauth-admin"');
    }
    const basic = await request(`${w.url}${PATH}`, { headers: { authorization: `Basic ${w.adminToken}` } });
    assertError(basic, 401, 'unauthorized', 'Basic scheme');
  });

  it('is never readable without the bearer under another spelling of its path', async () => {
    // The assets layer serves www/ itself for every path the Worker does not go first for:
    // these spellings either reach the Worker (401, 404) or are redirected by the assets layer
    // to the one path the Worker goes first for; none may answer the file.
    const spellings = [
      PATH, '/admin/openapi%2Ejson', '/admin/openapi%2ejson', '/admin/%6Fpenapi.json',
      '/%61dmin/openapi.json', '/admin%2Fopenapi.json', '/admin//openapi.json', '//admin/openapi.json',
      '/admin/./openapi.json', '/admin/x/../openapi.json', '/admin/openapi.json/', '/admin/openapi.json?',
      '/admin/openapi.json?download=1', '/admin/openapi.json%00', '/admin/openapi.json;x',
      '/admin/OPENAPI.JSON', '/admin/openapi', '/admin/openapi.JSON', '/admin/openapi.json.',
    ];
    for (const spelling of spellings) {
      for (const method of ['GET', 'HEAD']) {
        for (const redirect of ['manual', 'follow']) {
          const r = await request(`${w.url}${spelling}`, { method, redirect });
          const what = `${method} ${spelling} (redirect: ${redirect}) -> ${r.status} ${r.text.slice(0, 120)}`;
          assert.notEqual(r.status, 200, what);
          assert.ok(!r.text.includes('"openapi"'), what);
          if (redirect === 'follow') assert.ok([401, 404].includes(r.status), what);
        }
      }
    }
  });

  it('takes GET and HEAD only', async () => {
    const r = await api('POST', PATH, {});
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), 'GET');
  });
});

describe('the document', () => {
  it('is OpenAPI 3.1 by the official schema, and every schema in it compiles strictly', () => {
    assert.match(DOCUMENT.openapi, /^3\.1\.\d+$/);
    assert.equal(openApi31Errors(), null);
    compileAll();
  });

  it('fails the official schema when broken, so the check above can fail', () => {
    const broken = structuredClone(DOCUMENT);
    delete broken.paths['/admin/clients'].get.responses;
    broken.info = { title: 'no version' };
    const errors = openApi31Errors(broken);
    assert.ok(errors?.some((e) => e.instancePath === '/info' && e.params.missingProperty === 'version'),
      JSON.stringify(errors));
  });

  it('describes the error shape once and refers to it everywhere', () => {
    const refs = [];
    for (const [template, item] of Object.entries(DOCUMENT.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) refs.push([`${method} ${template} ${status}`, response.$ref]);
        }
      }
    }
    assert.ok(refs.length > 50, 'error answers documented');
    for (const [where, ref] of refs) assert.match(ref ?? '', /^#\/components\/responses\//, where);
    for (const [name, response] of Object.entries(DOCUMENT.components.responses)) {
      assert.deepEqual(response.content, { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }, name);
    }
    assert.deepEqual(DOCUMENT.security, [{ adminBearer: [] }, { cloudflareAccess: [] }]);
    assert.deepEqual(DOCUMENT.components.securitySchemes.adminBearer.scheme, 'bearer');
  });

  it('is what the admin helper checks answers against: a mismatch fails with a clear message', () => {
    const headers = new Headers({ 'content-type': 'application/json' });
    assert.throws(
      () => checkAdminAnswer({ method: 'GET', path: '/admin/clients?limit=1', status: 200, headers, text: '{"clients":[]}' }),
      /GET \/admin\/clients\?limit=1 answered 200, but the body does not match #\/components\/schemas\/ClientPage: \(root\) must have required property 'next_cursor'/,
    );
    assert.throws(
      () => checkAdminAnswer({ method: 'DELETE', path: '/admin/clients/x', status: 200, headers, text: '' }),
      /answered 200, which the document does not list for DELETE \/admin\/clients\/\{client_id\} \(it lists 204, 401, 403, 404, 409, 503\)/,
    );
    assert.throws(
      () => checkAdminAnswer({ method: 'GET', path: '/admin/nothing', status: 200, headers, text: '{}' }),
      /no documented path matches/,
    );
  });
});

// The admin() helper validates every answer, so what matters here is that each call is made:
// these are the operations no other e2e file calls through it.
describe('answers no other e2e file asks for', () => {
  it('match the document: limits, a resource changed, a client with a token quota, a key revoked', async () => {
    const limits = await api('GET', '/admin/limits');
    assert.equal(limits.status, 200, limits.text);
    const head = await api('HEAD', '/admin/limits');
    assert.equal(head.status, 200);

    const created = await api('POST', '/admin/resources', {
      identifier: 'urn:example:openapi', name: 'OpenAPI', access_token_lifetime: 600,
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.resource_id;
    const changed = await api('PATCH', `/admin/resources/${id}`, {
      scopes: [{ value: 'read', description: 'Read' }, { value: 'write' }], access_token_lifetime: null,
    });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(changed.json.scopes, [{ value: 'read', description: 'Read' }, { value: 'write', description: '' }]);
    assert.equal(changed.json.access_token_lifetime, null);

    const quota = { per_hour: 100, enforce: false };
    const client = await api('POST', '/admin/clients', { client_name: 'quota', token_quota: quota });
    assert.equal(client.status, 201, client.text);
    assert.deepEqual(client.json.client.token_quota, quota);
    const shown = await api('GET', `/admin/clients/${client.json.client.client_id}`);
    assert.deepEqual(shown.json.token_quota_use, { per_hour: 0, per_day: 0 });
    const { kid } = (await api('GET', '/admin/keys')).json.keys[0];
    const revoked = await api('POST', `/admin/keys/${kid}/revoke`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.keys.find((k) => k.kid === kid).state, 'revoked');
  });
});
