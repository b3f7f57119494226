// A client's registered certificates (self_signed_tls_client_auth clients only, RFC 8705): the
// table with each certificate's subject, expiry and SHA-256 fingerprint, delete with a
// confirmation, and an upload by paste or file. The table shows GET …/certificates; a refused
// upload shows the server's message beside the form and keeps what was pasted.
// Part of the client view.
import { api, describe } from '../lib/api.js';
import { $, h, setText, show, showError, clearErrors, busy, now } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { latest } from '../lib/stale.js';
import { cell, timeOf } from '../components/cells.js';
import { confirmDialog } from '../components/confirm.js';
import { reloadAudit } from './client-activity.js';

const MAX = 10;
const PEM_MAX = 8 * 1024;
const listing = latest(); // a list for a client the page has left is dropped
const holdsCertificates = (c) => c.token_endpoint_auth_method === 'self_signed_tls_client_auth';
// The fingerprint in groups of four, so an admin can compare it with `openssl x509 -fingerprint`.
const grouped = (hex) => hex.match(/.{1,4}/g).join(' ');

function certificateRow(c) {
  const expired = c.not_after <= now();
  return h('tr', { dataset: { fingerprint: c.fingerprint } },
    cell('Subject', h('code', { class: 'cert-subject' }, c.subject || '(empty)')),
    cell('Expires', timeOf(c.not_after), expired ? h('span', { class: 'badge warn' }, 'Expired') : null),
    cell('Fingerprint (SHA-256)', h('code', { class: 'cert-fingerprint' }, grouped(c.fingerprint))),
    cell('Added', timeOf(c.created_at)),
    h('td', { class: 'actions-cell' },
      h('button', {
        type: 'button',
        class: 'danger small',
        'aria-label': `Delete certificate ${c.subject}`,
        onclick: (ev) => deleteCertificate(ev.currentTarget, c),
      }, 'Delete')));
}

function render() {
  const list = store.certificates;
  const loaded = Array.isArray(list);
  const rows = loaded ? list : [];
  $('d-cert-rows').replaceChildren(...rows.map(certificateRow));
  show($('d-cert-rows').closest('table'), rows.length > 0);
  show('d-cert-loading', !loaded);
  show('d-cert-empty', loaded && rows.length === 0);
}

// Which parts show for this client (on every change of the client record).
export function showCertificates(c) {
  const on = holdsCertificates(c);
  show('d-cert-none', !on);
  show('d-cert-body', on);
  if (on) render();
}

// Read the client's certificates (on open and after a change here).
export async function loadCertificates(c) {
  const current = listing.begin();
  if (!holdsCertificates(c)) return;
  const res = await attempt(api.listCertificates(c.client_id), (e) => {
    if (current()) showError('d-cert-error', `Could not load the certificates: ${describe(e)}`);
  });
  if (!res.ok || !current()) return;
  store.certificates = Array.isArray(res.value?.certificates) ? res.value.certificates : [];
  render();
}

// Forget the previous client's certificates (another client is being opened).
export function clearCertificates() {
  listing.cancel();
  store.certificates = null;
  $('d-cert-rows').replaceChildren();
  clearErrors($('d-certificates'));
  setText('add-cert-status', '');
  $('add-cert-form').reset();
}

async function deleteCertificate(button, c) {
  clearErrors($('d-certificates'));
  setText('add-cert-status', '');
  const yes = await confirmDialog({
    title: 'Delete this certificate?',
    message: `The certificate “${c.subject}” will no longer authenticate this client (within seconds). This cannot be undone, but you can upload it again.`,
    ok: 'Delete certificate',
  });
  if (!yes) return;
  await busy(button, 'Deleting…', async () => {
    const client = store.client;
    const res = await attempt(api.deleteCertificate(client.client_id, c.fingerprint),
      (e) => showError('d-cert-error', `The certificate was not deleted: ${describe(e)}`));
    if (!res.ok) return;
    await loadCertificates(client);
    reloadAudit();
    $('d-certificates-title').focus();
  });
}

// The PEM to upload: the pasted text, else the chosen file's; null (error shown) when neither
// looks like one certificate.
async function readUpload() {
  const file = $('cert-file').files && $('cert-file').files[0];
  let text = $('cert-pem').value.trim();
  if (!text && file) {
    if (file.size > PEM_MAX) return fail('That file is too large for a certificate (over 8 KiB).');
    text = (await file.text()).trim();
  }
  if (!text) return fail('Paste a PEM certificate or choose a file.');
  if (/PRIVATE KEY/.test(text)) return fail('This holds a private key. Upload the certificate only, and keep the key secret.');
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) return fail('This does not look like a PEM certificate (no "-----BEGIN CERTIFICATE-----" line).');
  return text;
}

function fail(message) {
  showError('cert-pem-error', message, 'cert-pem');
  $('cert-pem').focus();
  return null;
}

async function upload(form) {
  clearErrors($('d-certificates'));
  setText('add-cert-status', '');
  if ((store.certificates || []).length >= MAX) {
    showError('add-cert-error', `A client can hold at most ${MAX} certificates: delete one first.`);
    return;
  }
  const pem = await readUpload();
  if (!pem) return;
  await busy(form, 'Uploading…', async () => {
    const c = store.client;
    const res = await attempt(api.addCertificate(c.client_id, pem),
      (e) => showError('add-cert-error', `The certificate was not uploaded: ${describe(e)}`));
    if (!res.ok) return;
    form.reset();
    const added = res.value?.certificates?.at(-1);
    setText('add-cert-status', `Uploaded “${added?.subject ?? 'certificate'}”.`);
    store.certificates = Array.isArray(res.value?.certificates) ? res.value.certificates : store.certificates;
    render();
    reloadAudit();
  });
}

export function bindCertificates(signal) {
  const form = $('add-cert-form');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    upload(form);
  }, { signal });
}

export const resetCertificates = clearCertificates;
