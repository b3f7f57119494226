// DPoP (RFC 9449) end to end, driven by openid-client's own DPoP support (getDPoPHandle,
// clientCredentialsGrant and fetchProtectedResource with the DPoP option): a client whose
// tokens must be DPoP-bound gets a DPoP token with cnf.jkt; without a proof it is refused; a
// replayed proof is refused; introspection shows cnf and token_type DPoP. Through the gateway
// (its keys from the issuer over a Service Binding): the bound token passes with a proof, is
// refused as Bearer, refused with another key's proof and refused with a replayed proof.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { admin, startWorker } from '../support/worker.mjs';
import { basic, request, tokenRequest } from '../support/http.mjs';
import { createClient, discover, grantError } from '../support/oauth.mjs';

const API = 'https://api.example.com';
const REALM = 'edgeauth dpop e2e';
const ALGS = 'algs="ES256 EdDSA RS256 PS256"';

let registry;
let upstream;
let issuer;
let gateway;
let client;
let secret;
let config; // openid-client, client_secret_basic
let keyPair; // the client's DPoP key (ES256, made by openid-client)
let dpop; // its DPoP handle
let token; // a DPoP-bound access token for API

async function startUpstream() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ client: req.headers['x-client-id'] ?? null }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/** A DPoP proof signed with `key` (a jose key pair), claims overridable. */
async function proof(key, claims) {
  const jwk = await exportJWK(key.publicKey);
  return new SignJWT({ iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .sign(key.privateKey);
}

async function ath(accessToken) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
  return Buffer.from(digest).toString('base64url');
}

before(async () => {
  registry = await mkdtemp(join(tmpdir(), 'edgeauth-registry-'));
  upstream = await startUpstream();
  issuer = await startWorker({ registry });
  ({ client, secret: { client_secret: secret } } = await createClient(admin(issuer.url, issuer.adminToken), {
    client_name: 'dpop e2e', scope: 'read', resources: [API], dpop_bound_access_tokens: true,
  }));
  assert.equal(client.dpop_bound_access_tokens, true);
  config = await discover(issuer.url, client.client_id, oidc.ClientSecretBasic(secret));
  keyPair = await oidc.randomDPoPKeyPair('ES256');
  dpop = oidc.getDPoPHandle(config, keyPair);
  gateway = await startWorker({
    config: 'crates/gateway/wrangler.toml',
    registry,
    vars: {
      ISSUER: issuer.url,
      REALM,
      ROUTES: JSON.stringify([
        { prefix: '/healthz', public: true, upstream: { service: 'ISSUER_SERVICE' } },
        { prefix: '/api/', audience: API, upstream: { url: upstream.url } },
      ]),
    },
  });
});

after(async () => {
  await gateway?.stop();
  await issuer?.stop();
  upstream?.server.close();
  if (registry) await rm(registry, { recursive: true, force: true });
});

describe('DPoP at the issuer', () => {
  it('publishes the proof algorithms in its metadata', () => {
    assert.deepEqual(config.serverMetadata().dpop_signing_alg_values_supported, ['ES256', 'EdDSA', 'RS256', 'PS256']);
  });

  it('binds the token to the key of openid-client\'s proof (cnf.jkt, token_type DPoP)', async () => {
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read', resource: API }, { DPoP: dpop });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    token = tokens.access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const jwk = await exportJWK(keyPair.publicKey);
    assert.deepEqual(claims.cnf, { jkt: await calculateJwkThumbprint(jwk, 'sha256') });
  });

  it('refuses a client with dpop_bound_access_tokens that sends no proof', async () => {
    const e = await grantError(oidc.clientCredentialsGrant(config, { scope: 'read', resource: API }));
    assert.deepEqual(
      [e.status, e.error, e.description],
      [400, 'invalid_dpop_proof', "this client's tokens are DPoP-bound: send a DPoP proof"],
    );
  });

  it('refuses a replayed proof', async () => {
    const key = await generateKeyPair('ES256');
    const p = await proof(key, { htm: 'POST', htu: `${issuer.url}/oauth/token` });
    const send = () => tokenRequest(issuer.url, { grant_type: 'client_credentials', scope: 'read' }, {
      authorization: basic(client.client_id, secret), dpop: p,
    });
    const first = await send();
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.token_type, 'DPoP');
    const again = await send();
    assert.equal(again.status, 400, again.text);
    assert.deepEqual(again.json, { error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used' });
  });

  it('refuses a proof for another URL before authenticating the client', async () => {
    const key = await generateKeyPair('ES256');
    const p = await proof(key, { htm: 'POST', htu: `${issuer.url}/oauth/introspect` });
    const r = await tokenRequest(issuer.url, { grant_type: 'client_credentials' }, {
      authorization: basic(client.client_id, 'not-the-secret'), dpop: p,
    });
    assert.deepEqual([r.status, r.json], [400, {
      error: 'invalid_dpop_proof', error_description: "the DPoP proof's htu is not this request's URL",
    }]);
  });

  it('shows the binding at introspection', async () => {
    const r = await admin(issuer.url, issuer.adminToken)('POST', '/admin/tokens/introspect', { token });
    assert.equal(r.status, 200, r.text);
    const jwk = await exportJWK(keyPair.publicKey);
    assert.equal(r.json.active, true);
    assert.equal(r.json.token_type, 'DPoP');
    assert.deepEqual(r.json.cnf, { jkt: await calculateJwkThumbprint(jwk, 'sha256') });
  });
});

describe('DPoP at the gateway', () => {
  it('passes the bound token with openid-client\'s proof', async () => {
    const r = await oidc.fetchProtectedResource(config, token, new URL(`${gateway.url}/api/orders?page=1`), 'GET', undefined, undefined, { DPoP: dpop });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), { client: client.client_id });
  });

  it('refuses the bound token as Bearer', async () => {
    const r = await request(`${gateway.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error, 'invalid_token');
    assert.equal(
      r.headers.get('www-authenticate'),
      `DPoP realm="${REALM}", error="invalid_token", error_description="the token is bound to a DPoP key: send it as 'DPoP' with a proof", ${ALGS}`,
    );
  });

  it('refuses a proof by another key, and a replayed proof', async () => {
    const url = `${gateway.url}/api/orders`;
    const other = await generateKeyPair('ES256');
    const foreign = await proof(other, { htm: 'GET', htu: url, ath: await ath(token) });
    let r = await request(url, { headers: { authorization: `DPoP ${token}`, dpop: foreign } });
    assert.deepEqual([r.status, r.json], [401, {
      error: 'invalid_dpop_proof', error_description: "the DPoP proof's key is not the key the token is bound to",
    }]);
    assert.match(r.headers.get('www-authenticate'), /^DPoP realm=".*", error="invalid_dpop_proof", .*algs="ES256 EdDSA RS256 PS256"$/);
    // The client's own key, by hand: once passes, twice is a replay.
    const own = await proof({ publicKey: keyPair.publicKey, privateKey: keyPair.privateKey }, { htm: 'GET', htu: url, ath: await ath(token) });
    r = await request(url, { headers: { authorization: `DPoP ${token}`, dpop: own } });
    assert.equal(r.status, 200, r.text);
    r = await request(url, { headers: { authorization: `DPoP ${token}`, dpop: own } });
    assert.deepEqual([r.status, r.json?.error_description], [401, 'the DPoP proof was already used']);
  });
});
