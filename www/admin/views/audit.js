// The global audit trail, newest first, with "Load more" and "Refresh".
import { $ } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { pagedTable } from '../components/paged-table.js';
import { auditRow, clientName, resourceNamed } from '../components/audit-table.js';

const table = () => pagedTable({
  list: store.audit,
  rows: 'audit-rows',
  row: (ev) => auditRow(ev, true),
  table: 'audit-table',
  empty: 'audit-empty',
  more: 'audit-more',
  refresh: 'audit-refresh',
  error: 'audit-error',
  what: 'the audit trail',
});

export const auditView = {
  id: 'view-audit',
  nav: 'audit',

  async mount(_params, signal) {
    const t = table();
    t.bind(signal);
    t.render();
    await t.load(null);
    // Names for the subject column, when not known yet (one refresh per visit).
    const events = store.audit.items;
    const waits = [];
    if (events.some((ev) => ev.resource_id && !resourceNamed(ev.resource_id))) waits.push(attempt(store.resources.loadAll(50)));
    if (events.some((ev) => ev.client_id && !clientName(ev.client_id))) waits.push(attempt(store.clients.load(null)));
    if (waits.length) {
      await Promise.all(waits);
      if (!signal.aborted) t.render();
    }
  },

  reset() { $('audit-rows').replaceChildren(); },
};
