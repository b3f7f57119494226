// The Resources screen: registered resources page by page.
import { h, setText } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { durationText, count, hrefOf } from '../lib/format.js';
import { cell } from '../components/cells.js';
import { listingView } from '../components/listing.js';
import { linkButton } from '../components/markup.js';

const SHOWN_SCOPES = 12; // how many scope tags a row shows before "and N more"

function scopeTags(scopes) {
  const list = Array.isArray(scopes) ? scopes : [];
  if (!list.length) return [h('span', { class: 'muted' }, 'None')];
  const shown = list.slice(0, SHOWN_SCOPES).map((s) => h('code', { class: 'scope-tag', title: s.description || undefined }, s.value));
  if (list.length > SHOWN_SCOPES) shown.push(h('span', { class: 'muted' }, ` and ${list.length - SHOWN_SCOPES} more`));
  return [h('span', { class: 'scope-tags' }, ...shown)];
}

const resourceRow = (r) => h('tr', {},
  cell('Name', h('a', { href: hrefOf('resources', r.resource_id) }, r.name || '(unnamed)')),
  cell('Identifier', h('code', {}, r.identifier)),
  cell('Scopes', ...scopeTags(r.scopes)),
  cell('Max lifetime', typeof r.access_token_lifetime === 'number'
    ? `${r.access_token_lifetime} s (${durationText(r.access_token_lifetime)})` : 'No cap (the client’s lifetime)'));

function summarize() {
  const { items, cursor, loaded } = store.resourcePages;
  let summary = loaded ? '' : 'Loading resources…';
  if (loaded && items.length) summary = `${count(items.length, 'resource')}${cursor ? ' loaded; more on the server' : ''}.`;
  setText('res-summary', summary);
}

export const resourceListView = listingView({
  id: 'view-resources',
  nav: 'resources',
  prefix: 'res',
  title: 'Resources',
  action: linkButton('#/resources/new', 'New resource'),
  lead: ['A resource is an API that tokens are issued for: its identifier becomes the token\'s ', h('code', {}, 'aud'),
    ', and its scopes are the permission groups a client can be granted (on the client\'s page).'],
  flash: true,
  summary: true,
  table: { id: 'res-table', caption: 'Registered resources', columns: ['Name', 'Identifier', 'Scopes', 'Max token lifetime'], rows: 'res-rows' },
  empty: ['No resources yet. ', h('a', { href: '#/resources/new' }, 'Register the first one'), '.'],
  list: store.resourcePages,
  row: resourceRow,
  what: 'resources',
  after: summarize,
  unmount: () => setText('res-flash', ''),
});
