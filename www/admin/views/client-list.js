// The client list: search over the loaded pages, "Load more" for the next page.
import { $, h, setText, clearErrors, formatDate, now } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { isSecretBased, methodLabel, count, hrefOf } from '../lib/format.js';
import { cell, statusBadge, expiryTag } from '../components/cells.js';
import { pagedTable } from '../components/paged-table.js';

const query = () => $('list-search').value.trim().toLowerCase();

function matches(c, q) {
  if (!q) return true;
  return String(c.client_name || '').toLowerCase().includes(q) || String(c.client_id || '').toLowerCase().includes(q);
}

function nearestExpiryCell(secrets) {
  if (!secrets.length) return ['No secrets'];
  const t = now();
  const expired = secrets.filter((s) => typeof s.expires_at === 'number' && s.expires_at <= t).length;
  const future = secrets.map((s) => s.expires_at).filter((e) => typeof e === 'number' && e > t).sort((a, b) => a - b);
  const out = [];
  if (future.length) out.push(formatDate(future[0]), ' ', expiryTag(future[0]));
  else if (expired < secrets.length) out.push('Never');
  if (expired) out.push(' ', h('span', { class: 'tag tag-expired' }, `${expired} expired`));
  return out;
}

function clientRow(c) {
  const secrets = Array.isArray(c.secrets) ? c.secrets : [];
  return h('tr', {},
    cell('Name', h('a', { href: hrefOf('clients', c.client_id) }, c.client_name || '(unnamed)')),
    cell('Client ID', h('code', {}, c.client_id)),
    cell('Status', statusBadge(c)),
    cell('Auth method', methodLabel(c.token_endpoint_auth_method)),
    cell('Secrets', isSecretBased(c) || secrets.length ? String(secrets.length) : '—'),
    cell('Nearest expiry', ...nearestExpiryCell(secrets)));
}

function summarize() {
  const list = store.clients;
  const q = query();
  const all = list.items;
  const more = Boolean(list.cursor);
  let summary = '';
  if (!list.loaded) summary = 'Loading clients…';
  else if (q) summary = `${all.filter((c) => matches(c, q)).length} of ${all.length} loaded client${all.length === 1 ? '' : 's'} match.`;
  else if (all.length) summary = `${count(all.length, 'client')}${more ? ' loaded' : ''}.`;
  if (list.loaded && more) summary += ' More on the server: use “Load more” to search them too.';
  setText('list-summary', summary);
}

const table = () => pagedTable({
  list: store.clients,
  rows: 'client-rows',
  row: clientRow,
  table: 'client-table',
  empty: 'list-empty',
  more: 'list-more',
  error: 'list-error',
  what: 'clients',
  filter: (items) => items.filter((c) => matches(c, query())),
  emptyWhen: () => store.clients.loaded && store.clients.items.length === 0 && !query(),
  after: summarize,
});

export const clientListView = {
  id: 'view-list',
  nav: 'clients',

  // Always fetch the first page afresh; rows already known stay on screen meanwhile.
  async mount(_params, signal) {
    const t = table();
    clearErrors($('view-list'));
    $('list-search').addEventListener('input', t.render, { signal });
    t.bind(signal);
    t.render();
    if (store.clientsFresh) store.clientsFresh = false; // just fetched by the sign-in
    else await t.load(null);
  },

  unmount() { setText('list-flash', ''); },

  reset() { $('client-rows').replaceChildren(); },
};

