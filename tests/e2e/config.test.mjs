// Configuration: the ISSUER var and key rotation (PREVIOUS_SIGNING_KEY_SEED).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { admin, randomSecret, startWorker } from '../support/worker.mjs';
import { basic, decodeJwt, request, tokenRequest } from '../support/http.mjs';

const ISSUER = 'https://auth.example.com';

/** The public JWK of the Ed25519 key whose seed is `seedB64url`, with its RFC 7638 kid. */
async function publicJwk(seedB64url) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedB64url, 'base64url')]);
  const { kty, crv, x } = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return { kty, crv, x, kid: await calculateJwkThumbprint({ kty, crv, x }), alg: 'EdDSA', use: 'sig' };
}
let w;
before(async () => {
  w = await startWorker({ vars: { ISSUER, PREVIOUS_SIGNING_KEY_SEED: randomSecret() } });
});
after(async () => { await w?.stop(); });

describe('configuration', () => {
  it('ISSUER sets the issuer and endpoint URLs whatever the Host', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const r = await request(`${w.url}${path}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.issuer, ISSUER);
      assert.equal(r.json.token_endpoint, `${ISSUER}/oauth/token`);
      assert.equal(r.json.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
    }
  });

  it('publishes the previous key next to the current one and signs with the current', async () => {
    const jwks = await request(`${w.url}/.well-known/jwks.json`);
    assert.equal(jwks.status, 200, jwks.text);
    assert.equal(jwks.json.keys.length, 2);
    const current = await publicJwk(w.vars.SIGNING_KEY_SEED);
    const previous = await publicJwk(w.vars.PREVIOUS_SIGNING_KEY_SEED);
    const byKid = (a, b) => a.kid.localeCompare(b.kid);
    assert.deepEqual([...jwks.json.keys].sort(byKid), [current, previous].sort(byKid),
      'the keys of both seeds, kid = RFC 7638 thumbprint');

    const api = admin(w.url, w.adminToken);
    const c = await api('POST', '/admin/clients', { client_name: 'cfg', resources: ['https://api.example.com'] });
    assert.equal(c.status, 201, c.text);
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials' },
      { authorization: basic(c.json.client.client_id, c.json.secret.client_secret) });
    assert.equal(r.status, 200, r.text);
    const { header } = decodeJwt(r.json.access_token);
    assert.equal(header.kid, current.kid, 'signed with the current key');
    const { payload } = await jwtVerify(r.json.access_token, createLocalJWKSet(jwks.json), {
      issuer: ISSUER, audience: 'https://api.example.com', typ: 'at+jwt', algorithms: ['EdDSA'],
    });
    assert.equal(payload.iss, ISSUER);
  });
});
