// Rows of an audit trail (the global one and a client's), with names for the subjects that
// are loaded in the store.
import { h } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { hrefOf } from '../lib/format.js';
import { cell, timeOf } from './cells.js';

export function clientName(id) {
  const c = store.client && store.client.client_id === id ? store.client : store.clients.items.find((x) => x.client_id === id);
  return c ? c.client_name : null;
}

export const resourceNamed = (id) => store.resources.items.find((r) => r.resource_id === id) || null;

function subjectOf(ev) {
  const out = [];
  if (ev.client_id) {
    const name = clientName(ev.client_id);
    out.push(h('span', { class: 'subject' }, 'Client ',
      h('a', { href: hrefOf('clients', ev.client_id) }, name || h('code', {}, ev.client_id))));
  }
  if (ev.resource_id) {
    const r = resourceNamed(ev.resource_id);
    out.push(h('span', { class: 'subject' }, 'Resource ',
      h('a', { href: hrefOf('resources', ev.resource_id) }, r ? r.name : h('code', {}, ev.resource_id))));
  }
  return out.length ? out : ['—'];
}

export function auditRow(ev, withSubject) {
  return h('tr', { dataset: { event: ev.event_id } },
    cell('When', timeOf(ev.at)),
    cell('Actor', ev.actor || '—'),
    cell('Action', h('code', {}, ev.action || '—')),
    withSubject ? cell('Subject', ...subjectOf(ev)) : null,
    cell('Detail', ev.detail || ''));
}
