// Opening one record on its own screen (a client, a resource): the one just created, if it is
// that one, or a fresh GET. While another record is on screen its body is hidden; a failed load
// says so in `errorId` (a 404 as "deleted"). Resolves to the record, or null.
import { describe } from '../lib/api.js';
import { show, showError } from '../lib/dom.js';
import { attempt } from '../lib/session.js';

//   kind: {key: 'client_id', fetch: api.getClient, bodyId, errorId, noun: 'client'}
//   state: {prefetched, shown (the record on screen), current (lib/stale.js check)}
export async function openRecord({ key, fetch, bodyId, errorId, noun }, id, { prefetched, shown, current }) {
  if (prefetched && prefetched[key] === id) return prefetched;
  if (!shown || shown[key] !== id) show(bodyId, false);
  const res = await attempt(fetch(id), (e) => {
    if (!current()) return;
    show(bodyId, false);
    showError(errorId, e.status === 404 ? `No ${noun} with this ID: it may have been deleted.` : `Could not load the ${noun}: ${describe(e)}`);
  });
  return res.ok ? res.value : null;
}
