// Signing-key rotation under wrangler dev, checked with jose the way an API verifies tokens:
// the next key is in the JWKS at once, tokens keep the old kid until the switch, tokens from
// both keys verify through the JWKS, and the Cron Trigger's handler rotates on a period; a
// revoked signing key leaves the JWKS and introspection, and a new kid signs.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, decodeJwt, jwtVerify } from 'jose';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient, discover } from '../support/oauth.mjs';
import { eventually } from '../support/http.mjs';

const LEAD = 3;
let w;
let api;
before(async () => {
  w = await startWorker({ vars: { KEY_PUBLISH_LEAD: String(LEAD) } });
  api = admin(w.url, w.adminToken);
});
after(async () => { await w?.stop(); });

async function jwksKids(url = w.url) {
  const r = await fetch(`${url}/.well-known/jwks.json`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
  return (await r.json()).keys.map((k) => k.kid);
}

/** Verifies like an API would: a fresh remote JWKS (no cache carried between checks). */
async function verifyWithJose(token, url = w.url) {
  const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: url, typ: 'at+jwt', algorithms: ['EdDSA'],
  });
  return { payload, protectedHeader };
}

describe('signing-key rotation', () => {
  it('publishes the next key first, switches after the lead, and tokens of both keys verify', async () => {
    const { client, secret } = await createClient(api, { client_name: 'rot' });
    const config = await discover(w.url, client.client_id, oidc.ClientSecretBasic(secret.client_secret));
    const token = async () => (await oidc.clientCredentialsGrant(config)).access_token;

    const before = await token();
    const oldKid = decodeProtectedHeader(before).kid;
    assert.deepEqual(await jwksKids(), [oldKid]);

    const rotated = await api('POST', '/admin/keys/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    const [current, next] = rotated.json.keys;
    assert.deepEqual([current.kid, current.state, next.state], [oldKid, 'current', 'next']);
    assert.equal(next.signs_from - next.published_at, LEAD);
    assert.deepEqual(await jwksKids(), [oldKid, next.kid]);

    const again = await api('POST', '/admin/keys/rotate');
    assert.equal(again.status, 409, again.text);
    assert.match(again.json.error_description, /^a rotation is under way: the next key signs from /);

    // Every token is signed by the key whose time it is: the old one before signs_from.
    let after = null;
    const deadline = Date.now() + 30_000;
    while (!after) {
      const t = await token();
      const { iat } = decodeJwt(t);
      const kid = decodeProtectedHeader(t).kid;
      assert.equal(kid, iat < next.signs_from ? oldKid : next.kid, `iat ${iat}`);
      if (kid === next.kid) after = t;
      else {
        assert.ok(Date.now() < deadline, 'the switch came');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.deepEqual(await jwksKids(), [next.kid, oldKid]);

    for (const [t, kid] of [[before, oldKid], [after, next.kid]]) {
      const { payload, protectedHeader } = await verifyWithJose(t);
      assert.equal(protectedHeader.kid, kid);
      assert.equal(payload.client_id, client.client_id);
      assert.equal((await oidc.tokenIntrospection(config, t)).active, true);
    }

    const keys = await api('GET', '/admin/keys');
    assert.deepEqual(keys.json.keys.map((k) => [k.kid, k.state]), [[oldKid, 'previous'], [next.kid, 'current']]);
    assert.equal(keys.json.keys[0].retires_at, next.signs_from + 86_400 + 60 + 600);
    const audit = await api('GET', '/admin/audit?limit=5');
    const event = audit.json.events.find((e) => e.action === 'keys.rotated');
    assert.ok(event, JSON.stringify(audit.json));
    assert.match(event.detail, new RegExp(`^published key ${next.kid} \\(index 1\\)`));
  });
});

describe('the Cron Trigger', () => {
  let cron;
  before(async () => {
    cron = await startWorker({ vars: { KEY_ROTATION_DAYS: '1', KEY_PUBLISH_LEAD: '600' } });
  });
  after(async () => { await cron?.stop(); });

  it('rotates when the period has passed, as the system', async () => {
    const capi = admin(cron.url, cron.adminToken);
    assert.equal((await capi('GET', '/admin/keys')).json.keys.length, 1);
    const r = await fetch(`${cron.url}/__scheduled?cron=*/10+*+*+*+*`);
    assert.equal(r.status, 200, await r.text());
    const keys = await capi('GET', '/admin/keys');
    assert.deepEqual(keys.json.keys.map((k) => k.state), ['current', 'next']);
    assert.equal(keys.json.rotation_period_days, 1);
    const audit = await capi('GET', '/admin/audit');
    assert.equal(audit.json.events[0].action, 'keys.rotated');
    assert.equal(audit.json.events[0].actor, 'system');
    assert.match(audit.json.events[0].detail, /\(periodic rotation\)$/);
    // Nothing more is due: a second run changes nothing.
    await fetch(`${cron.url}/__scheduled?cron=*/10+*+*+*+*`);
    assert.equal((await capi('GET', '/admin/keys')).json.keys.length, 2);
  });
});

describe('signing-key revocation', () => {
  let rw;
  let rapi;
  before(async () => {
    rw = await startWorker();
    rapi = admin(rw.url, rw.adminToken);
  });
  after(async () => { await rw?.stop(); });

  it('revoking the signing key: out of the JWKS, its tokens inactive, new tokens carry a new kid that jose verifies', async () => {
    const { client, secret } = await createClient(rapi, { client_name: 'rev' });
    const config = await discover(rw.url, client.client_id, oidc.ClientSecretBasic(secret.client_secret));
    const token = async () => (await oidc.clientCredentialsGrant(config)).access_token;
    const minted = await token();
    const oldKid = decodeProtectedHeader(minted).kid;
    assert.deepEqual(await jwksKids(rw.url), [oldKid]);
    assert.equal((await oidc.tokenIntrospection(config, minted)).active, true);

    const r = await rapi('POST', `/admin/keys/${oldKid}/revoke`);
    assert.equal(r.status, 200, r.text);
    const [revoked, fresh] = r.json.keys;
    assert.deepEqual([revoked.kid, revoked.state, fresh.state], [oldKid, 'revoked', 'current']);
    assert.notEqual(fresh.kid, oldKid);
    assert.equal(fresh.signs_from, revoked.revoked_at, 'the fresh key signs from the revocation on');

    // Bites at once in the isolate that served it; elsewhere within the key cache (5 s).
    await eventually(async () => assert.deepEqual(await jwksKids(rw.url), [fresh.kid]));
    await eventually(async () => assert.equal((await oidc.tokenIntrospection(config, minted)).active, false));
    await assert.rejects(verifyWithJose(minted, rw.url), { code: 'ERR_JWKS_NO_MATCHING_KEY' });

    const after = await token();
    assert.equal(decodeProtectedHeader(after).kid, fresh.kid);
    const { payload, protectedHeader } = await verifyWithJose(after, rw.url);
    assert.equal(protectedHeader.kid, fresh.kid);
    assert.equal(payload.client_id, client.client_id);
    assert.equal((await oidc.tokenIntrospection(config, after)).active, true);

    // Idempotent: the same list, no second event; an unknown kid is 404.
    const again = await rapi('POST', `/admin/keys/${oldKid}/revoke`);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json.keys, r.json.keys);
    const audit = await rapi('GET', '/admin/audit?limit=20');
    const events = audit.json.events.filter((e) => e.action === 'keys.revoked');
    assert.deepEqual(events.map((e) => [e.actor, e.detail]), [['admin', `revoked key ${oldKid} (index 0)`]]);
    const unknown = await rapi('POST', `/admin/keys/${'A'.repeat(43)}/revoke`);
    assert.deepEqual([unknown.status, unknown.json], [404, { error: 'not_found', error_description: 'no such signing key' }]);
  });
});
