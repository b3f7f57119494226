// A client's federated credentials (private_key_jwt clients only): the table with each
// credential's last use, delete with a confirmation, and "Add a federated credential" with
// presets. The table shows GET …/federated-credentials; a refused add shows the server's
// message next to the form, marks the field it names and keeps everything typed.
// Part of the client view.
import { api, describe } from '../lib/api.js';
import { $, h, setText, show, showError, clearErrors, busy } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { latest } from '../lib/stale.js';
import { count } from '../lib/format.js';
import { cell, timeOf } from '../components/cells.js';
import { confirmDialog } from '../components/confirm.js';
import { focusInvalid } from '../components/client-fields.js';
import { addClaimRow, clearClaimRows } from '../components/claim-rows.js';
import { fedLimit, fieldOfError, readCredential, syncSubjectKind } from '../components/federation-fields.js';
import { bindPresets, resetPresets } from '../components/federation-presets.js';
import { reloadAudit } from './client-activity.js';

const listing = latest(); // a list for a client the page has left is dropped
const holdsCredentials = (c) => c.token_endpoint_auth_method === 'private_key_jwt';
const keyless = (c) => !c.jwks && !c.jwks_uri;
const codes = (items) => h('ul', { class: 'plain-list' }, ...items.map((x) => h('li', {}, ...[x].flat())));

function subjectCell(f) {
  if (typeof f.subject_pattern === 'string') return cell('Subject', h('span', { class: 'hint' }, 'Pattern: '), h('code', {}, f.subject_pattern));
  return cell('Subject', h('span', { class: 'hint' }, 'Exact: '), h('code', {}, f.subject ?? ''));
}

function credentialRow(f) {
  const claims = Object.entries(f.claims || {});
  return h('tr', { dataset: { credentialId: f.credential_id } },
    cell('Name', h('span', { class: 'fed-name' }, f.name), f.description ? h('span', { class: 'hint subject' }, f.description) : null),
    cell('Issuer', h('code', {}, f.issuer)),
    subjectCell(f),
    cell('Audiences', codes((f.audiences || []).map((a) => h('code', {}, a)))),
    cell('Claim conditions', claims.length ? codes(claims.map(([k, v]) => [h('code', {}, k), ' = ', h('code', {}, v)])) : 'None'),
    cell('Keys', f.jwks_uri ? h('code', {}, f.jwks_uri) : 'Discovered'),
    cell('Created', timeOf(f.created_at)),
    cell('Last used', typeof f.last_used_at === 'number' ? timeOf(f.last_used_at, true) : 'Never'),
    h('td', { class: 'actions-cell' },
      h('button', {
        type: 'button',
        class: 'danger small',
        'aria-label': `Delete federated credential ${f.name}`,
        onclick: (ev) => deleteCredential(ev.currentTarget, f),
      }, 'Delete')));
}

function render() {
  const list = store.federated;
  const loaded = Array.isArray(list);
  // Newest first; the API lists them in the order they were added, which breaks a tie within a second.
  const rows = loaded ? [...list].reverse().sort((a, b) => (b.created_at || 0) - (a.created_at || 0)) : [];
  $('d-fed-rows').replaceChildren(...rows.map(credentialRow));
  show($('d-fed-rows').closest('table'), rows.length > 0);
  show('d-fed-loading', !loaded);
  show('d-fed-empty', loaded && rows.length === 0);
  const alone = store.client && keyless(store.client);
  setText('d-fed-empty', alone
    ? 'No federated credentials. This client has no keys either: it cannot authenticate until you add one.'
    : 'No federated credentials.');
}

// Which parts show for this client (on every change of the client record).
export function showFederation(c) {
  const on = holdsCredentials(c);
  show('d-fed-none', !on);
  show('d-fed-body', on);
  show('d-fed-keyless', on && keyless(c));
  if (on) render();
}

// Read the client's credentials (on open and after a change here).
export async function loadFederation(c) {
  const current = listing.begin();
  if (!holdsCredentials(c)) return;
  const id = c.client_id;
  const res = await attempt(api.listFederated(id), (e) => {
    if (current()) showError('d-fed-error', `Could not load the federated credentials: ${describe(e)}`);
  });
  if (!res.ok || !current()) return;
  store.federated = Array.isArray(res.value?.federated_credentials) ? res.value.federated_credentials : [];
  render();
}

// Forget the previous client's credentials (another client is being opened).
export function clearFederation() {
  listing.cancel();
  store.federated = null;
  $('d-fed-rows').replaceChildren();
  clearErrors($('d-federated'));
  setText('add-fed-status', '');
  resetForm();
}

async function deleteCredential(button, f) {
  clearErrors($('d-federated'));
  setText('add-fed-status', '');
  const yes = await confirmDialog({
    title: 'Delete this federated credential?',
    message: `Tokens from ${f.issuer} that “${f.name}” accepts will no longer get access tokens for this client (within seconds). This cannot be undone.`,
    ok: 'Delete credential',
  });
  if (!yes) return;
  await busy(button, 'Deleting…', async () => {
    const c = store.client;
    const res = await attempt(api.deleteFederated(c.client_id, f.credential_id),
      (e) => showError('d-fed-error', `The credential was not deleted: ${describe(e)}`));
    if (!res.ok) return;
    await loadFederation(c);
    reloadAudit();
    $('d-federated-title').focus();
  });
}

// A refused add: the message next to the form, the field it names marked and focused.
function refused(e) {
  showError('add-fed-error', `The credential was not added: ${describe(e)}`);
  const el = e.status === 422 ? fieldOfError(e.description) : null;
  if (!el) return;
  if (el.tagName !== 'BUTTON') el.setAttribute('aria-invalid', 'true');
  el.focus();
}

async function addCredential(form) {
  clearErrors($('d-federated'));
  setText('add-fed-status', '');
  const max = fedLimit('per_client');
  if ((store.federated || []).length >= max) {
    showError('add-fed-error', `A client can hold at most ${count(max, 'federated credential')}: delete one first.`);
    return;
  }
  const body = readCredential((store.federated || []).map((f) => f.name));
  if (!body) {
    focusInvalid(form);
    return;
  }
  await busy(form, 'Adding…', async () => {
    const c = store.client;
    const res = await attempt(api.addFederated(c.client_id, body), refused);
    if (!res.ok) return;
    resetForm();
    setText('add-fed-status', `Added “${res.value?.name ?? body.name}”.`);
    await loadFederation(c);
    reloadAudit();
  });
}

function resetForm() {
  $('add-fed-form').reset();
  clearClaimRows();
  syncSubjectKind();
  resetPresets();
}

export function bindFederation(signal) {
  const form = $('add-fed-form');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    addCredential(form);
  }, { signal });
  $('f-add-claim').addEventListener('click', addClaimRow, { signal });
  for (const r of form.querySelectorAll('input[name=f-subject-kind]')) r.addEventListener('change', syncSubjectKind, { signal });
  bindPresets(signal);
  syncSubjectKind();
}

export const resetFederation = clearFederation;
