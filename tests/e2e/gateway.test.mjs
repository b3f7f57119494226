// The gateway Worker in front of a local upstream, its keys from the issuer over a Service
// Binding: tokens from openid-client pass or are refused per RFC 6750, identity headers are the
// gateway's alone, public and unmatched routes, CORS preflights; expired and not-yet-valid
// tokens (signed here with the issuer's own key, so nothing waits for a clock), and tokens of
// both keys across a signing-key rotation; a route with `revocation` refuses a token within
// seconds of its revocation at the issuer, the gateway introspecting with private_key_jwt (its
// key from INTROSPECTION_KEY_SEED, registered with scripts/gateway-jwk.mjs), which no stranger
// can lock; non-canonical paths and methods a route does not serve are refused before any
// route is chosen; wildcard CORS routes say `*` and drop the upstream's credentials allowance.
//
// Two `wrangler dev` sessions share a private dev registry, so the gateway's ISSUER_SERVICE
// binding reaches this issuer and no other session on the machine. (In one multi-config
// session only the first config serves a port, and the issuer's secrets could only come from
// files: `--var` reaches the first config alone.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { ROOT, admin, randomSecret, startWorker } from '../support/worker.mjs';
import { basic } from '../support/http.mjs';
import { createClient, discover, grant } from '../support/oauth.mjs';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';
const APP = 'https://app.example.com';
const REALM = 'edgeauth e2e';
// The issuer's SIGNING_KEY_SEED: its key 0 is this seed's Ed25519 key (docs/SECURITY.md, "Signing keys"),
// so the test can sign tokens the issuer would, with any times.
const SEED = randomSecret();
const LEAD = 2; // KEY_PUBLISH_LEAD, seconds: the rotation switches within the test

let registry;
let upstream; // { server, url, seen: [] }
let issuer;
let gateway;
let client;
let clientAuth;
let clientSecret;
let readToken; // scope read, for API, signed by key 0 (before the rotation switched)
let otherToken; // scope read, for OTHER
let rotation; // the POST /admin/keys/rotate answer
let introspector; // the client the gateway introspects as (private_key_jwt)
let introspectionSeed; // the gateway's INTROSPECTION_KEY_SEED

/** The JWK Set scripts/gateway-jwk.mjs prints for a seed given on standard input. */
function gatewayJwks(seed) {
  return JSON.parse(execFileSync(process.execPath, [join(ROOT, 'scripts', 'gateway-jwk.mjs')], { input: seed }));
}

/** A local upstream that answers with what it received. */
async function startUpstream() {
  const seen = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const echo = { method: req.method, url: req.url, headers: req.headers, body };
    seen.push(echo);
    // An upstream that allows credentials and varies by encoding: the gateway must keep its
    // Vary, and drop the allowance on routes any origin may call.
    res.writeHead(200, {
      'content-type': 'application/json', 'x-upstream': 'echo', vary: 'Accept-Encoding',
      'access-control-allow-credentials': 'true', 'proxy-authenticate': 'Basic realm="upstream proxy"',
    });
    res.end(JSON.stringify(echo));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, seen, url: `http://127.0.0.1:${server.address().port}` };
}

function routes(upstreamUrl) {
  return [
    { prefix: '/healthz', public: true, upstream: { service: 'ISSUER_SERVICE' } },
    { prefix: '/public/', public: true, upstream: { url: upstreamUrl } },
    {
      prefix: '/api/', audience: API, scopes: { all_of: ['read'] }, strip_authorization: true,
      upstream: { url: upstreamUrl },
      cors: { origins: [APP], methods: ['GET', 'POST'], headers: ['authorization'], max_age: 300 },
    },
    { prefix: '/api/admin', methods: ['GET'], audience: API, scopes: { all_of: ['admin'] }, upstream: { url: upstreamUrl } },
    { prefix: '/open/', public: true, upstream: { url: upstreamUrl }, cors: { origins: ['*'] } },
    { prefix: '/live/', audience: API, revocation: true, upstream: { url: upstreamUrl } },
    // Port 1 on the loopback: nothing listens there, so the forward fails.
    { prefix: '/gone/', public: true, upstream: { url: 'http://127.0.0.1:1' } },
  ];
}

/**
 * A request through node:http, which sends headers fetch refuses (Connection) and the path as
 * written: fetch would resolve `/./` and `/../` before sending.
 */
function rawGet(url, headers, method = 'GET') {
  return new Promise((resolve, reject) => {
    const { origin, pathname, search } = new URL(url);
    const path = url.slice(origin.length) || `${pathname}${search}`;
    const req = http.request(origin, { path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function call(path, headers = {}, method = 'GET', body = undefined) {
  const r = await fetch(gateway.url + path, { method, headers, body });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, headers: r.headers, json, text };
}

before(async () => {
  registry = await mkdtemp(join(tmpdir(), 'edgeauth-registry-'));
  upstream = await startUpstream();
  issuer = await startWorker({ registry, vars: { SIGNING_KEY_SEED: SEED, KEY_PUBLISH_LEAD: String(LEAD) } });
  const created = await createClient(admin(issuer.url, issuer.adminToken), {
    client_name: 'gateway e2e', scope: 'read write', resources: [API, OTHER],
  });
  client = created.client;
  clientSecret = created.secret.client_secret;
  clientAuth = oidc.ClientSecretBasic(clientSecret);
  // The gateway introspects as its own client, which may introspect any token of the issuer,
  // proving it with the key of its INTROSPECTION_KEY_SEED, registered as the README says: the
  // JWK Set the script prints, on a private_key_jwt client with lockout as by default.
  introspectionSeed = randomSecret();
  ({ client: introspector } = await createClient(admin(issuer.url, issuer.adminToken), {
    client_name: 'gateway introspection', introspection_allowed: true,
    token_endpoint_auth_method: 'private_key_jwt', jwks: gatewayJwks(introspectionSeed),
  }));
  ({ access_token: readToken } = await grant(issuer.url, client.client_id, clientAuth, { scope: 'read', resource: API }));
  ({ access_token: otherToken } = await grant(issuer.url, client.client_id, clientAuth, { scope: 'read', resource: OTHER }));
  // Rotate before the gateway exists, so its first JWK Set already publishes the next key (the
  // issuer publishes before it signs). A gateway that had cached the set earlier would meet
  // the new kid as unknown and refetch at most once per 30 s: the test must not depend on that.
  rotation = await admin(issuer.url, issuer.adminToken)('POST', '/admin/keys/rotate');
  assert.equal(rotation.status, 200, rotation.text);
  // /healthz goes through ISSUER_SERVICE: a 200 proves the binding reaches the issuer.
  gateway = await startWorker({
    config: 'crates/gateway/wrangler.toml',
    registry,
    vars: {
      ISSUER: issuer.url, ROUTES: JSON.stringify(routes(upstream.url)), REALM,
      INTROSPECTION_CLIENT_ID: introspector.client_id,
      INTROSPECTION_KEY_SEED: introspectionSeed,
    },
  });
});

/** Ed25519 private key 0 of the issuer, from its seed (PKCS#8: fixed prefix, then the seed). */
function issuerKey() {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(SEED, 'base64url')]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

/**
 * An access token as the issuer makes it (readToken's header and claims, key 0), with the
 * times changed by `times` ({ iat, exp, nbf } in seconds from now; nbf absent unless given).
 */
async function signLikeIssuer(times) {
  const now = Math.floor(Date.now() / 1000);
  const { kid, typ } = decodeProtectedHeader(readToken);
  const claims = { ...decodeJwt(readToken), jti: crypto.randomUUID() };
  for (const [k, v] of Object.entries(times)) claims[k] = now + v;
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ, kid }).sign(issuerKey());
}

/** A 401 invalid_token answer with `description`, in the body and in the exact challenge. */
function assertInvalidToken(r, description) {
  assert.equal(r.status, 401, r.text);
  assert.deepEqual(r.json, { error: 'invalid_token', error_description: description });
  assert.equal(
    r.headers.get('www-authenticate'),
    `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
  );
}

after(async () => {
  await gateway?.stop();
  await issuer?.stop();
  upstream?.server.close();
  if (registry) await rm(registry, { recursive: true, force: true });
});

describe('the gateway in front of an upstream', () => {
  it('forwards a good token with the verified client, scopes and subject, and no spoofed copies', async () => {
    const r = await rawGet(`${gateway.url}/api/orders?page=2`, {
      authorization: `Bearer ${readToken}`,
      'x-client-id': 'admin',
      'x-client-scopes': 'admin',
      'x-auth-subject': 'admin',
      'x-auth-actors': 'admin',
      // A caller naming the identity headers in Connection cannot make a later hop drop the
      // gateway's. (The runtime consumes Connection before the Worker sees it, so the names it
      // lists arrive as ordinary headers: the host tests cover the gateway's own dropping.)
      connection: 'x-client-id, x-client-scopes',
      'x-kept': 'kept',
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-upstream'], 'echo');
    const echo = JSON.parse(r.body);
    assert.equal(echo.url, '/api/orders?page=2');
    assert.equal(echo.headers['x-client-id'], client.client_id);
    assert.equal(echo.headers['x-client-scopes'], 'read');
    // A client-credentials token is the client's own: sub is the client, and there is no act.
    // (Tokens with act come from the token exchange grant: the test after this one.)
    assert.equal(echo.headers['x-auth-subject'], client.client_id);
    assert.equal(echo.headers['x-auth-actors'], undefined);
    assert.equal(echo.headers['x-kept'], 'kept');
    assert.equal(echo.headers.authorization, undefined, 'the route strips Authorization');
  });

  it('forwards an exchanged token\'s original caller and its actors, latest first', async () => {
    // A calls B, B exchanges A's token for one to C, C exchanges that for one to the gateway's
    // API (RFC 8693, with openid-client's generic grant call): the upstream learns A and B, C.
    const api = admin(issuer.url, issuer.adminToken);
    const [B, C] = ['https://orders.gateway.example', 'https://stock.gateway.example'];
    const b = await createClient(api, { client_name: 'orders api' });
    const c = await createClient(api, { client_name: 'stock api', scope: 'read', resources: [API] });
    for (const [identifier, provider] of [[B, b], [C, c]]) {
      const r = await api('POST', '/admin/resources', { identifier, name: identifier, scopes: [{ value: 'read' }], provider_client_id: provider.client.client_id });
      assert.equal(r.status, 201, r.text);
    }
    const r = await api('PATCH', `/admin/clients/${b.client.client_id}`, { grants: [{ resource: C, scope: 'read' }] });
    assert.equal(r.status, 200, r.text);
    const a = await createClient(api, { client_name: 'caller', grants: [{ resource: B, scope: 'read' }] });
    const { access_token: aToken } = await grant(issuer.url, a.client.client_id, oidc.ClientSecretBasic(a.secret.client_secret), { resource: B });
    const exchange = async (by, subject, resource) => {
      const config = await discover(issuer.url, by.client.client_id, oidc.ClientSecretBasic(by.secret.client_secret));
      const answer = await oidc.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
        subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource,
      });
      return answer.access_token;
    };
    const forApi = await exchange(c, await exchange(b, aToken, C), API);
    const forwarded = await rawGet(`${gateway.url}/api/on-behalf`, {
      authorization: `Bearer ${forApi}`, 'x-auth-subject': 'admin', 'x-auth-actors': 'admin',
    });
    assert.equal(forwarded.status, 200, forwarded.body);
    const { headers } = JSON.parse(forwarded.body);
    assert.deepEqual(
      [headers['x-client-id'], headers['x-client-scopes'], headers['x-auth-subject'], headers['x-auth-actors']],
      [c.client.client_id, 'read', a.client.client_id, `${c.client.client_id} ${b.client.client_id}`],
    );
  });

  it('refuses a token for another audience: 401 invalid_token with the challenge', async () => {
    const r = await call('/api/orders', { authorization: `Bearer ${otherToken}` });
    assertInvalidToken(r, 'the token is not for this audience');
  });

  it('refuses a token without the route\'s scope: 403 insufficient_scope naming it', async () => {
    const before = upstream.seen.length;
    const r = await call('/api/admin/users', { authorization: `Bearer ${readToken}` });
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'insufficient_scope');
    assert.match(r.headers.get('www-authenticate'), /error="insufficient_scope", .*scope="admin"$/);
    assert.equal(upstream.seen.length, before, 'nothing reached the upstream');
  });

  it('answers no token with the bare challenge, and a malformed header with 400', async () => {
    const none = await call('/api/orders');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${REALM}"`);
    assert.equal(none.json.error_description, 'no bearer token was sent');
    const bad = await call('/api/orders', { authorization: 'Bearer two parts' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'invalid_request');
    assert.match(bad.headers.get('www-authenticate'), /^Bearer realm="edgeauth e2e", error="invalid_request"/);
    const forged = await call('/api/orders', { authorization: `Bearer ${readToken.slice(0, -4)}AAAA` });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error_description, "the token's signature is invalid");
  });

  it('passes a public route without a token, still dropping caller identity headers', async () => {
    const r = await call('/public/status', {
      'x-client-id': 'admin', 'x-auth-subject': 'admin', 'x-auth-actors': 'admin',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.url, '/public/status');
    for (const name of ['x-client-id', 'x-auth-subject', 'x-auth-actors']) {
      assert.equal(r.json.headers[name], undefined, name);
    }
  });

  it('sends a request body on with its method and content type, unchanged', async () => {
    const form = 'grant_type=x&note=%E2%9C%93+a%26b';
    const r = await call('/public/upload?x=1', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.method, 'POST');
    assert.equal(r.json.url, '/public/upload?x=1');
    assert.equal(r.json.body, form);
    assert.equal(r.json.headers['content-type'], 'application/x-www-form-urlencoded');
  });

  it('answers 502 bad_gateway in JSON when the upstream cannot be reached', async () => {
    const r = await call('/gone/item');
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(r.json, { error: 'bad_gateway', error_description: 'the upstream could not be reached' });
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  it('denies an unmatched path with 404 and a JSON body', async () => {
    const r = await call('/internal/metrics', { authorization: `Bearer ${readToken}` });
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { error: 'not_found', error_description: 'no route of this gateway serves this method and path' });
  });

  it('answers CORS preflights per route', async () => {
    const ok = await call('/api/orders', {
      origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization',
    }, 'OPTIONS');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    assert.equal(ok.headers.get('access-control-allow-methods'), 'GET, POST');
    assert.equal(ok.headers.get('access-control-allow-headers'), 'authorization');
    assert.equal(ok.headers.get('access-control-max-age'), '300');
    const refused = await call('/api/orders', {
      origin: 'https://evil.example.com', 'access-control-request-method': 'GET',
    }, 'OPTIONS');
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error, 'cors_refused');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    // The actual request from the allowed origin gets the origin back, with the upstream's answer.
    const get = await call('/api/orders', { origin: APP, authorization: `Bearer ${readToken}` });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('access-control-allow-origin'), APP);
    assert.equal(get.headers.get('x-upstream'), 'echo');
    // Origin is added to the upstream's Vary, not written over it.
    assert.equal(get.headers.get('vary'), 'Accept-Encoding, Origin');
  });

  it('says a literal * on a wildcard CORS route, and drops the upstream\'s credentials allowance', async () => {
    for (const origin of ['https://any.example.com', undefined]) {
      const r = await call('/open/x', origin ? { origin } : {});
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('access-control-allow-origin'), '*', origin);
      assert.equal(r.headers.get('access-control-allow-credentials'), null, origin);
      assert.equal(r.headers.get('vary'), 'Accept-Encoding', origin);
    }
    // Straight from the upstream, the allowance is there: the gateway is what drops it.
    const direct = await fetch(`${upstream.url}/open/x`);
    assert.equal(direct.headers.get('access-control-allow-credentials'), 'true');
  });

  it('drops hop-by-hop headers before the upstream', async () => {
    const r = await rawGet(`${gateway.url}/public/hop`, {
      te: 'trailers', 'proxy-authorization': 'Basic cHJveHk6cGFzcw==',
      'proxy-authenticate': 'Basic', 'x-kept': 'kept',
    });
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body).headers;
    for (const name of ['te', 'proxy-authorization', 'proxy-authenticate']) {
      assert.equal(seen[name], undefined, name);
    }
    assert.equal(seen['x-kept'], 'kept');
    // The upstream's Proxy-Authenticate is not the caller's business either.
    assert.equal(r.headers['proxy-authenticate'], undefined);
    assert.equal((await fetch(`${upstream.url}/x`)).headers.get('proxy-authenticate'), 'Basic realm="upstream proxy"');
  });
});

describe('paths and methods, as the runtime hands them to the gateway', () => {
  it('refuses a non-canonical path with 400 invalid_request before any route is chosen', async () => {
    const before = upstream.seen.length;
    for (const [path, description] of [
      ['/api/%61dmin/users', "the path percent-encodes a character it must not: a letter, digit, '-', '.', '_', '~' (write it as it is), a control character, '/', '\\' or ';'"],
      ['/api//admin/users', "the path holds an empty segment ('//')"],
      ['/api/admin;x/users', "the path holds a character it may not: a control character, a space, '\\' or ';'"],
    ]) {
      const r = await rawGet(`${gateway.url}${path}`, { authorization: `Bearer ${readToken}` });
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      assert.deepEqual(JSON.parse(r.body), { error: 'invalid_request', error_description: description }, path);
    }
    assert.equal(upstream.seen.length, before, 'nothing reached the upstream');
  });

  it('never lets a dot segment or backslash reach a weaker route than the path the upstream gets', async () => {
    // What arrives depends on the runtime: workerd resolves literal dot segments itself and
    // keeps `%2e` and `\` (which the gateway refuses); wrangler dev's proxy also resolves `%2e`
    // and turns `\` into `/`. Either way the gateway matches the path it forwards: here the
    // admin route (403 for a read token) or a refusal, never /public/ (a 200 from the upstream).
    const before = upstream.seen.length;
    for (const path of ['/public/../api/admin/users', '/public/%2e%2e/api/admin/users', '/public/.%2E/api/admin/users', '/public\\..\\api/admin/users']) {
      const r = await rawGet(`${gateway.url}${path}`, { authorization: `Bearer ${readToken}` });
      assert.ok([400, 403].includes(r.status), `${path}: ${r.status} ${r.body}`);
      const { error } = JSON.parse(r.body);
      assert.equal(error, r.status === 400 ? 'invalid_request' : 'insufficient_scope', path);
    }
    assert.equal(upstream.seen.length, before, 'nothing reached the upstream');
  });

  it('answers 405 with Allow for a method the longest route does not serve, never a shorter route', async () => {
    // /api/admin serves GET only; /api/ would serve POST, and the read token would pass it.
    for (const method of ['POST', 'HEAD']) {
      const r = await rawGet(`${gateway.url}/api/admin/users`, { authorization: `Bearer ${readToken}` }, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET', method);
      if (method === 'POST') {
        assert.deepEqual(JSON.parse(r.body), {
          error: 'method_not_allowed', error_description: 'the route for this path does not serve this method',
        });
      }
    }
  });
});

describe('token times, checked by the gateway', () => {
  it('passes a token signed here with the issuer\'s key, so the key and claims are right', async () => {
    const r = await call('/api/orders', { authorization: `Bearer ${await signLikeIssuer({ iat: 0, exp: 300 })}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.headers['x-client-id'], client.client_id);
  });

  it('refuses an expired token: 401 invalid_token with the exact challenge', async () => {
    // Expired 120 s ago: past the verifier's 60 s skew.
    const r = await call('/api/orders', { authorization: `Bearer ${await signLikeIssuer({ iat: -900, exp: -120 })}` });
    assertInvalidToken(r, 'the token has expired');
  });

  it('refuses a token not valid yet: 401 invalid_token with the exact challenge', async () => {
    const r = await call('/api/orders', {
      authorization: `Bearer ${await signLikeIssuer({ iat: 0, nbf: 600, exp: 900 })}`,
    });
    assertInvalidToken(r, 'the token is not valid yet');
  });
});

describe('a signing-key rotation, through the gateway', () => {
  it('verifies tokens of the old key and of the new one', async () => {
    const [old, next] = rotation.json.keys;
    assert.deepEqual([old.state, next.state], ['current', 'next']);
    const tokenA = readToken;
    assert.equal(decodeProtectedHeader(tokenA).kid, old.kid);
    // Wait for the switch: the issuer signs with the next key once its lead has passed.
    let tokenB = null;
    const deadline = Date.now() + 30_000;
    while (!tokenB) {
      const { access_token: t } = await grant(issuer.url, client.client_id, clientAuth, { scope: 'read', resource: API });
      if (decodeProtectedHeader(t).kid === next.kid) tokenB = t;
      else {
        assert.ok(Date.now() < deadline, `the issuer signs with ${next.kid} within 30 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const [t, kid] of [[tokenA, old.kid], [tokenB, next.kid]]) {
      const r = await call('/api/orders', { authorization: `Bearer ${t}` });
      assert.equal(r.status, 200, `token of ${kid}: ${r.text}`);
      assert.equal(r.json.headers['x-client-id'], client.client_id);
      assert.equal(r.json.headers['x-client-scopes'], 'read');
    }
  });
});

describe('a route that checks revocation with the issuer', () => {
  it('passes a live token, and refuses it within 12 s of its revocation', async () => {
    const { access_token: token } = await grant(issuer.url, client.client_id, clientAuth, { scope: 'read', resource: API });
    const live = await call('/live/orders', { authorization: `Bearer ${token}` });
    assert.equal(live.status, 200, live.text);
    assert.equal(live.json.headers['x-client-id'], client.client_id);
    // RFC 7009 revocation by the token's own client.
    const revoked = await fetch(`${issuer.url}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoked.status, 200, await revoked.text());
    const revokedAt = Date.now();
    // The issuer's bound (5 s) plus the gateway's remembered answer (5 s), and some slack.
    let r;
    for (;;) {
      r = await call('/live/orders', { authorization: `Bearer ${token}` });
      if (r.status !== 200) break;
      assert.ok(Date.now() - revokedAt < 12_000, 'the gateway still passes the token 12 s after its revocation');
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(Date.now() - revokedAt < 12_000, `refused after ${Date.now() - revokedAt} ms`);
    assertInvalidToken(r, 'the token was revoked');
    // A route without `revocation` verifies offline only: the same token still passes there.
    const offline = await call('/api/orders', { authorization: `Bearer ${token}` });
    assert.equal(offline.status, 200, offline.text);
  });

  it('keeps working after a stranger sends five wrong secrets for the gateway\'s client id', async () => {
    // The id is no secret (it is in the gateway's config, and in its assertions' iss): guesses
    // at a secret the key-based client does not have must lock nothing.
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${issuer.url}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: basic(introspector.client_id, `wrong-${i}`) },
        body: new URLSearchParams({ token: readToken }),
      });
      assert.equal(r.status, 401, await r.text());
    }
    // A token the gateway has not seen yet, so it must ask the issuer now.
    const { access_token: token } = await grant(issuer.url, client.client_id, clientAuth, { scope: 'read', resource: API });
    const r = await call('/live/orders', { authorization: `Bearer ${token}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.headers['x-client-id'], client.client_id);
  });
});

describe('scripts/gateway-jwk.mjs', () => {
  it('prints the seed\'s Ed25519 public key named by its thumbprint (RFC 8037 A.1, RFC 7638)', () => {
    assert.deepEqual(gatewayJwks('nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A'), {
      keys: [{
        kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
        kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k', alg: 'EdDSA', use: 'sig',
      }],
    });
  });
});
