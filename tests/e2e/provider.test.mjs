// Resources that know their provider and per-client token claims, against the built Worker:
// the admin API (every answer checked against the OpenAPI document by the admin helper),
// tokens from openid-client verified with jose, and introspection with openid-client.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { clientWithToken, createClient, verifyAccessToken } from '../support/oauth.mjs';

let w;
let api;
let jwks;
before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
  jwks = createRemoteJWKSet(new URL(`${w.url}/.well-known/jwks.json`));
});
after(async () => { await w?.stop(); });

const CLAIMS = { tenant: 'acme', tier: 3, beta: true, regions: ['eu', 'us'] };

describe('a resource names the client that provides it', () => {
  it('is set on create, changed and cleared by PATCH, and refused for an unknown client', async () => {
    const { client: provider } = await createClient(api, { client_name: 'orders api' });
    const r = await api('POST', '/admin/resources', { identifier: 'urn:e2e:orders', name: 'Orders', provider_client_id: provider.client_id });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.provider_client_id, provider.client_id);
    const path = `/admin/resources/${r.json.resource_id}`;
    const read = await api('GET', path);
    assert.equal(read.json.provider_client_id, provider.client_id);
    const unknown = await api('PATCH', path, { provider_client_id: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    assert.deepEqual([unknown.status, unknown.json], [422, {
      error: 'invalid_client_metadata',
      error_description: 'provider_client_id must be the client_id of a registered client',
    }]);
    const cleared = await api('PATCH', path, { provider_client_id: null });
    assert.deepEqual([cleared.status, cleared.json.provider_client_id], [200, null]);
  });

  it('keeps its provider from being deleted until the resource lets go', async () => {
    const { client: provider } = await createClient(api, { client_name: 'stock api' });
    const r = await api('POST', '/admin/resources', { identifier: 'urn:e2e:stock', name: 'Stock', provider_client_id: provider.client_id });
    assert.equal(r.status, 201, r.text);
    const refused = await api('DELETE', `/admin/clients/${provider.client_id}`);
    assert.deepEqual([refused.status, refused.json], [409, {
      error: 'conflict',
      error_description: 'the client provides 1 resource; clear their provider_client_id first',
    }]);
    assert.equal((await api('PATCH', `/admin/resources/${r.json.resource_id}`, { provider_client_id: null })).status, 200);
    assert.equal((await api('DELETE', `/admin/clients/${provider.client_id}`)).status, 204);
  });
});

describe('token claims', () => {
  it('every token of the client carries them, verified with jose, and introspection returns them', async () => {
    const a = await clientWithToken(api, w.url, { token_claims: CLAIMS, introspection_allowed: true });
    const { payload } = await verifyAccessToken(jwks, w.url, a.token, w.url);
    assert.deepEqual(
      [payload.tenant, payload.tier, payload.beta, payload.regions, payload.sub, payload.client_id, payload.scope],
      [...Object.values(CLAIMS), a.id, a.id, 'read'],
    );
    const seen = await oidc.tokenIntrospection(a.config, a.token);
    assert.deepEqual(seen, {
      active: true, client_id: a.id, sub: a.id, scope: 'read', aud: w.url, iss: w.url,
      exp: payload.exp, iat: payload.iat, jti: payload.jti, token_type: 'Bearer', ...CLAIMS,
    });
    const byAdmin = await api('POST', '/admin/tokens/introspect', { token: a.token });
    assert.deepEqual(byAdmin.json, seen);
  });

  it('a reserved name is refused, naming it', async () => {
    const r = await api('POST', '/admin/clients', { client_name: 'x', token_claims: { tenant: 'a', client_id: 'someone' } });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error_description,
      "token_claims must not set 'client_id': edgeauth owns iss, sub, aud, exp, iat, nbf, jti, scope, client_id, act, cnf, typ, active, token_type");
  });
});
