// edgeauth admin page: sign-in, clients list, create, detail, secrets.
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
  resourcesChecked: false,
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

const VIEWS = ['view-signin', 'view-list', 'view-create', 'view-detail'];

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
  const m = /^\/clients\/([^/]+)$/.exec(hash);
  if (hash === '/clients/new') openCreate();
  else if (m) openDetail(decodeURIComponent(m[1]));
  else openList();
  checkResources();
}

function signOut(message, isError = false) {
  clearToken();
  state.list = { clients: [], cursor: null, loaded: false };
  state.client = null;
  state.prefetched = null;
  state.resourcesChecked = false;
  $('secret-dialog').close();
  $('confirm-dialog').close();
  $('create-form').reset();
  $('edit-form').reset();
  $('add-secret-form').reset();
  $('client-rows').replaceChildren();
  $('d-secret-rows').replaceChildren();
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

async function checkResources() {
  if (state.resourcesChecked) return;
  state.resourcesChecked = true;
  try {
    const { status } = await raw('GET', '/admin/resources');
    show('resources-note', status === 404);
  } catch {
    /* the note is informational only */
  }
}

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
  setText('edit-status', '');
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
  renderDetail(client);
  show('detail-body', true);
  if (!document.querySelector('dialog[open]')) $('d-title').focus();
}

async function reloadDetail() {
  const id = state.client.client_id;
  try {
    renderDetail(await api.getClient(id));
  } catch (e) {
    if (e.status !== 401) showError('d-secrets-error', `Could not reload the client: ${describe(e)}`);
  }
}

function renderDetail(c) {
  state.client = c;
  setText('d-title', c.client_name || '(unnamed)');
  const s = statusOf(c);
  const badge = $('d-status');
  badge.className = `badge badge-${s.key}`;
  setText(badge, s.key === 'locked' ? 'Locked' : s.text);
  setText('d-client-id', c.client_id);
  setText('d-method', `${methodLabel(c.token_endpoint_auth_method)} (${c.token_endpoint_auth_method || 'unknown'})`);
  setText('d-created', formatTime(c.client_id_issued_at));
  setText('d-updated', formatTime(c.updated_at));

  const until = lockedUntil(c);
  show('d-locked', Boolean(until));
  if (until) setText('d-locked-text', `This client is locked until ${formatTime(until)} after repeated failed authentications.`);

  // Settings form
  $('e-name').value = c.client_name || '';
  $('e-description').value = c.description || '';
  $('e-enabled').checked = c.enabled !== false;
  show('e-lockout-field', typeof c.lockout_enabled === 'boolean');
  $('e-lockout').checked = c.lockout_enabled === true;
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

  // Secrets
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
      const updated = await api.updateClient(c.client_id, patch);
      state.list.loaded = false;
      renderDetail(updated && updated.client_id ? updated : { ...c, ...patch });
      setText('edit-status', 'Saved.');
    } catch (e) {
      if (e.status !== 401) showError('edit-error', `Not saved: ${describe(e)}`);
    }
  });
});

$('d-unlock').addEventListener('click', (ev) => busy(ev.currentTarget, 'Unlocking…', async () => {
  clearErrors($('d-locked'));
  try {
    await api.unlock(state.client.client_id);
    state.list.loaded = false;
    await reloadDetail();
  } catch (e) {
    if (e.status !== 401) showError('d-unlock-error', `Unlock failed: ${describe(e)}`);
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
  if (!location.hash.startsWith('#/clients')) return; // skip-link and other in-page anchors
  if (location.hash !== '#/clients') setText('list-flash', '');
  route();
});

route();
