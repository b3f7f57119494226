// The claim conditions of a new federated credential (#f-claims): one row per condition, a
// claim name and the pattern its string value must fit, numbered for screen readers; "Add
// claim condition" stops at the cap. Ids: `f-claims`, `f-claims-none`, `f-add-claim`,
// `f-claims-error`.
import { $, h, removeRow, setText, show, showError } from '../lib/dom.js';
import { limit } from '../lib/limits.js';
import { errorText } from './markup.js';

let uid = 0;
let cap = () => Infinity;

function input(cls, label, placeholder, max) {
  const id = `fc-${cls}-${++uid}`;
  return h('div', { class: 'field' },
    h('label', { for: id }, label, h('span', { class: 'visually-hidden num' })),
    h('input', {
      id, type: 'text', class: `mono claim-${cls}`, autocomplete: 'off', spellcheck: 'false', placeholder, maxlength: max, 'aria-describedby': 'f-claims-error',
    }));
}

function claimRow() {
  const li = h('li', { class: 'claim-row' },
    input('name', 'Claim', 'repository_owner', limit('federated_credential.claim_name_max')),
    h('span', { class: 'claim-eq', 'aria-hidden': 'true' }, '='),
    input('pattern', 'Pattern', 'acme', limit('federated_credential.value_max')),
    h('button', { type: 'button', class: 'danger small remove-claim', onclick: () => removeRow(li, $('f-add-claim'), renumber) }, 'Remove'));
  return li;
}

function renumber() {
  const rows = [...$('f-claims').children];
  rows.forEach((li, i) => {
    for (const n of li.querySelectorAll('.num')) setText(n, ` ${i + 1}`);
    li.querySelector('.remove-claim').setAttribute('aria-label', `Remove claim condition ${i + 1}`);
  });
  show('f-claims-none', rows.length === 0);
  $('f-add-claim').disabled = rows.length >= cap();
}

// The list, its empty text, the add button and the error; `max()` is the cap on conditions.
// The claim names the token checks govern (iss, sub, …) come from the limits too.
export function claimFields(max) {
  cap = max;
  return h('fieldset', { class: 'field claims' },
    h('legend', {}, 'Claim conditions ', h('span', { class: 'optional' }, '(optional)')),
    h('p', { class: 'hint' }, 'Each names a string claim of the token that must fit its pattern, for example ',
      h('code', {}, 'job_workflow_ref'), ' = ', h('code', {}, 'acme/deploy/.github/workflows/release.yml@refs/heads/main'), '.'),
    h('ol', { id: 'f-claims', class: 'claim-rows' }),
    h('p', { id: 'f-claims-none', class: 'muted' }, 'No claim conditions.'),
    h('button', { type: 'button', id: 'f-add-claim', class: 'small' }, 'Add claim condition'),
    errorText('f-claims-error'));
}

export function addClaimRow() {
  if ($('f-claims').children.length >= cap()) return;
  const li = claimRow();
  $('f-claims').append(li);
  renumber();
  li.querySelector('input').focus();
}

export function clearClaimRows() {
  $('f-claims').replaceChildren();
  renumber();
}

// The first claim input, to point at when the server refuses `claims`.
export const firstClaimInput = () => $('f-claims').querySelector('input');

// The conditions as {claim: pattern}, or null with the problems shown. Empty rows are ignored.
export function readClaims() {
  const out = {};
  const problems = [];
  const seen = new Map();
  const reserved = limit('federated_credential.reserved_claims') || [];
  const refuse = (el, text) => {
    problems.push(text);
    el.setAttribute('aria-invalid', 'true');
  };
  [...$('f-claims').children].forEach((li, i) => {
    const nameIn = li.querySelector('.claim-name');
    const patternIn = li.querySelector('.claim-pattern');
    const name = nameIn.value.trim();
    const pattern = patternIn.value.trim();
    if (!name && !pattern) return;
    const n = i + 1;
    if (!name) refuse(nameIn, `condition ${n} has a pattern but no claim name`);
    else if (!pattern) refuse(patternIn, `condition ${n} (${name}) has no pattern`);
    else if (reserved.includes(name)) refuse(nameIn, `condition ${n} names ${name}, which the issuer, audience, subject and time checks govern already`);
    else if (seen.has(name)) refuse(nameIn, `condition ${n} repeats the claim ${name} of condition ${seen.get(name)}`);
    else seen.set(name, n);
    if (name && pattern) out[name] = pattern;
  });
  const n = Object.keys(out).length;
  if (n > cap()) problems.push(`a credential can carry at most ${cap()} claim conditions (this has ${n})`);
  if (problems.length) {
    const text = problems.join('; ');
    showError('f-claims-error', `${text.charAt(0).toUpperCase()}${text.slice(1)}.`);
    return null;
  }
  return out;
}
