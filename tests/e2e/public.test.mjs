// Public endpoints: health, RFC 8414 metadata (both paths), JWKS, 404 and 405.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWorker } from '../support/worker.mjs';
import { assertError, request } from '../support/http.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

describe('public endpoints', () => {
  it('GET /healthz answers {"status":"ok"}', async () => {
    const r = await request(`${w.url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
    assert.match(r.headers.get('content-type'), /^application\/json/);
  });

  it('serves the same RFC 8414 metadata at both well-known paths', async () => {
    const a = await request(`${w.url}/.well-known/oauth-authorization-server`);
    const b = await request(`${w.url}/.well-known/openid-configuration`);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.match(a.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(a.json, b.json);
    const m = a.json;
    // No ISSUER var: the issuer is the request's origin.
    assert.equal(m.issuer, w.url);
    assert.equal(m.token_endpoint, `${w.url}/oauth/token`);
    assert.equal(m.jwks_uri, `${w.url}/.well-known/jwks.json`);
    assert.deepEqual(m.grant_types_supported, ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:token-exchange']);
    assert.deepEqual(m.response_types_supported, []);
    assert.ok(Array.isArray(m.token_endpoint_auth_methods_supported));
    for (const meth of ['client_secret_basic', 'client_secret_post']) {
      assert.ok(m.token_endpoint_auth_methods_supported.includes(meth), meth);
    }
    assert.equal(m.scopes_supported, undefined, 'scopes_supported is not published');
  });

  it('uses the Host of the request for the issuer', async () => {
    const port = new URL(w.url).port;
    const r = await request(`http://localhost:${port}/.well-known/oauth-authorization-server`);
    assert.equal(r.status, 200);
    assert.equal(r.json.issuer, `http://localhost:${port}`);
    assert.equal(r.json.token_endpoint, `http://localhost:${port}/oauth/token`);
  });

  it('publishes an Ed25519 JWKS with Cache-Control public, max-age=300', async () => {
    const r = await request(`${w.url}/.well-known/jwks.json`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^application\/(jwk-set\+)?json/);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
    assert.deepEqual(Object.keys(r.json), ['keys']);
    assert.equal(r.json.keys.length, 1, 'one key without PREVIOUS_SIGNING_KEY_SEED');
    const [k] = r.json.keys;
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(k.kty, 'OKP');
    assert.equal(k.crv, 'Ed25519');
    assert.equal(k.alg, 'EdDSA');
    assert.equal(k.use, 'sig');
    assert.match(k.x, /^[A-Za-z0-9_-]{43}$/, 'x is 32 bytes base64url');
    assert.equal(typeof k.kid, 'string');
    assert.ok(k.kid.length > 0);
    // Stable across requests (derived from the seed).
    const again = await request(`${w.url}/.well-known/jwks.json`);
    assert.deepEqual(again.json, r.json);
  });

  it('answers 404 JSON for unknown paths', async () => {
    for (const path of ['/nope', '/oauth', '/oauth/token/extra', '/.well-known/nope', '/admin/nope']) {
      const r = await request(`${w.url}${path}`, path.startsWith('/admin')
        ? { headers: { authorization: `Bearer ${w.adminToken}` } } : {});
      assertError(r, 404, 'not_found', path);
    }
  });

  it('answers 405 for a wrong method', async () => {
    const cases = [
      ['GET', '/oauth/token'],
      ['PUT', '/oauth/token'],
      ['POST', '/.well-known/jwks.json'],
      ['DELETE', '/.well-known/openid-configuration'],
      ['POST', '/healthz'],
    ];
    for (const [method, path] of cases) {
      const r = await request(`${w.url}${path}`, { method });
      assert.equal(r.status, 405, `${method} ${path}: ${r.text}`);
      assert.ok(r.json && typeof r.json.error === 'string', `${method} ${path} JSON error: ${r.text}`);
      assert.ok(r.headers.get('allow'), `${method} ${path}: Allow header`);
    }
  });
});
