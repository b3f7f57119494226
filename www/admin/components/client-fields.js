// The fields the create and edit forms share: name, description, allowed scopes, allowed
// resources and access token lifetime, checked against the server's limits. Ids are
// `${prefix}name`, `${prefix}description`, `${prefix}scope`, `${prefix}resources`,
// `${prefix}lifetime`, each with `…-error` where it can be refused.
import { $, showError } from '../lib/dom.js';
import { limit, scopeProblems, lifetimeProblem } from '../lib/limits.js';
import { linesOf, scopeOf } from '../lib/format.js';

// A lifetime in seconds; undefined when empty and optional; null (error shown) when refused.
export function readLifetime(inputId, errId, required) {
  const raw = $(inputId).value.trim();
  if (!raw && !required) return undefined;
  const problem = raw ? lifetimeProblem(Number(raw)) : lifetimeProblem(NaN);
  if (problem) {
    showError(errId, problem, inputId);
    return null;
  }
  return Number(raw);
}

function readResources(id) {
  const list = linesOf($(id).value);
  const max = limit('client.resources_max');
  const long = list.filter((r) => r.length > limit('client.resource_max'));
  if (list.length > max) showError(`${id}-error`, `At most ${max} resources (this has ${list.length}).`, id);
  else if (long.length) showError(`${id}-error`, `A resource URI may be at most ${limit('client.resource_max')} characters.`, id);
  else return list;
  return null;
}

// {ok, name, description, scope, resources, lifetime}; every refused field shows its error.
export function readClientFields(prefix, { lifetimeRequired }) {
  const out = { ok: true };
  const refuse = () => { out.ok = false; };
  out.name = $(`${prefix}name`).value.trim();
  if (!out.name) {
    showError(`${prefix}name-error`, 'A name is required.', `${prefix}name`);
    refuse();
  }
  out.description = $(`${prefix}description`).value.trim();
  out.scope = scopeOf($(`${prefix}scope`).value);
  const problems = scopeProblems(out.scope);
  if (problems.length) {
    showError(`${prefix}scope-error`, problems.join(' '), `${prefix}scope`);
    refuse();
  }
  out.resources = readResources(`${prefix}resources`);
  if (!out.resources) refuse();
  out.lifetime = readLifetime(`${prefix}lifetime`, `${prefix}lifetime-error`, lifetimeRequired);
  if (out.lifetime === null) refuse();
  return out;
}

// After a refused form: focus the first field marked invalid.
export const focusInvalid = (form) => form.querySelector('[aria-invalid=true]')?.focus();
