// The smallest Worker: the local runtime's own cost, measured beside edgeauth's.
//
// POST /floor is the least a token request can cost in this runtime: read the form body, sign a
// token-sized payload with WebCrypto Ed25519 (the native signer edgeauth uses too), answer.
// POST /floor-assertion adds what a private_key_jwt request cannot skip: one Ed25519 verify of
// an assertion-sized signature (WebCrypto, as edgeauth does). POST /floor-dpop is the least a
// DPoP-bound token request needs (RFC 9449 as issue 25 states it): the body, one ES256 verify
// of a proof-sized input with a key imported once (a client reuses its DPoP key), the proof's
// jti claimed once across locations (one Durable Object call that inserts it in SQLite, the
// request's own unique jti), one Ed25519 sign. Their costs over GET / are the floors under
// edgeauth's token costs over its trivial route.
import { DurableObject } from 'cloudflare:workers';

let keys;
let assertion;
let proofKey;
let proof;
let claims = 0;
const payload = new TextEncoder().encode('x'.repeat(300));
const proofInput = new TextEncoder().encode('p'.repeat(420));

/** One jti per call, kept in SQLite: false when it was there already. */
export class JtiGuard extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS jti (id TEXT PRIMARY KEY, until INTEGER)');
  }

  claim(jti, until) {
    const had = this.ctx.storage.sql.exec('SELECT 1 FROM jti WHERE id = ?', jti).toArray().length;
    if (had) return false;
    this.ctx.storage.sql.exec('INSERT INTO jti VALUES (?, ?)', jti, until);
    return true;
  }
}

export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('ok');
    await request.arrayBuffer();
    keys ??= await crypto.subtle.generateKey('Ed25519', false, ['sign', 'verify']);
    if (request.url.endsWith('/floor-assertion')) {
      assertion ??= await crypto.subtle.sign('Ed25519', keys.privateKey, payload);
      if (!(await crypto.subtle.verify('Ed25519', keys.publicKey, assertion, payload))) {
        return new Response('bad signature', { status: 500 });
      }
    }
    if (request.url.endsWith('/floor-dpop')) {
      const ec = { name: 'ECDSA', hash: 'SHA-256' };
      if (!proofKey) {
        proofKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
        proof = await crypto.subtle.sign(ec, proofKey.privateKey, proofInput);
      }
      if (!(await crypto.subtle.verify(ec, proofKey.publicKey, proof, proofInput))) {
        return new Response('bad proof', { status: 500 });
      }
      const guard = env.JTI_GUARD.get(env.JTI_GUARD.idFromName('client'));
      claims += 1;
      if (!(await guard.claim(`${Date.now()}-${claims}-${Math.random()}`, Date.now() + 60_000))) {
        return new Response('replayed', { status: 500 });
      }
    }
    const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, payload));
    return new Response(`{"n":${signature.length}}`, { headers: { 'content-type': 'application/json' } });
  },
};
