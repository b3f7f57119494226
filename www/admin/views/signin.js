// Sign-in: the admin token is checked against the server before it is kept (sessionStorage).
// The first page of clients and the server's limits come with it.
import { raw, describe, errorOf } from '../lib/api.js';
import { $, h, setText, showError, clearErrors, busy } from '../lib/dom.js';
import { setToken, identify } from '../lib/session.js';
import { loadLimits, applyLimits } from '../lib/limits.js';
import { store } from '../lib/store.js';
import { actions, describedBy, field, okText, viewSection } from '../components/markup.js';

export const signinView = {
  id: 'view-signin',
  focus: '#signin-token',

  template: () => viewSection('view-signin', 'signin-title',
    h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in'),
    h('p', {}, 'Enter the admin token (the Worker\'s ', h('code', {}, 'ADMIN_TOKEN'), ') or a management token. It is kept in this browser tab only (sessionStorage) and is forgotten when you sign out or close the tab. Where Cloudflare Access guards this page, sign in through Access instead: no token is asked for.'),
    okText('signin-status'),
    h('form', { id: 'signin-form', novalidate: true },
      field({
        id: 'signin-token',
        label: 'Admin token',
        error: 'signin-error',
        control: h('input', {
          id: 'signin-token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, ...describedBy('signin-error'),
        }),
      }),
      actions(h('button', { type: 'submit', class: 'primary' }, 'Sign in')))),

  // params: {message, isError} after a sign-out; onSignedIn() shows the page asked for.
  mount({ message = '', isError = false, onSignedIn }, signal) {
    const form = $('signin-form');
    clearErrors(form);
    setText('signin-status', isError ? '' : message);
    if (isError) showError('signin-error', message, 'signin-token');
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      signIn(form, onSignedIn);
    }, { signal });
  },

  reset() { $('signin-form').reset(); },
};

async function signIn(form, onSignedIn) {
  clearErrors(form);
  setText('signin-status', '');
  const token = $('signin-token').value.trim();
  if (!token) {
    showError('signin-error', 'Enter the admin token.', 'signin-token');
    return;
  }
  await busy(form, 'Signing in…', async () => {
    try {
      const [clients, limits] = await Promise.all([
        raw('GET', '/admin/clients?limit=50', undefined, token),
        raw('GET', '/admin/limits', undefined, token),
      ]);
      if (clients.status === 401) {
        showError('signin-error', 'That admin token was refused (HTTP 401 Unauthorized). Check it and try again.', 'signin-token');
        $('signin-token').select();
        return;
      }
      for (const r of [clients, limits]) if (r.status !== 200 || !r.json) throw errorOf(r.status, r.json);
      await identify(token);
      await loadLimits(limits.json);
      applyLimits();
      setToken(token);
      form.reset();
      store.clients.accept(clients.json);
      store.clientsFresh = true;
      onSignedIn();
    } catch (e) {
      showError('signin-error', describe(e), 'signin-token');
    }
  });
}
