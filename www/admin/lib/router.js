// A small hash router. A view is { id, nav?, focus?, template(), mount(params, signal),
// unmount?(), reset?() }: `id` is its <section> (built once by template()), `nav` the
// main-menu entry it highlights (a view without one, the sign-in, hides the menu and "Sign
// out"), `focus` what gets focus when it is shown ('h1' by default, null for views that focus
// once their data is in). mount() binds its listeners with `signal`, which is aborted when
// another view is shown; reset() forgets what the view shows (sign-out).
import { $, show } from './dom.js';

export function createRouter({ routes, fallback, views }) {
  let current = null;

  function setNav(key) {
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function mount(view, params = {}) {
    if (current) {
      current.controller.abort();
      current.view.unmount?.();
    }
    const controller = new AbortController();
    current = { view, controller };
    for (const v of views) show(v.id, v === view);
    const signedIn = view.nav !== undefined;
    show('nav', signedIn);
    show('sign-out', signedIn);
    setNav(view.nav);
    const focus = view.focus === undefined ? 'h1' : view.focus;
    if (focus && !document.querySelector('dialog[open]')) $(view.id).querySelector(focus)?.focus();
    view.mount(params, controller.signal);
  }

  // Show the view for a hash such as '#/clients/abc'.
  function go(hash) {
    const path = hash.replace(/^#/, '') || '/';
    for (const [pattern, view] of routes) {
      const m = pattern.exec(path);
      if (m) return mount(view, { id: m[1] === undefined ? null : decodeURIComponent(m[1]) });
    }
    return mount(fallback);
  }

  // Every view forgets what it shows (sign-out).
  function resetAll() {
    if (current) current.controller.abort();
    current = null;
    for (const v of views) v.reset?.();
  }

  return { mount, go, resetAll };
}
