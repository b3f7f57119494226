// Browser test of the admin page's Signing keys screen (www/admin/views/keys.js): the key
// states, Rotate with its confirmation, the button disabled while a rotation is under way, a
// 409 from a rotation made elsewhere, Revoke with its confirmation, the audit trail, 375 px. The Worker runs with a short
// publish lead so that a rotation finishes within the test.
// Run: node --test tests/browser/keys.test.mjs   (Debian Chromium at /usr/bin/chromium, or CHROMIUM=...)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { askConfirm, openAdminPage, signIn, visit } from '../support/browser.mjs';
import { nowSec } from '../support/http.mjs';

const LEAD = 30; // KEY_PUBLISH_LEAD, seconds

let b; // the harness: { worker, adminApi, page, nativeDialogs, pageErrors, shot, overflow, close }
let adminApi;
let page;
const s = {}; // state shared by the steps below, which run in order

const keysApi = async () => {
  const r = await adminApi('GET', '/admin/keys');
  assert.equal(r.status, 200, r.text);
  return r.json;
};
const rotations = async () => (await adminApi('GET', '/admin/audit?limit=100')).json.events.filter((e) => e.action === 'keys.rotated');
const jwksKids = async () => {
  const meta = await (await fetch(`${b.worker.url}/.well-known/oauth-authorization-server`)).json();
  return (await (await fetch(meta.jwks_uri.replace(/^https?:\/\/[^/]+/, b.worker.url))).json()).keys.map((k) => k.kid);
};
// [state, kid] of each table row, in page order.
const shownKeys = () => page.locator('#keys-rows tr').evaluateAll((rows) => rows.map((r) => [r.dataset.state, r.dataset.kid]));
const rowOf = (kid) => page.locator(`#keys-rows tr[data-kid="${kid}"]`);
const cellOf = (kid, label) => rowOf(kid).locator(`td[data-label="${label}"]`);
const rotateButton = () => page.locator('#keys-rotate');

before(async () => {
  b = await openAdminPage({ vars: { KEY_PUBLISH_LEAD: String(LEAD) } });
  ({ adminApi, page } = b);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: b.worker.url });
  await signIn(b);
});

after(async () => {
  await b?.close();
});

test('a fresh server: the keys screen lists one current key', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Signing keys' }).click();
  await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
  await page.locator('#keys-rows tr').first().waitFor();
  const { keys } = await keysApi();
  assert.equal(keys.length, 1);
  const [key] = keys;
  assert.deepEqual(await shownKeys(), [['current', key.kid]]);
  assert.deepEqual(await jwksKids(), [key.kid]);
  assert.equal(await rowOf(key.kid).locator('.badge').textContent(), 'Current');
  assert.equal(await rowOf(key.kid).locator('code').textContent(), key.kid);
  assert.equal(await cellOf(key.kid, 'Signs from').textContent(), 'From the start');
  assert.equal(await cellOf(key.kid, 'Retires at').textContent(), '—');
  assert.equal(await cellOf(key.kid, 'Source').textContent(), 'Rotation schedule, index 0');
  for (const name of ['State', 'Key ID (kid)', 'Published', 'Signs from', 'Retires at', 'Source']) {
    assert.equal(await page.getByRole('columnheader', { name, exact: true }).count(), 1, `header ${name}`);
  }
  assert.match(await page.locator('#keys-lifecycle').textContent(), /after the publish lead \(30 s\).*stays published until every token it signed has expired/);
  assert.match(await page.locator('#keys-period').textContent(), /only on request/);
  assert.equal(await rotateButton().isEnabled(), true);
  assert.equal(await rotateButton().getAttribute('aria-describedby'), null);
  assert.equal(await page.locator('#keys-pending').isVisible(), false);

  await rowOf(key.kid).getByRole('button', { name: `Copy key ID ${key.kid}` }).click();
  await page.locator('#keys-copy-status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key.kid);
  await b.shot('keys');
  s.first = key.kid;
});

test('cancelling the confirmation rotates nothing', async () => {
  const confirm = await askConfirm(page, 'Rotate signing key…');
  await page.getByRole('dialog', { name: 'Rotate the signing key?' }).waitFor();
  assert.match(await confirm.textContent(),
    /published in the JWKS now and starts signing at .+ \(in 30 s, after the publish lead of 30 s\)/);
  await b.shot('keys-confirm', false);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });
  assert.deepEqual((await keysApi()).keys.map((k) => k.kid), [s.first]);
  assert.deepEqual(await rotations(), []);
  assert.deepEqual(await shownKeys(), [['current', s.first]]);
  assert.equal(await rotateButton().isEnabled(), true);
});

test('Rotate, confirm: the table shows current and next, and the button is disabled with the reason', async () => {
  const started = nowSec();
  const confirm = await askConfirm(page, 'Rotate signing key…');
  await confirm.getByRole('button', { name: 'Rotate signing key', exact: true }).click();
  await page.locator('#keys-flash').filter({ hasText: 'Rotated: key' }).waitFor();
  const { keys } = await keysApi();
  assert.deepEqual(keys.map((k) => [k.state, k.kid]), [['current', s.first], ['next', keys[1].kid]]);
  const next = keys[1];
  assert.ok(next.published_at >= started - 1 && next.published_at <= nowSec() + 1, `published now: ${next.published_at}`);
  assert.equal(next.signs_from, next.published_at + LEAD);
  assert.deepEqual(await shownKeys(), [['current', s.first], ['next', next.kid]]);
  assert.equal(await rowOf(next.kid).locator('.badge').textContent(), 'Next');
  assert.equal(await rowOf(next.kid).locator('td[data-label="Source"]').textContent(), 'Rotation schedule, index 1');
  const signsFrom = cellOf(next.kid, 'Signs from').locator('time');
  assert.equal(await signsFrom.getAttribute('datetime'), new Date(next.signs_from * 1000).toISOString());
  assert.match(await cellOf(next.kid, 'Signs from').textContent(), /\(in \d+ s\)$/);
  assert.match(await page.locator('#keys-flash').textContent(), new RegExp(`key ${next.kid} is published now`));
  assert.deepEqual((await jwksKids()).sort(), [s.first, next.kid].sort(), 'the next key is published at once');

  assert.equal(await rotateButton().isDisabled(), true);
  assert.equal(await rotateButton().getAttribute('aria-describedby'), 'keys-pending');
  const reason = await page.locator('#keys-pending').textContent();
  assert.match(reason, /a rotation is under way\. The next key signs from /);
  assert.ok(reason.includes(await signsFrom.textContent()), `the reason names the switch time: ${reason}`);
  await b.shot('keys-rotated');
  s.next = next.kid;
});

test('the audit view shows keys.rotated', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
  const row = page.locator('#audit-rows tr', { hasText: 'keys.rotated' });
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), new RegExp(`published key ${s.next} \\(index 1\\); it signs from`));
});

test('a rotation made elsewhere while the dialog is open: the 409 is shown in the page', async () => {
  await visit(b, '#/keys', 'Signing keys');
  // The page re-reads the keys by itself once the next key starts signing.
  await page.waitForFunction(() => !document.querySelector('#keys-rows tr[data-state=next]')
    && document.querySelector('#keys-rows tr[data-state=current]') && !document.querySelector('#keys-rotate').disabled,
  null, { timeout: (LEAD + 20) * 1000 });
  assert.deepEqual(await shownKeys(), [['previous', s.first], ['current', s.next]]);
  assert.match(await cellOf(s.first, 'Retires at').textContent(), /\(in \d+ (h|min)\)$/);

  const confirm = await askConfirm(page, 'Rotate signing key…');
  const other = await adminApi('POST', '/admin/keys/rotate', {});
  assert.equal(other.status, 200, other.text);
  const third = other.json.keys.find((k) => k.state === 'next').kid;
  await confirm.getByRole('button', { name: 'Rotate signing key', exact: true }).click();
  const err = page.locator('#keys-error');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /^Not rotated: a rotation is under way: the next key signs from \S+ \[conflict\] \(HTTP 409\)$/);
  // Then the screen shows the rotation that is under way, and the error stays.
  await rowOf(third).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === 'keys-title'); // not left on the disabled button
  assert.deepEqual(await shownKeys(), [['previous', s.first], ['current', s.next], ['next', third]]);
  assert.equal(await rotateButton().isDisabled(), true);
  assert.equal(await err.isVisible(), true);
  await b.shot('keys-conflict');
  assert.equal((await keysApi()).keys.filter((k) => k.state === 'next').length, 1);
  assert.equal((await rotations()).length, 2, 'the page rotated nothing more');
  s.third = third;
});

test('Revoke the signing key, confirm: it leaves the JWKS and a fresh key signs at once', async () => {
  // Once the rotation from the previous step has switched (the page re-reads by itself):
  // s.third signs, with no next key, so revoking it derives a fresh one.
  await page.waitForFunction(() => !document.querySelector('#keys-rows tr[data-state=next]')
    && !document.querySelector('#keys-rotate').disabled, null, { timeout: (LEAD + 20) * 1000 });
  assert.deepEqual(await shownKeys(), [['previous', s.first], ['previous', s.next], ['current', s.third]]);
  const revokeOf = (kid) => rowOf(kid).getByRole('button', { name: `Revoke key ${kid}` });
  assert.equal(await revokeOf(s.first).count(), 1, 'a previous key can be revoked too');

  // Cancelled: nothing happens.
  await revokeOf(s.third).click();
  const confirm = page.locator('#confirm-dialog');
  await page.getByRole('dialog', { name: 'Revoke this signing key?' }).waitFor();
  assert.match(await confirm.textContent(),
    new RegExp(`Key ${s.third} leaves the JWKS now and stops signing; the next key, or a new one, signs from now on\\. `
      + 'Every token it signed is refused'));
  await b.shot('keys-revoke-confirm', false);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });
  assert.deepEqual((await keysApi()).keys.map((k) => k.state), ['previous', 'previous', 'current']);

  await revokeOf(s.third).click();
  await confirm.getByRole('button', { name: 'Revoke key', exact: true }).click();
  await page.locator('#keys-flash').filter({ hasText: 'Revoked: key' }).waitFor();
  const { keys } = await keysApi();
  const fresh = keys[3].kid;
  assert.deepEqual(keys.map((k) => [k.state, k.kid]),
    [['previous', s.first], ['previous', s.next], ['revoked', s.third], ['current', fresh]]);
  assert.equal(await page.locator('#keys-flash').textContent(), `Revoked: key ${s.third} is out of the JWKS; key ${fresh} signs.`);
  assert.deepEqual(await shownKeys(), keys.map((k) => [k.state, k.kid]));
  assert.equal(await rowOf(s.third).locator('.badge').textContent(), 'Revoked');
  assert.match(await cellOf(s.third, 'Retires at').textContent(), /^Revoked \S/);
  assert.equal(await rowOf(s.third).getByRole('button', { name: /^Revoke/ }).count(), 0, 'no second revoke');
  assert.equal(await cellOf(fresh, 'Source').textContent(), 'Rotation schedule, index 3');
  assert.deepEqual((await jwksKids()).sort(), [s.first, s.next, fresh].sort());
  await page.waitForFunction(() => document.activeElement?.id === 'keys-title');
  const revocations = (await adminApi('GET', '/admin/audit?limit=100')).json.events.filter((e) => e.action === 'keys.revoked');
  assert.deepEqual(revocations.map((e) => e.detail), [`revoked key ${s.third} (index 2)`]);
  await b.shot('keys-revoked');
});

test('a key from PREVIOUS_SIGNING_KEY_SEED, a retired key and a rotation period are shown', async () => {
  // A Worker set up that way needs other settings and days of clock: feed the page the answer.
  const doc = await keysApi();
  const retired = { ...doc.keys[0], kid: 'retired-kid', state: 'retired', retires_at: nowSec() - 600 };
  const legacy = {
    kid: 'legacy-kid', state: 'previous', source: 'PREVIOUS_SIGNING_KEY_SEED', index: null, published_at: null, signs_from: null, retires_at: null,
  };
  await page.route('**/admin/keys', (route) => route.fulfill({
    json: { ...doc, keys: [retired, ...doc.keys, legacy], rotation_period_days: 30 },
  }));
  try {
    await page.reload(); // the page is on #/keys already
    await rowOf('legacy-kid').waitFor();
    assert.equal(await rowOf('retired-kid').locator('.badge').textContent(), 'Retired');
    assert.match(await cellOf('retired-kid', 'Retires at').textContent(), /\(1[01] min ago\)$/);
    assert.equal(await rowOf('legacy-kid').locator('.badge').textContent(), 'Previous');
    assert.equal(await cellOf('legacy-kid', 'Source').textContent(), 'PREVIOUS_SIGNING_KEY_SEED (published while it is set)');
    for (const label of ['Published', 'Signs from', 'Retires at']) assert.equal(await cellOf('legacy-kid', label).textContent(), '—');
    assert.equal(await page.locator('#keys-period').textContent(), 'Automatic rotation: every 30 days (KEY_ROTATION_DAYS).');
  } finally {
    await page.unroute('**/admin/keys');
  }
});

test('375 px: the keys screen does not scroll sideways', async () => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.reload(); // on #/keys already: the server's keys again, not the test's
  await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
  await page.waitForFunction(() => document.querySelector('#keys-rows tr') && !document.querySelector('#keys-rows tr[data-kid=legacy-kid]'));
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`).slice(0, 5));
  assert.ok((await b.overflow()) <= 0, `#/keys overflows at 375 px: ${wide.join(', ')}`);
  assert.equal(await rotateButton().isVisible(), true);
  await b.shot('narrow-keys');
  await b.shot('narrow-keys-top', false);
  await page.setViewportSize({ width: 1200, height: 860 });
  assert.deepEqual(b.nativeDialogs, []);
  assert.deepEqual(b.pageErrors, []);
});
