// The input rules the page checks before sending, as the server states them (GET
// /admin/limits): loaded once after sign-in and kept in the store. Nothing here copies a
// number or a pattern; the server's 422 stays the final word.
import { api } from './api.js';
import { store } from './store.js';

export const limits = () => store.limits;

// A value by path, e.g. limit('client.name_max').
export const limit = (path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), store.limits);

export async function loadLimits(fetched) {
  if (!store.limits) store.limits = fetched || await api.limits();
  return store.limits;
}

// Fill the attributes and texts that name a limit:
//   data-limit-maxlength="client.name_max", data-limit-min / data-limit-max (number inputs),
//   data-limit-text="resource.scopes_max" (the number written out in a hint).
export function applyLimits(root = document) {
  const set = (attr, fn) => {
    for (const el of root.querySelectorAll(`[data-limit-${attr}]`)) {
      const v = limit(el.getAttribute(`data-limit-${attr}`));
      if (v != null) fn(el, v);
    }
  };
  set('maxlength', (el, v) => el.setAttribute('maxlength', String(v)));
  set('min', (el, v) => el.setAttribute('min', String(v)));
  set('max', (el, v) => el.setAttribute('max', String(v)));
  set('text', (el, v) => { el.textContent = String(v); });
}

let pattern = null;
// One scope token (RFC 6749 3.3), by the server's own pattern.
export function isScopeToken(s) {
  const source = limit('scope.token_pattern');
  if (!pattern || pattern.source !== source) pattern = new RegExp(source);
  return pattern.test(s) && s.length <= limit('scope.token_max');
}

// Problems with a space-separated scope string, as sentences (empty when fine).
export function scopeProblems(text) {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const problems = [];
  const bad = tokens.filter((t) => !isScopeToken(t));
  if (bad.length) {
    problems.push(`Not a valid scope token (printable characters other than quotes and backslashes, at most ${limit('scope.token_max')}): ${bad.join(', ')}`);
  }
  if (tokens.length > limit('scope.tokens_max')) problems.push(`At most ${limit('scope.tokens_max')} scopes (this has ${tokens.length}).`);
  return problems;
}

// A whole number within the access token lifetime bounds, or an error sentence.
export function lifetimeProblem(n) {
  const { min, max } = limit('access_token_lifetime');
  return Number.isInteger(n) && n >= min && n <= max ? '' : `Enter a whole number of seconds from ${min} to ${max}.`;
}
