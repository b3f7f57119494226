// edgeauth admin page: sign-in, clients (list, create, detail, secrets, grants, usage, audit),
// resources and the audit trail.
// Plain ES modules, no build step. Server data goes into the DOM through textContent only.

import { api, raw, configure, getToken, setToken, clearToken, describe, tokenEndpoint, ApiError } from './api.js';
import { $, h, setText, show, showError, clearErrors, busy, formatTime, formatDate, now, DAY, copyFrom } from './dom.js';

const SECRET_METHODS = ['client_secret_basic', 'client_secret_post'];
const METHOD_LABELS = {
  client_secret_basic: 'Secret, HTTP Basic',
  client_secret_post: 'Secret, request body',
  client_secret_jwt: 'Secret-signed JWT',
  private_key_jwt: 'Private key JWT',
  none: 'None',
};
const SOON = 30 * DAY;

const state = {
  list: { clients: [], cursor: null, loaded: false },
  client: null,          // the client shown in the detail view
  prefetched: null,      // a client just created, to show without a reload
  grants: [],            // the grants editor's draft: [{resource_id, resource, scopes: Set}]
  clientAudit: { id: null, events: [], cursor: null },
  resources: { items: [], loaded: false },          // every resource (grant editor, names)
  resList: { items: [], cursor: null, loaded: false }, // the Resources screen, page by page
  resource: null,        // the resource shown in the resource view
  prefetchedResource: null,
  audit: { events: [], cursor: null, loaded: false },
};

// ---------------------------------------------------------------- helpers

function methodLabel(m) {
  return METHOD_LABELS[m] || m || '—';
}

function isSecretBased(c) {
  return SECRET_METHODS.includes(c.token_endpoint_auth_method) || c.token_endpoint_auth_method === 'client_secret_jwt';
}

function lockedUntil(c) {
  return typeof c.locked_until === 'number' && c.locked_until > now() ? c.locked_until : null;
}

// {key, text} for a client's status; "locked" only when locked_until is in the future.
function statusOf(c) {
  const until = lockedUntil(c);
  if (until) return { key: 'locked', text: `Locked until ${formatTime(until)}${c.enabled === false ? ' (disabled)' : ''}` };
  return c.enabled === false ? { key: 'disabled', text: 'Disabled' } : { key: 'enabled', text: 'Enabled' };
}

// A table cell that turns into a labelled line on narrow screens (see .table.cards).
function cell(label, ...children) {
  return h('td', { dataset: { label } }, h('div', { class: 'cell' }, ...children));
}

function statusBadge(c) {
  const s = statusOf(c);
  return h('span', { class: `badge badge-${s.key}` }, s.text);
}

// Text marker for a secret's expiry (never colour only).
function expiryTag(expiresAt) {
  if (typeof expiresAt !== 'number') return null;
  const left = expiresAt - now();
  if (left <= 0) return h('span', { class: 'tag tag-expired' }, 'Expired');
  if (left < SOON) {
    const days = Math.floor(left / DAY);
    const when = days < 1 ? 'in under a day' : `in ${days} day${days === 1 ? '' : 's'}`;
    return h('span', { class: 'tag tag-soon' }, `Expires soon: ${when}`);
  }
  return null;
}

function nearestExpiryCell(secrets) {
  const list = Array.isArray(secrets) ? secrets : [];
  if (!list.length) return ['No secrets'];
  const t = now();
  const expired = list.filter((s) => typeof s.expires_at === 'number' && s.expires_at <= t).length;
  const future = list.map((s) => s.expires_at).filter((e) => typeof e === 'number' && e > t).sort((a, b) => a - b);
  const out = [];
  if (future.length) out.push(formatDate(future[0]), ' ', expiryTag(future[0]));
  else if (expired < list.length) out.push('Never');
  if (expired) out.push(' ', h('span', { class: 'tag tag-expired' }, `${expired} expired`));
  return out;
}

const formEncode = (s) => new URLSearchParams([['', s]]).toString().slice(1);
const shellQuote = (s) => (/^[A-Za-z0-9_:/.\-~%+@]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function expiryFrom(selectId, dateId, dateErrId) {
  const v = $(selectId).value;
  if (v === '1y') return { expires_in: 365 * DAY };
  if (v === '2y') return { expires_in: 730 * DAY };
  if (v === 'never') return { expires_at: 0 };
  const d = $(dateId).value;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  if (!m) {
    showError(dateErrId, 'Choose an expiry date.', dateId);
    return null;
  }
  const at = Math.floor(Date.UTC(+m[1], +m[2] - 1, +m[3], 23, 59, 59) / 1000);
  if (at <= now()) {
    showError(dateErrId, 'The expiry date must be in the future.', dateId);
    return null;
  }
  return { expires_at: at };
}

function parseJwks(text, errId, fieldId) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    showError(errId, `Not valid JSON: ${e.message}`, fieldId);
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Array.isArray(v.keys) || v.keys.length === 0) {
    showError(errId, 'Expected a JWK Set: {"keys": [ … ]} with at least one key.', fieldId);
    return null;
  }
  if (v.keys.some((k) => !k || typeof k !== 'object' || Array.isArray(k))) {
    showError(errId, 'Every entry of "keys" must be a JWK object.', fieldId);
    return null;
  }
  if (v.keys.some((k) => 'd' in k || 'p' in k || 'k' in k)) {
    showError(errId, 'A key holds private or symmetric key material ("d", "p" or "k"). Paste public keys only.', fieldId);
    return null;
  }
  return v;
}

async function readPem(inputId, errId) {
  const file = $(inputId).files && $(inputId).files[0];
  if (!file) {
    showError(errId, 'Choose a PEM file holding the public key.', inputId);
    return null;
  }
  if (file.size > 16 * 1024) {
    showError(errId, 'That file is too large for a public key (over 16 KiB).', inputId);
    return null;
  }
  const text = await file.text();
  if (/PRIVATE KEY/.test(text)) {
    showError(errId, 'This file holds a private key. Upload the public key only, and keep the private key secret.', inputId);
    return null;
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    showError(errId, 'This does not look like a PEM file (no "-----BEGIN …-----" line).', inputId);
    return null;
  }
  return text;
}

function validLifetime(inputId, errId, required) {
  const raw = $(inputId).value.trim();
  if (!raw && !required) return undefined;
  const n = Number(raw);
  if (!raw || !Number.isInteger(n) || n < 60 || n > 86400) {
    showError(errId, 'Enter a whole number of seconds from 60 to 86400.', inputId);
    return null;
  }
  return n;
}

const linesOf = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const scopeOf = (text) => text.trim().split(/\s+/).filter(Boolean).join(' ');

// ---------------------------------------------------------------- dialogs

function confirmDialog({ title, message, ok }) {
  const dlg = $('confirm-dialog');
  setText('cd-title', title);
  setText('cd-message', message);
  setText('cd-ok', ok);
  dlg.returnValue = '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}

// Shows a freshly made secret once. Everything is cleared when the dialog closes.
async function showSecret(clientId, secret) {
  const endpoint = await tokenEndpoint();
  setText('sd-client-id', clientId);
  setText('sd-client-secret', secret.client_secret);
  setText('sd-expires', typeof secret.expires_at === 'number' ? formatTime(secret.expires_at) : 'Never');
  setText('sd-token-endpoint', endpoint);
  setText('sd-curl',
    `curl -u "${formEncode(clientId)}:${formEncode(secret.client_secret)}" -d grant_type=client_credentials ${shellQuote(endpoint)}`);
  setText('sd-copy-status', '');
  $('secret-dialog').showModal();
}

function wipeSecretDialog() {
  for (const id of ['sd-client-id', 'sd-client-secret', 'sd-expires', 'sd-token-endpoint', 'sd-curl', 'sd-copy-status']) {
    setText(id, '');
  }
  getSelection()?.removeAllRanges();
}

// ---------------------------------------------------------------- views and routing

const VIEWS = ['view-signin', 'view-list', 'view-create', 'view-detail', 'view-resources', 'view-resource', 'view-audit'];

function setNav(key) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function showView(id, focus = true) {
  for (const v of VIEWS) show(v, v === id);
  const signedIn = id !== 'view-signin';
  show('nav', signedIn);
  show('sign-out', signedIn);
  if (focus && !document.querySelector('dialog[open]')) {
    const target = id === 'view-signin' ? $('signin-token') : $(id).querySelector('h1');
    target?.focus();
  }
}

function route() {
  if (!getToken()) {
    showView('view-signin');
    return;
  }
  const hash = location.hash.replace(/^#/, '') || '/clients';
  let m;
  if (hash === '/clients/new') {
    setNav('new');
    openCreate();
  } else if ((m = /^\/clients\/([^/]+)$/.exec(hash))) {
    setNav('clients');
    openDetail(decodeURIComponent(m[1]));
  } else if (hash === '/resources') {
    setNav('resources');
    openResources();
  } else if (hash === '/resources/new') {
    setNav('resources');
    openResource(null);
  } else if ((m = /^\/resources\/([^/]+)$/.exec(hash))) {
    setNav('resources');
    openResource(decodeURIComponent(m[1]));
  } else if (hash === '/audit') {
    setNav('audit');
    openAudit();
  } else {
    setNav('clients');
    openList();
  }
}

function signOut(message, isError = false) {
  clearToken();
  state.list = { clients: [], cursor: null, loaded: false };
  state.client = null;
  state.prefetched = null;
  state.grants = [];
  state.clientAudit = { id: null, events: [], cursor: null };
  state.resources = { items: [], loaded: false };
  state.resList = { items: [], cursor: null, loaded: false };
  state.resource = null;
  state.prefetchedResource = null;
  state.audit = { events: [], cursor: null, loaded: false };
  $('secret-dialog').close();
  $('confirm-dialog').close();
  $('create-form').reset();
  $('edit-form').reset();
  $('add-secret-form').reset();
  $('resource-form').reset();
  for (const id of ['client-rows', 'd-secret-rows', 'g-list', 'd-audit-rows', 'usage-bars', 'usage-table-rows', 'res-rows',
    'r-scopes', 'r-holder-list', 'audit-rows']) $(id).replaceChildren();
  show('detail-body', false);
  clearErrors($('signin-form'));
  setText('signin-status', isError ? '' : message);
  if (isError) showError('signin-error', message, 'signin-token');
  showView('view-signin');
}

// ---------------------------------------------------------------- sign-in

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors(form);
  setText('signin-status', '');
  const token = $('signin-token').value.trim();
  if (!token) {
    showError('signin-error', 'Enter the admin token.', 'signin-token');
    return;
  }
  await busy(form, 'Signing in…', async () => {
    try {
      const { status, json } = await raw('GET', '/admin/clients?limit=50', undefined, token);
      if (status === 401) {
        showError('signin-error', 'That admin token was refused (HTTP 401 Unauthorized). Check it and try again.', 'signin-token');
        $('signin-token').select();
        return;
      }
      if (status !== 200 || !json) {
        throw new ApiError(status, json && json.error, json && json.error_description);
      }
      setToken(token);
      form.reset();
      state.list = { clients: json.clients || [], cursor: json.next_cursor || null, loaded: true, fresh: true };
      route();
    } catch (e) {
      showError('signin-error', describe(e), 'signin-token');
    }
  });
});

$('sign-out').addEventListener('click', () => signOut('Signed out. The admin token was removed from this tab.'));

configure({
  unauthorized: () => signOut('The admin token is no longer accepted (HTTP 401). Sign in again.', true),
  busy: (on) => {
    $('busy').classList.toggle('on', on);
    setText('busy-text', on ? 'Working…' : '');
  },
});

// ---------------------------------------------------------------- list

// Always fetch the first page afresh; rows already known stay on screen meanwhile.
async function openList() {
  showView('view-list');
  clearErrors($('view-list'));
  renderList();
  if (state.list.fresh) state.list.fresh = false; // just fetched by the sign-in
  else await loadPage(null);
}

async function loadPage(cursor) {
  try {
    const page = await api.listClients(cursor);
    const fresh = page.clients || [];
    if (!cursor) {
      state.list.clients = fresh;
    } else {
      const seen = new Set(state.list.clients.map((c) => c.client_id));
      for (const c of fresh) if (!seen.has(c.client_id)) state.list.clients.push(c);
    }
    state.list.cursor = page.next_cursor || null;
    state.list.loaded = true;
  } catch (e) {
    if (e.status !== 401) showError('list-error', `Could not load clients: ${describe(e)}`);
  }
  renderList();
}

function matches(c, q) {
  if (!q) return true;
  return String(c.client_name || '').toLowerCase().includes(q) || String(c.client_id || '').toLowerCase().includes(q);
}

function renderList() {
  const q = $('list-search').value.trim().toLowerCase();
  const all = state.list.clients;
  const rows = all.filter((c) => matches(c, q));
  $('client-rows').replaceChildren(...rows.map((c) => {
    const secrets = Array.isArray(c.secrets) ? c.secrets : [];
    return h('tr', {},
      cell('Name', h('a', { href: `#/clients/${encodeURIComponent(c.client_id)}` }, c.client_name || '(unnamed)')),
      cell('Client ID', h('code', {}, c.client_id)),
      cell('Status', statusBadge(c)),
      cell('Auth method', methodLabel(c.token_endpoint_auth_method)),
      cell('Secrets', isSecretBased(c) || secrets.length ? String(secrets.length) : '—'),
      cell('Nearest expiry', ...nearestExpiryCell(secrets)));
  }));
  const more = Boolean(state.list.cursor);
  show('list-more', more);
  show('client-table', rows.length > 0);
  show('list-empty', state.list.loaded && all.length === 0 && !q);
  let summary = '';
  if (!state.list.loaded) summary = 'Loading clients…';
  else if (q) summary = `${rows.length} of ${all.length} loaded client${all.length === 1 ? '' : 's'} match.`;
  else if (all.length) summary = `${all.length} client${all.length === 1 ? '' : 's'}${more ? ' loaded' : ''}.`;
  if (state.list.loaded && more) summary += ' More on the server: use “Load more” to search them too.';
  setText('list-summary', summary);
}

$('list-search').addEventListener('input', renderList);
$('list-more').addEventListener('click', (ev) =>
  busy(ev.currentTarget, 'Loading…', () => loadPage(state.list.cursor)));

// ---------------------------------------------------------------- create

function openCreate() {
  showView('view-create');
  syncCreateMethod();
}

function createMethod() {
  return $('create-form').querySelector('input[name=method]:checked').value;
}

function syncCreateMethod() {
  const m = createMethod();
  show('c-secret-fields', SECRET_METHODS.includes(m));
  show('c-jwks-uri-field', m === 'jwks_uri');
  show('c-pem-field', m === 'pem');
  show('c-jwks-field', m === 'jwks');
  show('c-secret-date-field', $('c-secret-expiry').value === 'date');
}

for (const r of document.querySelectorAll('#create-form input[name=method]')) r.addEventListener('change', syncCreateMethod);
$('c-secret-expiry').addEventListener('change', syncCreateMethod);
$('s-expiry').addEventListener('change', () => show('s-date-field', $('s-expiry').value === 'date'));

$('create-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors(form);
  await busy(form, 'Creating…', async () => {
    const body = {};
    let ok = true;
    const name = $('c-name').value.trim();
    if (!name) {
      showError('c-name-error', 'A name is required.', 'c-name');
      ok = false;
    } else body.client_name = name;
    const description = $('c-description').value.trim();
    if (description) body.description = description;

    const m = createMethod();
    if (SECRET_METHODS.includes(m)) {
      body.token_endpoint_auth_method = m;
      const expiry = expiryFrom('c-secret-expiry', 'c-secret-date', 'c-secret-date-error');
      if (!expiry) ok = false;
      const secret = { ...expiry };
      const sd = $('c-secret-description').value.trim();
      if (sd) secret.description = sd;
      body.secret = secret;
    } else {
      body.token_endpoint_auth_method = 'private_key_jwt';
      if (m === 'jwks_uri') {
        const u = $('c-jwks-uri').value.trim();
        if (!/^https?:\/\/\S+$/i.test(u)) {
          showError('c-jwks-uri-error', 'Enter the https:// URL of the JWK Set.', 'c-jwks-uri');
          ok = false;
        } else body.jwks_uri = u;
      } else if (m === 'pem') {
        const pem = await readPem('c-pem', 'c-pem-error');
        if (pem === null) ok = false;
        else body.public_key_pem = pem;
      } else {
        const jwks = parseJwks($('c-jwks').value, 'c-jwks-error', 'c-jwks');
        if (!jwks) ok = false;
        else body.jwks = jwks;
      }
    }

    const scope = scopeOf($('c-scope').value);
    if (scope) body.scope = scope;
    const resources = linesOf($('c-resources').value);
    if (resources.length) body.resources = resources;
    const lifetime = validLifetime('c-lifetime', 'c-lifetime-error', false);
    if (lifetime === null) ok = false;
    else if (lifetime !== undefined) body.access_token_lifetime = lifetime;

    if (!ok) {
      form.querySelector('[aria-invalid=true]')?.focus();
      return;
    }
    let res;
    try {
      res = await api.createClient(body);
    } catch (e) {
      if (e.status !== 401) showError('create-error', `The client was not created: ${describe(e)}`);
      return;
    }
    form.reset();
    syncCreateMethod();
    state.list.loaded = false;
    const client = res.client;
    state.prefetched = client;
    location.hash = `#/clients/${encodeURIComponent(client.client_id)}`;
    if (res.secret && res.secret.client_secret) await showSecret(client.client_id, res.secret);
    res = null;
  });
});

// ---------------------------------------------------------------- detail

let detailSeq = 0; // ignore answers for a client the user has already navigated away from

async function openDetail(id) {
  const seq = ++detailSeq;
  showView('view-detail', false);
  clearErrors($('view-detail'));
  hideConflicts();
  for (const sid of ['edit-status', 'grants-status', 'd-flash']) setText(sid, '');
  let client = state.prefetched && state.prefetched.client_id === id ? state.prefetched : null;
  state.prefetched = null;
  if (!client) {
    if (!state.client || state.client.client_id !== id) show('detail-body', false);
    try {
      client = await api.getClient(id);
    } catch (e) {
      if (e.status === 401 || seq !== detailSeq) return;
      show('detail-body', false);
      showError('detail-load-error', e.status === 404 ? 'No client with this ID: it may have been deleted.' : `Could not load the client: ${describe(e)}`);
      return;
    }
  }
  if (seq !== detailSeq) return;
  if (state.clientAudit.id !== id) {
    state.clientAudit = { id, events: [], cursor: null };
    renderClientAudit();
    $('usage-bars').replaceChildren();
    $('usage-table-rows').replaceChildren();
    setText('usage-summary', 'Loading usage…');
  }
  renderDetail(client);
  show('detail-body', true);
  if (!document.querySelector('dialog[open]')) $('d-title').focus();
  // The resources (for the grant editor), usage and audit trail load alongside.
  ensureResources(true).then(() => { if (state.client && state.client.client_id === id) renderGrants(); });
  loadUsage(id);
  loadClientAudit(null);
}

// Re-read the client after a change made elsewhere on the page (secrets, unlock):
// the header and secrets are refreshed, unsaved edits in the settings and grants forms stay.
async function reloadDetail() {
  const id = state.client.client_id;
  try {
    applyClient(await api.getClient(id));
  } catch (e) {
    if (e.status !== 401) showError('d-secrets-error', `Could not reload the client: ${describe(e)}`);
  }
  loadClientAudit(null);
}

function applyClient(c) {
  state.client = c;
  renderHeader(c);
  renderSecrets(c);
}

function renderDetail(c) {
  state.client = c;
  renderHeader(c);
  renderSettings(c);
  renderSecrets(c);
  state.grants = grantsFromClient(c);
  renderGrants();
}

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
  if (failed !== null) lockout += ` · ${failed} failed attempt${failed === 1 ? '' : 's'} since the last success`;
  setText('d-lockout', lockout);
  show('d-version-fact', typeof c.version === 'number');
  setText('d-version', c.version);

  const until = lockedUntil(c);
  show('d-locked', Boolean(until));
  if (until) {
    const after = failed ? `${failed} failed authentication${failed === 1 ? '' : 's'}` : 'repeated failed authentications';
    setText('d-locked-text', `This client is locked until ${formatTime(until)} after ${after}. Token requests are refused until then, or until you unlock it.`);
  }
}

function renderSettings(c) {
  $('e-name').value = c.client_name || '';
  $('e-description').value = c.description || '';
  $('e-enabled').checked = c.enabled !== false;
  show('e-lockout-field', typeof c.lockout_enabled === 'boolean');
  $('e-lockout').checked = c.lockout_enabled === true;
  syncLockoutState();
  const secretMethod = SECRET_METHODS.includes(c.token_endpoint_auth_method);
  show('e-method-field', secretMethod);
  if (secretMethod) $('e-method').value = c.token_endpoint_auth_method;
  $('e-lifetime').value = c.access_token_lifetime ?? '';
  $('e-scope').value = c.scope || '';
  $('e-resources').value = (c.resources || []).join('\n');
  const keyBased = !isSecretBased(c) || c.jwks || c.jwks_uri;
  show('e-keys', Boolean(keyBased));
  $('e-jwks-uri').value = c.jwks_uri || '';
  $('e-jwks').value = c.jwks ? JSON.stringify(c.jwks, null, 2) : '';
  $('e-pem').value = '';
}

function renderSecrets(c) {
  const secrets = Array.isArray(c.secrets) ? [...c.secrets] : [];
  const usesSecrets = isSecretBased(c) || secrets.length > 0;
  show('d-secrets-none', !usesSecrets);
  show('d-secrets-body', usesSecrets);
  secrets.sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
  $('d-secret-rows').replaceChildren(...secrets.map(secretRow));
  show($('d-secret-rows').closest('table'), secrets.length > 0);
  show('d-secrets-empty', secrets.length === 0);
}

function secretRow(s) {
  const tag = expiryTag(s.expires_at);
  const label = s.description || '(no description)';
  const row = h('tr', { class: tag ? `row-${tag.className.split(' ')[1]}` : '' },
    cell('Description', label),
    cell('Created', formatTime(s.created_at)),
    cell('Expires', typeof s.expires_at === 'number' ? formatTime(s.expires_at) : 'Never', tag ? ' ' : '', tag),
    cell('Last used', typeof s.last_used_at === 'number' ? formatTime(s.last_used_at) : 'Never'),
    h('td', { class: 'actions-cell' },
      h('button', {
        type: 'button',
        class: 'danger small',
        'aria-label': `Delete secret ${label}, created ${formatTime(s.created_at)}`,
        onclick: (ev) => deleteSecret(ev.currentTarget, s, label),
      }, 'Delete')));
  return row;
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
    try {
      await api.deleteSecret(state.client.client_id, s.secret_id);
      state.list.loaded = false;
      await reloadDetail();
    } catch (e) {
      if (e.status !== 401) showError('d-secrets-error', `The secret was not deleted: ${describe(e)}`);
    }
  });
}

$('add-secret-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors($('d-secrets'));
  const expiry = expiryFrom('s-expiry', 's-date', 's-date-error');
  if (!expiry) return;
  const body = { ...expiry };
  const d = $('s-description').value.trim();
  if (d) body.description = d;
  await busy(form, 'Adding…', async () => {
    const id = state.client.client_id;
    let secret;
    try {
      secret = await api.addSecret(id, body);
    } catch (e) {
      if (e.status !== 401) showError('add-secret-error', `The secret was not added: ${describe(e)}`);
      return;
    }
    form.reset();
    show('s-date-field', false);
    state.list.loaded = false;
    await showSecret(id, secret);
    secret = null;
    await reloadDetail();
  });
});

$('edit-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const c = state.client;
  clearErrors(form);
  hideConflicts();
  setText('edit-status', '');
  await busy(form, 'Saving…', async () => {
    const patch = {};
    let ok = true;
    const name = $('e-name').value.trim();
    if (!name) {
      showError('e-name-error', 'A name is required.', 'e-name');
      ok = false;
    } else if (name !== c.client_name) patch.client_name = name;
    const description = $('e-description').value.trim();
    if (description !== (c.description || '')) patch.description = description;
    if ($('e-enabled').checked !== (c.enabled !== false)) patch.enabled = $('e-enabled').checked;
    if (typeof c.lockout_enabled === 'boolean' && $('e-lockout').checked !== c.lockout_enabled) {
      patch.lockout_enabled = $('e-lockout').checked;
    }
    if (SECRET_METHODS.includes(c.token_endpoint_auth_method) && $('e-method').value !== c.token_endpoint_auth_method) {
      patch.token_endpoint_auth_method = $('e-method').value;
    }
    const lifetime = validLifetime('e-lifetime', 'e-lifetime-error', true);
    if (lifetime === null) ok = false;
    else if (lifetime !== c.access_token_lifetime) patch.access_token_lifetime = lifetime;
    const scope = scopeOf($('e-scope').value);
    if (scope !== (c.scope || '')) patch.scope = scope;
    const resources = linesOf($('e-resources').value);
    if (JSON.stringify(resources) !== JSON.stringify(c.resources || [])) patch.resources = resources;

    if (!$('e-keys').hidden) {
      const uri = $('e-jwks-uri').value.trim();
      if (uri !== (c.jwks_uri || '')) {
        if (uri && !/^https?:\/\/\S+$/i.test(uri)) {
          showError('e-jwks-uri-error', 'Enter the https:// URL of the JWK Set.', 'e-jwks-uri');
          ok = false;
        } else patch.jwks_uri = uri || null;
      }
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
    }

    if (!ok) {
      form.querySelector('[aria-invalid=true]')?.focus();
      return;
    }
    if (!Object.keys(patch).length) {
      setText('edit-status', 'No changes to save.');
      return;
    }
    try {
      const updated = await api.updateClient(c.client_id, withVersion(c, patch));
      state.list.loaded = false;
      const next = updated && updated.client_id ? updated : { ...c, ...patch };
      applyClient(next);
      renderSettings(next);
      setText('edit-status', 'Saved.');
      loadClientAudit(null);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 409) showConflict('edit-conflict', e);
      else showError('edit-error', `Not saved: ${describe(e)}`);
    }
  });
});

$('e-lockout').addEventListener('change', syncLockoutState);

function syncLockoutState() {
  setText('e-lockout-state', $('e-lockout').checked ? 'on' : 'off');
}

// PATCH precondition: the version this form was filled from (records without one skip it).
function withVersion(c, patch) {
  return typeof c.version === 'number' ? { ...patch, version: c.version } : patch;
}

function hideConflicts() {
  for (const id of ['edit-conflict', 'grants-conflict']) show(id, false);
}

function showConflict(id, e) {
  const why = e.description || 'the client changed since you read it';
  setText(`${id}-text`,
    `Not saved: ${why} (HTTP 409). Someone else, or another tab, changed this client after this page read it. `
    + 'Reload the client to see its current state, then make your change again.');
  show(id, true);
  $(id).querySelector('button').focus();
}

for (const b of document.querySelectorAll('button.reload-client')) {
  b.addEventListener('click', () => busy(b, 'Reloading…', async () => {
    const box = b.closest('.conflict');
    const form = b.closest('form');
    try {
      const c = await api.getClient(state.client.client_id);
      renderDetail(c);
      hideConflicts();
      clearErrors(form);
      const status = form.id === 'grants-form' ? 'grants-status' : 'edit-status';
      setText(status, `Reloaded (version ${c.version ?? '—'}). Make your change again and save.`);
      form.querySelector('input, select, textarea, button')?.focus();
      loadClientAudit(null);
    } catch (e) {
      if (e.status !== 401) setText(`${box.id}-text`, `Could not reload the client: ${describe(e)}`);
    }
  }));
}

$('d-unlock').addEventListener('click', (ev) => busy(ev.currentTarget, 'Unlocking…', async () => {
  clearErrors($('d-locked'));
  let updated;
  try {
    updated = await api.unlock(state.client.client_id);
  } catch (e) {
    if (e.status !== 401) showError('d-unlock-error', `Unlock failed: ${describe(e)}`);
    return;
  }
  state.list.loaded = false;
  if (updated && updated.client_id === state.client.client_id) {
    applyClient(updated);
    loadClientAudit(null);
  } else {
    await reloadDetail();
  }
  if (!lockedUntil(state.client)) {
    setText('d-flash', 'Unlocked: the client can get tokens again.');
    $('d-title').focus();
  }
}));

$('d-delete').addEventListener('click', async (ev) => {
  const button = ev.currentTarget;
  const c = state.client;
  clearErrors(button.closest('section'));
  const yes = await confirmDialog({
    title: 'Delete this client?',
    message: `“${c.client_name}” (${c.client_id}) and all of its secrets will be deleted. Applications using it will no longer get tokens. This cannot be undone.`,
    ok: 'Delete client',
  });
  if (!yes) return;
  await busy(button, 'Deleting…', async () => {
    try {
      await api.deleteClient(c.client_id);
    } catch (e) {
      if (e.status !== 401) showError('d-delete-error', `The client was not deleted: ${describe(e)}`);
      return;
    }
    state.client = null;
    state.list.loaded = false;
    setText('list-flash', `Deleted client “${c.client_name}”.`);
    location.hash = '#/clients';
  });
});

// ---------------------------------------------------------------- grants

let uid = 0; // unique ids for generated inputs
const nextId = (prefix) => `${prefix}-${++uid}`;

function grantsFromClient(c) {
  return (Array.isArray(c.grants) ? c.grants : []).map((g) => ({
    resource_id: g.resource_id,
    resource: g.resource,
    scopes: new Set(scopeOf(g.scope || '').split(' ').filter(Boolean)),
  }));
}

function resourceFor(g) {
  const items = state.resources.items;
  return items.find((r) => r.resource_id === g.resource_id) || items.find((r) => r.identifier === g.resource) || null;
}

// Load every resource (all pages) once per visit of a client; the grant editor needs them all.
async function ensureResources(force = false) {
  if (state.resources.loaded && !force && !state.resources.stale) return state.resources.items;
  const items = [];
  let cursor = null;
  try {
    for (let i = 0; i < 50; i += 1) {
      const page = await api.listResources(cursor, 100);
      items.push(...(page.resources || []));
      cursor = page.next_cursor || null;
      if (!cursor) break;
    }
    state.resources = { items, loaded: true };
  } catch (e) {
    if (e.status !== 401 && !$('view-detail').hidden) showError('grants-error', `Could not load the resources: ${describe(e)}`);
  }
  return state.resources.items;
}

function grantsDirty() {
  const c = state.client;
  if (!c) return false;
  const norm = (list) => JSON.stringify(list.map((g) => [g.resource_id || g.resource, [...g.scopes].sort()]));
  return norm(state.grants) !== norm(grantsFromClient(c));
}

function markGrantsDirty() {
  setText('grants-status', grantsDirty() ? 'Unsaved changes.' : '');
}

function renderGrants() {
  $('g-list').replaceChildren(...state.grants.map((g, i) => grantFieldset(g, i)));
  show('g-empty', state.grants.length === 0);
  const granted = new Set(state.grants.map((g) => g.resource_id));
  const available = state.resources.items.filter((r) => !granted.has(r.resource_id));
  const select = $('g-add-resource');
  select.replaceChildren(...available.map((r) => h('option', { value: r.resource_id }, `${r.name} (${r.identifier})`)));
  show('g-add-row', available.length > 0);
  show('g-no-resources', state.resources.loaded && state.resources.items.length === 0);
}

function grantFieldset(g, index) {
  const r = resourceFor(g);
  const title = r ? r.name : g.resource;
  const defined = r ? (r.scopes || []) : [];
  const known = new Set(defined.map((s) => s.value));
  const stale = r ? [...g.scopes].filter((s) => !known.has(s)) : [];
  const boxes = defined.map((s) => {
    const id = nextId('g-scope');
    return h('div', { class: 'check' },
      h('input', {
        type: 'checkbox', id, value: s.value, checked: g.scopes.has(s.value),
        onchange: (ev) => {
          if (ev.currentTarget.checked) g.scopes.add(s.value); else g.scopes.delete(s.value);
          markGrantsDirty();
        },
      }),
      h('label', { for: id }, h('code', {}, s.value), s.description ? h('span', { class: 'hint' }, s.description) : null));
  });
  return h('fieldset', { class: 'group grant', dataset: { resource: g.resource } },
    h('legend', {}, title, index === 0 ? h('span', { class: 'tag tag-default' }, 'default audience') : null),
    h('p', { class: 'grant-id' }, h('code', {}, g.resource),
      r && typeof r.access_token_lifetime === 'number' ? h('span', { class: 'hint' }, ` · tokens at most ${durationText(r.access_token_lifetime)}`) : null),
    r ? null : h('p', { class: 'muted' }, state.resources.loaded
      ? 'This resource is not among the registered resources; its scopes cannot be edited here.'
      : 'Loading the resource’s scopes…'),
    r && defined.length === 0 ? h('p', { class: 'muted' }, 'This resource defines no scopes: its tokens carry no scope.') : null,
    boxes.length ? h('div', { class: 'scope-checks', role: 'group', 'aria-label': `Scopes granted on ${title}` }, ...boxes) : null,
    stale.length ? h('p', { class: 'note' }, `No longer defined by the resource, dropped when you save: ${stale.join(', ')}`) : null,
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'danger small', 'aria-label': `Remove the grant on ${title}`,
        onclick: () => {
          state.grants.splice(index, 1);
          renderGrants();
          markGrantsDirty();
          const next = $('g-list').querySelectorAll('fieldset.grant')[index] || $('g-list').lastElementChild;
          let target = next ? next.querySelector('input, button') : null;
          if (!target) target = $('g-add-row').hidden ? $('grants-form').querySelector('button[type=submit]') : $('g-add-resource');
          target.focus();
        },
      }, 'Remove grant')));
}

$('g-add').addEventListener('click', () => {
  clearErrors($('grants-form'));
  const id = $('g-add-resource').value;
  const r = state.resources.items.find((x) => x.resource_id === id);
  if (!r) {
    showError('g-add-error', 'Choose a resource to grant.', 'g-add-resource');
    return;
  }
  if (state.grants.length >= 20) {
    showError('g-add-error', 'A client can hold at most 20 grants.', 'g-add-resource');
    return;
  }
  state.grants.push({ resource_id: r.resource_id, resource: r.identifier, scopes: new Set() });
  renderGrants();
  markGrantsDirty();
  const added = $('g-list').lastElementChild;
  (added.querySelector('input') || added.querySelector('button')).focus();
});

$('grants-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const c = state.client;
  clearErrors(form);
  hideConflicts();
  setText('grants-status', '');
  const grants = state.grants.map((g) => {
    const r = resourceFor(g);
    const scopes = r ? (r.scopes || []).map((s) => s.value).filter((v) => g.scopes.has(v)) : [...g.scopes];
    return { resource: r ? r.identifier : g.resource, scope: scopes.join(' ') };
  });
  await busy(form, 'Saving…', async () => {
    try {
      const updated = await api.updateClient(c.client_id, withVersion(c, { grants }));
      state.list.loaded = false;
      applyClient(updated);
      state.grants = grantsFromClient(updated);
      renderGrants();
      setText('grants-status', 'Grants saved.');
      loadClientAudit(null);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 409) showConflict('grants-conflict', e);
      else showError('grants-error', `Grants not saved: ${describe(e)}`);
    }
  });
});

// ---------------------------------------------------------------- usage

async function loadUsage(id) {
  clearErrors($('d-usage'));
  let usage;
  try {
    usage = await api.clientUsage(id);
  } catch (e) {
    if (e.status !== 401 && state.client && state.client.client_id === id) {
      setText('usage-summary', '');
      showError('usage-error', `Could not load usage: ${describe(e)}`);
    }
    return;
  }
  if (!state.client || state.client.client_id !== id) return;
  renderUsage(Array.isArray(usage && usage.days) ? usage.days : []);
}

const plural = (n, word) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

function renderUsage(days) {
  const counts = days.map((d) => (typeof d.tokens === 'number' ? d.tokens : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...counts);
  let summary = 'No tokens issued in the last 30 days.';
  if (total) {
    const peak = days[counts.indexOf(max)];
    const today = counts[counts.length - 1] || 0;
    summary = `${plural(total, 'token')} in the last ${days.length} days; busiest day ${peak.date} (${plural(max, 'token')}); today ${plural(today, 'token')}.`;
  }
  setText('usage-summary', summary);
  $('usage-bars').replaceChildren(...days.map((d, i) => {
    const n = counts[i];
    const bar = h('span', { class: n ? 'bar' : 'bar zero', 'aria-hidden': 'true' });
    // CSSOM, not a style attribute: allowed under the page's style-src 'self'.
    if (max) bar.style.height = n ? `${Math.max(4, Math.round((n / max) * 100))}%` : '';
    return h('li', { title: `${d.date}: ${plural(n, 'token')}` }, bar, h('span', { class: 'visually-hidden' }, `${d.date}: ${plural(n, 'token')}`));
  }));
  setText('usage-first', days.length ? days[0].date : '');
  setText('usage-last', days.length ? days[days.length - 1].date : '');
  $('usage-table-rows').replaceChildren(...[...days].reverse().map((d) =>
    h('tr', {}, h('td', {}, d.date), h('td', { class: 'num' }, (typeof d.tokens === 'number' ? d.tokens : 0).toLocaleString('en-US')))));
}

// ---------------------------------------------------------------- audit (client and global)

function durationText(s) {
  if (typeof s !== 'number') return '—';
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

function clientName(id) {
  const c = (state.client && state.client.client_id === id) ? state.client : state.list.clients.find((x) => x.client_id === id);
  return c ? c.client_name : null;
}

function subjectOf(ev) {
  const out = [];
  if (ev.client_id) {
    const name = clientName(ev.client_id);
    out.push(h('span', { class: 'subject' }, 'Client ',
      h('a', { href: `#/clients/${encodeURIComponent(ev.client_id)}` }, name || h('code', {}, ev.client_id))));
  }
  if (ev.resource_id) {
    const r = state.resources.items.find((x) => x.resource_id === ev.resource_id);
    out.push(h('span', { class: 'subject' }, 'Resource ',
      h('a', { href: `#/resources/${encodeURIComponent(ev.resource_id)}` }, r ? r.name : h('code', {}, ev.resource_id))));
  }
  return out.length ? out : ['—'];
}

function auditRow(ev, withSubject) {
  const when = typeof ev.at === 'number'
    ? h('time', { datetime: new Date(ev.at * 1000).toISOString() }, formatTime(ev.at)) : '—';
  return h('tr', { dataset: { event: ev.event_id } },
    cell('When', when),
    cell('Actor', ev.actor || '—'),
    cell('Action', h('code', {}, ev.action || '—')),
    withSubject ? cell('Subject', ...subjectOf(ev)) : null,
    cell('Detail', ev.detail || ''));
}

function mergeEvents(list, fresh) {
  const seen = new Set(list.map((e) => e.event_id));
  return [...list, ...fresh.filter((e) => !seen.has(e.event_id))];
}

async function loadClientAudit(cursor) {
  if (!state.client) return;
  const id = state.client.client_id;
  clearErrors($('d-audit'));
  let page;
  try {
    page = await api.clientAudit(id, cursor, 20);
  } catch (e) {
    if (e.status !== 401 && state.client && state.client.client_id === id) showError('d-audit-error', `Could not load the audit trail: ${describe(e)}`);
    return;
  }
  if (!state.client || state.client.client_id !== id) return;
  const events = page.events || [];
  state.clientAudit = {
    id,
    events: cursor ? mergeEvents(state.clientAudit.events, events) : events,
    cursor: page.next_cursor || null,
    loaded: true,
  };
  renderClientAudit();
}

function renderClientAudit() {
  const { events, cursor, loaded } = state.clientAudit;
  $('d-audit-rows').replaceChildren(...events.map((ev) => auditRow(ev, false)));
  show('d-audit-table', events.length > 0);
  show('d-audit-empty', Boolean(loaded) && events.length === 0);
  show('d-audit-more', Boolean(cursor));
}

$('d-audit-more').addEventListener('click', (ev) =>
  busy(ev.currentTarget, 'Loading…', () => loadClientAudit(state.clientAudit.cursor)));
$('d-audit-refresh').addEventListener('click', (ev) =>
  busy(ev.currentTarget, 'Refreshing…', () => loadClientAudit(null)));

async function openAudit() {
  showView('view-audit');
  clearErrors($('view-audit'));
  renderAudit();
  await loadAudit(null);
  // Names for the subject column, when not known yet (one refresh per visit).
  const waits = [];
  const unknownResource = state.audit.events.some((ev) => ev.resource_id && !state.resources.items.some((r) => r.resource_id === ev.resource_id));
  if (unknownResource) waits.push(ensureResources(true));
  if (state.audit.events.some((ev) => ev.client_id && !clientName(ev.client_id))) waits.push(loadPage(null));
  if (waits.length) {
    await Promise.all(waits);
    if (!$('view-audit').hidden) renderAudit();
  }
}

async function loadAudit(cursor) {
  clearErrors($('view-audit'));
  try {
    const page = await api.audit(cursor, 50);
    const events = page.events || [];
    state.audit = {
      events: cursor ? mergeEvents(state.audit.events, events) : events,
      cursor: page.next_cursor || null,
      loaded: true,
    };
  } catch (e) {
    if (e.status !== 401) showError('audit-error', `Could not load the audit trail: ${describe(e)}`);
  }
  renderAudit();
}

function renderAudit() {
  const { events, cursor, loaded } = state.audit;
  $('audit-rows').replaceChildren(...events.map((ev) => auditRow(ev, true)));
  show('audit-table', events.length > 0);
  show('audit-empty', loaded && events.length === 0);
  show('audit-more', Boolean(cursor));
}

$('audit-more').addEventListener('click', (ev) => busy(ev.currentTarget, 'Loading…', () => loadAudit(state.audit.cursor)));
$('audit-refresh').addEventListener('click', (ev) => busy(ev.currentTarget, 'Refreshing…', () => loadAudit(null)));

// ---------------------------------------------------------------- resources list

async function openResources() {
  showView('view-resources');
  clearErrors($('view-resources'));
  renderResources();
  await loadResourcePage(null);
}

async function loadResourcePage(cursor) {
  try {
    const page = await api.listResources(cursor, 50);
    const fresh = page.resources || [];
    if (!cursor) state.resList.items = fresh;
    else {
      const seen = new Set(state.resList.items.map((r) => r.resource_id));
      for (const r of fresh) if (!seen.has(r.resource_id)) state.resList.items.push(r);
    }
    state.resList.cursor = page.next_cursor || null;
    state.resList.loaded = true;
  } catch (e) {
    if (e.status !== 401) showError('res-error', `Could not load resources: ${describe(e)}`);
  }
  renderResources();
}

function scopeTags(scopes) {
  const list = Array.isArray(scopes) ? scopes : [];
  if (!list.length) return [h('span', { class: 'muted' }, 'None')];
  const shown = list.slice(0, 12).map((s) => h('code', { class: 'scope-tag', title: s.description || undefined }, s.value));
  if (list.length > 12) shown.push(h('span', { class: 'muted' }, ` and ${list.length - 12} more`));
  return [h('span', { class: 'scope-tags' }, ...shown)];
}

function renderResources() {
  const { items, cursor, loaded } = state.resList;
  $('res-rows').replaceChildren(...items.map((r) => h('tr', {},
    cell('Name', h('a', { href: `#/resources/${encodeURIComponent(r.resource_id)}` }, r.name || '(unnamed)')),
    cell('Identifier', h('code', {}, r.identifier)),
    cell('Scopes', ...scopeTags(r.scopes)),
    cell('Max lifetime', typeof r.access_token_lifetime === 'number'
      ? `${r.access_token_lifetime} s (${durationText(r.access_token_lifetime)})` : 'No cap (the client’s lifetime)'))));
  show('res-table', items.length > 0);
  show('res-empty', loaded && items.length === 0);
  show('res-more', Boolean(cursor));
  let summary = loaded ? '' : 'Loading resources…';
  if (loaded && items.length) summary = `${items.length} resource${items.length === 1 ? '' : 's'}${cursor ? ' loaded; more on the server' : ''}.`;
  setText('res-summary', summary);
}

$('res-more').addEventListener('click', (ev) => busy(ev.currentTarget, 'Loading…', () => loadResourcePage(state.resList.cursor)));

// ---------------------------------------------------------------- resource create / edit

let resourceSeq = 0;

async function openResource(id) {
  const seq = ++resourceSeq;
  showView('view-resource', false);
  clearErrors($('view-resource'));
  setText('resource-status', '');
  show('r-holders', false);
  if (!id) {
    state.resource = null;
    $('resource-form').reset();
    setText('r-title', 'New resource');
    show('r-facts', false);
    show('r-identifier-field', true);
    show('r-delete-zone', false);
    setText('r-submit', 'Create resource');
    setScopeRows([{ value: '', description: '' }]);
    show('r-body', true);
    $('r-title').focus();
    return;
  }
  let r = state.prefetchedResource && state.prefetchedResource.resource_id === id ? state.prefetchedResource : null;
  state.prefetchedResource = null;
  if (!r) {
    if (!state.resource || state.resource.resource_id !== id) show('r-body', false);
    try {
      r = await api.getResource(id);
    } catch (e) {
      if (e.status === 401 || seq !== resourceSeq) return;
      show('r-body', false);
      showError('r-load-error', e.status === 404 ? 'No resource with this ID: it may have been deleted.' : `Could not load the resource: ${describe(e)}`);
      return;
    }
  }
  if (seq !== resourceSeq) return;
  renderResource(r);
  setText('resource-status', state.resourceFlash || '');
  state.resourceFlash = null;
  show('r-body', true);
  $('r-title').focus();
}

function renderResource(r) {
  state.resource = r;
  setText('r-title', r.name || '(unnamed)');
  show('r-facts', true);
  setText('r-identifier-text', r.identifier);
  setText('r-id', r.resource_id);
  setText('r-created', formatTime(r.created_at));
  setText('r-updated', formatTime(r.updated_at));
  show('r-identifier-field', false);
  $('r-identifier').value = r.identifier;
  $('r-name').value = r.name || '';
  $('r-lifetime').value = typeof r.access_token_lifetime === 'number' ? r.access_token_lifetime : '';
  setScopeRows(r.scopes || []);
  setText('r-submit', 'Save changes');
  show('r-delete-zone', true);
}

function scopeRow(value = '', description = '') {
  const vid = nextId('rs-value');
  const did = nextId('rs-desc');
  const li = h('li', { class: 'scope-row' },
    h('div', { class: 'field' },
      h('label', { for: vid }, 'Scope', h('span', { class: 'visually-hidden num' })),
      h('input', { id: vid, type: 'text', class: 'mono scope-value', autocomplete: 'off', spellcheck: 'false', maxlength: '200' })),
    h('div', { class: 'field' },
      h('label', { for: did }, 'Description', h('span', { class: 'visually-hidden num' }), ' ', h('span', { class: 'optional' }, '(optional)')),
      h('input', { id: did, type: 'text', class: 'scope-desc', autocomplete: 'off', maxlength: '200' })),
    h('button', {
      type: 'button', class: 'danger small remove-scope',
      onclick: () => {
        const rows = [...$('r-scopes').children];
        const i = rows.indexOf(li);
        li.remove();
        renumberScopes();
        const left = [...$('r-scopes').children];
        const near = left[i] || left[i - 1];
        (near ? near.querySelector('input') : $('r-add-scope')).focus();
      },
    }, 'Remove'));
  li.querySelector('.scope-value').value = value;
  li.querySelector('.scope-desc').value = description;
  return li;
}

function renumberScopes() {
  const rows = [...$('r-scopes').children];
  rows.forEach((li, i) => {
    for (const n of li.querySelectorAll('.num')) setText(n, ` ${i + 1}`);
    li.querySelector('.remove-scope').setAttribute('aria-label', `Remove scope ${i + 1}`);
  });
  show('r-scopes-none', rows.length === 0);
  $('r-add-scope').disabled = rows.length >= 64;
}

function setScopeRows(scopes) {
  $('r-scopes').replaceChildren(...scopes.map((s) => scopeRow(s.value, s.description || '')));
  renumberScopes();
}

$('r-add-scope').addEventListener('click', () => {
  const li = scopeRow();
  $('r-scopes').append(li);
  renumberScopes();
  li.querySelector('input').focus();
});

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 3.3 scope-token

function readScopes() {
  const out = [];
  const problems = [];
  const seen = new Map();
  [...$('r-scopes').children].forEach((li, i) => {
    const vIn = li.querySelector('.scope-value');
    const dIn = li.querySelector('.scope-desc');
    const value = vIn.value.trim();
    const description = dIn.value.trim();
    if (!value && !description) return; // an empty row is ignored
    const n = i + 1;
    if (!value) {
      problems.push(`scope ${n} has a description but no value`);
      vIn.setAttribute('aria-invalid', 'true');
    } else if (!SCOPE_TOKEN.test(value)) {
      problems.push(`scope ${n} “${value}” may not contain spaces, quotes or backslashes`);
      vIn.setAttribute('aria-invalid', 'true');
    } else if (seen.has(value)) {
      problems.push(`scope ${n} “${value}” repeats scope ${seen.get(value)}`);
      vIn.setAttribute('aria-invalid', 'true');
    } else seen.set(value, n);
    if (description.length > 200) {
      problems.push(`the description of scope ${n} is over 200 characters`);
      dIn.setAttribute('aria-invalid', 'true');
    }
    out.push({ value, description });
  });
  if (out.length > 64) problems.push(`a resource can define at most 64 scopes (this has ${out.length})`);
  if (problems.length) {
    const text = problems.join('; ');
    showError('r-scopes-error', text.charAt(0).toUpperCase() + text.slice(1) + '.');
    return null;
  }
  return out;
}

function validIdentifier(v) {
  if (!v) return 'An identifier is required.';
  if (v.length > 512) return 'At most 512 characters.';
  if (/\s/.test(v)) return 'The identifier may not contain spaces.';
  if (v.includes('#')) return 'The identifier may not contain a fragment (#…).';
  if (/^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$/i.test(v)) return '';
  if (!/^[a-z][a-z0-9+.-]*:/i.test(v)) return 'Enter an absolute URI (such as https://api.example.com) or a URN (urn:…).';
  try { new URL(v); } catch { return 'This is not a valid absolute URI.'; }
  return '';
}

// A server validation message placed next to the field it is about.
function placeResourceError(e) {
  const text = describe(e);
  const msg = (e.description || '').toLowerCase();
  if (e.status === 409 && !state.resource) {
    showError('r-identifier-error', `A resource with this identifier already exists (HTTP 409).`, 'r-identifier');
  } else if (msg.includes('identifier') && !state.resource) showError('r-identifier-error', text, 'r-identifier');
  else if (msg.includes('scope')) showError('r-scopes-error', text);
  else if (msg.includes('lifetime')) showError('r-lifetime-error', text, 'r-lifetime');
  else if (msg.includes('name')) showError('r-name-error', text, 'r-name');
  else return false;
  return true;
}

$('resource-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const r = state.resource;
  clearErrors(form);
  setText('resource-status', '');
  let ok = true;
  const identifier = $('r-identifier').value.trim();
  if (!r) {
    const problem = validIdentifier(identifier);
    if (problem) {
      showError('r-identifier-error', problem, 'r-identifier');
      ok = false;
    }
  }
  const name = $('r-name').value.trim();
  if (!name) {
    showError('r-name-error', 'A name is required.', 'r-name');
    ok = false;
  }
  const scopes = readScopes();
  if (!scopes) ok = false;
  let lifetime = null;
  if ($('r-lifetime').value.trim()) {
    lifetime = validLifetime('r-lifetime', 'r-lifetime-error', true);
    if (lifetime === null) ok = false;
  }
  if (!ok) {
    form.querySelector('[aria-invalid=true]')?.focus();
    return;
  }
  await busy(form, r ? 'Saving…' : 'Creating…', async () => {
    try {
      if (!r) {
        const body = { identifier, name, scopes };
        if (lifetime !== null) body.access_token_lifetime = lifetime;
        const made = await api.createResource(body);
        state.resources.stale = true;
        state.prefetchedResource = made;
        state.resourceFlash = `Created. Grant it to clients on their pages (Resource grants).`;
        location.hash = `#/resources/${encodeURIComponent(made.resource_id)}`;
        return;
      }
      const patch = {};
      if (name !== r.name) patch.name = name;
      const before = (r.scopes || []).map((s) => ({ value: s.value, description: s.description || '' }));
      if (JSON.stringify(scopes) !== JSON.stringify(before)) patch.scopes = scopes;
      if (lifetime !== (typeof r.access_token_lifetime === 'number' ? r.access_token_lifetime : null)) patch.access_token_lifetime = lifetime;
      if (!Object.keys(patch).length) {
        setText('resource-status', 'No changes to save.');
        return;
      }
      const updated = await api.updateResource(r.resource_id, patch);
      state.resources.stale = true;
      renderResource(updated && updated.resource_id ? updated : { ...r, ...patch });
      setText('resource-status', 'Saved.');
    } catch (e) {
      if (e.status === 401) return;
      if (!placeResourceError(e)) showError('resource-error', `${r ? 'Not saved' : 'The resource was not created'}: ${describe(e)}`);
      form.querySelector('[aria-invalid=true]')?.focus();
    }
  });
});

// Editing a field that was marked invalid clears its mark and its message.
$('resource-form').addEventListener('input', (ev) => {
  const f = ev.target;
  if (f.getAttribute('aria-invalid') !== 'true') return;
  f.removeAttribute('aria-invalid');
  const err = f.classList.contains('scope-value') || f.classList.contains('scope-desc')
    ? (f.closest('#r-scopes').querySelector('[aria-invalid=true]') ? null : $('r-scopes-error'))
    : $(f.getAttribute('aria-describedby') || '');
  if (err) {
    err.textContent = '';
    err.hidden = true;
  }
});

// Which clients hold a grant on a resource (scans the client listing, bounded).
async function grantHolders(resourceId) {
  const holders = [];
  let cursor = null;
  for (let i = 0; i < 20; i += 1) {
    const page = await api.listClients(cursor, 100);
    for (const c of page.clients || []) {
      if ((c.grants || []).some((g) => g.resource_id === resourceId)) holders.push(c);
    }
    cursor = page.next_cursor || null;
    if (!cursor) break;
  }
  return holders;
}

$('r-delete').addEventListener('click', async (ev) => {
  const button = ev.currentTarget;
  const r = state.resource;
  clearErrors($('r-delete-zone'));
  show('r-holders', false);
  const yes = await confirmDialog({
    title: 'Delete this resource?',
    message: `“${r.name}” (${r.identifier}) and its ${plural((r.scopes || []).length, 'scope')} will be deleted. Clients can no longer get new tokens for it. This cannot be undone.`,
    ok: 'Delete resource',
  });
  if (!yes) return;
  await busy(button, 'Deleting…', async () => {
    try {
      await api.deleteResource(r.resource_id);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 409) {
        const why = e.description || 'the resource is granted to clients';
        showError('r-delete-error', `Not deleted: ${why} (HTTP 409).`);
        try {
          const holders = await grantHolders(r.resource_id);
          $('r-holder-list').replaceChildren(...holders.map((c) =>
            h('li', {}, h('a', { href: `#/clients/${encodeURIComponent(c.client_id)}` }, c.client_name || c.client_id))));
          show('r-holders', holders.length > 0);
        } catch { /* the list of holders is a convenience */ }
      } else {
        showError('r-delete-error', `The resource was not deleted: ${describe(e)}`);
      }
      return;
    }
    state.resource = null;
    state.resources.stale = true;
    setText('res-flash', `Deleted resource “${r.name}”.`);
    location.hash = '#/resources';
  });
});

// ---------------------------------------------------------------- wiring

for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', () => copyFrom(b.dataset.copy, b.closest('dialog') ? $('sd-copy-status') : null));
}

$('secret-dialog').addEventListener('close', () => {
  wipeSecretDialog();
  // If the control that opened the dialog is gone (e.g. the create form), focus the view's heading.
  setTimeout(() => {
    if (document.activeElement === document.body || !document.activeElement?.offsetParent) {
      document.querySelector('.view:not([hidden]) h1')?.focus();
    }
  });
});

// Date pickers for secret expiry start tomorrow (UTC).
const tomorrow = new Date(Date.now() + DAY * 1000).toISOString().slice(0, 10);
for (const id of ['c-secret-date', 's-date']) $(id).min = tomorrow;

window.addEventListener('hashchange', () => {
  if (!location.hash.startsWith('#/')) return; // skip-link and other in-page anchors
  if (location.hash !== '#/clients') setText('list-flash', '');
  if (location.hash !== '#/resources') setText('res-flash', '');
  route();
});

route();
