// The fields the create and edit forms share: name, description, allowed scopes, allowed
// resources and access token lifetime, checked against the server's limits. Ids are
// `${prefix}name`, `${prefix}description`, `${prefix}scope`, `${prefix}resources`,
// `${prefix}lifetime`, each with `…-error` where it can be refused.
import { $, h, showError } from '../lib/dom.js';
import { limit, scopeProblems, lifetimeProblem } from '../lib/limits.js';
import { linesOf, scopeOf } from '../lib/format.js';
import { describedBy, field, optional } from './markup.js';

const limitText = (path) => h('span', { 'data-limit-text': path });

// The name and description fields; `optionalDescription` marks the description "(optional)".
export function nameFields(prefix, optionalDescription) {
  const id = `${prefix}name`;
  return [
    field({
      id,
      label: 'Name',
      error: true,
      control: h('input', {
        id, type: 'text', required: true, 'data-limit-maxlength': 'client.name_max', autocomplete: 'off', ...describedBy(`${id}-error`),
      }),
    }),
    field({
      id: `${prefix}description`,
      label: optionalDescription ? ['Description ', optional('(optional)')] : 'Description',
      control: h('textarea', { id: `${prefix}description`, rows: '2', 'data-limit-maxlength': 'client.description_max' }),
    }),
  ];
}

// An access token lifetime in seconds, within the server's bounds (`tail`: "; default …").
export function lifetimeField(id, label, tail, required) {
  const min = 'access_token_lifetime.min';
  const max = 'access_token_lifetime.max';
  return field({
    id,
    label: [`${label} `, optional(['(seconds, ', limitText(min), ' to ', limitText(max), ...tail, ')'])],
    error: true,
    control: h('input', {
      id, type: 'number', 'data-limit-min': min, 'data-limit-max': max, step: '1', inputmode: 'numeric', required, ...describedBy(`${id}-error`),
    }),
  });
}

// Allowed scopes, allowed resources and the lifetime (create: optional, with the default).
export function tokenFields(prefix, creating) {
  const text = (suffix, control) => ({ ...control, id: `${prefix}${suffix}`, spellcheck: 'false', ...describedBy(`${prefix}${suffix}-error`) });
  return [
    field({
      id: `${prefix}scope`,
      label: ['Allowed scopes ', optional('(space-separated)')],
      error: true,
      control: h('input', text('scope', { type: 'text', autocomplete: 'off' })),
    }),
    field({
      id: `${prefix}resources`,
      label: ['Allowed resources ', optional('(one URI per line; the first is the default audience)')],
      error: true,
      control: h('textarea', text('resources', { rows: '3', class: 'mono' })),
    }),
    lifetimeField(`${prefix}lifetime`, 'Access token lifetime', creating ? ['; default ', limitText('access_token_lifetime.default')] : [], !creating),
  ];
}

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

// After a refused form: focus the first field marked invalid (opening a folded section).
export function focusInvalid(form) {
  const field = form.querySelector('[aria-invalid=true]');
  if (!field) return;
  const folded = field.closest('details');
  if (folded) folded.open = true;
  field.focus();
}
