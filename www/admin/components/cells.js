// Table pieces shared by the listings.
import { h, now, DAY, formatTime } from '../lib/dom.js';
import { statusOf, SOON, fromNow } from '../lib/format.js';

// A table cell that turns into a labelled line on narrow screens (see .table.cards).
export function cell(label, ...children) {
  return h('td', { dataset: { label } }, h('div', { class: 'cell' }, ...children));
}

// A <time> for epoch seconds ('—' without one); `hint` adds "(in 10 min)" after it.
export function timeOf(epoch, hint = false) {
  if (typeof epoch !== 'number') return '—';
  const time = h('time', { datetime: new Date(epoch * 1000).toISOString() }, formatTime(epoch));
  return hint ? h('span', {}, time, ' ', h('span', { class: 'hint' }, `(${fromNow(epoch)})`)) : time;
}

export function statusBadge(c) {
  const s = statusOf(c);
  return h('span', { class: `badge badge-${s.key}` }, s.text);
}

// Text marker for a secret's expiry (never colour only).
export function expiryTag(expiresAt) {
  if (typeof expiresAt !== 'number') return null;
  const left = expiresAt - now();
  if (left <= 0) return h('span', { class: 'tag tag-expired' }, 'Expired');
  if (left < SOON) {
    const days = Math.floor(left / DAY);
    const when = days < 1 ? 'in under a day' : `in ${days} day${days === 1 ? '' : 's'}`;
    return h('span', { class: 'tag tag-soon' }, `Expires soon: ${when}`);
  }
  return null;
}
