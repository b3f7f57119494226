// Certificate-bound tokens (RFC 8705, `cnf.x5t#S256`) at the gateway under plain workerd: the
// gateway's socket has `cfBlobHeader`, so a test header's JSON becomes `request.cf`, as
// Cloudflare's edge makes it for an mTLS hostname (`tlsClientAuth`). The token is signed here
// with the issuer's own key (its SIGNING_KEY_SEED), as the issuer signs a certificate-bound one.
// Also the route option `sender_constraint`.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { randomSecret } from '../support/worker.mjs';
import { startWorkerd } from '../support/workerd.mjs';
import { basic, request, tokenRequest } from '../support/http.mjs';

const ISSUER = 'https://issuer.mtls.example';
const API = 'https://api.mtls.example';
const CF = 'x-test-cf';
const SEED = randomSecret();
const FINGERPRINT = 'b3a8e0e1f9ab1bfe3a36f231f676f78bb30a519d2b21e6c530c0eee8ebb4a5d0';
const X5T = Buffer.from(FINGERPRINT, 'hex').toString('base64url');

let w;
let plain; // a bearer token from the issuer
let bound; // the same claims with cnf.x5t#S256, signed with the issuer's key

function issuerKey() {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(SEED, 'base64url')]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

before(async () => {
  w = await startWorkerd({
    hello: true,
    vars: { ISSUER, SIGNING_KEY_SEED: SEED },
    gateway: {
      vars: {
        ISSUER,
        REALM: 'api',
        ROUTES: JSON.stringify([
          { prefix: '/open', public: true, upstream: { service: 'UPSTREAM' } },
          { prefix: '/api', audience: API, upstream: { service: 'UPSTREAM' } },
          { prefix: '/mtls', audience: API, sender_constraint: 'mtls', upstream: { service: 'UPSTREAM' } },
        ]),
      },
      services: { UPSTREAM: 'hello' },
      healthPath: '/open/',
      cfBlobHeader: CF,
    },
  });
  const made = await request(`${w.url}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'mtls e2e', scope: 'read', resources: [API] }),
  });
  assert.equal(made.status, 201, made.text);
  const { client, secret } = made.json;
  const r = await tokenRequest(w.url, { grant_type: 'client_credentials', scope: 'read', resource: API }, {
    authorization: basic(client.client_id, secret.client_secret),
  });
  assert.equal(r.status, 200, r.text);
  plain = r.json.access_token;
  const { kid, typ } = decodeProtectedHeader(plain);
  const claims = { ...decodeJwt(plain), jti: crypto.randomUUID(), cnf: { 'x5t#S256': X5T } };
  bound = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ, kid }).sign(issuerKey());
});

after(async () => { await w?.stop(); });

const cf = (fingerprint, presented = '1') => JSON.stringify({
  tlsClientAuth: { certPresented: presented, certVerified: 'NONE', certFingerprintSHA256: fingerprint },
});
const get = (path, token, cfJson) => request(`${w.gatewayUrl}${path}`, {
  headers: { authorization: `Bearer ${token}`, ...(cfJson ? { [CF]: cfJson } : {}) },
});
const WRONG_CERT = 'the token is bound to a client certificate this request was not made with';

describe('certificate-bound tokens at the gateway (request.cf.tlsClientAuth)', () => {
  it('passes the token over a connection with its certificate, either case of hex', async () => {
    for (const fp of [FINGERPRINT, FINGERPRINT.toUpperCase()]) {
      for (const path of ['/api/item', '/mtls/item']) {
        const r = await get(path, bound, cf(fp));
        assert.equal(r.status, 200, `${path}: ${r.text}`);
      }
    }
  });

  it('refuses it without the certificate, with another one, or a malformed fingerprint', async () => {
    for (const blob of [undefined, cf(FINGERPRINT, '0'), cf(FINGERPRINT.replace('b3', '00')), cf(FINGERPRINT.slice(2)), cf(`${FINGERPRINT}00`)]) {
      const r = await get('/api/item', bound, blob);
      assert.deepEqual([r.status, r.json], [401, { error: 'invalid_token', error_description: WRONG_CERT }], String(blob));
      assert.equal(r.headers.get('www-authenticate'), `Bearer realm="api", error="invalid_token", error_description="${WRONG_CERT}"`);
    }
  });

  it('a sender_constraint mtls route refuses a plain bearer token, even over a certificate', async () => {
    assert.equal((await get('/api/item', plain, cf(FINGERPRINT))).status, 200);
    const r = await get('/mtls/item', plain, cf(FINGERPRINT));
    assert.deepEqual([r.status, r.json?.error_description], [401, 'this resource accepts only sender-constrained (DPoP or certificate-bound) tokens']);
  });
});
