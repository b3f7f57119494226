// edgeauth admin page: the entry module. Wires the shell (busy bar, sign-out, secret dialog),
// the routes and the sign-out reset, then shows the screen for the current hash.
// Plain ES modules, no build step. Server data goes into the DOM through textContent only.
import { describe } from './lib/api.js';
import { $, setText, show, showError } from './lib/dom.js';
import { store } from './lib/store.js';
import { startSession, signOut, onSignOut, signedIn, attempt, identify, viaAccess } from './lib/session.js';
import { limits, loadLimits, applyLimits } from './lib/limits.js';
import { createRouter } from './lib/router.js';
import { bindSecretDialog, closeSecretDialog } from './components/secret-dialog.js';
import { closeConfirm } from './components/confirm.js';
import { signinView } from './views/signin.js';
import { clientListView } from './views/client-list.js';
import { clientCreateView } from './views/client-create.js';
import { clientDetailView } from './views/client-detail.js';
import { resourceListView } from './views/resource-list.js';
import { resourceEditView } from './views/resource-edit.js';
import { keysView } from './views/keys.js';
import { auditView } from './views/audit.js';

// In page order.
const VIEWS = [signinView, clientListView, clientCreateView, clientDetailView, resourceListView, resourceEditView, keysView, auditView];

const router = createRouter({
  routes: [
    [/^\/clients\/new$/, clientCreateView],
    [/^\/clients\/([^/]+)$/, clientDetailView],
    [/^\/resources$/, resourceListView],
    [/^\/resources\/new$/, resourceEditView],
    [/^\/resources\/([^/]+)$/, resourceEditView],
    [/^\/keys$/, keysView],
    [/^\/audit$/, auditView],
  ],
  fallback: clientListView,
  views: VIEWS,
});

async function route(signin = {}) {
  if (!signedIn() && !signin.message && !identified) {
    // Behind Cloudflare Access the browser is signed in already; with a token kept in this tab,
    // the token's holder. Asked once per page load.
    identified = true;
    const res = await attempt(identify(), (e) => showError('app-error', `Could not sign in: ${describe(e)}`));
    if (!res.ok) return;
  }
  if (!signedIn()) {
    router.mount(signinView, { ...signin, onSignedIn: () => route() });
    return;
  }
  if (!limits()) {
    // Reloaded with a token in this tab: the limits come first (a 401 signs out).
    show('app-error', false);
    const res = await attempt(loadLimits(), (e) => showError('app-error', `Could not load the server's input limits: ${describe(e)}`));
    if (!res.ok) return;
    applyLimits();
  }
  router.go(location.hash);
}

let identified = false;

function start() {
  $('main').append(...VIEWS.map((view) => view.template()));
  startSession({
    busy: (on) => {
      $('busy').classList.toggle('on', on);
      setText('busy-text', on ? 'Working…' : '');
    },
  });
  onSignOut((message, isError) => {
    closeSecretDialog();
    closeConfirm();
    router.resetAll();
    store.reset();
    route({ message, isError });
  });
  bindSecretDialog();
  $('sign-out').addEventListener('click', () => {
    // Cloudflare Access keeps its own session: its logout ends it.
    if (viaAccess()) location.assign('/cdn-cgi/access/logout');
    else signOut('Signed out. The admin token was removed from this tab.');
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/')) route(); // not the skip-link and other in-page anchors
  });
  route();
}

start();
