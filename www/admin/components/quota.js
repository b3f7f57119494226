// A client's token quota: the fieldset the create and edit forms share (tokens per UTC hour,
// per UTC day, enforce or monitor), reading and filling it, and the sentence the client page
// shows with the use against it. Ids: `${prefix}quota-hour`, `${prefix}quota-day`,
// `${prefix}quota-mode`, `${prefix}quota-error`.
import { $, h, showError } from '../lib/dom.js';
import { limit } from '../lib/limits.js';
import { describedBy, errorText, field, optional } from './markup.js';

const number = (id, errId) => h('input', {
  id, type: 'number', step: '1', inputmode: 'numeric', 'data-limit-min': 'token_quota.min', 'data-limit-max': 'token_quota.max', ...describedBy(errId),
});

export function quotaFields(prefix) {
  const err = `${prefix}quota-error`;
  return h('fieldset', { id: `${prefix}quota`, class: 'group' },
    h('legend', {}, 'Token quota ', optional('(leave both empty for none)')),
    h('div', { class: 'row' },
      field({ id: `${prefix}quota-hour`, label: ['Tokens per hour ', optional('(UTC hours)')], control: number(`${prefix}quota-hour`, err) }),
      field({ id: `${prefix}quota-day`, label: ['Tokens per day ', optional('(UTC days)')], control: number(`${prefix}quota-day`, err) })),
    field({
      id: `${prefix}quota-mode`,
      label: 'Over the quota',
      control: h('select', { id: `${prefix}quota-mode` },
        h('option', { value: 'enforce' }, 'Enforce: refuse tokens (HTTP 429)'),
        h('option', { value: 'monitor' }, 'Monitor: issue them, record one audit event per hour or day')),
    }),
    errorText(err));
}

// The quota in the form: null for none, undefined (error shown) when a number is refused.
export function readQuota(prefix) {
  const { min, max } = limit('token_quota') || { min: 1, max: 10_000_000 };
  const quota = {};
  for (const [key, suffix] of [['per_hour', 'hour'], ['per_day', 'day']]) {
    const id = `${prefix}quota-${suffix}`;
    const raw = $(id).value.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      showError(`${prefix}quota-error`, `Enter a whole number of tokens from ${min} to ${max.toLocaleString('en-US')}, or leave it empty.`, id);
      return undefined;
    }
    quota[key] = n;
  }
  if (!Object.keys(quota).length) return null;
  quota.enforce = $(`${prefix}quota-mode`).value === 'enforce';
  return quota;
}

export function fillQuota(prefix, q) {
  $(`${prefix}quota-hour`).value = q?.per_hour ?? '';
  $(`${prefix}quota-day`).value = q?.per_day ?? '';
  $(`${prefix}quota-mode`).value = q && q.enforce === false ? 'monitor' : 'enforce';
}

// Whether two quotas (or nulls) say the same.
export const sameQuota = (a, b) => (a?.per_hour ?? null) === (b?.per_hour ?? null)
  && (a?.per_day ?? null) === (b?.per_day ?? null)
  && (a ? a.enforce !== false : null) === (b ? b.enforce !== false : null);

// "Enforced: 2 of 3 this hour, 5 of 100 today (UTC)" or "None".
export function quotaText(c) {
  const q = c.token_quota;
  if (!q) return 'None';
  const use = c.token_quota_use || {};
  const n = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : '?');
  const parts = [];
  if (q.per_hour) parts.push(`${n(use.per_hour)} of ${n(q.per_hour)} this hour`);
  if (q.per_day) parts.push(`${n(use.per_day)} of ${n(q.per_day)} today`);
  const mode = q.enforce === false ? 'Monitored (tokens still issued)' : 'Enforced';
  return `${mode}: ${parts.join(', ')} (UTC)`;
}
