// The fields of a new federated credential (ids `f-…`) and their reader: name, description,
// a preset, issuer, audiences, an exact subject or a subject pattern, claim conditions and an
// optional JWKS URL. The reader checks what the page can say at once (required fields, the
// URL's shape, counts); the server's 422 stays the final word and names its field, which
// `fieldOfError` finds so the page can mark it.
import { $, h, setText, showError } from '../lib/dom.js';
import { limit } from '../lib/limits.js';
import { claimFields, firstClaimInput, readClaims } from './claim-rows.js';
import { readJwksUri } from './keys.js';
import { describedBy, errorText, field, optional } from './markup.js';
import { presetFields } from './federation-presets.js';

// A federated-credential limit from GET /admin/limits, e.g. fedLimit('claims_max').
export const fedLimit = (key) => limit(`federated_credential.${key}`);
const maxlength = (key) => ({ 'data-limit-maxlength': `federated_credential.${key}` });

// A text input pointing at its error text, and at its hint when it has one.
const input = (id, attrs, hinted = true) => h('input', {
  id, type: 'text', autocomplete: 'off', spellcheck: 'false', ...describedBy(...(hinted ? [`${id}-hint`] : []), `${id}-error`), ...attrs,
});
const hintText = (id, ...text) => h('p', { id: `${id}-hint`, class: 'hint' }, ...text);

const SUBJECT_KINDS = [
  ['exact', 'Exact subject', 'the token’s sub must equal it'],
  ['pattern', 'Subject pattern', '* matches any run of characters, everything else is literal'],
];

export function federationFields() {
  return [
    h('div', { class: 'row' },
      field({
        id: 'f-name', label: 'Name', error: true, control: input('f-name', { spellcheck: undefined, required: true, ...maxlength('name_max') }, false),
      }),
      field({
        id: 'f-description',
        label: ['Description ', optional('(optional)')],
        error: true,
        control: input('f-description', { spellcheck: undefined, ...maxlength('description_max') }, false),
      })),
    presetFields(),
    field({
      id: 'f-issuer',
      label: 'Issuer',
      error: true,
      control: input('f-issuer', {
        type: 'url', class: 'mono', placeholder: 'https://issuer.example.com', required: true, ...maxlength('value_max'),
      }),
      after: [hintText('f-issuer', 'The token’s ', h('code', {}, 'iss'), ', compared exactly: https (plain http only for localhost).')],
    }),
    field({
      id: 'f-audiences',
      label: ['Audiences ', optional('(one per line or comma-separated)')],
      error: true,
      control: h('textarea', {
        id: 'f-audiences', rows: '2', class: 'mono', spellcheck: 'false', required: true, ...describedBy('f-audiences-hint', 'f-audiences-error'),
      }),
      after: [hintText('f-audiences', 'The token’s ', h('code', {}, 'aud'), ' must hold one of them.')],
    }),
    h('fieldset', { class: 'field choices' },
      h('legend', {}, 'Subject'),
      ...SUBJECT_KINDS.map(([key, label, hint], i) => h('div', { class: 'choice' },
        h('input', { type: 'radio', id: `f-subject-${key}`, name: 'f-subject-kind', value: key, checked: i === 0 }),
        h('label', { for: `f-subject-${key}` }, `${label} `, h('span', { class: 'hint prose' }, hint)))),
      h('label', { for: 'f-subject', id: 'f-subject-label', class: 'subject-label' }, 'Subject'),
      input('f-subject', { class: 'mono', required: true, ...maxlength('value_max') }),
      hintText('f-subject'),
      errorText('f-subject-error')),
    claimFields(() => fedLimit('claims_max')),
    field({
      id: 'f-jwks-uri',
      label: ['JWKS URL ', optional('(optional)')],
      error: true,
      control: input('f-jwks-uri', { type: 'url', class: 'mono' }),
      after: [hintText('f-jwks-uri', 'Empty: the keys are discovered from the issuer’s ',
        h('code', {}, '/.well-known/openid-configuration'), '.')],
    }),
  ];
}

const subjectKind = () => $('f-subject-pattern').checked ? 'pattern' : 'exact';

// The subject field's label and placeholder follow the choice of exact subject or pattern.
export function syncSubjectKind() {
  const pattern = subjectKind() === 'pattern';
  setText('f-subject-label', pattern ? 'Subject pattern' : 'Subject');
  $('f-subject').placeholder = pattern ? 'repo:acme/deploy:*' : 'repo:acme/deploy:ref:refs/heads/main';
  $('f-subject-hint').replaceChildren(...(pattern
    ? ['For example ', h('code', {}, 'repo:acme/deploy:*'), ' for any branch, tag or environment of the repository. A pattern of only ',
      h('code', {}, '*'), ' is refused as too broad.']
    : ['Compared exactly with the token’s ', h('code', {}, 'sub'), '.']));
}

export const audiencesOf = (text) => text.split(/[\n,]/).map((a) => a.trim()).filter(Boolean);

// The POST body, or null when a field is refused (each refused field shows its error).
// `names`: the names the client's credentials already have (a name is unique per client).
export function readCredential(names) {
  let ok = true;
  const refuse = (id, message) => {
    showError(`${id}-error`, message, id);
    ok = false;
  };
  const body = { name: $('f-name').value.trim() };
  if (!body.name) refuse('f-name', 'A name is required.');
  else if (names.includes(body.name)) refuse('f-name', `This client already has a federated credential named “${body.name}”.`);
  const description = $('f-description').value.trim();
  if (description) body.description = description;
  body.issuer = $('f-issuer').value.trim();
  if (!/^https?:\/\/\S+$/i.test(body.issuer)) refuse('f-issuer', 'Enter the issuer’s URL, exactly as its tokens’ iss claim has it.');
  body.audiences = audiencesOf($('f-audiences').value);
  const maxAudiences = fedLimit('audiences_max');
  if (!body.audiences.length) refuse('f-audiences', 'At least one audience is required.');
  else if (body.audiences.length > maxAudiences) refuse('f-audiences', `At most ${maxAudiences} audiences (this has ${body.audiences.length}).`);
  const subject = $('f-subject').value.trim();
  const pattern = subjectKind() === 'pattern';
  if (!subject) refuse('f-subject', pattern ? 'Enter the subject pattern.' : 'Enter the subject.');
  else body[pattern ? 'subject_pattern' : 'subject'] = subject;
  const claims = readClaims();
  if (claims === null) ok = false;
  else if (Object.keys(claims).length) body.claims = claims;
  const jwksUri = readJwksUri('f-jwks-uri', 'f-jwks-uri-error', false);
  if (jwksUri === null) ok = false;
  else if (jwksUri) body.jwks_uri = jwksUri;
  return ok ? body : null;
}

// The words a server error uses for a request field, and the input that holds the field.
const FIELDS = [
  ['name', () => $('f-name')],
  ['description', () => $('f-description')],
  ['issuer', () => $('f-issuer')],
  ['audiences', () => $('f-audiences')],
  ['audience', () => $('f-audiences')],
  ['subject', () => $('f-subject')],
  ['subject_pattern', () => $('f-subject')],
  ['claims', () => firstClaimInput() || $('f-add-claim')],
  ['claim', () => firstClaimInput() || $('f-add-claim')],
  ['jwks_uri', () => $('f-jwks-uri')],
];

// The input of the field a server error names first, or null. The server's descriptions name
// the field ("issuer must be an https URL…", "each claim name must be…"), so the first named
// one is the field refused.
export function fieldOfError(description) {
  let best = null;
  for (const [word, el] of FIELDS) {
    const at = new RegExp(`(^|[^A-Za-z0-9_])${word}($|[^A-Za-z0-9_])`).exec(description || '');
    if (at && (!best || at.index < best.at)) best = { at: at.index, el };
  }
  return best ? best.el() : null;
}
