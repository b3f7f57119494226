// Thin client for the edgeauth admin API (docs/CONTRACT.md).
// The admin token lives in sessionStorage only: one tab, gone when the tab closes.

const TOKEN_KEY = 'edgeauth.adminToken';

export class ApiError extends Error {
  constructor(status, code, description) {
    super(description || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.description = description || '';
  }
}

let onUnauthorized = () => {};
let inFlight = 0;
let onBusyChange = () => {};

export function configure({ unauthorized, busy }) {
  if (unauthorized) onUnauthorized = unauthorized;
  if (busy) onBusyChange = busy;
}

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}
export function setToken(token) { sessionStorage.setItem(TOKEN_KEY, token); }
export function clearToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* storage disabled */ }
}

// Low-level call. Resolves to {status, json}; never throws for HTTP errors.
export async function raw(method, path, body, token = getToken()) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  inFlight += 1;
  onBusyChange(inFlight > 0);
  try {
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network_error', `Could not reach the server (${e.message}).`);
    }
    let json = null;
    const text = await res.text();
    if (text) {
      try { json = JSON.parse(text); } catch { json = null; }
    }
    return { status: res.status, json };
  } finally {
    inFlight -= 1;
    onBusyChange(inFlight > 0);
  }
}

// The ApiError for a non-2xx answer.
export const errorOf = (status, json) => new ApiError(status, json && json.error, json && json.error_description);

// Admin call: throws ApiError on any non-2xx answer; a 401 also signs out (lib/session.js).
export async function call(method, path, body) {
  const { status, json } = await raw(method, path, body);
  if (status >= 200 && status < 300) return json;
  const err = errorOf(status, json);
  if (status === 401) onUnauthorized(err);
  throw err;
}

// Human text for an error, shown next to what caused it.
export function describe(err) {
  if (!(err instanceof ApiError)) return `Unexpected error: ${err && err.message ? err.message : err}`;
  if (err.status === 0) return err.description;
  const what = err.description || err.code || 'The request failed';
  const code = err.description && err.code ? ` [${err.code}]` : '';
  return `${what}${code} (HTTP ${err.status})`;
}

const enc = encodeURIComponent;
const client = (id, rest = '') => `/admin/clients/${enc(id)}${rest}`;
const page = (path, cursor, limit) => call('GET', `${path}?limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`);

export const api = {
  limits: () => call('GET', '/admin/limits'),
  listClients: (cursor, limit = 50) => page('/admin/clients', cursor, limit),
  getClient: (id) => call('GET', client(id)),
  createClient: (body) => call('POST', '/admin/clients', body),
  updateClient: (id, patch) => call('PATCH', client(id), patch),
  deleteClient: (id) => call('DELETE', client(id)),
  addSecret: (id, body) => call('POST', client(id, '/secrets'), body),
  deleteSecret: (id, secretId) => call('DELETE', client(id, `/secrets/${enc(secretId)}`)),
  listFederated: (id) => call('GET', client(id, '/federated-credentials')),
  addFederated: (id, body) => call('POST', client(id, '/federated-credentials'), body),
  deleteFederated: (id, credentialId) => call('DELETE', client(id, `/federated-credentials/${enc(credentialId)}`)),
  listCertificates: (id) => call('GET', client(id, '/certificates')),
  addCertificate: (id, pem) => call('POST', client(id, '/certificates'), { certificate: pem }),
  deleteCertificate: (id, fingerprint) => call('DELETE', client(id, `/certificates/${enc(fingerprint)}`)),
  unlock: (id) => call('POST', client(id, '/unlock'), {}),
  revokeTokens: (id) => call('POST', client(id, '/revoke-tokens'), {}),
  clientUsage: (id) => call('GET', client(id, '/usage')),
  clientAudit: (id, cursor, limit = 20) => page(client(id, '/audit'), cursor, limit),
  audit: (cursor, limit = 50) => page('/admin/audit', cursor, limit),
  listResources: (cursor, limit = 100) => page('/admin/resources', cursor, limit),
  getResource: (id) => call('GET', `/admin/resources/${enc(id)}`),
  createResource: (body) => call('POST', '/admin/resources', body),
  updateResource: (id, patch) => call('PATCH', `/admin/resources/${enc(id)}`, patch),
  deleteResource: (id) => call('DELETE', `/admin/resources/${enc(id)}`),
  keys: () => call('GET', '/admin/keys'),
  rotateKeys: () => call('POST', '/admin/keys/rotate', {}),
  revokeKey: (kid) => call('POST', `/admin/keys/${enc(kid)}/revoke`, {}),
};

let metadata = null;
// This server's RFC 8414 metadata, or null when it cannot be read (asked again next time).
async function serverMetadata() {
  if (!metadata) {
    metadata = raw('GET', '/.well-known/oauth-authorization-server', undefined, '')
      .then(({ status, json }) => (status === 200 && json && typeof json.token_endpoint === 'string' ? json : null))
      .catch(() => null);
  }
  const m = await metadata;
  if (!m) metadata = null; // try again next time
  return m;
}

// Token endpoint from the metadata; falls back to this origin's /oauth/token.
export async function tokenEndpoint() {
  const m = await serverMetadata();
  return m ? m.token_endpoint : `${location.origin}/oauth/token`;
}

// This server's issuer URL from the metadata; falls back to this origin.
export async function serverIssuer() {
  const m = await serverMetadata();
  return m && typeof m.issuer === 'string' ? m.issuer : location.origin;
}
