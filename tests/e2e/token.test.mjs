// Token endpoint driven by real OAuth libraries: openid-client v6 gets tokens, jose verifies them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient as newClient, discover as discoverAt, grant as grantAt, grantError, verifyAccessToken } from '../support/oauth.mjs';
import { assertError, basic, decodeJwt, eventually, nowSec, request, sleep, tokenRequest } from '../support/http.mjs';

let w;
let api;
let jwks;
let issuer;
let basicClient; // { client, secret } registered with client_secret_basic
let postClient; // registered with client_secret_post
let plainClient; // no scope, no resources

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';

const createClient = (body) => newClient(api, body);
const discover = (clientId, auth, algorithm) => discoverAt(w.url, clientId, auth, algorithm);

function grant(clientId, secret, params = {}, method = 'basic') {
  const auth = method === 'post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
  return grantAt(w.url, clientId, auth, params);
}

const verify = (token, audience) => verifyAccessToken(jwks, issuer, token, audience);

before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
  issuer = w.url;
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
  basicClient = await createClient({
    client_name: 'basic', scope: 'read write admin', resources: [API, OTHER], access_token_lifetime: 600,
    lockout_enabled: false, // the failure tests below must not lock it
  });
  postClient = await createClient({
    client_name: 'post', token_endpoint_auth_method: 'client_secret_post', scope: 'read',
    resources: [API], lockout_enabled: false,
  });
  plainClient = await createClient({ client_name: 'plain' });
});
after(async () => { await w?.stop(); });

describe('discovery through openid-client', () => {
  it('discovers both metadata documents', async () => {
    for (const alg of ['oidc', 'oauth2']) {
      const config = await discover(basicClient.client.client_id,
        oidc.ClientSecretBasic(basicClient.secret.client_secret), alg);
      const m = config.serverMetadata();
      assert.equal(m.issuer, issuer);
      assert.equal(m.token_endpoint, `${issuer}/oauth/token`);
      assert.equal(m.jwks_uri, `${issuer}/.well-known/jwks.json`);
    }
  });
});

describe('client_secret_basic', () => {
  it('issues a verifiable at+jwt with the right claims', async () => {
    const { client_id } = basicClient.client;
    const t = await grant(client_id, basicClient.secret.client_secret, { scope: 'read write' });
    assert.equal(t.token_type, 'bearer'); // openid-client lowercases
    assert.equal(t.expires_in, 600);
    assert.equal(t.scope, 'read write');
    const { payload, protectedHeader } = await verify(t.access_token, API);
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(protectedHeader.typ, 'at+jwt');
    const keys = (await (await fetch(`${w.url}/.well-known/jwks.json`)).json()).keys;
    assert.ok(keys.some((k) => k.kid === protectedHeader.kid), 'kid is published');
    assert.equal(payload.iss, issuer);
    assert.equal(payload.sub, client_id);
    assert.equal(payload.client_id, client_id);
    assert.equal(payload.aud, API, 'default audience: first resource');
    assert.equal(payload.scope, 'read write');
    assert.equal(payload.exp - payload.iat, 600);
    assert.ok(Math.abs(payload.iat - nowSec()) < 60);
    assert.equal(typeof payload.jti, 'string');
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
  });

  it('answers exactly {access_token, token_type, expires_in, scope} with no-store', async () => {
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials', scope: 'read' },
      { authorization: basic(basicClient.client.client_id, basicClient.secret.client_secret) });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.expires_in, 600);
    assert.equal(r.json.scope, 'read');
    assert.equal(decodeJwt(r.json.access_token).payload.scope, 'read');
  });

  it('gives every token a unique jti', async () => {
    const { client_id } = basicClient.client;
    const jtis = new Set();
    for (let i = 0; i < 5; i++) {
      const t = await grant(client_id, basicClient.secret.client_secret, { scope: 'read' });
      jtis.add((await verify(t.access_token, API)).payload.jti);
    }
    assert.equal(jtis.size, 5);
  });

  it('without scope grants a subset of the allowed scopes, reported in the answer', async () => {
    const t = await grant(basicClient.client.client_id, basicClient.secret.client_secret);
    const { payload } = await verify(t.access_token, API);
    assert.equal(payload.scope, t.scope ?? '');
    for (const s of (t.scope ?? '').split(' ').filter(Boolean)) {
      assert.ok(['read', 'write', 'admin'].includes(s), s);
    }
  });

  it('rejects a scope outside the allowed set with invalid_scope', async () => {
    const e = await grantError(grant(basicClient.client.client_id, basicClient.secret.client_secret,
      { scope: 'read delete' }));
    assert.equal(e.status, 400);
    assert.equal(e.error, 'invalid_scope');
    assert.ok(e.description);
  });

  it('maps resource to aud, and refuses other resources with invalid_target', async () => {
    const { client_id } = basicClient.client;
    const t = await grant(client_id, basicClient.secret.client_secret, { scope: 'read', resource: OTHER });
    assert.equal((await verify(t.access_token, OTHER)).payload.aud, OTHER);
    const e = await grantError(grant(client_id, basicClient.secret.client_secret, { resource: 'https://evil.example' }));
    assert.equal(e.status, 400);
    assert.equal(e.error, 'invalid_target');
    assert.ok(e.description);
  });

  it('a client with no resources gets the issuer as audience and no scope', async () => {
    const t = await grant(plainClient.client.client_id, plainClient.secret.client_secret);
    const { payload } = await verify(t.access_token, issuer);
    assert.equal(payload.aud, issuer);
    // RFC 6749 5.1 and RFC 9068 2.2.3: with nothing granted, scope is left out of both.
    assert.equal('scope' in t, false, 'no scope member in the answer');
    assert.equal('scope' in payload, false, 'no scope claim');
    assert.equal(payload.exp - payload.iat, 3600);
    const e = await grantError(grant(plainClient.client.client_id, plainClient.secret.client_secret, { scope: 'read' }));
    assert.equal(e.error, 'invalid_scope');
  });

  it('a wrong secret is 401 invalid_client with WWW-Authenticate Basic', async () => {
    const { client_id } = basicClient.client;
    const good = basicClient.secret.client_secret;
    const wrong = (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
    const e = await grantError(grant(client_id, wrong));
    assert.equal(e.status, 401);
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials' }, { authorization: basic(client_id, wrong) });
    assertError(r, 401, 'invalid_client');
    assert.equal(r.headers.get('www-authenticate'), 'Basic realm="edgeauth"');
    for (const [id, secret] of [
      ['00000000-0000-4000-8000-000000000000', basicClient.secret.client_secret],
      [client_id, ''],
      [client_id, postClient.secret.client_secret],
      [postClient.client.client_id, basicClient.secret.client_secret],
    ]) {
      const x = await tokenRequest(w.url, { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });
      assertError(x, 401, 'invalid_client', `${id}:${secret.slice(0, 4)}`);
      assert.match(x.headers.get('www-authenticate') ?? '', /^Basic realm="edgeauth"/);
    }
  });

  it('a request without client authentication is 401 invalid_client', async () => {
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials' });
    assertError(r, 401, 'invalid_client');
  });
});

describe('response headers', () => {
  // The shell keeps a Headers object for each header set it serves: interleaved responses,
  // each served several times, must still carry exactly their own headers.
  it('each response carries its own headers, first time and every time after', async () => {
    const { client_id } = basicClient.client;
    const good = basic(client_id, basicClient.secret.client_secret);
    const bad = basic(client_id, 'wrong-secret');
    const grantForm = { grant_type: 'client_credentials' };
    const kinds = [
      {
        name: 'health',
        send: () => request(`${w.url}/healthz`),
        status: 200,
        headers: { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' },
      },
      {
        name: 'token',
        send: () => tokenRequest(w.url, grantForm, { authorization: good }),
        status: 200,
        headers: {
          'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache',
          'x-content-type-options': 'nosniff',
        },
      },
      {
        name: 'wrong secret',
        send: () => tokenRequest(w.url, grantForm, { authorization: bad }),
        status: 401,
        headers: {
          'content-type': 'application/json', 'cache-control': 'no-store',
          'www-authenticate': 'Basic realm="edgeauth"', 'x-content-type-options': 'nosniff',
        },
      },
    ];
    // Every header the app sets on any of these; the runtime adds its own transport headers.
    const APP = ['content-type', 'cache-control', 'pragma', 'x-content-type-options', 'www-authenticate', 'allow', 'retry-after'];
    const ours = (headers) => Object.fromEntries([...headers].filter(([n]) => APP.includes(n)));
    for (let round = 0; round < 4; round++) {
      for (const kind of kinds) {
        const r = await kind.send();
        assert.equal(r.status, kind.status, `${kind.name}, round ${round}: ${r.text}`);
        assert.deepEqual(ours(r.headers), kind.headers, `${kind.name}, round ${round}`);
      }
    }
  });
});

describe('client_secret_post', () => {
  it('issues a token through the form body', async () => {
    const { client_id } = postClient.client;
    const t = await grant(client_id, postClient.secret.client_secret, { scope: 'read' }, 'post');
    const { payload } = await verify(t.access_token, API);
    assert.equal(payload.sub, client_id);
    assert.equal(payload.client_id, client_id);
    assert.equal(payload.scope, 'read');
    assert.equal(payload.exp - payload.iat, 3600);
  });

  it('a secret client may send its secret by Basic or in the body, as openid-client and the seeds do', async () => {
    // A post client over Basic, and a default (Basic) client through openid-client's ClientSecretPost.
    const t1 = await grant(postClient.client.client_id, postClient.secret.client_secret, { scope: 'read' }, 'basic');
    assert.equal(t1.scope, 'read');
    const t2 = await grant(basicClient.client.client_id, basicClient.secret.client_secret, {}, 'post');
    const { payload } = await verify(t2.access_token, API);
    assert.equal(payload.client_id, basicClient.client.client_id);
    // The seed document's curl: client_id and client_secret in the form body of a default client.
    const r = await tokenRequest(w.url, {
      grant_type: 'client_credentials',
      client_id: basicClient.client.client_id,
      client_secret: basicClient.secret.client_secret,
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.token_type, 'Bearer');
  });

  it('a wrong secret in the body is 401 invalid_client, with a challenge as on every 401', async () => {
    const r = await tokenRequest(w.url, {
      grant_type: 'client_credentials', client_id: postClient.client.client_id, client_secret: 'nope',
    });
    assertError(r, 401, 'invalid_client');
    assert.equal(r.headers.get('www-authenticate'), 'Basic realm="edgeauth"');
  });
});

describe('admin changes bite within a few seconds', () => {
  let c;
  before(async () => {
    c = await createClient({ client_name: 'lifecycle', scope: 'read write' });
  });
  const ok = (secret) => async () => {
    const t = await grant(c.client.client_id, secret);
    await verify(t.access_token, issuer);
  };
  const rejected = (secret) => async () => {
    const r = await tokenRequest(w.url, { grant_type: 'client_credentials' },
      { authorization: basic(c.client.client_id, secret) });
    assertError(r, 401, 'invalid_client');
  };

  it('a per-secret scope narrows the grant', async () => {
    const s = await api('POST', `/admin/clients/${c.client.client_id}/secrets`, { scope: 'read' });
    assert.equal(s.status, 201, s.text);
    const t = await grant(c.client.client_id, s.json.client_secret);
    assert.equal((await verify(t.access_token, issuer)).payload.scope, 'read');
    const e = await grantError(grant(c.client.client_id, s.json.client_secret, { scope: 'write' }));
    assert.equal(e.error, 'invalid_scope');
    const t2 = await grant(c.client.client_id, c.secret.client_secret, { scope: 'write' });
    assert.equal(t2.scope, 'write');
  });

  it('a disabled client is refused, and works again once enabled', async () => {
    await eventually(ok(c.secret.client_secret));
    const p = await api('PATCH', `/admin/clients/${c.client.client_id}`, { enabled: false });
    assert.equal(p.status, 200, p.text);
    await eventually(rejected(c.secret.client_secret));
    const p2 = await api('PATCH', `/admin/clients/${c.client.client_id}`, { enabled: true });
    assert.equal(p2.status, 200, p2.text);
    await eventually(ok(c.secret.client_secret));
  });

  it('a deleted secret stops working while the others keep working', async () => {
    const s = await api('POST', `/admin/clients/${c.client.client_id}/secrets`, { description: 'temp' });
    assert.equal(s.status, 201, s.text);
    await eventually(ok(s.json.client_secret));
    const d = await api('DELETE', `/admin/clients/${c.client.client_id}/secrets/${s.json.secret_id}`);
    assert.equal(d.status, 204);
    await eventually(rejected(s.json.client_secret));
    await ok(c.secret.client_secret)();
  });

  it('an expired secret stops working', async () => {
    const s = await api('POST', `/admin/clients/${c.client.client_id}/secrets`, { description: 'short', expires_in: 1 });
    assert.equal(s.status, 201, s.text);
    assert.equal(s.json.expires_at, s.json.created_at + 1);
    await sleep(2100);
    await eventually(rejected(s.json.client_secret));
    await ok(c.secret.client_secret)();
  });

  it('a deleted client is refused', async () => {
    const x = await createClient({ client_name: 'to delete' });
    const t = await grant(x.client.client_id, x.secret.client_secret);
    await verify(t.access_token, issuer);
    assert.equal((await api('DELETE', `/admin/clients/${x.client.client_id}`)).status, 204);
    await eventually(async () => {
      const r = await tokenRequest(w.url, { grant_type: 'client_credentials' },
        { authorization: basic(x.client.client_id, x.secret.client_secret) });
      assertError(r, 401, 'invalid_client');
    });
  });

  it('a lifetime change shows in new tokens', async () => {
    const p = await api('PATCH', `/admin/clients/${c.client.client_id}`, { access_token_lifetime: 120 });
    assert.equal(p.status, 200, p.text);
    await eventually(async () => {
      const t = await grant(c.client.client_id, c.secret.client_secret);
      assert.equal(t.expires_in, 120);
      const { payload } = await verify(t.access_token, issuer);
      assert.equal(payload.exp - payload.iat, 120);
    });
  });
});
