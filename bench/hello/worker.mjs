// The smallest Worker: the local runtime's own cost, measured beside edgeauth's.
//
// POST /floor is the least a token request can cost in this runtime: read the form body, sign a
// token-sized payload with WebCrypto Ed25519 (the native signer edgeauth uses too), answer.
// POST /floor-assertion adds what a private_key_jwt request cannot skip: one Ed25519 verify of
// an assertion-sized signature (WebCrypto, as edgeauth does). Their costs over GET / are the
// floors under edgeauth's token costs over its trivial route.
let keys;
let assertion;
const payload = new TextEncoder().encode('x'.repeat(300));

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('ok');
    await request.arrayBuffer();
    keys ??= await crypto.subtle.generateKey('Ed25519', false, ['sign', 'verify']);
    if (request.url.endsWith('/floor-assertion')) {
      assertion ??= await crypto.subtle.sign('Ed25519', keys.privateKey, payload);
      if (!(await crypto.subtle.verify('Ed25519', keys.publicKey, assertion, payload))) {
        return new Response('bad signature', { status: 500 });
      }
    }
    const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, payload));
    return new Response(`{"n":${signature.length}}`, { headers: { 'content-type': 'application/json' } });
  },
};
