// A listing screen (clients, resources, the audit trail): heading with an action, optional
// lead text, flash, search and summary, the error, a table fed by a paged list, the "nothing
// yet" text and "Load more". listingView() returns the view object the router mounts.
//   config: { id, nav, prefix, title, action, lead: [nodes], flash, search: element, summary,
//             table: {id, caption, columns, rows}, empty: [nodes], emptyClass, refresh,
//             list, row, what, filter, emptyWhen, after, mount(table, signal), unmount }
// Ids come from `prefix`: `${prefix}-title`, -flash and -summary (when asked for), -error,
// -empty, -more and -refresh (when asked for).
import { $, h, clearErrors } from '../lib/dom.js';
import { pagedTable } from './paged-table.js';
import { dataTable, formError, moreButton, okText, viewHead, viewSection } from './markup.js';

const markup = (c, id) => viewSection(c.id, id('title'),
  viewHead(id('title'), c.title, c.action),
  c.lead ? h('p', { class: 'muted lead' }, ...c.lead) : null,
  c.flash ? okText(id('flash')) : null,
  c.search || null,
  c.summary ? h('p', { id: id('summary'), class: 'muted', 'aria-live': 'polite' }) : null,
  formError(id('error')),
  dataTable({ ...c.table, body: c.table.rows }),
  h('p', { id: id('empty'), class: c.emptyClass, hidden: true }, ...c.empty),
  moreButton(id('more')));

export function listingView(c) {
  const id = (part) => `${c.prefix}-${part}`;
  const table = pagedTable({
    ...c, rows: c.table.rows, table: c.table.id, empty: id('empty'), more: id('more'), error: id('error'), refresh: c.refresh && id('refresh'),
  });
  return {
    id: c.id,
    nav: c.nav,
    template: () => markup(c, id),
    async mount(_params, signal) {
      clearErrors($(c.id));
      table.bind(signal);
      table.render();
      await (c.mount ? c.mount(table, signal) : table.load(null));
    },
    unmount: c.unmount,
    reset() { $(c.table.rows).replaceChildren(); },
  };
}
