// The client view: header and facts, settings form, lockout and Unlock, delete; the grants,
// secrets, federated credentials, usage and audit trail parts live in client-grants.js,
// client-secrets.js, client-federation.js, client-certificates.js and client-activity.js. Every save sends the version the form was filled from; a 409 shows a
// "Reload the client" box, nothing is merged silently.
import { api, describe } from '../lib/api.js';
import { $, setText, show, showError, clearErrors, busy, formatTime, bindCopy } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { latest } from '../lib/stale.js';
import { SECRET_METHODS, lockedUntil, methodLabel, statusOf, count } from '../lib/format.js';
import { readClientFields, focusInvalid } from '../components/client-fields.js';
import { readJwksUri, parseJwks, readPem } from '../components/keys.js';
import { fillQuota, quotaText, readQuota, sameQuota } from '../components/quota.js';
import { fillClaims, readClaims, sameClaims } from '../components/token-claims.js';
import { confirmDialog } from '../components/confirm.js';
import { openRecord } from '../components/record.js';
import { bindActivity, clearActivity, loadActivity, reloadAudit, resetActivity } from './client-activity.js';
import { bindGrants, grantsFromClient, loadGrantResources, renderGrants, resetGrants } from './client-grants.js';
import { bindSecrets, renderSecrets, resetSecrets } from './client-secrets.js';
import { bindFederation, clearFederation, loadFederation, resetFederation, showFederation } from './client-federation.js';
import { bindCertificates, clearCertificates, loadCertificates, resetCertificates, showCertificates } from './client-certificates.js';
import { clientTemplate } from './client-markup.js';

const opening = latest(); // ignore answers for a client the user has already navigated away from
const CLIENT = { key: 'client_id', fetch: api.getClient, bodyId: 'detail-body', errorId: 'detail-load-error', noun: 'client' };

function renderHeader(c) {
  setText('d-title', c.client_name || '(unnamed)');
  const s = statusOf(c);
  const badge = $('d-status');
  badge.className = `badge badge-${s.key}`;
  setText(badge, s.key === 'locked' ? 'Locked' : s.text);
  setText('d-client-id', c.client_id);
  setText('d-method', `${methodLabel(c.token_endpoint_auth_method)} (${c.token_endpoint_auth_method || 'unknown'})`);
  setText('d-created', formatTime(c.client_id_issued_at));
  setText('d-updated', formatTime(c.updated_at));

  const failed = typeof c.failed_attempts === 'number' ? c.failed_attempts : null;
  show('d-lockout-fact', typeof c.lockout_enabled === 'boolean');
  let lockout = c.lockout_enabled ? 'On' : 'Off';
  if (failed !== null) lockout += ` · ${count(failed, 'failed attempt')} since the last success`;
  setText('d-lockout', lockout);
  setText('d-quota', quotaText(c));
  show('d-version-fact', typeof c.version === 'number');
  setText('d-version', c.version);

  const until = lockedUntil(c);
  show('d-locked', Boolean(until));
  if (until) {
    const after = failed ? count(failed, 'failed authentication') : 'repeated failed authentications';
    setText('d-locked-text', `This client is locked until ${formatTime(until)} after ${after}. Token requests are refused until then, or until you unlock it.`);
  }
}

const syncLockoutState = () => setText('e-lockout-state', $('e-lockout').checked ? 'on' : 'off');

function renderSettings(c) {
  $('e-name').value = c.client_name || '';
  $('e-description').value = c.description || '';
  $('e-enabled').checked = c.enabled !== false;
  show('e-lockout-field', typeof c.lockout_enabled === 'boolean');
  $('e-lockout').checked = c.lockout_enabled === true;
  syncLockoutState();
  show('e-introspection-field', typeof c.introspection_allowed === 'boolean');
  $('e-introspection').checked = c.introspection_allowed === true;
  show('e-dpop-field', typeof c.dpop_bound_access_tokens === 'boolean');
  $('e-dpop').checked = c.dpop_bound_access_tokens === true;
  $('e-cert-bound').checked = c.tls_client_certificate_bound_access_tokens === true;
  show('e-dn-field', c.token_endpoint_auth_method === 'tls_client_auth');
  $('e-dn').value = c.tls_client_auth_subject_dn || '';
  const secretMethod = SECRET_METHODS.includes(c.token_endpoint_auth_method);
  show('e-method-field', secretMethod);
  if (secretMethod) $('e-method').value = c.token_endpoint_auth_method;
  $('e-lifetime').value = c.access_token_lifetime ?? '';
  $('e-scope').value = c.scope || '';
  $('e-resources').value = (c.resources || []).join('\n');
  fillQuota('e-', c.token_quota);
  fillClaims('e-', c.token_claims);
  const keyBased = c.token_endpoint_auth_method === 'private_key_jwt' || c.jwks || c.jwks_uri;
  show('e-keys', Boolean(keyBased));
  $('e-jwks-uri').value = c.jwks_uri || '';
  $('e-jwks').value = c.jwks ? JSON.stringify(c.jwks, null, 2) : '';
  $('e-pem').value = '';
}

// The header and secrets follow the server; unsaved edits in the forms stay.
function applyClient(c) {
  store.client = c;
  renderHeader(c);
  renderSecrets(c);
  showFederation(c);
  showCertificates(c);
}

function renderDetail(c) {
  applyClient(c);
  renderSettings(c);
  store.grants = grantsFromClient(c);
  renderGrants();
}

// Re-read the client after a change made elsewhere on the page (secrets, unlock).
async function reloadClient() {
  const res = await attempt(api.getClient(store.client.client_id),
    (e) => showError('d-secrets-error', `Could not reload the client: ${describe(e)}`));
  if (res.ok) applyClient(res.value);
  reloadAudit();
}

const hideConflicts = () => ['edit-conflict', 'grants-conflict'].forEach((id) => show(id, false));

function showConflict(id, e) {
  const why = e.description || 'the client changed since you read it';
  setText(`${id}-text`,
    `Not saved: ${why} (HTTP 409). Someone else, or another tab, changed this client after this page read it. `
    + 'Reload the client to see its current state, then make your change again.');
  show(id, true);
  $(id).querySelector('button').focus();
}

// PATCH the client with the version its forms were filled from (records without one skip it).
async function save(patch, { status, error, conflict, saved, failed, after }) {
  const c = store.client;
  hideConflicts();
  setText(status, '');
  const body = typeof c.version === 'number' ? { ...patch, version: c.version } : patch;
  const res = await attempt(api.updateClient(c.client_id, body), (e) => {
    if (e.status === 409) showConflict(conflict, e);
    else showError(error, `${failed}: ${describe(e)}`);
  });
  if (!res.ok) return;
  store.clients.loaded = false;
  const next = res.value && res.value.client_id ? res.value : { ...c, ...patch };
  applyClient(next);
  after(next);
  setText(status, saved);
  reloadAudit();
}

// The settings form's changes against the client, or null when a field is refused.
async function settingsPatch(form, c) {
  const f = readClientFields('e-', { lifetimeRequired: true });
  let ok = f.ok;
  const patch = {};
  if (f.name && f.name !== c.client_name) patch.client_name = f.name;
  if (f.description !== (c.description || '')) patch.description = f.description;
  if ($('e-enabled').checked !== (c.enabled !== false)) patch.enabled = $('e-enabled').checked;
  if (typeof c.lockout_enabled === 'boolean' && $('e-lockout').checked !== c.lockout_enabled) {
    patch.lockout_enabled = $('e-lockout').checked;
  }
  if (typeof c.introspection_allowed === 'boolean' && $('e-introspection').checked !== c.introspection_allowed) {
    patch.introspection_allowed = $('e-introspection').checked;
  }
  if (typeof c.dpop_bound_access_tokens === 'boolean' && $('e-dpop').checked !== c.dpop_bound_access_tokens) {
    patch.dpop_bound_access_tokens = $('e-dpop').checked;
  }
  if ($('e-cert-bound').checked !== (c.tls_client_certificate_bound_access_tokens === true)) {
    patch.tls_client_certificate_bound_access_tokens = $('e-cert-bound').checked;
  }
  const dn = $('e-dn').value.trim();
  if (c.token_endpoint_auth_method === 'tls_client_auth' && dn !== (c.tls_client_auth_subject_dn || '')) {
    if (dn) patch.tls_client_auth_subject_dn = dn;
    else {
      showError('e-dn-error', 'A tls_client_auth client needs the subject DN of its certificate.', 'e-dn');
      ok = false;
    }
  }
  if (SECRET_METHODS.includes(c.token_endpoint_auth_method) && $('e-method').value !== c.token_endpoint_auth_method) {
    patch.token_endpoint_auth_method = $('e-method').value;
  }
  if (f.lifetime && f.lifetime !== c.access_token_lifetime) patch.access_token_lifetime = f.lifetime;
  if (f.scope !== (c.scope || '')) patch.scope = f.scope;
  if (f.resources && JSON.stringify(f.resources) !== JSON.stringify(c.resources || [])) patch.resources = f.resources;
  const quota = readQuota('e-');
  if (quota === undefined) ok = false;
  else if (!sameQuota(quota, c.token_quota)) patch.token_quota = quota;
  const claims = readClaims('e-');
  if (claims === undefined) ok = false;
  else if (!sameClaims(claims, c.token_claims)) patch.token_claims = claims;
  if (!$('e-keys').hidden) ok = (await keysPatch(c, patch)) && ok;
  if (!ok) {
    focusInvalid(form);
    return null;
  }
  return patch;
}

async function keysPatch(c, patch) {
  let ok = true;
  const uri = readJwksUri('e-jwks-uri', 'e-jwks-uri-error', false);
  if (uri === null) ok = false;
  else if (uri !== (c.jwks_uri || '')) patch.jwks_uri = uri || null;
  const jwksText = $('e-jwks').value.trim();
  const before = c.jwks ? JSON.stringify(c.jwks) : '';
  if (jwksText && (!before || jwksText !== JSON.stringify(c.jwks, null, 2))) {
    const jwks = parseJwks(jwksText, 'e-jwks-error', 'e-jwks');
    if (!jwks) ok = false;
    else if (JSON.stringify(jwks) !== before) patch.jwks = jwks;
  } else if (!jwksText && before) patch.jwks = null;
  if ($('e-pem').files && $('e-pem').files.length) {
    const pem = await readPem('e-pem', 'e-pem-error');
    if (pem === null) ok = false;
    else patch.public_key_pem = pem;
  }
  return ok;
}

async function submitSettings(form) {
  const patch = await settingsPatch(form, store.client);
  if (!patch) return;
  if (!Object.keys(patch).length) {
    setText('edit-status', 'No changes to save.');
    return;
  }
  await save(patch, {
    status: 'edit-status', error: 'edit-error', conflict: 'edit-conflict', saved: 'Saved.', failed: 'Not saved', after: renderSettings,
  });
}

async function reloadAfterConflict(b) {
  const box = b.closest('.conflict');
  const form = b.closest('form');
  const res = await attempt(api.getClient(store.client.client_id),
    (e) => setText(`${box.id}-text`, `Could not reload the client: ${describe(e)}`));
  if (!res.ok) return;
  const c = res.value;
  renderDetail(c);
  hideConflicts();
  clearErrors(form);
  const status = form.id === 'grants-form' ? 'grants-status' : 'edit-status';
  setText(status, `Reloaded (version ${c.version ?? '—'}). Make your change again and save.`);
  form.querySelector('input, select, textarea, button')?.focus();
  reloadAudit();
}

async function unlock() {
  clearErrors($('d-locked'));
  const id = store.client.client_id;
  const res = await attempt(api.unlock(id), (e) => showError('d-unlock-error', `Unlock failed: ${describe(e)}`));
  if (!res.ok) return;
  store.clients.loaded = false;
  if (res.value && res.value.client_id === id) {
    applyClient(res.value);
    reloadAudit();
  } else {
    await reloadClient();
  }
  if (!lockedUntil(store.client)) {
    setText('d-flash', 'Unlocked: the client can get tokens again.');
    $('d-title').focus();
  }
}

// A danger-zone action: ask first, then run it with its button busy.
async function afterConfirm(button, question, busyText, act) {
  clearErrors(button.closest('section'));
  if (await confirmDialog(question)) await busy(button, busyText, act);
}

function revokeTokens(button) {
  const c = store.client;
  return afterConfirm(button, {
    title: 'Revoke every token of this client?',
    message: `Every access token “${c.client_name}” holds now stops being active at introspection. The client can get new tokens at once.`,
    ok: 'Revoke all tokens',
  }, 'Revoking…', async () => {
    const res = await attempt(api.revokeTokens(c.client_id), (e) => showError('d-revoke-error', `The tokens were not revoked: ${describe(e)}`));
    if (!res.ok) return;
    applyClient(res.value);
    reloadAudit();
    setText('d-flash', `Revoked: tokens issued until ${formatTime(res.value.tokens_valid_after)} are no longer active.`);
    $('d-title').focus();
  });
}

function deleteClient(button) {
  const c = store.client;
  return afterConfirm(button, {
    title: 'Delete this client?',
    message: `“${c.client_name}” (${c.client_id}) and all of its secrets will be deleted. Applications using it will no longer get tokens. This cannot be undone.`,
    ok: 'Delete client',
  }, 'Deleting…', async () => {
    const res = await attempt(api.deleteClient(c.client_id), (e) => showError('d-delete-error', `The client was not deleted: ${describe(e)}`));
    if (!res.ok) return;
    store.client = null;
    store.clients.loaded = false;
    setText('list-flash', `Deleted client “${c.client_name}”.`);
    location.hash = '#/clients';
  });
}

function bind(signal) {
  const on = (id, type, fn) => $(id).addEventListener(type, fn, { signal });
  on('edit-form', 'submit', (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    clearErrors(form);
    hideConflicts();
    setText('edit-status', '');
    busy(form, 'Saving…', () => submitSettings(form));
  });
  on('e-lockout', 'change', syncLockoutState);
  for (const b of document.querySelectorAll('#view-detail button.reload-client')) {
    b.addEventListener('click', () => busy(b, 'Reloading…', () => reloadAfterConflict(b)), { signal });
  }
  on('d-unlock', 'click', (ev) => busy(ev.currentTarget, 'Unlocking…', unlock));
  on('d-revoke', 'click', (ev) => revokeTokens(ev.currentTarget));
  on('d-delete', 'click', (ev) => deleteClient(ev.currentTarget));
  bindGrants(signal, save);
  bindSecrets(signal, reloadClient);
  bindFederation(signal);
  bindCertificates(signal);
  bindActivity(signal);
  bindCopy($('view-detail'), null, signal);
}

async function open(id) {
  const current = opening.begin();
  clearErrors($('view-detail'));
  hideConflicts();
  for (const sid of ['edit-status', 'grants-status', 'd-flash']) setText(sid, '');
  const client = await openRecord(CLIENT, id, { prefetched: store.prefetchedClient, shown: store.client, current });
  store.prefetchedClient = null;
  if (!client || !current()) return;
  if (!store.client || store.client.client_id !== id) {
    clearActivity();
    clearFederation();
    clearCertificates();
  }
  renderDetail(client);
  show('detail-body', true);
  if (!document.querySelector('dialog[open]')) $('d-title').focus();
  // The resources (for the grant editor), usage and audit trail load alongside.
  loadGrantResources(() => current() && store.client && store.client.client_id === id);
  loadActivity(id);
  loadFederation(client);
  loadCertificates(client);
}

export const clientDetailView = {
  id: 'view-detail',
  nav: 'clients',
  focus: null, // the heading gets focus once the client is in
  template: clientTemplate,

  mount({ id }, signal) {
    bind(signal);
    open(id);
  },

  unmount() { opening.cancel(); },

  reset() {
    $('edit-form').reset();
    resetGrants();
    resetSecrets();
    resetFederation();
    resetCertificates();
    resetActivity();
    show('detail-body', false);
  },
};
