// Per-client token quotas against the built Worker: counted in the isolate, settled with the
// client's Durable Object in the background, 429 with Retry-After when enforced, one audit
// event per window when monitored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, startWorker } from '../support/worker.mjs';
import { createClient } from '../support/oauth.mjs';
import { assertError, basic, eventually, nowSec, sleep, tokenRequest } from '../support/http.mjs';

let w;
let api;
const GT = { grant_type: 'client_credentials' };
const token = (id, secret) => tokenRequest(w.url, GT, { authorization: basic(id, secret) });
const rfc3339 = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

async function quotaClient(token_quota) {
  const { client, secret } = await createClient(api, { client_name: 'quota', token_quota });
  assert.deepEqual(client.token_quota, { enforce: true, ...token_quota });
  return { id: client.client_id, secret: secret.client_secret };
}

// Hourly windows: start a test's tokens well inside one hour, so they all fall in it.
async function awayFromTheHourEnd(margin = 20) {
  const left = 3600 - (nowSec() % 3600);
  if (left < margin) await sleep((left + 1) * 1000);
}

const quotaEvents = async (id) => (await api('GET', `/admin/clients/${id}/audit`)).json.events
  .filter((e) => e.action === 'client.quota_exceeded');

before(async () => {
  w = await startWorker();
  api = admin(w.url, w.adminToken);
});

after(async () => {
  await w?.stop();
});

describe('token quotas', () => {
  it('per_hour 3 enforced: three tokens, then 429 with the quota named and Retry-After to the hour end', async () => {
    await awayFromTheHourEnd();
    const { id, secret } = await quotaClient({ per_hour: 3, enforce: true });
    for (let i = 0; i < 3; i++) {
      const r = await token(id, secret);
      assert.equal(r.status, 200, r.text);
    }
    const refused = await token(id, secret);
    const now = nowSec();
    const hourEnd = (Math.floor(now / 3600) + 1) * 3600;
    assertError(refused, 429, 'too_many_requests');
    assert.equal(refused.json.error_description,
      `the client has used its quota of 3 tokens per hour; more from ${rfc3339(hourEnd)}`);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && Math.abs(retryAfter - (hourEnd - now)) <= 1,
      `Retry-After ${refused.headers.get('retry-after')} vs ${hourEnd - now} s to the hour end`);
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    // Refusals count nothing, and the guard holds the three: the admin read shows them.
    assert.equal((await token(id, secret)).status, 429);
    await eventually(async () => {
      const view = await api('GET', `/admin/clients/${id}`);
      assert.deepEqual(view.json.token_quota_use, { per_hour: 3, per_day: 3 });
    });
    // Lifting the quota bites at once in the isolate that served the change.
    const lifted = await api('PATCH', `/admin/clients/${id}`, { token_quota: null });
    assert.equal(lifted.status, 200, lifted.text);
    assert.equal(lifted.json.token_quota, undefined);
    assert.equal((await token(id, secret)).status, 200);
  });

  it('monitor mode issues every token and audits the hour once', async () => {
    await awayFromTheHourEnd(30);
    const { id, secret } = await quotaClient({ per_hour: 2, enforce: false });
    for (let i = 0; i < 5; i++) {
      const r = await token(id, secret);
      assert.equal(r.status, 200, r.text);
    }
    const [event] = await eventually(async () => {
      const events = await quotaEvents(id);
      assert.equal(events.length, 1);
      return events;
    });
    assert.equal(event.actor, 'system');
    const [, n] = event.detail.match(/^(\d+) tokens this hour, over its quota of 2 per hour \(monitored, not enforced\)$/) ?? [];
    assert.ok(Number(n) >= 3, event.detail);
    // More tokens in the same hour: every one reported (the guard counts 8), still one event.
    for (let i = 0; i < 3; i++) assert.equal((await token(id, secret)).status, 200);
    await eventually(async () => {
      const view = await api('GET', `/admin/clients/${id}`);
      assert.equal(view.json.token_quota_use.per_hour, 8);
    });
    assert.equal((await quotaEvents(id)).length, 1);
  });

  it('refuses a malformed quota with a clear 422', async () => {
    const r = await api('POST', '/admin/clients', { client_name: 'q', token_quota: { per_hour: 0 } });
    assertError(r, 422, 'invalid_client_metadata');
    assert.equal(r.json.error_description, 'token_quota.per_hour must be a whole number from 1 to 10000000');
    const none = await api('POST', '/admin/clients', { client_name: 'q', token_quota: { enforce: false } });
    assert.equal(none.json.error_description, 'token_quota needs per_hour, per_day or both');
  });
});
