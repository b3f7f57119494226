// The client's guard (a SQLite-backed Durable Object) sweeps what expired with an alarm and
// drops its storage when nothing is left; on SQLite that drops the tables too. Under plain
// workerd, where the object's SQLite file can be read, this test waits for the sweep to have
// happened (the jti row gone), then uses the same object again, which must still work.
// It failed before two fixes: the alarm was set ~56 years ahead (workers-rs reads a bare
// number as an offset, not a time), so nothing was ever swept; and with the alarm right,
// the swept object had no tables.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { after, before, it } from 'node:test';
import { admin } from '../support/worker.mjs';
import { startWorkerd } from '../support/workerd.mjs';
import { nowSec, sleep, tokenRequest } from '../support/http.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let w;
before(async () => { w = await startWorkerd(); });
after(async () => { await w?.stop(); });

/** Rows in the jti tables of every guard object's SQLite file (read-only, beside workerd). */
function heldJtis() {
  const dir = join(w.stateDir, 'do');
  const files = readdirSync(dir, { recursive: true }).map(String)
    .filter((f) => /[0-9a-f]{64}\.sqlite$/.test(f)).map((f) => join(dir, f));
  const count = `
import sqlite3, sys
total = 0
for f in sys.argv[1:]:
    db = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
    if db.execute("select count(*) from sqlite_master where name = 'jti'").fetchone()[0]:
        total += db.execute("select count(*) from jti").fetchone()[0]
    db.close()
print(total)`;
  return Number(execFileSync('python3', ['-c', count, ...files]).toString().trim());
}

it('the guard sweeps expired jtis with its alarm and works after dropping its storage', { timeout: 120_000 }, async () => {
  const api = admin(w.url, w.adminToken);
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const created = await api('POST', '/admin/clients', {
    client_name: 'sweep', token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.client.client_id;
  const token = async (exp) => tokenRequest(w.url, {
    grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE,
    client_assertion: await new SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'EdDSA', kid: 'k' })
      .setIssuer(id).setSubject(id).setAudience(`${w.url}/oauth/token`).setExpirationTime(exp).sign(privateKey),
  });
  // The jti is held until exp + 30 s; the alarm fires just after, removes it, finds nothing
  // left and drops the object's storage.
  const exp = nowSec() + 1;
  assert.equal((await token(exp)).status, 200);
  assert.equal(heldJtis(), 1);
  const deadline = exp + 75;
  while (heldJtis() > 0) {
    assert.ok(nowSec() < deadline, 'the alarm swept the expired jti');
    // Reads the guard state, so the same instance stays in use across the sweep.
    const view = await api('GET', `/admin/clients/${id}`);
    assert.equal(view.status, 200, view.text);
    await sleep(1000);
  }
  assert.ok(nowSec() >= exp + 30, 'not swept before the jti expired');
  const again = await token(nowSec() + 60);
  assert.equal(again.status, 200, again.text);
  assert.equal(heldJtis(), 1, 'the new jti is held in recreated tables');
});

it('claims arriving together go in shared calls: each of 80 assertions, sent 3 times at once, is accepted exactly once', { timeout: 60_000 }, async () => {
  const api = admin(w.url, w.adminToken);
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const created = await api('POST', '/admin/clients', {
    client_name: 'batches', token_endpoint_auth_method: 'private_key_jwt', lockout_enabled: false,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.client.client_id;
  const before = heldJtis();
  const assertions = await Promise.all(Array.from({ length: 80 }, () => new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k' }).setIssuer(id).setSubject(id)
    .setAudience(`${w.url}/oauth/token`).setExpirationTime(nowSec() + 120).sign(privateKey)));
  // Every copy in flight at once, equal ones side by side, so that equal claims land in the
  // same batch; more than 50 at once also splits a batch's insert into statements.
  const sends = assertions.flatMap((a, i) => [0, 1, 2].map(() => ({ i, a })));
  const results = await Promise.all(sends.map(({ i, a }) => tokenRequest(w.url, {
    grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: a,
  }).then((r) => ({ i, r }))));
  const accepted = new Map();
  for (const { i, r } of results) {
    if (r.status === 200) {
      accepted.set(i, (accepted.get(i) ?? 0) + 1);
      assert.ok(r.json.access_token, r.text);
    } else {
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.error_description, 'the assertion has already been used (jti replayed)');
    }
  }
  assert.equal(accepted.size, 80, 'every assertion was accepted once');
  assert.deepEqual([...new Set(accepted.values())], [1], 'no assertion was accepted twice');
  assert.equal(heldJtis() - before, 80, 'each jti is recorded once');
  // Waiting claims are resumed by the runtime in their own requests, never inside the one
  // that answered them (workerd would refuse their I/O, or cancel them as hung).
  assert.doesNotMatch(w.output, /different request|hung and would never/);
});

it('clients that go away mid-claim strand no other claim: each jti is recorded once and the client keeps working', { timeout: 60_000 }, async () => {
  const api = admin(w.url, w.adminToken);
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const created = await api('POST', '/admin/clients', {
    client_name: 'walk-aways', token_endpoint_auth_method: 'private_key_jwt', lockout_enabled: false,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.client.client_id;
  const sign = () => new SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'EdDSA', kid: 'k' })
    .setIssuer(id).setSubject(id).setAudience(`${w.url}/oauth/token`).setExpirationTime(nowSec() + 120).sign(privateKey);
  const send = (assertion, signal) => fetch(`${w.url}/oauth/token`, {
    method: 'POST', signal, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }),
  }).then(async (r) => ({ status: r.status, json: await r.json() }));
  const before = heldJtis();
  const assertions = await Promise.all(Array.from({ length: 60 }, sign));
  // Every other request is abandoned by its client while the others are in flight: some of
  // those may lead or wait in a claim call when their connection closes.
  const aborts = assertions.map(() => new AbortController());
  const first = assertions.map((a, i) => send(a, aborts[i].signal).catch((e) => ({ aborted: e.name })));
  await new Promise((r) => setImmediate(r));
  aborts.forEach((c, i) => { if (i % 2) c.abort(); });
  const firstResults = await Promise.all(first);
  firstResults.forEach((r, i) => {
    if (i % 2 === 0) assert.equal(r.status, 200, `assertion ${i}: ${JSON.stringify(r)}`);
  });
  // Sent again: the ones answered before are replays; an abandoned one is accepted now only if
  // its first claim never reached the guard.
  const again = await Promise.all(assertions.map((a) => send(a)));
  again.forEach((r, i) => {
    if (r.status === 200) assert.ok(i % 2, `assertion ${i} was accepted twice`);
    else {
      assert.equal(r.status, 401, JSON.stringify(r));
      assert.equal(r.json.error_description, 'the assertion has already been used (jti replayed)');
    }
  });
  assert.equal(heldJtis() - before, 60, 'each jti is recorded exactly once');
  // Nothing waits on an abandoned request: a new assertion goes through.
  const fresh = await send(await sign());
  assert.equal(fresh.status, 200, JSON.stringify(fresh));
  assert.doesNotMatch(w.output, /different request|hung and would never/, 'every claim resumed in its own request');
});
