// A resource: create (#/resources/new) or edit (#/resources/{id}) it, or delete it. The
// identifier is fixed after creation. Deleting one that clients hold a grant on is refused by
// the server (409): the page says so and links the clients holding it.
import { api, describe } from '../lib/api.js';
import { $, h, setText, show, showError, clearErrors, busy, formatTime } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { latest } from '../lib/stale.js';
import { pagedList } from '../lib/paged.js';
import { limit } from '../lib/limits.js';
import { plural, hrefOf } from '../lib/format.js';
import { confirmDialog } from '../components/confirm.js';
import { openRecord } from '../components/record.js';
import { lifetimeField, readLifetime, focusInvalid } from '../components/client-fields.js';
import {
  actions, button, crumb, dangerZone, describedBy, errorText, facts, field, formError, linkButton, okText, optional, viewSection,
} from '../components/markup.js';
import { setScopeRows, addScopeRow, readScopes } from '../components/scope-rows.js';

const opening = latest();
const RESOURCE = { key: 'resource_id', fetch: api.getResource, bodyId: 'r-body', errorId: 'r-load-error', noun: 'resource' };

const template = () => viewSection('view-resource', 'r-title',
  crumb('#/resources', 'All resources'),
  formError('r-load-error'),
  h('div', { id: 'r-body' },
    h('h1', { id: 'r-title', tabindex: '-1' }, 'New resource'),
    facts('r-facts', [
      ['Identifier', h('dd', {}, h('code', { id: 'r-identifier-text' }), ' ',
        h('span', { class: 'hint' }, 'cannot be changed: register a new resource to use another'))],
      ['Resource ID', h('dd', {}, h('code', { id: 'r-id' }))],
      ['Created', h('dd', { id: 'r-created' })],
      ['Updated', h('dd', { id: 'r-updated' })],
    ]),
    h('form', { id: 'resource-form', class: 'panel', novalidate: true },
      field({
        id: 'r-identifier',
        wrapId: 'r-identifier-field',
        label: ['Identifier ', optional(['(absolute URI or URN; the token\'s ', h('code', {}, 'aud'), '; cannot be changed later)'])],
        error: true,
        control: h('input', {
          id: 'r-identifier', type: 'text', required: true, 'data-limit-maxlength': 'resource.identifier_max', autocomplete: 'off',
          spellcheck: 'false', placeholder: 'https://api.example.com', ...describedBy('r-identifier-error'),
        }),
      }),
      field({
        id: 'r-name',
        label: 'Name',
        error: true,
        control: h('input', {
          id: 'r-name', type: 'text', required: true, 'data-limit-maxlength': 'resource.name_max', autocomplete: 'off', ...describedBy('r-name-error'),
        }),
      }),
      h('fieldset', { class: 'group' },
        h('legend', {}, 'Scopes ', optional(['(permission groups, up to ', h('span', { 'data-limit-text': 'resource.scopes_max' }), ')'])),
        h('p', { class: 'hint' }, 'One scope token per row (no spaces, e.g. ', h('code', {}, 'invoices:read'), '), with an optional description.'),
        h('ol', { id: 'r-scopes', class: 'scope-rows' }),
        h('p', { id: 'r-scopes-none', class: 'muted', hidden: true }, 'No scopes: tokens for this resource carry no scope.'),
        errorText('r-scopes-error'),
        actions(button('Add scope', { id: 'r-add-scope' }))),
      lifetimeField('r-lifetime', 'Maximum access token lifetime', ['; empty for no cap'], false),
      field({
        id: 'r-provider',
        label: ['Provider client ', optional(['(the client ID of the API serving this resource, which may exchange its callers\' tokens; empty for none)'])],
        error: true,
        control: h('input', {
          id: 'r-provider', type: 'text', autocomplete: 'off', spellcheck: 'false',
          placeholder: '0f8fad5b-d9cb-469f-a165-70867728950e', ...describedBy('r-provider-error'),
        }),
      }),
      h('p', { id: 'r-provider-link-wrap', class: 'hint', hidden: true }, 'Provided by ', h('a', { id: 'r-provider-link' })),
      formError('resource-error'),
      actions(h('button', { type: 'submit', class: 'primary', id: 'r-submit' }, 'Create resource'),
        linkButton('#/resources', 'Cancel', 'button quiet'), okText('resource-status', 'span'))),
    dangerZone({
      id: 'r-delete-zone',
      titleId: 'r-delete-title',
      title: 'Delete resource',
      text: 'A resource can be deleted only when no client holds a grant on it. Tokens already issued for it stay valid until they expire.',
      buttonId: 'r-delete',
      buttonText: 'Delete resource…',
      hidden: true,
    }, h('div', { id: 'r-holders', hidden: true }, h('p', {}, 'Remove the grant on these clients\' pages first:'), h('ul', { id: 'r-holder-list' })))));

function renderResource(r) {
  store.resource = r;
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
  $('r-provider').value = r.provider_client_id || '';
  showProvider(r.provider_client_id);
  setText('r-submit', 'Save changes');
  show('r-delete-zone', true);
}

function renderNew() {
  store.resource = null;
  $('resource-form').reset();
  setText('r-title', 'New resource');
  show('r-facts', false);
  show('r-identifier-field', true);
  show('r-delete-zone', false);
  setText('r-submit', 'Create resource');
  setScopeRows([{ value: '', description: '' }]);
  showProvider(null);
}

// A link to the provider's client page, when the resource names one.
function showProvider(id) {
  show('r-provider-link-wrap', !!id);
  if (!id) return;
  $('r-provider-link').href = hrefOf('clients', id);
  setText('r-provider-link', id);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function identifierProblem(v) {
  if (!v) return 'An identifier is required.';
  if (v.length > limit('resource.identifier_max')) return `At most ${limit('resource.identifier_max')} characters.`;
  if (/\s/.test(v)) return 'The identifier may not contain spaces.';
  if (v.includes('#')) return 'The identifier may not contain a fragment (#…).';
  if (/^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$/i.test(v)) return '';
  if (!/^[a-z][a-z0-9+.-]*:/i.test(v)) return 'Enter an absolute URI (such as https://api.example.com) or a URN (urn:…).';
  try { new URL(v); } catch { return 'This is not a valid absolute URI.'; }
  return '';
}

// A server validation message placed next to the field it is about.
function placeError(e) {
  const text = describe(e);
  const msg = (e.description || '').toLowerCase();
  const creating = !store.resource;
  if (msg.includes('provider_client_id')) showError('r-provider-error', text, 'r-provider');
  else if (e.status === 409 && creating) showError('r-identifier-error', 'A resource with this identifier already exists (HTTP 409).', 'r-identifier');
  else if (msg.includes('identifier') && creating) showError('r-identifier-error', text, 'r-identifier');
  else if (msg.includes('scope')) showError('r-scopes-error', text);
  else if (msg.includes('lifetime')) showError('r-lifetime-error', text, 'r-lifetime');
  else if (msg.includes('name')) showError('r-name-error', text, 'r-name');
  else showError('resource-error', `${creating ? 'The resource was not created' : 'Not saved'}: ${text}`);
}

// {identifier, name, scopes, lifetime} from the form, or null with the problems shown.
function readForm() {
  let ok = true;
  const identifier = $('r-identifier').value.trim();
  const problem = store.resource ? '' : identifierProblem(identifier);
  if (problem) {
    showError('r-identifier-error', problem, 'r-identifier');
    ok = false;
  }
  const name = $('r-name').value.trim();
  if (!name) {
    showError('r-name-error', 'A name is required.', 'r-name');
    ok = false;
  }
  const provider = $('r-provider').value.trim().toLowerCase() || null;
  if (provider && !UUID.test(provider)) {
    showError('r-provider-error', 'Enter a client ID (a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e), or leave it empty.', 'r-provider');
    ok = false;
  }
  const scopes = readScopes();
  const lifetime = readLifetime('r-lifetime', 'r-lifetime-error', false);
  return ok && scopes && lifetime !== null ? { identifier, name, scopes, lifetime: lifetime ?? null, provider } : null;
}

async function create({ identifier, name, scopes, lifetime, provider }) {
  const body = { identifier, name, scopes };
  if (lifetime !== null) body.access_token_lifetime = lifetime;
  if (provider) body.provider_client_id = provider;
  const res = await attempt(api.createResource(body), placeError);
  if (!res.ok) return;
  store.prefetchedResource = res.value;
  store.resourceFlash = 'Created. Grant it to clients on their pages (Resource grants).';
  location.hash = hrefOf('resources', res.value.resource_id);
}

async function update(r, { name, scopes, lifetime, provider }) {
  const patch = {};
  if (name !== r.name) patch.name = name;
  const before = (r.scopes || []).map((s) => ({ value: s.value, description: s.description || '' }));
  if (JSON.stringify(scopes) !== JSON.stringify(before)) patch.scopes = scopes;
  if (lifetime !== (typeof r.access_token_lifetime === 'number' ? r.access_token_lifetime : null)) patch.access_token_lifetime = lifetime;
  if (provider !== (r.provider_client_id || null)) patch.provider_client_id = provider;
  if (!Object.keys(patch).length) {
    setText('resource-status', 'No changes to save.');
    return;
  }
  const res = await attempt(api.updateResource(r.resource_id, patch), placeError);
  if (!res.ok) return;
  renderResource(res.value && res.value.resource_id ? res.value : { ...r, ...patch });
  setText('resource-status', 'Saved.');
}

async function submit(form) {
  const r = store.resource;
  clearErrors(form);
  setText('resource-status', '');
  const values = readForm();
  if (!values) {
    focusInvalid(form);
    return;
  }
  await busy(form, r ? 'Saving…' : 'Creating…', () => (r ? update(r, values) : create(values)));
  focusInvalid(form);
}

// Editing a field that was marked invalid clears its mark and its message.
function clearOnInput(ev) {
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
}

// Which clients hold a grant on a resource (scans the client listing, bounded).
async function grantHolders(resourceId) {
  const scan = pagedList({ fetch: (cursor) => api.listClients(cursor, 100), field: 'clients', key: 'client_id' });
  await scan.loadAll(20);
  return scan.items.filter((c) => (c.grants || []).some((g) => g.resource_id === resourceId));
}

async function showHolders(r, e) {
  showError('r-delete-error', `Not deleted: ${e.description || 'the resource is granted to clients'} (HTTP 409).`);
  const res = await attempt(grantHolders(r.resource_id)); // the list of holders is a convenience
  if (!res.ok) return;
  $('r-holder-list').replaceChildren(...res.value.map((c) =>
    h('li', {}, h('a', { href: hrefOf('clients', c.client_id) }, c.client_name || c.client_id))));
  show('r-holders', res.value.length > 0);
}

async function deleteResource(button) {
  const r = store.resource;
  clearErrors($('r-delete-zone'));
  show('r-holders', false);
  const yes = await confirmDialog({
    title: 'Delete this resource?',
    message: `“${r.name}” (${r.identifier}) and its ${plural((r.scopes || []).length, 'scope')} will be deleted. Clients can no longer get new tokens for it. This cannot be undone.`,
    ok: 'Delete resource',
  });
  if (!yes) return;
  await busy(button, 'Deleting…', async () => {
    const res = await attempt(api.deleteResource(r.resource_id), (e) => {
      if (e.status === 409) showHolders(r, e);
      else showError('r-delete-error', `The resource was not deleted: ${describe(e)}`);
    });
    if (!res.ok) return;
    store.resource = null;
    setText('res-flash', `Deleted resource “${r.name}”.`);
    location.hash = '#/resources';
  });
}

async function open(id) {
  const current = opening.begin();
  clearErrors($('view-resource'));
  setText('resource-status', '');
  show('r-holders', false);
  if (!id) {
    renderNew();
    show('r-body', true);
    $('r-title').focus();
    return;
  }
  const r = await openRecord(RESOURCE, id, { prefetched: store.prefetchedResource, shown: store.resource, current });
  store.prefetchedResource = null;
  if (!r || !current()) return;
  renderResource(r);
  setText('resource-status', store.resourceFlash || '');
  store.resourceFlash = null;
  show('r-body', true);
  $('r-title').focus();
}

export const resourceEditView = {
  id: 'view-resource',
  nav: 'resources',
  focus: null, // the heading gets focus once the resource is in
  template,

  mount({ id }, signal) {
    const form = $('resource-form');
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit(form);
    }, { signal });
    form.addEventListener('input', clearOnInput, { signal });
    $('r-add-scope').addEventListener('click', addScopeRow, { signal });
    $('r-delete').addEventListener('click', (ev) => deleteResource(ev.currentTarget), { signal });
    open(id);
  },

  unmount() { opening.cancel(); },

  reset() {
    $('resource-form').reset();
    for (const id of ['r-scopes', 'r-holder-list']) $(id).replaceChildren();
  },
};
