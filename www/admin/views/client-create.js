// Create a client: a secret-based one (its first secret is shown once), a key-based one, a
// private_key_jwt one without keys that authenticates only through federated credentials, or a
// client-certificate one (RFC 8705: by subject DN, or by certificates registered on its page).
import { api, describe } from '../lib/api.js';
import { $, h, show, showError, clearErrors, busy } from '../lib/dom.js';
import { attempt } from '../lib/session.js';
import { store } from '../lib/store.js';
import { SECRET_METHODS, hrefOf } from '../lib/format.js';
import { expiryField, expiryFields } from '../components/expiry.js';
import { nameFields, readClientFields, focusInvalid, tokenFields } from '../components/client-fields.js';
import { keyFields, readJwksUri, parseJwks, readPem } from '../components/keys.js';
import { quotaFields, readQuota } from '../components/quota.js';
import { actions, crumb, errorText, formError, linkButton, optional, viewSection } from '../components/markup.js';
import { showSecret } from '../components/secret-dialog.js';

const expiry = expiryField('c-secret-');
const form = () => $('create-form');
const method = () => form().querySelector('input[name=method]:checked').value;

function syncMethod() {
  const m = method();
  show('c-secret-fields', SECRET_METHODS.includes(m));
  show('c-jwks-uri-field', m === 'jwks_uri');
  show('c-pem-field', m === 'pem');
  show('c-jwks-field', m === 'jwks');
  show('c-federated-note', m === 'federated');
  show('c-dn-field', m === 'tls_client_auth');
  show('c-self-signed-note', m === 'self_signed_tls_client_auth');
  expiry.sync();
}

// The key material of a key-based client into `body`; false when refused. A client for
// federated credentials only has none.
async function readKeys(m, body) {
  if (m === 'federated') return true;
  if (m === 'jwks_uri') body.jwks_uri = readJwksUri('c-jwks-uri', 'c-jwks-uri-error', true);
  else if (m === 'pem') body.public_key_pem = await readPem('c-pem', 'c-pem-error');
  else body.jwks = parseJwks($('c-jwks').value, 'c-jwks-error', 'c-jwks');
  return Object.values(body).every((v) => v !== null);
}

async function create() {
  const f = readClientFields('c-', { lifetimeRequired: false });
  let ok = f.ok;
  const body = { client_name: f.name };
  if (f.description) body.description = f.description;
  const m = method();
  if ($('c-cert-bound').checked) body.tls_client_certificate_bound_access_tokens = true;
  if (CERT_METHODS.includes(m)) {
    body.token_endpoint_auth_method = m;
    if (m === 'tls_client_auth') {
      const dn = $('c-dn').value.trim();
      if (!dn) {
        showError('c-dn-error', 'Enter the subject DN of the client’s certificate, such as CN=client.example,O=Example.', 'c-dn');
        ok = false;
      }
      body.tls_client_auth_subject_dn = dn;
    }
  } else if (SECRET_METHODS.includes(m)) {
    body.token_endpoint_auth_method = m;
    const expires = expiry.read();
    if (!expires) ok = false;
    const secret = { ...expires };
    const sd = $('c-secret-description').value.trim();
    if (sd) secret.description = sd;
    body.secret = secret;
  } else {
    body.token_endpoint_auth_method = 'private_key_jwt';
    const keys = {};
    if (!(await readKeys(m, keys))) ok = false;
    Object.assign(body, keys);
  }
  if (f.scope) body.scope = f.scope;
  if (f.resources && f.resources.length) body.resources = f.resources;
  if (f.lifetime) body.access_token_lifetime = f.lifetime;
  const quota = readQuota('c-');
  if (quota === undefined) ok = false;
  else if (quota) body.token_quota = quota;
  if (!ok) {
    focusInvalid(form());
    return;
  }
  let res = await attempt(api.createClient(body), (e) => showError('create-error', `The client was not created: ${describe(e)}`));
  if (!res.ok) return;
  form().reset();
  syncMethod();
  store.clients.loaded = false;
  const { client, secret } = res.value;
  store.prefetchedClient = client;
  location.hash = hrefOf('clients', client.client_id);
  if (secret && secret.client_secret) await showSecret(client.client_id, secret);
  res = null;
}

const METHODS = [
  ['basic', 'client_secret_basic', 'Client secret, HTTP Basic', 'client_secret_basic'],
  ['post', 'client_secret_post', 'Client secret, in the request body', 'client_secret_post'],
  ['jwks-uri', 'jwks_uri', 'Signed JWT, keys from a JWKS URL', 'private_key_jwt'],
  ['pem', 'pem', 'Signed JWT, uploaded PEM public key', 'private_key_jwt'],
  ['jwks', 'jwks', 'Signed JWT, pasted JWK Set', 'private_key_jwt'],
  ['federated', 'federated', 'Tokens from another issuer only (federated credentials), no keys', 'private_key_jwt'],
  ['tls', 'tls_client_auth', 'Client certificate from a CA you configured in Cloudflare, by subject DN', 'tls_client_auth'],
  ['self-signed', 'self_signed_tls_client_auth', 'Client certificate registered with the client (self-signed)', 'self_signed_tls_client_auth'],
];
const CERT_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'];

function template() {
  const keys = keyFields('c-', true);
  return viewSection('view-create', 'create-title',
    crumb('#/clients', 'All clients'),
    h('h1', { id: 'create-title', tabindex: '-1' }, 'New client'),
    h('form', { id: 'create-form', novalidate: true },
      ...nameFields('c-', true),
      h('fieldset', { class: 'field choices' },
        h('legend', {}, 'Client authentication'),
        ...METHODS.map(([key, value, label, method], i) => h('div', { class: 'choice' },
          h('input', {
            type: 'radio', id: `c-method-${key}`, name: 'method', value, checked: i === 0, 'aria-describedby': key === 'federated' ? 'c-federated-note' : undefined,
          }),
          h('label', { for: `c-method-${key}` }, `${label} `, h('span', { class: 'hint' }, method))))),
      h('fieldset', { id: 'c-secret-fields', class: 'group' }, h('legend', {}, 'First secret'), ...expiryFields('c-secret-', 'Secret description')),
      keys.uri,
      keys.pem,
      keys.jwks,
      h('p', { id: 'c-federated-note', class: 'callout', hidden: true },
        'The client is created without keys of its own: it then authenticates only through its federated credentials, tokens that '
        + 'GitHub Actions, a Kubernetes cluster or another OpenID Connect issuer signs for your workload. Add them on the client’s page '
        + 'once it is created; until then it cannot get tokens. You can add keys later in its settings.'),
      h('div', { id: 'c-dn-field', class: 'field', hidden: true },
        h('label', { for: 'c-dn' }, 'Certificate subject DN'),
        h('input', { id: 'c-dn', type: 'text', maxlength: 1024, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'c-dn-hint c-dn-error' }),
        h('p', { id: 'c-dn-hint', class: 'hint' }, 'RFC 2253, as Cloudflare reports it (', h('code', {}, 'CN=client.example,O=Example'),
          '): compared exactly with the subject of a certificate the hostname’s CA verified.'),
        errorText('c-dn-error')),
      h('p', { id: 'c-self-signed-note', class: 'callout', hidden: true },
        'Upload the client’s certificates on its page once it is created; until then it cannot get tokens.'),
      h('div', { class: 'field check' },
        h('input', { id: 'c-cert-bound', type: 'checkbox', 'aria-describedby': 'c-cert-bound-hint' }),
        h('label', { for: 'c-cert-bound' }, 'Bind tokens to the client certificate'),
        h('p', { id: 'c-cert-bound-hint', class: 'hint' }, 'Tokens carry the certificate’s thumbprint (cnf x5t#S256, RFC 8705); a token request without a client certificate is refused.')),
      h('details', { class: 'group' }, h('summary', {}, 'Token settings ', optional('(optional)')), ...tokenFields('c-', true), quotaFields('c-')),
      formError('create-error'),
      actions(h('button', { type: 'submit', class: 'primary' }, 'Create client'), linkButton('#/clients', 'Cancel', 'button quiet'))));
}

export const clientCreateView = {
  id: 'view-create',
  nav: 'new',
  template,

  mount(_params, signal) {
    expiry.setup();
    expiry.bind(signal);
    syncMethod();
    for (const r of form().querySelectorAll('input[name=method]')) r.addEventListener('change', syncMethod, { signal });
    form().addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearErrors(form());
      busy(form(), 'Creating…', create);
    }, { signal });
  },

  reset() { form().reset(); },
};
