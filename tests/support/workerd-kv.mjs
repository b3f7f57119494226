// Workers KV for plain workerd: the service behind the `kvNamespace` binding in the config that
// tests/support/workerd.mjs writes. workerd turns each KV call into an HTTP request to this
// service (workerd src/workerd/api/kv.c++):
//   GET    /<key>?urlencoded=true                 -> 200 value (CF-KV-Metadata header) | 404
//   PUT    /<key>?urlencoded=true[&expiration=S][&expiration_ttl=S]  (CF-KV-Metadata header)
//   DELETE /<key>?urlencoded=true
//   GET    /?[key_count_limit=N][&prefix=P][&cursor=C]
//          -> {"keys":[{name, expiration?, metadata?: "<json string>"}], list_complete, cursor?}
//   POST   /bulk/get  {"keys":[..], "type"?: "text"|"json", "withMetadata"?: bool}
//          -> {key: value | null} or {key: {value, metadata} | null}
// workerd writes a request's whole body before it reads the answer, so every branch reads the
// body first: an early answer would hang the caller.
// The data lives in this isolate's memory: workerd runs one isolate per service, so every KV
// call of the process sees the same Map, and a run's state dies with the process, which is what
// a benchmark or a test wants (unless a seed carries it to the next: `load`, below). Strongly consistent; production KV's 60 s lag is not emulated.

/** key -> { value: Uint8Array, metadata: string | null, expiration: number | null } */
const data = new Map();
const MAX_LIST = 1000;

/**
 * Starts the store with `entries` ([{ key, value (base64), metadata, expiration }], what
 * `dumpKv` in tests/support/workerd.mjs reads out of another process): a later process can go
 * on from an earlier one's state (bench/coldstart.mjs), as the Durable Objects' files do.
 */
export function load(entries) {
  for (const { key, value, metadata = null, expiration = null } of entries) {
    data.set(key, { value: Uint8Array.from(atob(value), (c) => c.charCodeAt(0)), metadata, expiration });
  }
}

const now = () => Math.floor(Date.now() / 1000);
const live = (entry) => entry && (entry.expiration === null || entry.expiration > now());

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get('urlencoded') === 'true' ? decodeURIComponent(raw) : raw;
}

function list(url) {
  const prefix = url.searchParams.get('prefix') ?? '';
  const limit = Math.min(Number(url.searchParams.get('key_count_limit') ?? MAX_LIST) || MAX_LIST, MAX_LIST);
  const after = url.searchParams.get('cursor') ? atob(url.searchParams.get('cursor')) : null;
  // Keys are ASCII here, so UTF-16 order is KV's UTF-8 byte order.
  const names = [...data.keys()]
    .filter((k) => k.startsWith(prefix) && (after === null || k > after) && live(data.get(k)))
    .sort();
  const page = names.slice(0, limit);
  const complete = page.length === names.length;
  const keys = page.map((name) => {
    const e = data.get(name);
    const k = { name };
    if (e.expiration !== null) k.expiration = e.expiration;
    if (e.metadata !== null) k.metadata = e.metadata;
    return k;
  });
  const body = { keys, list_complete: complete, cacheStatus: null };
  if (!complete) body.cursor = btoa(page[page.length - 1]);
  return Response.json(body);
}

const decoder = new TextDecoder();

async function bulkGet(request) {
  const { keys, type = 'text', withMetadata = false } = await request.json();
  const found = {};
  for (const key of keys) {
    const e = data.get(key);
    if (!live(e)) { found[key] = null; continue; }
    const text = decoder.decode(e.value);
    const value = type === 'json' ? JSON.parse(text) : text;
    found[key] = withMetadata ? { value, metadata: e.metadata === null ? null : JSON.parse(e.metadata) } : value;
  }
  return Response.json(found);
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/' && request.method === 'GET') return list(url);
    if (url.pathname === '/bulk/get' && request.method === 'POST') return bulkGet(request);
    const key = keyOf(url);
    switch (request.method) {
      case 'GET': {
        const e = data.get(key);
        if (!live(e)) return new Response(null, { status: 404 });
        const headers = e.metadata === null ? {} : { 'CF-KV-Metadata': e.metadata };
        return new Response(e.value, { headers });
      }
      case 'PUT': {
        // Read the whole body before answering: workerd writes it all before it reads a reply.
        const value = new Uint8Array(await request.arrayBuffer());
        const ttl = url.searchParams.get('expiration_ttl');
        const at = url.searchParams.get('expiration');
        const expiration = ttl ? now() + Number(ttl) : at ? Number(at) : null;
        data.set(key, { value, metadata: request.headers.get('CF-KV-Metadata'), expiration });
        return new Response(null);
      }
      case 'DELETE':
        data.delete(key);
        return new Response(null);
      default:
        await request.arrayBuffer();
        return new Response('method not allowed', { status: 405 });
    }
  },
};
