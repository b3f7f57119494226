// The one place that handles a refused admin token (HTTP 401) and signing out, and that knows
// who is signed in (GET /admin/me): a person through Cloudflare Access (no token in the page at
// all), or the holder of a token typed in. The page shows only what their permissions allow.
import { ApiError, configure, getToken, setToken, clearToken, raw, errorOf } from './api.js';
import { setText } from './dom.js';

const listeners = [];
let me = null; // GET /admin/me: {actor, via, role, permissions}

export const signedIn = () => Boolean(me && (me.via === 'access' || getToken()));
export const whoAmI = () => me;
export const viaAccess = () => Boolean(me && me.via === 'access');
export { setToken };

const PERMISSIONS = ['clients:read', 'clients:write', 'tokens:revoke', 'resources:write', 'keys:write'];

// Ask the server who the page speaks for, with `token` (or with none: behind Cloudflare Access
// the browser's Access cookie is enough). Resolves to {status, json}; on 200 the page is
// signed in as that caller and shows only what they may do (body classes `lacks-<permission>`,
// style.css hides the controls).
export async function identify(token = getToken()) {
  const res = await raw('GET', '/admin/me', undefined, token);
  if (res.status === 200 && res.json) {
    me = res.json;
    for (const p of PERMISSIONS) document.body.classList.toggle(`lacks-${p.replace(':', '-')}`, !me.permissions.includes(p));
    const role = me.role ? `role ${me.role}` : me.via.replace('_', ' ');
    setText('whoami', `${me.actor} (${role})`);
    document.getElementById('whoami').hidden = false;
  } else if (res.status !== 401) {
    throw errorOf(res.status, res.json);
  }
  return res;
}

// Run `fn(message, isError)` on every sign-out (the page resets itself there).
export function onSignOut(fn) {
  listeners.push(fn);
}

export function signOut(message, isError = false) {
  clearToken();
  me = null;
  document.getElementById('whoami').hidden = true;
  for (const fn of listeners) fn(message, isError);
}

// Any admin call answered 401 signs out, with the reason on the sign-in screen.
export function startSession({ busy }) {
  configure({
    unauthorized: () => signOut(viaAccess()
      ? 'Your Cloudflare Access session is no longer accepted (HTTP 401). Reload the page to sign in again.'
      : 'The admin token is no longer accepted (HTTP 401). Sign in again.', true),
    busy,
  });
}

// Await an admin call. Resolves to {ok: true, value} or {ok: false, error}; `onError` gets
// every failure except a 401, which has signed out already and needs nothing more.
export async function attempt(promise, onError) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401) && onError) onError(error);
    return { ok: false, error };
  }
}
