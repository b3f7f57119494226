// Presets for a new federated credential. GitHub Actions fills the issuer and builds the exact
// subject from an organization, a repository and a branch or environment; Kubernetes builds
// `system:serviceaccount:NAMESPACE:NAME` and leaves the issuer (the cluster's) to the admin.
// Both suggest this server's issuer URL as the audience. Everything stays editable: a preset
// only writes into the ordinary fields (ids `f-issuer`, `f-audiences`, `f-subject`).
import { serverIssuer } from '../lib/api.js';
import { $, h, setText, show } from '../lib/dom.js';
import { field } from './markup.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

// GitHub's `sub` for a job on a branch or in an environment.
export const githubSubject = ({ org, repo, kind, value }) => (kind === 'environment'
  ? `repo:${org}/${repo}:environment:${value}`
  : `repo:${org}/${repo}:ref:refs/heads/${value}`);

// A Kubernetes service account's `sub`.
export const kubernetesSubject = ({ namespace, name }) => `system:serviceaccount:${namespace}:${name}`;

const PRESETS = [
  ['none', 'None', 'fill in the fields below'],
  ['github', 'GitHub Actions', 'a workflow job on a branch or in an environment'],
  ['kubernetes', 'Kubernetes', 'a pod’s service account'],
];

const small = (id, label, placeholder, labelId) => field({
  id,
  label: labelId ? h('span', { id: labelId }, label) : label,
  control: h('input', {
    id, type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder, 'aria-describedby': 'f-preset-subject',
  }),
});

export function presetFields() {
  return h('fieldset', { id: 'f-presets', class: 'group' },
    h('legend', {}, 'Preset'),
    h('div', { class: 'field choices' },
      ...PRESETS.map(([key, label, hint], i) => h('div', { class: 'choice' },
        h('input', { type: 'radio', id: `f-preset-${key}`, name: 'f-preset', value: key, checked: i === 0 }),
        h('label', { for: `f-preset-${key}` }, `${label} `, h('span', { class: 'hint prose' }, hint))))),
    h('div', { id: 'f-gh', hidden: true },
      h('p', { class: 'hint' }, 'Issuer ', h('code', {}, GITHUB_ISSUER), '. The workflow needs ', h('code', {}, 'permissions: id-token: write'),
        ' and asks for its token with one of the audiences below.'),
      h('div', { class: 'row' },
        small('f-gh-org', 'Organization or user', 'acme'),
        small('f-gh-repo', 'Repository', 'deploy'),
        field({
          id: 'f-gh-kind',
          label: 'Runs on',
          control: h('select', { id: 'f-gh-kind' }, h('option', { value: 'branch' }, 'A branch'), h('option', { value: 'environment' }, 'An environment')),
        }),
        small('f-gh-ref', 'Branch', 'main', 'f-gh-ref-label'))),
    h('div', { id: 'f-k8s', hidden: true },
      h('p', { class: 'hint' }, 'Enter your cluster’s issuer URL below: the ', h('code', {}, 'issuer'), ' in ',
        h('code', {}, 'kubectl get --raw /.well-known/openid-configuration'),
        '. The pod’s projected service-account token must be requested with one of the audiences below.'),
      h('div', { class: 'row' },
        small('f-k8s-ns', 'Namespace', 'payments'),
        small('f-k8s-sa', 'Service account', 'exporter'))),
    h('p', { id: 'f-preset-subject', class: 'hint', hidden: true }));
}

const preset = () => $('f-presets').querySelector('input[name=f-preset]:checked').value;
const value = (id) => $(id).value.trim();

let written = { issuer: '', subject: '', audience: '' }; // what the preset last wrote
let suggestion = ''; // this server's issuer URL, once read

// The subject the preset's inputs build, or '' while one is empty.
function builtSubject(p) {
  if (p === 'github') {
    const parts = { org: value('f-gh-org'), repo: value('f-gh-repo'), kind: $('f-gh-kind').value, value: value('f-gh-ref') };
    return parts.org && parts.repo && parts.value ? githubSubject(parts) : '';
  }
  if (p === 'kubernetes') {
    const parts = { namespace: value('f-k8s-ns'), name: value('f-k8s-sa') };
    return parts.namespace && parts.name ? kubernetesSubject(parts) : '';
  }
  return '';
}

// Write `next` into a field unless the admin has changed what the preset wrote there.
function write(id, key, next) {
  const el = $(id);
  if (el.value.trim() !== '' && el.value.trim() !== written[key]) return;
  el.value = next;
  written[key] = next;
}

function fillSubject() {
  const p = preset();
  const subject = builtSubject(p);
  if (p !== 'none') {
    const exact = $('f-subject-exact');
    if (!exact.checked) {
      exact.checked = true;
      exact.dispatchEvent(new Event('change')); // the subject field's label follows the choice
    }
    // The built subject always replaces the one the preset wrote before.
    if ($('f-subject').value.trim() === written.subject || subject) {
      $('f-subject').value = subject;
      written.subject = subject;
    }
  }
  const info = $('f-preset-subject');
  info.replaceChildren(...(subject ? ['Subject: ', h('code', {}, subject)] : [p === 'github'
    ? 'Fill in the organization, the repository and the branch or environment to build the subject.'
    : 'Fill in the namespace and the service account to build the subject.']));
  show(info, p !== 'none');
}

async function suggestAudience() {
  if (!suggestion) suggestion = await serverIssuer();
  if (preset() !== 'none') write('f-audiences', 'audience', suggestion);
}

function choose() {
  const p = preset();
  show('f-gh', p === 'github');
  show('f-k8s', p === 'kubernetes');
  if (p === 'github') write('f-issuer', 'issuer', GITHUB_ISSUER);
  else if (p === 'kubernetes') write('f-issuer', 'issuer', '');
  fillSubject();
  if (p !== 'none') suggestAudience();
}

function syncRefLabel() {
  setText('f-gh-ref-label', $('f-gh-kind').value === 'environment' ? 'Environment' : 'Branch');
  $('f-gh-ref').placeholder = $('f-gh-kind').value === 'environment' ? 'production' : 'main';
}

export function bindPresets(signal) {
  for (const r of $('f-presets').querySelectorAll('input[name=f-preset]')) r.addEventListener('change', choose, { signal });
  $('f-gh-kind').addEventListener('change', () => {
    syncRefLabel();
    fillSubject();
  }, { signal });
  for (const id of ['f-gh-org', 'f-gh-repo', 'f-gh-ref', 'f-k8s-ns', 'f-k8s-sa']) $(id).addEventListener('input', fillSubject, { signal });
}

// After the form was reset: no preset, nothing written.
export function resetPresets() {
  written = { issuer: '', subject: '', audience: '' };
  syncRefLabel();
  choose();
}
