// The Signing keys screen (#/keys): each key's state and dates from GET /admin/keys, and
// "Rotate signing key…" after a confirmation (POST /admin/keys/rotate). While a rotation is
// under way the button is disabled with the reason beside it; a 409 from the server (another
// admin rotated first) is shown, then the screen reloads. Each published key of the schedule
// has "Revoke" (POST /admin/keys/{kid}/revoke, after a confirmation): the key leaves the JWKS
// and signing at once.
import { api, describe } from '../lib/api.js';
import { $, h, setText, show, showError, clearErrors, busy, copyFrom, formatTime, now } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { latest } from '../lib/stale.js';
import { count, durationText, fromNow } from '../lib/format.js';
import { cell, timeOf } from '../components/cells.js';
import { confirmDialog } from '../components/confirm.js';
import { button, dataTable, formError, okText, viewHead, viewSection } from '../components/markup.js';

const STATES = { next: 'Next', current: 'Current', previous: 'Previous', retired: 'Retired', revoked: 'Revoked' };
const REVOCABLE = ['next', 'current', 'previous'];
const loading = latest(); // a slow GET must not overwrite the answer of a rotation
let timer = 0; // re-reads the keys when the next key starts signing

function template() {
  const table = dataTable({
    id: 'keys-table',
    caption: 'Signing keys, oldest first',
    columns: ['State', 'Key ID (kid)', 'Published', 'Signs from', 'Retires at', 'Source', h('span', { class: 'visually-hidden' }, 'Actions')],
    body: 'keys-rows',
  });
  table.firstChild.hidden = true; // until the keys are in
  return viewSection('view-keys', 'keys-title',
    viewHead('keys-title', 'Signing keys', button('Rotate signing key…', { id: 'keys-rotate', class: 'primary', disabled: true })),
    h('p', { id: 'keys-pending', class: 'callout', hidden: true }),
    h('p', { id: 'keys-lifecycle', class: 'muted lead' }),
    h('p', { id: 'keys-period' }),
    okText('keys-flash'),
    formError('keys-error'),
    table,
    okText('keys-copy-status'));
}

// The seed's own key (index 0) has signed since the first deployment: its times are 0.
const when = (t) => (t === 0 ? 'From the start' : timeOf(t, true));

function source(k) {
  if (k.source === 'schedule') return `Rotation schedule, index ${k.index}`;
  if (k.source === 'PREVIOUS_SIGNING_KEY_SEED') return [h('code', {}, k.source), ' (published while it is set)'];
  return String(k.source || '—');
}

function keyRow(k, i, signal) {
  const id = `keys-kid-${i}`;
  return h('tr', { dataset: { kid: k.kid, state: k.state } },
    cell('State', h('span', { class: `badge badge-key-${k.state}` }, STATES[k.state] || k.state)),
    cell('Key ID', h('code', { id }, k.kid), ' ',
      button('Copy', { class: 'copy small', 'aria-label': `Copy key ID ${k.kid}`, onclick: () => copyFrom(id, $('keys-copy-status')) })),
    cell('Published', when(k.published_at)),
    cell('Signs from', when(k.signs_from)),
    cell('Retires at', k.state === 'revoked' ? ['Revoked ', timeOf(k.revoked_at)] : when(k.retires_at)),
    cell('Source', source(k)),
    h('td', { class: 'actions-cell' }, k.source === 'schedule' && REVOCABLE.includes(k.state)
      ? button('Revoke', { class: 'danger small', 'aria-label': `Revoke key ${k.kid}`, onclick: (ev) => revoke(ev.currentTarget, k, signal) })
      : ''));
}

const lifecycle = (lead) => 'A rotation publishes the next key in the JWKS at once; it starts signing after the publish lead '
  + `(${durationText(lead)}), by when every verifier that honours the JWKS cache time has it. The replaced key stays `
  + 'published until every token it signed has expired, then it is retired.';

const period = (days) => (typeof days === 'number'
  ? `Automatic rotation: every ${count(days, 'day')} (KEY_ROTATION_DAYS).`
  : 'Automatic rotation: off, keys rotate only on request (set KEY_ROTATION_DAYS to rotate on a period).');

function render(doc, signal) {
  store.keys = doc;
  const keys = Array.isArray(doc.keys) ? doc.keys : [];
  $('keys-rows').replaceChildren(...keys.map((k, i) => keyRow(k, i, signal)));
  show('keys-table', keys.length > 0);
  setText('keys-lifecycle', lifecycle(doc.publish_lead_secs));
  setText('keys-period', period(doc.rotation_period_days));
  const pending = keys.find((k) => k.state === 'next');
  const rotateButton = $('keys-rotate');
  rotateButton.disabled = Boolean(pending);
  // Described by the reason only while there is one (a hidden text would still be read).
  if (pending) rotateButton.setAttribute('aria-describedby', 'keys-pending');
  else rotateButton.removeAttribute('aria-describedby');
  setText('keys-pending', pending ? `Rotation is not available: a rotation is under way. The next key signs from `
    + `${formatTime(pending.signs_from)} (${fromNow(pending.signs_from)}); rotate again after that.` : '');
  show('keys-pending', Boolean(pending));
  clearTimeout(timer);
  if (pending && !signal.aborted) {
    const wait = Math.min(Math.max(pending.signs_from - now() + 1, 5), 86_400);
    timer = setTimeout(() => load(signal), wait * 1000);
  }
}

async function load(signal, keepError = false) {
  const current = loading.begin();
  if (!keepError) show('keys-error', false);
  const res = await attempt(api.keys(), (e) => current() && showError('keys-error', `Could not load the signing keys: ${describe(e)}`));
  if (res.ok && current() && !signal.aborted) render(res.value, signal);
}

async function rotate(rotateButton, signal) {
  clearErrors($('view-keys'));
  setText('keys-flash', '');
  const lead = store.keys.publish_lead_secs;
  const at = now() + lead;
  const yes = await confirmDialog({
    title: 'Rotate the signing key?',
    message: `A new key is published in the JWKS now and starts signing at ${formatTime(at)} (${fromNow(at)}, after the `
      + `publish lead of ${durationText(lead)}). Until then the current key keeps signing; after that it stays published `
      + 'until every token it signed has expired.',
    ok: 'Rotate signing key',
  });
  if (!yes || signal.aborted) return;
  loading.cancel();
  const res = await busy(rotateButton, 'Rotating…',
    () => attempt(api.rotateKeys(), (e) => showError('keys-error', `Not rotated: ${describe(e)}`)));
  if (signal.aborted) return;
  if (!res.ok) {
    if (res.error.status !== 409) return;
    await load(signal, true); // show the rotation that is under way
    if (rotateButton.disabled) $('keys-title').focus(); // focus must not stay on a disabled button
    return;
  }
  render(res.value, signal);
  const next = res.value.keys.find((k) => k.state === 'next');
  if (next) setText('keys-flash', `Rotated: key ${next.kid} is published now and signs from ${formatTime(next.signs_from)}.`);
  $('keys-title').focus();
}

async function revoke(revokeButton, k, signal) {
  clearErrors($('view-keys'));
  setText('keys-flash', '');
  const yes = await confirmDialog({
    title: 'Revoke this signing key?',
    message: `Key ${k.kid} leaves the JWKS now${k.state === 'current' ? ' and stops signing; the next key, or a new one, '
      + 'signs from now on' : ''}. Every token it signed is refused: by introspection at once, by verifiers when they next `
      + 'refresh the JWKS (within minutes). It is never published again. Use this when the key may be compromised.',
    ok: 'Revoke key',
  });
  if (!yes || signal.aborted) return;
  loading.cancel();
  const res = await busy(revokeButton, 'Revoking…',
    () => attempt(api.revokeKey(k.kid), (e) => showError('keys-error', `Not revoked: ${describe(e)}`)));
  if (signal.aborted) return;
  if (res.ok) {
    render(res.value, signal);
    const signing = res.value.keys.find((x) => x.state === 'current');
    setText('keys-flash', `Revoked: key ${k.kid} is out of the JWKS${signing ? `; key ${signing.kid} signs` : ''}.`);
  } else await load(signal, true);
  $('keys-title').focus(); // the button went with its row
}

export const keysView = {
  id: 'view-keys',
  nav: 'keys',
  template,

  mount(_params, signal) {
    clearErrors($('view-keys'));
    setText('keys-flash', '');
    setText('keys-copy-status', '');
    $('keys-rotate').addEventListener('click', (ev) => rotate(ev.currentTarget, signal), { signal });
    signal.addEventListener('abort', () => clearTimeout(timer));
    if (store.keys) render(store.keys, signal); // what was shown last, until the fresh answer
    load(signal);
  },

  unmount() { loading.cancel(); },

  reset() {
    $('keys-rows').replaceChildren();
    show('keys-table', false);
    show('keys-pending', false);
    $('keys-rotate').disabled = true;
  },
};
