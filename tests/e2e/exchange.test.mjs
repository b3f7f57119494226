// Token exchange (RFC 8693) end to end, a chain of three Workers-style parties against the
// built Worker: client A calls API B with its token; B trades it with openid-client's
// genericGrantRequest (openid-client has no dedicated token-exchange helper; the generic
// grant call is its RFC 8693 path) for a token to API C; C sees sub = A and act.sub = B with
// the narrowed scope. B and C are `fetch(Request) -> Response` handlers, as Workers are,
// served by node:http here. Also: B cannot exchange a token for an API it does not provide,
// a revoked subject token and a scope outside the subject's are refused. (An expired subject
// token is refused at host depth, tests/host/exchange.rs: the shortest token lifetime, 60 s,
// plus the 60 s skew would make this suite wait two minutes.)
import assert from 'node:assert/strict';
import http from 'node:http';
import * as oidc from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually } from '../support/http.mjs';
import { recipeBlock } from '../support/recipes.mjs';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient, discover, grantError, verifyAccessToken } from '../support/oauth.mjs';

const run = promisify(execFile);
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const API_B = 'https://orders.example';
const API_C = 'https://stock.example';

let w;
let api;
let issuer;
let jwks;
const servers = [];

/** Serves a Workers-style `fetch` handler on a local port; answers its URL. */
async function serve(fetchHandler) {
  const server = http.createServer(async (req, res) => {
    const request = new Request(`http://localhost${req.url}`, { method: req.method, headers: req.headers });
    const response = await fetchHandler(request).catch((e) => Response.json({ error: String(e) }, { status: 500 }));
    res.writeHead(response.status, { 'content-type': 'application/json' });
    res.end(await response.text());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

/** The bearer token of a request, verified for `audience`; null when it does not verify. */
async function caller(request, audience) {
  const token = request.headers.get('authorization')?.replace(/^Bearer /, '');
  if (!token) return null;
  return verifyAccessToken(jwks, issuer, token, audience).then(({ payload }) => ({ token, payload }), () => null);
}

/** API C: answers who called it, on whose behalf, with what scope. */
function apiC() {
  return async (request) => {
    const seen = await caller(request, API_C);
    if (!seen) return Response.json({ error: 'invalid_token' }, { status: 401 });
    const { sub, client_id, act, scope } = seen.payload;
    return Response.json({ sub, client_id, act, scope });
  };
}

/**
 * API B: checks its caller's token, then exchanges it for a token to C (the scope asked for
 * by the query's `scope`, `target` overriding C) and answers C's reply, or the exchange's
 * error as `{exchange_error}`.
 */
function apiB(config, cUrl) {
  return async (request) => {
    const seen = await caller(request, API_B);
    if (!seen) return Response.json({ error: 'invalid_token' }, { status: 401 });
    const query = new URL(request.url).searchParams;
    const params = { subject_token: seen.token, subject_token_type: ACCESS_TOKEN, resource: query.get('target') ?? API_C };
    if (query.get('scope')) params.scope = query.get('scope');
    const exchanged = oidc.genericGrantRequest(config, EXCHANGE, params);
    const failed = await exchanged.then(() => null, () => grantError(exchanged));
    if (failed) return Response.json({ exchange_error: failed }, { status: 502 });
    const answer = await exchanged;
    assert.equal(answer.issued_token_type, ACCESS_TOKEN);
    const r = await fetch(cUrl, { headers: { authorization: `Bearer ${answer.access_token}` } });
    return Response.json({ exchanged: { scope: answer.scope, expires_in: answer.expires_in }, c: await r.json() }, { status: r.status });
  };
}

let a;
let b;
let bUrl;

before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
  issuer = (await (await fetch(`${w.url}/.well-known/oauth-authorization-server`)).json()).issuer;
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
  // B and C are clients (they authenticate to exchange) and the providers of their APIs. C's
  // resource first; then B's resource and B's grant on C as docs/RECIPES.md sets them up.
  b = await createClient(api, { client_name: 'orders api' });
  const c = await createClient(api, { client_name: 'stock api' });
  const scopes = [{ value: 'read' }, { value: 'write' }];
  const r = await api('POST', '/admin/resources', { identifier: API_C, name: 'Stock', scopes, provider_client_id: c.client.client_id });
  assert.equal(r.status, 201, r.text);
  const setup = (await recipe(0, { B_ID: b.client.client_id })).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(setup[0].identifier, API_B);
  assert.equal(setup[0].provider_client_id, b.client.client_id);
  assert.deepEqual(setup[1].grants.map((g) => [g.resource, g.scope]), [[API_C, 'read write']]);
  a = await createClient(api, { client_name: 'caller', grants: [{ resource: API_B, scope: 'read write' }] });
  const bConfig = await discover(w.url, b.client.client_id, oidc.ClientSecretBasic(b.secret.client_secret));
  bUrl = await serve(apiB(bConfig, await serve(apiC())));
});
after(async () => {
  for (const s of servers) s.close();
  await w?.stop();
});

/** Runs the `nth` sh block of the exchange recipe in docs/RECIPES.md with `vars`; its output. */
async function recipe(nth, vars) {
  const script = recipeBlock('## On behalf of your caller: token exchange', 'sh', nth);
  const env = { PATH: process.env.PATH, ISSUER: w.url, ADMIN_TOKEN: w.adminToken, ...vars };
  const { stdout } = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env });
  // curl -s prints each answer without a newline.
  return stdout.replaceAll('}{', '}\n{');
}

/** A's token for B, with `scope`. */
async function tokenOfA(scope) {
  const config = await discover(w.url, a.client.client_id, oidc.ClientSecretBasic(a.secret.client_secret));
  return (await oidc.clientCredentialsGrant(config, { scope, resource: API_B })).access_token;
}

/** A calls B (path and query `q`) with `token`. */
async function callB(token, q = '') {
  const r = await fetch(`${bUrl}/${q}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.json() };
}

describe('token exchange through a chain A -> B -> C (openid-client genericGrantRequest)', () => {
  it('the exchange of docs/RECIPES.md, run as written, answers a token for C with the asked scope', async () => {
    const out = JSON.parse(await recipe(1, { B_ID: b.client.client_id, B_SECRET: b.secret.client_secret, CALLER_TOKEN: await tokenOfA('read write') }));
    assert.deepEqual(Object.keys(out).sort(), ['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type']);
    assert.equal(out.issued_token_type, ACCESS_TOKEN);
    assert.equal(out.scope, 'read');
    const { payload } = await verifyAccessToken(jwks, issuer, out.access_token, API_C);
    assert.deepEqual([payload.sub, payload.client_id, payload.act], [a.client.client_id, b.client.client_id, { sub: b.client.client_id }]);
  });

  it('C sees A as the subject and B as the actor, with the narrowed scope', async () => {
    const r = await callB(await tokenOfA('read write'), '?scope=read');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.exchanged.scope, 'read');
    assert.deepEqual(r.body.c, { sub: a.client.client_id, client_id: b.client.client_id, act: { sub: b.client.client_id }, scope: 'read' });
    // Without a scope: what A's token and B's grant have in common.
    const narrow = await callB(await tokenOfA('write'));
    assert.equal(narrow.body.c.scope, 'write');
  });

  it('introspection of the exchanged token reports act', async () => {
    const bConfig = await discover(w.url, b.client.client_id, oidc.ClientSecretBasic(b.secret.client_secret));
    const exchanged = await oidc.genericGrantRequest(bConfig, EXCHANGE, { subject_token: await tokenOfA('read'), subject_token_type: ACCESS_TOKEN, resource: API_C });
    const seen = await oidc.tokenIntrospection(bConfig, exchanged.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen.sub, a.client.client_id);
    assert.deepEqual(seen.act, { sub: b.client.client_id });
  });

  it('a scope outside the subject token is refused', async () => {
    const r = await callB(await tokenOfA('read'), '?scope=write');
    assert.deepEqual(r.body.exchange_error, {
      status: 400, error: 'invalid_scope',
      description: "scope 'write' is not within the subject token's scope and this client's grant for the target",
    });
  });

  it('B cannot exchange a token meant for an API it does not provide', async () => {
    // A's token for C (A gets a grant on C): B is not C's provider.
    const r = await api('PATCH', `/admin/clients/${a.client.client_id}`, { grants: [{ resource: API_B, scope: 'read write' }, { resource: API_C, scope: 'read' }] });
    assert.equal(r.status, 200, r.text);
    const config = await discover(w.url, a.client.client_id, oidc.ClientSecretBasic(a.secret.client_secret));
    const forC = (await oidc.clientCredentialsGrant(config, { resource: API_C })).access_token;
    const bConfig = await discover(w.url, b.client.client_id, oidc.ClientSecretBasic(b.secret.client_secret));
    const error = await grantError(oidc.genericGrantRequest(bConfig, EXCHANGE, { subject_token: forC, subject_token_type: ACCESS_TOKEN, resource: API_C }));
    assert.deepEqual(error, {
      status: 400, error: 'invalid_request',
      description: "subject_token is for an audience this client does not provide (the resource's provider_client_id)",
    });
  });

  it('a revoked subject token is refused', async () => {
    const token = await tokenOfA('read');
    const r = await api('POST', '/admin/tokens/revoke', { token });
    assert.equal(r.status, 200, r.text);
    // A revocation bites in the isolate that made it at once and everywhere within 5 s.
    const answer = await eventually(async () => {
      const r = await callB(token);
      assert.ok(r.body.exchange_error, JSON.stringify(r.body));
      return r;
    }, { timeoutMs: 8_000 });
    assert.deepEqual(answer.body.exchange_error, { status: 400, error: 'invalid_request', description: 'subject_token has been revoked' });
  });
});
