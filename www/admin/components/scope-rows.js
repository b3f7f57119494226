// The scope editor of a resource (#r-scopes): one row per scope, value + description,
// numbered for screen readers; "Add scope" stops at the server's cap. The checks use the
// server's scope-token pattern and lengths (GET /admin/limits).
import { $, h, removeRow, setText, show, showError } from '../lib/dom.js';
import { limit, isScopeToken } from '../lib/limits.js';

let uid = 0;

function field(cls, label, extra, maxlength) {
  const id = `rs-${cls}-${++uid}`;
  return h('div', { class: 'field' },
    h('label', { for: id }, label, h('span', { class: 'visually-hidden num' }), ...extra),
    h('input', { id, type: 'text', class: cls === 'value' ? 'mono scope-value' : 'scope-desc', autocomplete: 'off', spellcheck: cls === 'value' ? 'false' : undefined, maxlength }));
}

function scopeRow(value = '', description = '') {
  const li = h('li', { class: 'scope-row' },
    field('value', 'Scope', [], limit('scope.token_max')),
    field('desc', 'Description', [' ', h('span', { class: 'optional' }, '(optional)')], limit('resource.scope_description_max')),
    h('button', { type: 'button', class: 'danger small remove-scope', onclick: () => removeRow(li, $('r-add-scope'), renumber) }, 'Remove'));
  li.querySelector('.scope-value').value = value;
  li.querySelector('.scope-desc').value = description;
  return li;
}

function renumber() {
  const rows = [...$('r-scopes').children];
  rows.forEach((li, i) => {
    for (const n of li.querySelectorAll('.num')) setText(n, ` ${i + 1}`);
    li.querySelector('.remove-scope').setAttribute('aria-label', `Remove scope ${i + 1}`);
  });
  show('r-scopes-none', rows.length === 0);
  $('r-add-scope').disabled = rows.length >= limit('resource.scopes_max');
}

export function setScopeRows(scopes) {
  $('r-scopes').replaceChildren(...scopes.map((s) => scopeRow(s.value, s.description || '')));
  renumber();
}

export function addScopeRow() {
  const li = scopeRow();
  $('r-scopes').append(li);
  renumber();
  li.querySelector('input').focus();
}

// The scopes as [{value, description}], or null with the problems shown.
export function readScopes() {
  const out = [];
  const problems = [];
  const seen = new Map();
  const refuse = (input, text) => {
    problems.push(text);
    input.setAttribute('aria-invalid', 'true');
  };
  [...$('r-scopes').children].forEach((li, i) => {
    const vIn = li.querySelector('.scope-value');
    const dIn = li.querySelector('.scope-desc');
    const value = vIn.value.trim();
    const description = dIn.value.trim();
    if (!value && !description) return; // an empty row is ignored
    const n = i + 1;
    if (!value) refuse(vIn, `scope ${n} has a description but no value`);
    else if (value.length > limit('scope.token_max')) refuse(vIn, `scope ${n} is over ${limit('scope.token_max')} characters`);
    else if (!isScopeToken(value)) refuse(vIn, `scope ${n} “${value}” may not contain spaces, quotes or backslashes`);
    else if (seen.has(value)) refuse(vIn, `scope ${n} “${value}” repeats scope ${seen.get(value)}`);
    else seen.set(value, n);
    const dMax = limit('resource.scope_description_max');
    if (description.length > dMax) refuse(dIn, `the description of scope ${n} is over ${dMax} characters`);
    out.push({ value, description });
  });
  const max = limit('resource.scopes_max');
  if (out.length > max) problems.push(`a resource can define at most ${max} scopes (this has ${out.length})`);
  if (problems.length) {
    const text = problems.join('; ');
    showError('r-scopes-error', text.charAt(0).toUpperCase() + text.slice(1) + '.');
    return null;
  }
  return out;
}
