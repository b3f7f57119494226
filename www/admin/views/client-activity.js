// A client's usage for the last 30 days (a bar list plus a table of numbers) and its audit
// trail (newest first, "Load more", "Refresh"). Part of the client view.
import { api, describe } from '../lib/api.js';
import { $, h, setText, show, showError } from '../lib/dom.js';
import { store } from '../lib/store.js';
import { attempt } from '../lib/session.js';
import { latest } from '../lib/stale.js';
import { plural } from '../lib/format.js';
import { pagedTable } from '../components/paged-table.js';
import { auditRow } from '../components/audit-table.js';

const usageGuard = latest();
const audit = pagedTable({
  list: store.clientAudit,
  rows: 'd-audit-rows',
  row: (ev) => auditRow(ev, false),
  table: 'd-audit-table',
  empty: 'd-audit-empty',
  more: 'd-audit-more',
  refresh: 'd-audit-refresh',
  error: 'd-audit-error',
  what: 'the audit trail',
});

export const bindActivity = (signal) => audit.bind(signal);

// Reload the first page of the trail (after a change made on the page).
export const reloadAudit = () => (store.client ? audit.load(null) : undefined);

// Forget the previous client's usage and trail (another client is being opened).
export function clearActivity() {
  usageGuard.cancel();
  store.clientAudit.reset();
  audit.render();
  $('usage-bars').replaceChildren();
  $('usage-table-rows').replaceChildren();
  setText('usage-summary', 'Loading usage…');
}

export async function loadActivity(id) {
  reloadAudit();
  show('usage-error', false);
  const current = usageGuard.begin();
  const res = await attempt(api.clientUsage(id), (e) => {
    if (!current()) return;
    setText('usage-summary', '');
    showError('usage-error', `Could not load usage: ${describe(e)}`);
  });
  if (res.ok && current()) renderUsage(Array.isArray(res.value && res.value.days) ? res.value.days : []);
}

function renderUsage(days) {
  const counts = days.map((d) => (typeof d.tokens === 'number' ? d.tokens : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...counts);
  let summary = 'No tokens issued in the last 30 days.';
  if (total) {
    const peak = days[counts.indexOf(max)];
    const today = counts[counts.length - 1] || 0;
    summary = `${plural(total, 'token')} in the last ${days.length} days; busiest day ${peak.date} (${plural(max, 'token')}); today ${plural(today, 'token')}.`;
  }
  setText('usage-summary', summary);
  $('usage-bars').replaceChildren(...days.map((d, i) => {
    const n = counts[i];
    const bar = h('span', { class: n ? 'bar' : 'bar zero', 'aria-hidden': 'true' });
    // CSSOM, not a style attribute: allowed under the page's style-src 'self'.
    if (max) bar.style.height = n ? `${Math.max(4, Math.round((n / max) * 100))}%` : '';
    return h('li', { title: `${d.date}: ${plural(n, 'token')}` }, bar, h('span', { class: 'visually-hidden' }, `${d.date}: ${plural(n, 'token')}`));
  }));
  setText('usage-first', days.length ? days[0].date : '');
  setText('usage-last', days.length ? days[days.length - 1].date : '');
  $('usage-table-rows').replaceChildren(...[...days].reverse().map((d, i) =>
    h('tr', {}, h('td', {}, d.date), h('td', { class: 'num' }, counts[days.length - 1 - i].toLocaleString('en-US')))));
}

export function resetActivity() {
  for (const id of ['d-audit-rows', 'usage-bars', 'usage-table-rows']) $(id).replaceChildren();
}
