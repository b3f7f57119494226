// A secret's expiry: a select ("In 1 year", "Never", "On a date…") plus a date field shown
// for "On a date…". The choices follow the server's secret policy (GET /admin/limits):
// its default lifetime, its cap (max_lifetime_days) and whether "never" is allowed.
// Ids: `${prefix}expiry`, `${prefix}date`, `${prefix}date-field`, `${prefix}date-error`.
import { $, h, show, showError, now, DAY } from '../lib/dom.js';
import { limit } from '../lib/limits.js';
import { describedBy, field, optional } from './markup.js';

const NAMED = { 365: ['1y', 'In 1 year'], 730: ['2y', 'In 2 years'] };
const valueOf = (days) => (NAMED[days] ? NAMED[days][0] : `${days}d`);
const labelOf = (days) => (NAMED[days] ? NAMED[days][1] : `In ${days} day${days === 1 ? '' : 's'}`);
const daysOf = (value) => Number(Object.keys(NAMED).find((d) => NAMED[d][0] === value) ?? /^(\d+)d$/.exec(value)?.[1]);
const isoDay = (epoch) => new Date(epoch * 1000).toISOString().slice(0, 10);

// The description, expiry and date fields of a new secret.
export function expiryFields(prefix, descriptionLabel) {
  return [
    field({
      id: `${prefix}description`,
      label: [`${descriptionLabel} `, optional('(optional)')],
      control: h('input', { id: `${prefix}description`, type: 'text', 'data-limit-maxlength': 'secret.description_max', autocomplete: 'off' }),
    }),
    field({ id: `${prefix}expiry`, label: 'Expires', control: h('select', { id: `${prefix}expiry` }) }),
    field({
      id: `${prefix}date`,
      label: 'Expiry date (end of day, UTC)',
      control: h('input', { id: `${prefix}date`, type: 'date', ...describedBy(`${prefix}date-error`) }),
      error: true,
      wrapId: `${prefix}date-field`,
      hidden: true,
    }),
  ];
}

export function expiryField(prefix) {
  const select = () => $(`${prefix}expiry`);
  const date = () => $(`${prefix}date`);
  const sync = () => show(`${prefix}date-field`, select().value === 'date');

  // The choices for the current policy (rebuilt only when the policy changes).
  function setup() {
    const policy = limit('secret');
    const key = JSON.stringify(policy);
    if (select().dataset.policy !== key) {
      const cap = policy.max_lifetime_days;
      const days = [...new Set([policy.default_lifetime_days, 365, 730])]
        .filter((d) => d > 0 && (cap == null || d <= cap)).sort((a, b) => a - b);
      select().replaceChildren(
        ...days.map((d) => h('option', { value: valueOf(d), selected: d === policy.default_lifetime_days }, labelOf(d))),
        policy.allow_never ? h('option', { value: 'never' }, 'Never') : null,
        h('option', { value: 'date' }, 'On a date…'));
      select().dataset.policy = key;
    }
    // Date pickers start tomorrow (UTC) and end at the cap.
    date().min = isoDay(now() + DAY);
    date().max = policy.max_lifetime_days == null ? '' : isoDay(now() + (policy.max_lifetime_days - 1) * DAY);
    sync();
  }

  // The expiry part of a secret request, or null (with the error shown) when it is not valid.
  function read() {
    const v = select().value;
    if (v === 'never') return { expires_at: 0 };
    if (v !== 'date') return { expires_in: daysOf(v) * DAY };
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date().value);
    const fail = (text) => {
      showError(`${prefix}date-error`, text, date());
      return null;
    };
    if (!m) return fail('Choose an expiry date.');
    const at = Math.floor(Date.UTC(+m[1], +m[2] - 1, +m[3], 23, 59, 59) / 1000);
    if (at <= now()) return fail('The expiry date must be in the future.');
    const cap = limit('secret.max_lifetime_days');
    if (cap != null && at > now() + cap * DAY) return fail(`Secrets may live at most ${cap} days.`);
    return { expires_at: at };
  }

  return {
    setup,
    sync,
    read,
    bind(signal) { select().addEventListener('change', sync, { signal }); },
  };
}
