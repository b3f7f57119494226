// The markup of the client page (#view-detail): facts, settings, grants, secrets, federated
// credentials, client certificates, usage, audit trail and delete. Behaviour lives in client-detail.js and its parts.
import { h } from '../lib/dom.js';
import { expiryFields } from '../components/expiry.js';
import { nameFields, tokenFields } from '../components/client-fields.js';
import { keyFields } from '../components/keys.js';
import { federationFields } from '../components/federation-fields.js';
import { quotaFields } from '../components/quota.js';
import { claimsField } from '../components/token-claims.js';
import {
  actions, button, conflictBox, crumb, dangerZone, dataTable, describedBy, errorText, facts, field, formError,
  moreButton, okText, panel, submitRow, viewHead, viewSection,
} from '../components/markup.js';

const check = (id, label, attrs = {}, ...after) => h('div', { class: 'field check', id: attrs.wrapId },
  h('input', { id, type: 'checkbox', 'aria-describedby': attrs.describedBy }),
  h('label', { for: id }, ...label),
  ...after);

function settings() {
  const [scope, resources, lifetime] = tokenFields('e-', false);
  const keys = keyFields('e-', false);
  return panel('d-settings', 'Settings',
    h('form', { id: 'edit-form', novalidate: true },
      ...nameFields('e-', false),
      check('e-enabled', ['Enabled ', h('span', { class: 'hint' }, 'a disabled client cannot get tokens')]),
      check('e-lockout', ['Lockout: ', h('span', { id: 'e-lockout-state' }, 'on')], { wrapId: 'e-lockout-field', describedBy: 'e-lockout-hint' },
        h('span', { id: 'e-lockout-hint', class: 'hint' }, 'five failed authentications in a row lock the client for an hour')),
      check('e-introspection', ['May introspect any token ', h('span', { class: 'hint' }, "other clients' tokens too, at /oauth/introspect")],
        { wrapId: 'e-introspection-field' }),
      check('e-dpop', ['Tokens must be DPoP-bound ', h('span', { class: 'hint' }, 'every token request needs a DPoP proof (RFC 9449)')],
        { wrapId: 'e-dpop-field' }),
      check('e-cert-bound', ['Bind tokens to the client certificate ', h('span', { class: 'hint' }, 'cnf x5t#S256 (RFC 8705); a token request without a certificate is refused')]),
      field({
        id: 'e-dn',
        label: 'Certificate subject DN',
        wrapId: 'e-dn-field',
        hidden: true,
        control: h('input', { id: 'e-dn', type: 'text', maxlength: 1024, autocomplete: 'off', spellcheck: 'false', ...describedBy('e-dn-error') }),
        error: true,
      }),
      field({
        id: 'e-method',
        label: 'How the secret is sent',
        wrapId: 'e-method-field',
        control: h('select', { id: 'e-method' },
          h('option', { value: 'client_secret_basic' }, 'HTTP Basic (client_secret_basic)'),
          h('option', { value: 'client_secret_post' }, 'Request body (client_secret_post)')),
      }),
      lifetime,
      scope,
      resources,
      quotaFields('e-'),
      claimsField('e-'),
      h('fieldset', { id: 'e-keys', class: 'group', hidden: true }, h('legend', {}, 'Keys'), keys.uri, keys.jwks, keys.pem),
      formError('edit-error'),
      conflictBox('edit-conflict', 'Reload the client', 'reload-client'),
      submitRow('Save changes', 'edit-status')));
}

const grants = () => panel('d-grants', 'Resource grants',
  h('p', { class: 'muted' }, 'A grant lets this client get tokens for a registered resource (the token\'s ', h('code', {}, 'aud'),
    ') with the scopes ticked. The first grant is the default audience when a token request names no resource.'),
  h('form', { id: 'grants-form', novalidate: true },
    h('div', { id: 'g-list' }),
    h('p', { id: 'g-empty', class: 'muted', hidden: true }, 'No grants: this client gets tokens only for its allowed resources and scopes above.'),
    h('div', { id: 'g-add-row', class: 'add-row' },
      field({ id: 'g-add-resource', label: 'Grant another resource', control: h('select', { id: 'g-add-resource', ...describedBy('g-add-error') }) }),
      button('Add grant', { id: 'g-add' })),
    errorText('g-add-error'),
    h('p', { id: 'g-no-resources', class: 'muted', hidden: true }, 'No resources are registered yet. ',
      h('a', { href: '#/resources/new' }, 'Register one'), ' to grant it.'),
    formError('grants-error'),
    conflictBox('grants-conflict', 'Reload the client', 'reload-client'),
    submitRow('Save grants', 'grants-status')));

const secrets = () => panel('d-secrets', 'Secrets',
  h('p', { id: 'd-secrets-none', class: 'muted', hidden: true }, 'This client authenticates with a signed JWT or a client certificate and has no secrets.'),
  h('div', { id: 'd-secrets-body' },
    dataTable({
      caption: 'Client secrets',
      columns: ['Description', 'Created', 'Expires', 'Last used', h('span', { class: 'visually-hidden' }, 'Actions')],
      body: 'd-secret-rows',
    }),
    h('p', { id: 'd-secrets-empty', class: 'muted', hidden: true }, 'No secrets. The client cannot authenticate until you add one.'),
    formError('d-secrets-error'),
    h('form', { id: 'add-secret-form', class: 'group', novalidate: true },
      h('h3', {}, 'Add a secret'),
      h('div', { class: 'row' }, ...expiryFields('s-', 'Description')),
      formError('add-secret-error'),
      actions(h('button', { type: 'submit' }, 'Add secret')))));

// The heading takes focus after a delete (the row and its button are gone).
const focusable = (section) => {
  section.querySelector('h2').setAttribute('tabindex', '-1');
  return section;
};

const federation = () => focusable(panel('d-federated', 'Federated credentials',
  h('p', { id: 'd-fed-none', class: 'muted', hidden: true },
    'Only a client that authenticates with a signed JWT (private_key_jwt) holds federated credentials.'),
  h('div', { id: 'd-fed-body', hidden: true },
    h('p', { class: 'muted' }, 'A federated credential lets a workload trade a token from another issuer (GitHub Actions, a Kubernetes cluster, '
      + 'any OpenID Connect issuer) for this client’s access token, with no secret to store. The token must come from the issuer, '
      + 'carry one of the audiences, and match the subject and every claim condition.'),
    h('p', { id: 'd-fed-keyless', class: 'callout', hidden: true },
      'This client has no keys of its own: it authenticates only through its federated credentials.'),
    dataTable({
      caption: 'Federated credentials',
      columns: ['Name', 'Issuer', 'Subject', 'Audiences', 'Claim conditions', 'Keys', 'Created', 'Last used', h('span', { class: 'visually-hidden' }, 'Actions')],
      body: 'd-fed-rows',
    }),
    h('p', { id: 'd-fed-loading', class: 'muted' }, 'Loading the federated credentials…'),
    h('p', { id: 'd-fed-empty', class: 'muted', hidden: true }, 'No federated credentials.'),
    formError('d-fed-error'),
    h('form', { id: 'add-fed-form', class: 'group', novalidate: true },
      h('h3', {}, 'Add a federated credential'),
      ...federationFields(),
      formError('add-fed-error'),
      actions(h('button', { type: 'submit' }, 'Add credential'), okText('add-fed-status', 'span'))))));

const certificates = () => focusable(panel('d-certificates', 'Client certificates',
  h('p', { id: 'd-cert-none', class: 'muted', hidden: true },
    'Only a client that authenticates with a registered certificate (self_signed_tls_client_auth) holds certificates.'),
  h('div', { id: 'd-cert-body', hidden: true },
    h('p', { class: 'muted' }, 'The client authenticates with one of these certificates on a Cloudflare hostname with mutual TLS, '
      + 'sending its client_id in the form: the certificate’s SHA-256 fingerprint must be one of these. At most 10.'),
    dataTable({
      caption: 'Client certificates',
      columns: ['Subject', 'Expires', 'Fingerprint (SHA-256)', 'Added', h('span', { class: 'visually-hidden' }, 'Actions')],
      body: 'd-cert-rows',
    }),
    h('p', { id: 'd-cert-loading', class: 'muted' }, 'Loading the certificates…'),
    h('p', { id: 'd-cert-empty', class: 'muted', hidden: true }, 'No certificates: this client cannot get tokens until you upload one.'),
    formError('d-cert-error'),
    h('form', { id: 'add-cert-form', class: 'group', novalidate: true },
      h('h3', {}, 'Upload a certificate'),
      field({
        id: 'cert-pem',
        label: 'PEM certificate',
        control: h('textarea', {
          id: 'cert-pem', rows: '6', class: 'mono', spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----', ...describedBy('cert-pem-hint', 'cert-pem-error'),
        }),
        after: [h('p', { id: 'cert-pem-hint', class: 'hint' }, 'Paste it, or choose a file below. The certificate only: never a private key.')],
        error: true,
      }),
      field({
        id: 'cert-file',
        label: 'Or a certificate file',
        control: h('input', { id: 'cert-file', type: 'file', accept: '.pem,.crt,.cer,.txt,application/x-pem-file,text/plain' }),
      }),
      formError('add-cert-error'),
      actions(h('button', { type: 'submit' }, 'Upload certificate'), okText('add-cert-status', 'span'))))));

const usage = () => panel('d-usage', 'Usage, last 30 days',
  h('p', { id: 'usage-summary', class: 'usage-summary' }),
  h('ol', { id: 'usage-bars', class: 'usage-bars', 'aria-label': 'Tokens issued per day (UTC), oldest first' }),
  h('p', { id: 'usage-axis', class: 'usage-axis muted', 'aria-hidden': 'true' }, h('span', { id: 'usage-first' }), h('span', { id: 'usage-last' })),
  h('details', { class: 'usage-numbers' },
    h('summary', {}, 'Daily numbers'),
    h('table', { class: 'table compact' },
      h('caption', { class: 'visually-hidden' }, 'Tokens issued per day (UTC)'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day (UTC)'), h('th', { scope: 'col' }, 'Tokens'))),
      h('tbody', { id: 'usage-table-rows' }))),
  h('p', { class: 'hint' }, 'Approximate: each edge location counts in memory and writes about once a minute. Days are UTC.'),
  formError('usage-error'));

const audit = () => h('section', { id: 'd-audit', class: 'panel', 'aria-labelledby': 'd-audit-title' },
  viewHead('d-audit-title', 'Audit trail', button('Refresh', { id: 'd-audit-refresh', class: 'small' }), 'h2'),
  dataTable({
    id: 'd-audit-table', caption: 'Changes to this client, newest first', columns: ['When', 'Actor', 'Action', 'Detail'], body: 'd-audit-rows',
  }),
  h('p', { id: 'd-audit-empty', class: 'muted', hidden: true }, 'No recorded changes (events expire after the retention period).'),
  formError('d-audit-error'),
  moreButton('d-audit-more'));

export const clientTemplate = () => viewSection('view-detail', 'd-title',
  crumb('#/clients', 'All clients'),
  formError('detail-load-error'),
  h('div', { id: 'detail-body', hidden: true },
    viewHead('d-title', '', h('span', { id: 'd-status', class: 'badge' })),
    facts(null, [
      ['Client ID', h('dd', {}, h('code', { id: 'd-client-id' }), ' ',
        button('Copy', { class: 'copy small', 'data-copy': 'd-client-id', 'aria-label': 'Copy client ID' }))],
      ['Auth method', h('dd', { id: 'd-method' })],
      ['Created', h('dd', { id: 'd-created' })],
      ['Updated', h('dd', { id: 'd-updated' })],
      ['Lockout', h('dd', { id: 'd-lockout' }), 'd-lockout-fact'],
      ['Token quota', h('dd', { id: 'd-quota' })],
      ['Version', h('dd', { id: 'd-version' }), 'd-version-fact'],
    ]),
    okText('d-flash'),
    h('div', { id: 'd-locked', class: 'callout warn', hidden: true },
      h('p', { id: 'd-locked-text' }), button('Unlock', { id: 'd-unlock' }), formError('d-unlock-error')),
    settings(),
    grants(),
    secrets(),
    federation(),
    certificates(),
    usage(),
    audit(),
    dangerZone({
      id: 'd-revoke-zone',
      titleId: 'd-revoke-title',
      title: 'Revoke tokens',
      text: 'Every access token this client holds stops being active at introspection within seconds (for example after a secret leaked: remove the secret too). APIs that verify tokens offline accept them until they expire.',
      buttonId: 'd-revoke',
      buttonText: 'Revoke all tokens…',
    }),
    dangerZone({
      id: 'd-delete-zone',
      titleId: 'd-delete-title',
      title: 'Delete client',
      text: 'Deleting removes the client and all of its secrets. Access tokens already issued stay valid until they expire.',
      buttonId: 'd-delete',
      buttonText: 'Delete client…',
    })));
