// The gateway's floor: a JS Worker that forwards each request, as it came, to the upstream over
// a service binding (UPSTREAM), the binding the gateway's pass-through route uses, and hands the
// upstream's response back. bench/gateway.mjs runs it beside the gateway under the same workerd:
// what the gateway's pass-through costs over this is what our forwarding adds.
//
// It is the least a forwarding Worker does: redirects are handed back (as the gateway does) but
// no header is read or rewritten, where the gateway drops hop-by-hop headers and sets its own.
//
// Under /dpop/ it first does the least a DPoP check needs (RFC 9449 section 4.3): the proof's
// header and claims decoded, its ES256 signature verified with a key imported once per JWK (a
// client reuses its key), `ath` as the SHA-256 of the token, the JWK thumbprint (SHA-256 of its
// canonical JSON), the jti into a bounded set. Its cost over the plain path is the floor under
// the gateway's DPoP cost over a bearer check. No token signature: the gateway's `verified`
// case pays that on both sides of the comparison.
const keys = new Map();
const seen = new Set();
const enc = new TextEncoder();
const b64u = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const json = (part) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
const refuse = (why) => new Response(why, { status: 401 });

async function checkProof(request) {
  const proof = request.headers.get('dpop');
  const token = (request.headers.get('authorization') ?? '').replace(/^DPoP /, '');
  if (!proof || !token) return 'no proof';
  const [h, p, s] = proof.split('.');
  const header = json(h);
  const claims = json(p);
  if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || header.jwk?.kty !== 'EC') return 'bad header';
  const { crv, x, y } = header.jwk;
  const canonical = `{"crv":"${crv}","kty":"EC","x":"${x}","y":"${y}"}`;
  let key = keys.get(canonical);
  if (!key) {
    key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv, x, y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    if (keys.size >= 256) keys.clear();
    keys.set(canonical, key);
  }
  const signature = Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, enc.encode(`${h}.${p}`));
  if (!ok) return 'bad signature';
  if (claims.htm !== request.method || typeof claims.htu !== 'string') return 'bad htm';
  if (Math.abs(claims.iat - Date.now() / 1000) > 60) return 'stale';
  if (claims.ath !== b64u(await crypto.subtle.digest('SHA-256', enc.encode(token)))) return 'bad ath';
  const jkt = b64u(await crypto.subtle.digest('SHA-256', enc.encode(canonical)));
  if (!jkt || seen.has(claims.jti)) return 'replayed';
  if (seen.size >= 8192) seen.clear();
  seen.add(claims.jti);
  return null;
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname.startsWith('/dpop/')) {
      const why = await checkProof(request);
      if (why) return refuse(why);
    }
    return env.UPSTREAM.fetch(new Request(request, { redirect: 'manual' }));
  },
};
