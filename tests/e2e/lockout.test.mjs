// Lockout over real HTTP, counted by the client's Durable Object.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient as newClient } from '../support/oauth.mjs';
import { assertError, basic, eventually, tokenRequest } from '../support/http.mjs';

let w;
let api;
const GT = { grant_type: 'client_credentials' };
const LOCKED = /^the client is locked after too many failed authentications until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ); an admin can unlock it$/;

async function createClient(body = {}) {
  const { client, secret } = await newClient(api, { client_name: 'lock', ...body });
  return { id: client.client_id, secret: secret.client_secret };
}

const token = (id, secret) => tokenRequest(w.url, GT, { authorization: basic(id, secret) });

before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
});

after(async () => {
  await w?.stop();
});

describe('lockout', () => {
  it('five bad secrets lock the client; the good one is refused until an admin unlocks', async () => {
    const { id, secret } = await createClient();
    for (let i = 0; i < 4; i++) {
      const r = await token(id, 'wrong');
      assertError(r, 401, 'invalid_client');
      assert.equal(r.json.error_description, 'client authentication failed');
    }
    const fifth = await token(id, 'wrong');
    assertError(fifth, 401, 'invalid_client');
    const [, until] = fifth.json.error_description.match(LOCKED) ?? [];
    assert.ok(until, fifth.json.error_description);
    const lockedEpoch = Date.parse(until) / 1000;
    assert.ok(Math.abs(lockedEpoch - (Date.now() / 1000 + 3600)) < 30, 'locked for 60 minutes');
    const good = await token(id, secret);
    assertError(good, 401, 'invalid_client');
    assert.match(good.json.error_description, LOCKED);
    const view = await api('GET', `/admin/clients/${id}`);
    assert.equal(view.json.locked_until, lockedEpoch);
    assert.equal(view.json.failed_attempts, 5);
    const unlocked = await api('POST', `/admin/clients/${id}/unlock`);
    assert.equal(unlocked.status, 200, unlocked.text);
    assert.equal(unlocked.json.locked_until, null);
    assert.equal(unlocked.json.failed_attempts, 0);
    const ok = await token(id, secret);
    assert.equal(ok.status, 200, ok.text);
    const audit = await api('GET', `/admin/clients/${id}/audit`);
    const actions = audit.json.events.map((e) => e.action);
    assert.deepEqual(actions.slice(0, 2), ['client.unlocked', 'client.locked']);
  });

  it('50 concurrent bad attempts are counted exactly', async () => {
    const { id, secret } = await createClient({ lockout_enabled: false });
    const results = await Promise.all(Array.from({ length: 50 }, () => token(id, 'wrong')));
    for (const r of results) assertError(r, 401, 'invalid_client');
    const view = await api('GET', `/admin/clients/${id}`);
    assert.equal(view.json.failed_attempts, 50);
    assert.equal(view.json.locked_until, null, 'lockout_enabled: false never locks');
    assert.equal((await token(id, secret)).status, 200);
    assert.equal((await api('GET', `/admin/clients/${id}`)).json.failed_attempts, 0, 'a success resets the count');
  });

  it('50 concurrent bad attempts on a locking client lock it once, at the fifth', async () => {
    const { id } = await createClient();
    await Promise.all(Array.from({ length: 50 }, () => token(id, 'wrong')));
    const view = await api('GET', `/admin/clients/${id}`);
    assert.equal(view.json.failed_attempts, 50);
    assert.equal(typeof view.json.locked_until, 'number');
    const audit = await api('GET', `/admin/clients/${id}/audit`);
    assert.equal(audit.json.events.filter((e) => e.action === 'client.locked').length, 1);
  });

  it('a disable bites at once and a re-enable restores access', async () => {
    const { id, secret } = await createClient();
    assert.equal((await token(id, secret)).status, 200);
    await api('PATCH', `/admin/clients/${id}`, { enabled: false });
    const r = await token(id, secret);
    assertError(r, 401, 'invalid_client');
    assert.equal(r.json.error_description, 'the client is disabled');
    await api('PATCH', `/admin/clients/${id}`, { enabled: true });
    await eventually(async () => assert.equal((await token(id, secret)).status, 200));
  });

  it('unknown client ids are refused without creating state', async () => {
    const r = await token(crypto.randomUUID(), 'x');
    assertError(r, 401, 'invalid_client');
    assert.equal(r.json.error_description, 'client authentication failed');
  });
});
