// A client's secrets: the table (newest first, expiry marked in text), delete with a
// confirmation, and "Add a secret" (shown once in the secret dialog). Part of the client view.
import { api, describe } from '../lib/api.js';
import { $, h, show, showError, clearErrors, busy, formatTime } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { limit } from '../lib/limits.js';
import { isSecretBased, count } from '../lib/format.js';
import { cell, expiryTag } from '../components/cells.js';
import { confirmDialog } from '../components/confirm.js';
import { expiryField } from '../components/expiry.js';
import { showSecret } from '../components/secret-dialog.js';

const expiry = expiryField('s-');
const stamp = (t) => (typeof t === 'number' ? formatTime(t) : 'Never');

export function renderSecrets(c) {
  const secrets = Array.isArray(c.secrets) ? [...c.secrets] : [];
  const usesSecrets = isSecretBased(c) || secrets.length > 0;
  show('d-secrets-none', !usesSecrets);
  show('d-secrets-body', usesSecrets);
  secrets.sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
  $('d-secret-rows').replaceChildren(...secrets.map((s) => secretRow(s)));
  show($('d-secret-rows').closest('table'), secrets.length > 0);
  show('d-secrets-empty', secrets.length === 0);
}

let reload = async () => {};

function secretRow(s) {
  const tag = expiryTag(s.expires_at);
  const label = s.description || '(no description)';
  return h('tr', { class: tag ? `row-${tag.className.split(' ')[1]}` : '' },
    cell('Description', label),
    cell('Created', formatTime(s.created_at)),
    cell('Expires', stamp(s.expires_at), tag ? ' ' : '', tag),
    cell('Last used', stamp(s.last_used_at)),
    h('td', { class: 'actions-cell' },
      h('button', {
        type: 'button',
        class: 'danger small',
        'aria-label': `Delete secret ${label}, created ${formatTime(s.created_at)}`,
        onclick: (ev) => deleteSecret(ev.currentTarget, s, label),
      }, 'Delete')));
}

async function deleteSecret(button, s, label) {
  clearErrors($('d-secrets'));
  const yes = await confirmDialog({
    title: 'Delete this secret?',
    message: `Applications using the secret “${label}” (created ${formatTime(s.created_at)}) will no longer get tokens. This cannot be undone.`,
    ok: 'Delete secret',
  });
  if (!yes) return;
  await busy(button, 'Deleting…', async () => {
    const res = await attempt(api.deleteSecret(store.client.client_id, s.secret_id),
      (e) => showError('d-secrets-error', `The secret was not deleted: ${describe(e)}`));
    if (!res.ok) return;
    store.clients.loaded = false;
    await reload();
  });
}

async function addSecret(form) {
  clearErrors($('d-secrets'));
  const max = limit('secret.per_client');
  if ((store.client.secrets || []).length >= max) {
    showError('add-secret-error', `A client can hold at most ${count(max, 'secret')}: delete one first.`);
    return;
  }
  const expires = expiry.read();
  if (!expires) return;
  const body = { ...expires };
  const d = $('s-description').value.trim();
  if (d) body.description = d;
  await busy(form, 'Adding…', async () => {
    const id = store.client.client_id;
    let res = await attempt(api.addSecret(id, body), (e) => showError('add-secret-error', `The secret was not added: ${describe(e)}`));
    if (!res.ok) return;
    form.reset();
    expiry.sync();
    store.clients.loaded = false;
    await showSecret(id, res.value);
    res = null;
    await reload();
  });
}

// `reloadClient()` re-reads the client after a change here.
export function bindSecrets(signal, reloadClient) {
  reload = reloadClient;
  expiry.setup();
  expiry.bind(signal);
  const form = $('add-secret-form');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    addSecret(form);
  }, { signal });
}

export function resetSecrets() {
  $('add-secret-form').reset();
  $('d-secret-rows').replaceChildren();
}
