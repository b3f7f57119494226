// Token introspection (RFC 7662) driven by openid-client's tokenIntrospection, discovered from
// the metadata: own tokens, other clients' tokens, a disabled client, garbage.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { clientWithToken } from '../support/oauth.mjs';

let w;
let api;
before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
});
after(async () => { await w?.stop(); });

function client(body = {}) {
  return clientWithToken(api, w.url, { client_name: 'i', ...body });
}

describe('introspection with openid-client', () => {
  it('the metadata names the endpoint, and a client sees its own token active', async () => {
    const a = await client();
    assert.equal(a.config.serverMetadata().introspection_endpoint, `${w.url}/oauth/introspect`);
    const r = await oidc.tokenIntrospection(a.config, a.token);
    assert.equal(r.active, true);
    assert.equal(r.client_id, a.id);
    assert.equal(r.sub, a.id);
    assert.equal(r.scope, 'read');
    assert.equal(r.token_type, 'Bearer');
    assert.ok(r.exp > r.iat && typeof r.jti === 'string');
  });

  it("another client's token, garbage and a disabled client's token are just inactive", async () => {
    const a = await client();
    const b = await client();
    assert.deepEqual(await oidc.tokenIntrospection(b.config, a.token), { active: false });
    assert.deepEqual(await oidc.tokenIntrospection(b.config, 'not-a-token'), { active: false });
    const allowed = await client({ introspection_allowed: true });
    assert.equal((await oidc.tokenIntrospection(allowed.config, a.token)).active, true);
    const off = await api('PATCH', `/admin/clients/${a.id}`, { enabled: false });
    assert.equal(off.status, 200, off.text);
    assert.deepEqual(await oidc.tokenIntrospection(allowed.config, a.token), { active: false });
  });

  it('an operator introspects any token at /admin/tokens/introspect; the admin bearer is no OAuth credential', async () => {
    const a = await client();
    const allowed = await client({ introspection_allowed: true });
    const r = await api('POST', '/admin/tokens/introspect', { token: a.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual([r.json.active, r.json.client_id, r.json.scope], [true, a.id, 'read']);
    assert.deepEqual(r.json, await oidc.tokenIntrospection(allowed.config, a.token), 'what an allowed client sees');
    const ask = (authorization) => fetch(`${w.url}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: a.token }),
    });
    for (const bearer of [w.adminToken, 'not-the-admin-token-at-all']) {
      const refused = await ask(`Bearer ${bearer}`);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="edgeauth"');
      assert.deepEqual(await refused.json(), { error: 'invalid_client', error_description: 'client authentication failed' });
    }
  });

  it("an admin's revoke-tokens deactivates every token the client holds, not later ones", async () => {
    const a = await client();
    const revoked = await api('POST', `/admin/clients/${a.id}/revoke-tokens`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(typeof revoked.json.tokens_valid_after, 'number');
    assert.deepEqual(await oidc.tokenIntrospection(a.config, a.token), { active: false });
    // A token issued after the mark's second is active.
    while (Math.floor(Date.now() / 1000) <= revoked.json.tokens_valid_after) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const { access_token: later } = await oidc.clientCredentialsGrant(a.config, { scope: 'read' });
    assert.equal((await oidc.tokenIntrospection(a.config, later)).active, true);
  });
});
