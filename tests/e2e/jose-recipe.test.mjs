// The README's recipe for JavaScript Workers, verbatim: jose's createRemoteJWKSet on the
// issuer's jwks_uri, then jwtVerify with issuer, audience, typ at+jwt and EdDSA only. Then the
// DPoP recipe of docs/RECIPES.md, as written, on a DPoP-bound token from openid-client.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, errors } from 'jose';
import { ROOT, admin, startWorker } from '../support/worker.mjs';
import { createClient, discover } from '../support/oauth.mjs';
import { recipeBlock } from '../support/recipes.mjs';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';

let w;
let token; // an access token for API, from openid-client
let otherToken; // the same client's token for OTHER
let issuer;
let JWKS;
let dpopKeys; // the client's DPoP key pair (openid-client's)
let dpopToken; // a DPoP-bound token for API

before(async () => {
  w = await startWorker();
  const api = admin(w.url, w.adminToken);
  const { client, secret } = await createClient(api, {
    client_name: 'recipe', scope: 'read', resources: [API, OTHER],
  });
  const config = await discover(w.url, client.client_id, oidc.ClientSecretBasic(secret.client_secret));
  ({ access_token: token } = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: API }));
  ({ access_token: otherToken } = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: OTHER }));
  dpopKeys = await oidc.randomDPoPKeyPair('ES256');
  const dpop = oidc.getDPoPHandle(config, dpopKeys);
  ({ access_token: dpopToken } = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: API }, { DPoP: dpop }));
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

describe('DPoP-bound tokens with the jose recipe of docs/RECIPES.md', () => {
  const URL_ = 'https://api.example.com/things';
  let verifyDPoP;
  before(async () => {
    // The block as written, as a module next to the repository's node_modules (for 'jose').
    const dir = join(ROOT, 'target', 'recipes');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `dpop-${process.pid}.mjs`);
    writeFileSync(file, recipeBlock('## DPoP-bound tokens in a JavaScript Worker with jose', 'js'));
    ({ verifyDPoP } = await import(pathToFileURL(file).href));
  });

  const ath = async (t) => Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(t))).toString('base64url');
  async function proof(keys, claims) {
    return new SignJWT({ iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey) })
      .sign(keys.privateKey);
  }
  const call = (method, url, token, p) => new Request(url, { method, headers: { authorization: `DPoP ${token}`, ...(p ? { dpop: p } : {}) } });
  const check = (req) => verifyDPoP(req, { JWKS, issuer, audience: API });
  const refused = async (req, error, why) => {
    await assert.rejects(check(req), (e) => {
      assert.equal(e.error, error);
      if (why) assert.match(e.message, why);
      return true;
    });
  };

  it('accepts the bound token with a proof of its key, once', async () => {
    const p = await proof(dpopKeys, { htm: 'GET', htu: URL_, ath: await ath(dpopToken) });
    const claims = await check(call('GET', `${URL_}?page=2`, dpopToken, p));
    assert.equal(claims.aud, API);
    assert.equal(typeof claims.cnf.jkt, 'string');
    await refused(call('GET', URL_, dpopToken, p), 'invalid_dpop_proof', /already used/);
  });

  it('refuses another key, request, token, a missing proof, and plain tokens', async () => {
    const other = await generateKeyPair('ES256');
    const a = await ath(dpopToken);
    await refused(call('GET', URL_, dpopToken, await proof(other, { htm: 'GET', htu: URL_, ath: a })), 'invalid_dpop_proof', /key the token is bound to/);
    await refused(call('POST', URL_, dpopToken, await proof(dpopKeys, { htm: 'GET', htu: URL_, ath: a })), 'invalid_dpop_proof', /another request/);
    await refused(call('GET', URL_, dpopToken, await proof(dpopKeys, { htm: 'GET', htu: 'https://api.example.com/other', ath: a })), 'invalid_dpop_proof', /another request/);
    await refused(call('GET', URL_, dpopToken, await proof(dpopKeys, { htm: 'GET', htu: URL_, ath: await ath(token) })), 'invalid_dpop_proof', /another token/);
    await refused(call('GET', URL_, dpopToken, await proof(dpopKeys, { htm: 'GET', htu: URL_, ath: a, iat: Math.floor(Date.now() / 1000) - 3600 })), 'invalid_dpop_proof');
    await refused(call('GET', URL_, dpopToken), 'invalid_dpop_proof', /one DPoP proof/);
    await refused(call('GET', URL_, token, await proof(dpopKeys, { htm: 'GET', htu: URL_, ath: await ath(token) })), 'invalid_token', /not DPoP-bound/);
  });
});
