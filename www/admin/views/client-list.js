// The client list: search over the loaded pages, "Load more" for the next page.
import { $, h, setText, formatDate, now } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { isSecretBased, methodLabel, count, hrefOf } from '../lib/format.js';
import { cell, statusBadge, expiryTag } from '../components/cells.js';
import { listingView } from '../components/listing.js';
import { describedBy, linkButton } from '../components/markup.js';

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

export const clientListView = listingView({
  id: 'view-list',
  nav: 'clients',
  prefix: 'list',
  title: 'Clients',
  action: linkButton('#/clients/new', 'New client'),
  flash: true,
  search: h('div', { class: 'field search' },
    h('label', { for: 'list-search' }, 'Search by name or client ID'),
    h('input', { id: 'list-search', type: 'search', autocomplete: 'off', spellcheck: 'false', ...describedBy('list-summary') })),
  summary: true,
  table: {
    id: 'client-table',
    caption: 'Registered clients',
    columns: ['Name', 'Client ID', 'Status', 'Auth method', 'Secrets', 'Nearest secret expiry'],
    rows: 'client-rows',
  },
  empty: ['No clients yet. ', h('a', { href: '#/clients/new' }, 'Create the first one'), '.'],
  list: store.clients,
  row: clientRow,
  what: 'clients',
  filter: (items) => items.filter((c) => matches(c, query())),
  emptyWhen: () => store.clients.loaded && store.clients.items.length === 0 && !query(),
  after: summarize,
  // Always fetch the first page afresh; rows already known stay on screen meanwhile.
  async mount(table, signal) {
    $('list-search').addEventListener('input', table.render, { signal });
    if (store.clientsFresh) store.clientsFresh = false; // just fetched by the sign-in
    else await table.load(null);
  },
  unmount: () => setText('list-flash', ''),
});
