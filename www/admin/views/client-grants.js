// A client's resource grants: pick a resource, tick a subset of its scopes, save them all as
// one PATCH (with the version the form was filled from). Part of the client view.
import { api, describe } from '../lib/api.js';
import { $, h, setText, show, showError, clearErrors, busy } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { limit } from '../lib/limits.js';
import { durationText, scopeOf } from '../lib/format.js';

let uid = 0; // unique ids for generated inputs

export function grantsFromClient(c) {
  return (Array.isArray(c.grants) ? c.grants : []).map((g) => ({
    resource_id: g.resource_id,
    resource: g.resource,
    scopes: new Set(scopeOf(g.scope || '').split(' ').filter(Boolean)),
  }));
}

function resourceFor(g) {
  const items = store.resources.items;
  return items.find((r) => r.resource_id === g.resource_id) || items.find((r) => r.identifier === g.resource) || null;
}

function grantsDirty() {
  const c = store.client;
  if (!c) return false;
  const norm = (list) => JSON.stringify(list.map((g) => [g.resource_id || g.resource, [...g.scopes].sort()]));
  return norm(store.grants) !== norm(grantsFromClient(c));
}

const markDirty = () => setText('grants-status', grantsDirty() ? 'Unsaved changes.' : '');

export function renderGrants() {
  $('g-list').replaceChildren(...store.grants.map((g, i) => grantFieldset(g, i)));
  show('g-empty', store.grants.length === 0);
  const granted = new Set(store.grants.map((g) => g.resource_id));
  const available = store.resources.items.filter((r) => !granted.has(r.resource_id));
  $('g-add-resource').replaceChildren(...available.map((r) => h('option', { value: r.resource_id }, `${r.name} (${r.identifier})`)));
  show('g-add-row', available.length > 0);
  show('g-no-resources', store.resources.loaded && store.resources.items.length === 0);
}

function scopeBox(g, s) {
  const id = `g-scope-${++uid}`;
  return h('div', { class: 'check' },
    h('input', {
      type: 'checkbox', id, value: s.value, checked: g.scopes.has(s.value),
      onchange: (ev) => {
        if (ev.currentTarget.checked) g.scopes.add(s.value); else g.scopes.delete(s.value);
        markDirty();
      },
    }),
    h('label', { for: id }, h('code', {}, s.value), s.description ? h('span', { class: 'hint' }, s.description) : null));
}

function removeGrant(index) {
  store.grants.splice(index, 1);
  renderGrants();
  markDirty();
  const next = $('g-list').querySelectorAll('fieldset.grant')[index] || $('g-list').lastElementChild;
  let target = next ? next.querySelector('input, button') : null;
  if (!target) target = $('g-add-row').hidden ? $('grants-form').querySelector('button[type=submit]') : $('g-add-resource');
  target.focus();
}

function grantFieldset(g, index) {
  const r = resourceFor(g);
  const title = r ? r.name : g.resource;
  const defined = r ? (r.scopes || []) : [];
  const known = new Set(defined.map((s) => s.value));
  const stale = r ? [...g.scopes].filter((s) => !known.has(s)) : [];
  const boxes = defined.map((s) => scopeBox(g, s));
  const cap = r && typeof r.access_token_lifetime === 'number'
    ? h('span', { class: 'hint' }, ` · tokens at most ${durationText(r.access_token_lifetime)}`) : null;
  let note = null;
  if (!r) {
    note = store.resources.loaded
      ? 'This resource is not among the registered resources; its scopes cannot be edited here.'
      : 'Loading the resource’s scopes…';
  } else if (defined.length === 0) note = 'This resource defines no scopes: its tokens carry no scope.';
  return h('fieldset', { class: 'group grant', dataset: { resource: g.resource } },
    h('legend', {}, title, index === 0 ? h('span', { class: 'tag tag-default' }, 'default audience') : null),
    h('p', { class: 'grant-id' }, h('code', {}, g.resource), cap),
    note ? h('p', { class: 'muted' }, note) : null,
    boxes.length ? h('div', { class: 'scope-checks', role: 'group', 'aria-label': `Scopes granted on ${title}` }, ...boxes) : null,
    stale.length ? h('p', { class: 'note' }, `No longer defined by the resource, dropped when you save: ${stale.join(', ')}`) : null,
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'danger small', 'aria-label': `Remove the grant on ${title}`, onclick: () => removeGrant(index),
      }, 'Remove grant')));
}

function addGrant() {
  clearErrors($('grants-form'));
  const r = store.resources.items.find((x) => x.resource_id === $('g-add-resource').value);
  const max = limit('client.grants_max');
  if (!r) showError('g-add-error', 'Choose a resource to grant.', 'g-add-resource');
  else if (store.grants.length >= max) showError('g-add-error', `A client can hold at most ${max} grants.`, 'g-add-resource');
  else {
    store.grants.push({ resource_id: r.resource_id, resource: r.identifier, scopes: new Set() });
    renderGrants();
    markDirty();
    const added = $('g-list').lastElementChild;
    (added.querySelector('input') || added.querySelector('button')).focus();
  }
}

// The grants as the PATCH sends them: scopes in the resource's order, unknown ones dropped.
const grantsBody = () => store.grants.map((g) => {
  const r = resourceFor(g);
  const scopes = r ? (r.scopes || []).map((s) => s.value).filter((v) => g.scopes.has(v)) : [...g.scopes];
  return { resource: r ? r.identifier : g.resource, scope: scopes.join(' ') };
});

// `save(patch, options)` sends a client PATCH and reports it (client view).
export function bindGrants(signal, save) {
  $('g-add').addEventListener('click', addGrant, { signal });
  const form = $('grants-form');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    busy(form, 'Saving…', () => save({ grants: grantsBody() }, {
      status: 'grants-status',
      error: 'grants-error',
      conflict: 'grants-conflict',
      saved: 'Grants saved.',
      failed: 'Grants not saved',
      after: (next) => {
        store.grants = grantsFromClient(next);
        renderGrants();
      },
    }));
  }, { signal });
}

// Load every resource for the picker, then draw the grants again (client view, on open).
export async function loadGrantResources(isCurrent) {
  await attempt(store.resources.loadAll(50), (e) => {
    if (isCurrent()) showError('grants-error', `Could not load the resources: ${describe(e)}`);
  });
  if (isCurrent()) renderGrants();
}

export function resetGrants() {
  store.grants = [];
  $('g-list').replaceChildren();
}
