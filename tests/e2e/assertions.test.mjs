// Client authentication with JWT assertions (RFC 7523) over real HTTP: openid-client's
// PrivateKeyJwt and ClientSecretJwt sign them, jose makes the keys and the attacks.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { SignJWT, createRemoteJWKSet, exportJWK, exportSPKI, generateKeyPair, jwtVerify } from 'jose';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient as newClient, grant } from '../support/oauth.mjs';
import { assertError, nowSec, tokenRequest } from '../support/http.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let w;
let api;
let issuer;
let jwks;
let keysServer;
let served = { keys: [] };

const createClient = (body) => newClient(api, { client_name: 'signer', ...body });

async function keyPair(alg, kid) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
  const jwk = { ...(await exportJWK(publicKey)), kid };
  return { publicKey, privateKey, jwk, kid, alg };
}

const grantWith = (clientId, auth, params = { scope: 'read' }) => grant(w.url, clientId, auth, params);

/** A hand-made assertion, for the cases a well-behaved library would never produce. */
function assertion(key, clientId, { header = {}, claims = {} } = {}) {
  const now = nowSec();
  return new SignJWT({ jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(claims.aud ?? `${issuer}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
    .sign(key.privateKey);
}

function post(token, extra = {}) {
  return tokenRequest(w.url, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: token, ...extra });
}

before(async () => {
  keysServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    res.end(JSON.stringify(served));
  });
  await new Promise((r) => keysServer.listen(0, '127.0.0.1', r));
  w = await startWorker();
  api = admin(w.url, w.adminToken);
  issuer = (await (await fetch(`${w.url}/.well-known/oauth-authorization-server`)).json()).issuer;
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
});

after(async () => {
  await w?.stop();
  keysServer?.close();
});

describe('private_key_jwt', () => {
  for (const alg of ['EdDSA', 'ES256', 'RS256', 'PS256']) {
    it(`openid-client signs with ${alg} and the token verifies`, async () => {
      const key = await keyPair(alg, `k-${alg}`);
      const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', scope: 'read write', jwks: { keys: [key.jwk] } });
      const t = await grantWith(client.client_id, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
      assert.equal(t.token_type.toLowerCase(), 'bearer');
      assert.equal(t.scope, 'read');
      const { payload } = await jwtVerify(t.access_token, jwks, { issuer, typ: 'at+jwt', algorithms: ['EdDSA'] });
      assert.equal(payload.sub, client.client_id);
      assert.equal(payload.client_id, client.client_id);
    });
  }

  it('a PEM public key works like a JWK', async () => {
    const key = await keyPair('ES256', undefined);
    const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', public_key_pem: await exportSPKI(key.publicKey) });
    const kid = client.jwks.keys[0].kid;
    assert.match(kid, /^[A-Za-z0-9_-]{43}$/);
    const t = await grantWith(client.client_id, oidc.PrivateKeyJwt({ key: key.privateKey, kid }), {});
    assert.ok(t.access_token);
  });

  it('keys from a jwks_uri served by a local server, with rotation to a new kid', async () => {
    const k1 = await keyPair('EdDSA', 'one');
    served = { keys: [k1.jwk] };
    const url = `http://127.0.0.1:${keysServer.address().port}/jwks.json`;
    const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: url });
    const t = await grantWith(client.client_id, oidc.PrivateKeyJwt({ key: k1.privateKey, kid: 'one' }), {});
    assert.ok(t.access_token);
    // An unknown kid is refused (generically: the caller has proved nothing yet) until the
    // refetch window allows a refetch.
    const k2 = await keyPair('EdDSA', 'two');
    const r = await post(await assertion(k2, client.client_id));
    assertError(r, 401, 'invalid_client');
    assert.equal(r.json.error_description, 'client authentication failed');
  });

  it('an unreachable jwks_uri is a 503 to retry, not invalid_client, and never locks the client', async () => {
    const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://127.0.0.1:9/jwks' });
    const k = await keyPair('EdDSA', 'x');
    for (let i = 0; i < 6; i++) {
      const r = await post(await assertion(k, client.client_id));
      assertError(r, 503, 'temporarily_unavailable');
      assert.equal(r.json.error_description, "the key set that checks this credential could not be fetched (the client's jwks_uri or its federated issuer's keys), retry shortly");
      assert.equal(r.headers.get('retry-after'), '30');
    }
    const view = await api('GET', `/admin/clients/${client.client_id}`);
    assert.equal(view.json.failed_attempts, 0);
    assert.equal(view.json.locked_until, null);
  });

  it('attacks and bad claims are refused with precise descriptions', async () => {
    const key = await keyPair('EdDSA', 'k');
    // Many failures in a row, lockout on: none of them is a guess at a secret, so none counts.
    const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    const id = client.client_id;
    const now = nowSec();
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = b64({ iss: id, sub: id, aud: issuer, exp: now + 60, jti: 'n' });
    const confusion = await new SignJWT({ jti: 'c' }).setProtectedHeader({ alg: 'HS256', kid: 'k' })
      .setIssuer(id).setSubject(id).setAudience(issuer).setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(key.jwk.x));
    const good = await assertion(key, id);
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url')), scope: 'admin' })}.${s}`;
    // Until the signature verifies, the caller learns nothing of the registration.
    const GENERIC = 'client authentication failed';
    const cases = [
      [`${b64({ alg: 'none' })}.${payload}.AAAA`, GENERIC],
      [confusion, GENERIC],
      [tampered, GENERIC],
      [await assertion(key, id, { claims: { aud: 'https://elsewhere.example/token' } }), `the assertion's aud must contain the token endpoint URL (${issuer}/oauth/token) or the issuer`],
      [await assertion(key, id, { claims: { exp: now - 120 } }), null],
      [await assertion(key, id, { claims: { exp: now + 3 * 86400 } }), 'the assertion lives too long: exp may be at most 3600 s after iat or now'],
      [await assertion({ ...key, kid: 'nope' }, id), GENERIC],
      [`${h}=.${p}.${s}`, 'invalid client assertion: the assertion header is not valid unpadded base64url'],
      ['x'.repeat(9000), 'invalid client assertion: the assertion is longer than 8192 bytes'],
    ];
    for (const [token, description] of cases) {
      const r = await post(token);
      assertError(r, 401, 'invalid_client', description ?? 'expired');
      if (description) assert.equal(r.json.error_description, description);
      else assert.match(r.json.error_description, /^the assertion expired at \d+/);
    }
    assertError(await post(good, { client_secret: 'x' }), 400, 'invalid_request', 'mixed methods');
    const view = await api('GET', `/admin/clients/${id}`);
    assert.equal(view.json.failed_attempts, 0);
    assert.equal((await post(await assertion(key, id))).status, 200);
  });

  it('nobody locks a key-based client with secrets it does not have, at any endpoint', async () => {
    const key = await keyPair('EdDSA', 'k1');
    const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    const id = client.client_id;
    const wrong = `Basic ${Buffer.from(`${encodeURIComponent(id)}:wrong`).toString('base64')}`;
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      for (let i = 0; i < 6; i++) {
        const r = await fetch(`${w.url}${path}`, {
          method: 'POST',
          headers: { authorization: wrong, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&token=x',
        });
        assert.equal(r.status, 401, path);
        assert.deepEqual(await r.json(), { error: 'invalid_client', error_description: 'client authentication failed' });
      }
    }
    const view = await api('GET', `/admin/clients/${id}`);
    assert.deepEqual([view.json.failed_attempts, view.json.locked_until], [0, null]);
    const t = await grantWith(id, oidc.PrivateKeyJwt({ key: key.privateKey, kid: 'k1' }), {});
    assert.ok(t.access_token, 'its own assertions still work');
  });

  it('the same assertion sent 20 times at once yields exactly one token', async () => {
    const key = await keyPair('EdDSA', 'k');
    const { client } = await createClient({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, lockout_enabled: false });
    const token = await assertion(key, client.client_id);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(token)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => `${r.status} ${r.json?.error_description ?? ''}`).join('\n'));
    for (const r of results.filter((x) => x.status !== 200)) {
      assertError(r, 401, 'invalid_client');
      assert.equal(r.json.error_description, 'the assertion has already been used (jti replayed)');
    }
  });
});

describe('hostile key hosts', () => {
  let hostile;
  const sockets = new Set();
  before(async () => {
    hostile = createServer((req, res) => {
      if (req.url === '/trickle') {
        // Headers at once, then one byte a second: only a deadline over the body ends it.
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => res.write(' '), 1000);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${keysServer.address().port}/jwks.json` });
        res.end();
      } else {
        // 200 KiB of JSON, chunked: no Content-Length to refuse up front.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[],"pad":"');
        for (let i = 0; i < 200; i++) res.write('x'.repeat(1024));
        res.end('"}');
      }
    });
    hostile.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)); });
    await new Promise((r) => hostile.listen(0, '127.0.0.1', r));
  });
  after(() => { for (const sock of sockets) sock.destroy(); hostile?.close(); });

  for (const path of ['/trickle', '/redirect', '/huge']) {
    it(`a key host at ${path} is a 503 within the fetch deadline, never followed or read whole`, async () => {
      const k = await keyPair('EdDSA', 'k');
      served = { keys: [k.jwk] };
      const { client } = await createClient({
        token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `http://127.0.0.1:${hostile.address().port}${path}`,
      });
      const started = Date.now();
      const r = await post(await assertion(k, client.client_id));
      const took = Date.now() - started;
      assertError(r, 503, 'temporarily_unavailable', path);
      assert.equal(r.headers.get('retry-after'), '30');
      // The deadline is 5 s for headers and body together; leave room for a busy machine.
      assert.ok(took < 9000, `${path} held the token request for ${took} ms`);
    });
  }
});

describe('client_secret_jwt', () => {
  it('openid-client signs HS256 with the secret shown at creation', async () => {
    const { client, secret } = await createClient({ token_endpoint_auth_method: 'client_secret_jwt', scope: 'read' });
    const t = await grantWith(client.client_id, oidc.ClientSecretJwt(secret.client_secret));
    assert.equal(t.scope, 'read');
    // The same secret over Basic is refused: the registered method is the assertion.
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials', client_id: client.client_id, client_secret: secret.client_secret });
    assertError(r, 401, 'invalid_client');
    assert.equal(r.json.error_description, 'this client is registered for client_secret_jwt');
  });
});

describe('metadata', () => {
  it('publishes the methods and the signing algorithms', async () => {
    const m = await (await fetch(`${w.url}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(m.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']);
    assert.deepEqual(m.token_endpoint_auth_signing_alg_values_supported, ['EdDSA', 'Ed25519', 'ES256', 'RS256', 'PS256', 'HS256']);
  });
});
