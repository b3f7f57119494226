// The one place that handles a refused admin token (HTTP 401) and signing out.
import { ApiError, configure, getToken, setToken, clearToken } from './api.js';

const listeners = [];

export const signedIn = () => Boolean(getToken());
export { setToken };

// Run `fn(message, isError)` on every sign-out (the page resets itself there).
export function onSignOut(fn) {
  listeners.push(fn);
}

export function signOut(message, isError = false) {
  clearToken();
  for (const fn of listeners) fn(message, isError);
}

// Any admin call answered 401 signs out, with the reason on the sign-in screen.
export function startSession({ busy }) {
  configure({
    unauthorized: () => signOut('The admin token is no longer accepted (HTTP 401). Sign in again.', true),
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
