// A table fed by a paged list (lib/paged.js), with "Load more" and an optional "Refresh".
//   rows, table, empty, more, refresh, error: element ids; row(item) builds a <tr>;
//   what: "clients", for "Could not load clients: …"; filter(items) narrows what is shown;
//   emptyWhen() overrides when the "nothing yet" text shows; after() runs after each render.
import { $, show, showError, busy } from '../lib/dom.js';
import { describe } from '../lib/api.js';
import { attempt } from '../lib/session.js';

export function pagedTable({ list, rows, row, table, empty, more, refresh, error, what, filter, emptyWhen, after }) {
  function render() {
    const items = filter ? filter(list.items) : list.items;
    $(rows).replaceChildren(...items.map(row));
    show(table, items.length > 0);
    show(empty, emptyWhen ? emptyWhen() : list.loaded && list.items.length === 0);
    show(more, Boolean(list.cursor));
    after?.();
  }

  async function load(cursor = null) {
    show(error, false);
    await attempt(cursor ? list.more() : list.load(null), (e) => showError(error, `Could not load ${what}: ${describe(e)}`));
    render();
  }

  function bind(signal) {
    $(more).addEventListener('click', (ev) => busy(ev.currentTarget, 'Loading…', () => load(list.cursor)), { signal });
    if (refresh) $(refresh).addEventListener('click', (ev) => busy(ev.currentTarget, 'Refreshing…', () => load(null)), { signal });
  }

  return { render, load, bind };
}
