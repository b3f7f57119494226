// The global audit trail, newest first, with "Load more" and "Refresh".
import { h } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { listingView } from '../components/listing.js';
import { auditRow, clientName, resourceNamed } from '../components/audit-table.js';
import { button } from '../components/markup.js';

export const auditView = listingView({
  id: 'view-audit',
  nav: 'audit',
  prefix: 'audit',
  title: 'Audit trail',
  action: button('Refresh', { id: 'audit-refresh' }),
  lead: ['Changes made through the admin API, newest first. Events expire after the retention period (',
    h('code', {}, 'AUDIT_RETENTION_DAYS'), ', 90 days by default).'],
  table: { id: 'audit-table', caption: 'Audit events, newest first', columns: ['When', 'Actor', 'Action', 'Subject', 'Detail'], rows: 'audit-rows' },
  empty: ['No events recorded yet.'],
  emptyClass: 'muted',
  refresh: true,
  list: store.audit,
  row: (ev) => auditRow(ev, true),
  what: 'the audit trail',
  async mount(table, signal) {
    await table.load(null);
    // Names for the subject column, when not known yet (one refresh per visit).
    const events = store.audit.items;
    const waits = [];
    if (events.some((ev) => ev.resource_id && !resourceNamed(ev.resource_id))) waits.push(attempt(store.resources.loadAll(50)));
    if (events.some((ev) => ev.client_id && !clientName(ev.client_id))) waits.push(attempt(store.clients.load(null)));
    if (waits.length) {
      await Promise.all(waits);
      if (!signal.aborted) table.render();
    }
  },
});
