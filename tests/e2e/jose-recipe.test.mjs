// The README's recipe for JavaScript Workers, verbatim: jose's createRemoteJWKSet on the
// issuer's jwks_uri, then jwtVerify with issuer, audience, typ at+jwt and EdDSA only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, errors } from 'jose';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient, discover } from '../support/oauth.mjs';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';

let w;
let token; // an access token for API, from openid-client
let otherToken; // the same client's token for OTHER
let issuer;
let JWKS;

before(async () => {
  w = await startWorker();
  const api = admin(w.url, w.adminToken);
  const { client, secret } = await createClient(api, {
    client_name: 'recipe', scope: 'read', resources: [API, OTHER],
  });
  const config = await discover(w.url, client.client_id, oidc.ClientSecretBasic(secret.client_secret));
  ({ access_token: token } = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: API }));
  ({ access_token: otherToken } = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: OTHER }));
  const metadata = config.serverMetadata();
  issuer = metadata.issuer;
  // The recipe: once per isolate, at module scope in a Worker.
  JWKS = createRemoteJWKSet(new URL(metadata.jwks_uri));
});
after(async () => { await w?.stop(); });

/** The README recipe, with the audience of the API doing the checking. */
function verify(accessToken, audience) {
  return jwtVerify(accessToken, JWKS, { issuer, audience, typ: 'at+jwt', algorithms: ['EdDSA'] });
}

describe('verifying tokens in a JavaScript Worker with jose', () => {
  it('accepts a token for its audience and yields the RFC 9068 claims', async () => {
    const { payload, protectedHeader } = await verify(token, API);
    assert.deepEqual(
      { alg: protectedHeader.alg, typ: protectedHeader.typ },
      { alg: 'EdDSA', typ: 'at+jwt' },
    );
    assert.equal(payload.iss, w.url);
    assert.equal(payload.aud, API);
    assert.equal(payload.scope, 'read');
    assert.equal(payload.client_id, payload.sub);
  });

  it('rejects a token minted for another audience', async () => {
    await assert.rejects(verify(otherToken, API), (e) => {
      assert.ok(e instanceof errors.JWTClaimValidationFailed, e.name);
      assert.equal(e.claim, 'aud');
      return true;
    });
    // The same token is fine where it belongs.
    assert.equal((await verify(otherToken, OTHER)).payload.aud, OTHER);
  });

  it('rejects a token whose claims were altered after signing', async () => {
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url');
    await assert.rejects(verify(`${h}.${forged}.${s}`, API), errors.JWSSignatureVerificationFailed);
  });
});
