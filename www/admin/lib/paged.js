// The one paged-list helper, for every listing that follows `next_cursor` (clients,
// resources, audit events). The first page replaces what was loaded; later pages add the
// items not seen yet (by `key`). A load superseded by a newer one (or by reset()) is dropped.
import { latest } from './stale.js';

export function pagedList({ fetch, field, key }) {
  const guard = latest();
  const list = {
    items: [],
    cursor: null,
    loaded: false,
    reset() {
      guard.cancel();
      list.items = [];
      list.cursor = null;
      list.loaded = false;
    },
    // Take a page fetched elsewhere (`append`: a page after the first).
    accept(page, append = false) {
      const fresh = (page && page[field]) || [];
      if (!append) list.items = fresh;
      else {
        const seen = new Set(list.items.map((x) => x[key]));
        list.items = [...list.items, ...fresh.filter((x) => !seen.has(x[key]))];
      }
      list.cursor = (page && page.next_cursor) || null;
      list.loaded = true;
    },
    // Resolves to true when the page was applied, false when a newer load superseded it.
    async load(cursor = null) {
      const current = guard.begin();
      const page = await fetch(cursor);
      if (!current()) return false;
      list.accept(page, Boolean(cursor));
      return true;
    },
    more() { return list.load(list.cursor); },
    // Every page, up to `maxPages` (for pickers and scans that need the whole listing).
    async loadAll(maxPages) {
      if (!(await list.load(null))) return false;
      for (let i = 1; i < maxPages && list.cursor; i += 1) {
        if (!(await list.more())) return false;
      }
      return true;
    },
  };
  return list;
}
