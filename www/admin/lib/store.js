// The page's state, one slice per concern. reset() (on sign-out) forgets all of it; the paged
// lists stay the same objects (views hold on to them) and are emptied in place.
import { api } from './api.js';
import { pagedList } from './paged.js';

const values = () => ({
  limits: null, // GET /admin/limits, loaded once after sign-in
  clientsFresh: false, // the first page of clients just came with the sign-in
  client: null, // the client shown in the detail view
  prefetchedClient: null, // a client just created, to show without a reload
  grants: [], // the grant editor's draft: [{resource_id, resource, scopes: Set}]
  federated: null, // the open client's federated credentials (GET …/federated-credentials)
  certificates: null, // the open client's registered certificates (GET …/certificates)
  resource: null, // the resource shown in the resource view
  prefetchedResource: null, // a resource just created
  resourceFlash: null, // the message to show with it
  keys: null, // GET /admin/keys: the signing keys and the rotation settings
});

const lists = {
  clients: pagedList({ fetch: (cursor) => api.listClients(cursor), field: 'clients', key: 'client_id' }),
  clientAudit: pagedList({
    fetch: (cursor) => api.clientAudit(store.client.client_id, cursor, 20), field: 'events', key: 'event_id',
  }),
  // Every resource (grant editor, names in the audit trail), and the Resources screen's pages.
  resources: pagedList({ fetch: (cursor) => api.listResources(cursor, 100), field: 'resources', key: 'resource_id' }),
  resourcePages: pagedList({ fetch: (cursor) => api.listResources(cursor, 50), field: 'resources', key: 'resource_id' }),
  audit: pagedList({ fetch: (cursor) => api.audit(cursor, 50), field: 'events', key: 'event_id' }),
};

export const store = {
  ...values(),
  ...lists,
  reset() {
    for (const list of Object.values(lists)) list.reset();
    Object.assign(store, values());
  },
};
