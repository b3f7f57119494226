// Token revocation (RFC 7009) driven by openid-client's tokenRevocation, discovered from the
// metadata: a client revokes its own token and introspection says inactive within the
// documented bound; another client's token is refused; garbage is a quiet 200; an admin
// revokes by value and by jti.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { clientWithToken, grantError } from '../support/oauth.mjs';

let w;
let api;
before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
});
after(async () => { await w?.stop(); });

function client(body = {}) {
  return clientWithToken(api, w.url, { client_name: 'r', ...body });
}

// The README's bound: a revocation bites everywhere within 5 s (the guard cache). Poll for it
// with a margin for a slow machine, never sleep a fixed time.
const BOUND_MS = 5_000;
async function inactiveWithin(config, token) {
  const start = Date.now();
  for (;;) {
    const r = await oidc.tokenIntrospection(config, token);
    if (!r.active) {
      assert.deepEqual(r, { active: false });
      return Date.now() - start;
    }
    assert.ok(Date.now() - start < BOUND_MS + 2_000, 'still active past the bound');
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('revocation with openid-client', () => {
  it('the metadata names the endpoint with the token endpoint auth methods', async () => {
    const a = await client();
    const meta = a.config.serverMetadata();
    assert.equal(meta.revocation_endpoint, `${w.url}/oauth/revoke`);
    assert.deepEqual(meta.revocation_endpoint_auth_methods_supported, meta.token_endpoint_auth_methods_supported);
  });

  it('a client revokes its own token through the library; introspection turns inactive within the bound', async () => {
    const a = await client();
    const { access_token: kept } = await oidc.clientCredentialsGrant(a.config, { scope: 'read' });
    assert.equal((await oidc.tokenIntrospection(a.config, a.token)).active, true);
    assert.equal(await oidc.tokenRevocation(a.config, a.token, { token_type_hint: 'access_token' }), undefined);
    const took = await inactiveWithin(a.config, a.token);
    assert.ok(took <= BOUND_MS + 2_000, `${took} ms`);
    assert.equal((await oidc.tokenIntrospection(a.config, kept)).active, true, 'only that token');
    const events = await api('GET', `/admin/clients/${a.id}/audit`);
    const ev = events.json.events.find((e) => e.action === 'client.tokens_self_revoked');
    assert.equal(ev.actor, 'client');
    assert.match(ev.detail, /^1 token\(s\) revoked by the client in the hour from \S+Z \(count as of \S+Z\)$/);
    assert.ok(!JSON.stringify(ev).includes(a.token), 'the trail never holds the token');
  });

  it('a client revokes at most 60 of its own tokens a minute; beyond, 429 with Retry-After', async () => {
    const a = await client();
    const tokens = [a.token];
    for (let i = 0; i < 60; i++) tokens.push((await oidc.clientCredentialsGrant(a.config, { scope: 'read' })).access_token);
    // The limit counts per UTC minute: start early in one, so all 61 calls fall within it.
    while (Date.now() % 60_000 > 40_000) await new Promise((res) => setTimeout(res, 200));
    for (const t of tokens.slice(0, 60)) assert.equal(await oidc.tokenRevocation(a.config, t), undefined);
    const over = await fetch(`${w.url}/oauth/revoke`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${a.id}:${a.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: tokens[60] }),
    });
    assert.equal(over.status, 429);
    const wait = Number(over.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.deepEqual(await over.json(), {
      error: 'too_many_requests',
      error_description: `a client may revoke at most 60 of its own tokens a minute; retry in ${wait} s`,
    });
    assert.equal((await oidc.tokenIntrospection(a.config, tokens[60])).active, true, 'not revoked');
    const events = await api('GET', `/admin/clients/${a.id}/audit`);
    const own = events.json.events.filter((e) => e.action === 'client.tokens_self_revoked' || e.action === 'client.token_revoked');
    assert.equal(own.length, 1, 'one event for the hour');
  });

  it("another client's token is refused and stays active; garbage answers 200", async () => {
    const a = await client();
    const b = await client();
    const refused = await grantError(oidc.tokenRevocation(b.config, a.token));
    assert.deepEqual(refused, {
      status: 400, error: 'unauthorized_client', description: 'the token was not issued to this client',
    });
    assert.equal((await oidc.tokenIntrospection(a.config, a.token)).active, true);
    assert.equal(await oidc.tokenRevocation(b.config, 'not-a-token'), undefined);
    const held = await api('GET', `/admin/clients/${b.id}/revoked-tokens`);
    assert.deepEqual(held.json.revoked_tokens, []);
  });

  it('an admin revokes one token by value and another by jti', async () => {
    const a = await client();
    const byValue = await api('POST', '/admin/tokens/revoke', { token: a.token });
    assert.equal(byValue.status, 200, byValue.text);
    assert.equal(byValue.json.client_id, a.id);
    await inactiveWithin(a.config, a.token);
    const { access_token: second } = await oidc.clientCredentialsGrant(a.config, { scope: 'read' });
    const { jti } = await oidc.tokenIntrospection(a.config, second);
    const byJti = await api('POST', `/admin/clients/${a.id}/revoked-tokens`, { jti });
    assert.equal(byJti.status, 200, byJti.text);
    assert.equal(byJti.json.jti, jti);
    await inactiveWithin(a.config, second);
    const bad = await api('POST', '/admin/tokens/revoke', { token: 'garbage' });
    assert.equal(bad.status, 422, bad.text);
  });
});
