// A client's token claims: members added to every access token it gets (a tenant id, a tier),
// edited as one JSON object. The page checks the shape and the limits from /admin/limits; the
// server checks every rule again and names the member at fault. Ids: `${prefix}claims`,
// `${prefix}claims-error`.
import { $, h, showError } from '../lib/dom.js';
import { limit } from '../lib/limits.js';
import { describedBy, field, optional } from './markup.js';

export function claimsField(prefix) {
  const id = `${prefix}claims`;
  return field({
    id,
    label: ['Token claims ', optional(['(a JSON object such as ', h('code', {}, '{"tenant": "acme", "tier": 2}'),
      ', added to every access token of this client; empty for none)'])],
    error: true,
    control: h('textarea', { id, rows: '3', class: 'mono', spellcheck: 'false', ...describedBy(`${id}-error`) }),
  });
}

export function fillClaims(prefix, claims) {
  const members = claims && Object.keys(claims).length ? claims : null;
  $(`${prefix}claims`).value = members ? JSON.stringify(members, null, 2) : '';
}

// The claims in the form: {} for none, undefined (error shown) when they are refused here.
export function readClaims(prefix) {
  const id = `${prefix}claims`;
  const text = $(id).value.trim();
  if (!text) return {};
  const refuse = (why) => {
    showError(`${id}-error`, why, id);
    return undefined;
  };
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse('This is not valid JSON: enter an object such as {"tenant": "acme"}.');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return refuse('Enter a JSON object such as {"tenant": "acme"}.');
  const rules = limit('token_claims') || { members_max: 20, reserved: [] };
  const names = Object.keys(value);
  if (names.length > rules.members_max) return refuse(`At most ${rules.members_max} members.`);
  const reserved = names.find((n) => rules.reserved.includes(n));
  if (reserved) return refuse(`“${reserved}” is set by edgeauth and cannot be a token claim.`);
  const bad = names.find((n) => {
    const v = value[n];
    return !(['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every((x) => typeof x === 'string')));
  });
  if (bad !== undefined) return refuse(`“${bad}” must be a string, a number, a boolean or an array of strings.`);
  return value;
}

// Whether two claim sets say the same (member order aside).
export function sameClaims(a, b) {
  const sorted = (o) => JSON.stringify(Object.keys(o || {}).sort().map((k) => [k, o[k]]));
  return sorted(a) === sorted(b);
}
