// The smallest Worker: the local runtime's own cost, measured beside edgeauth's.
//
// POST /floor is the least a token request can cost in this runtime: read the form body, sign a
// token-sized payload with WebCrypto Ed25519 (the native signer edgeauth uses too), answer.
// Its cost over GET / is the floor under edgeauth's token cost over its trivial route.
let key;
const payload = new TextEncoder().encode('x'.repeat(300));

export default {
  async fetch(request) {
    if (request.method !== 'POST' || !request.url.endsWith('/floor')) return new Response('ok');
    await request.arrayBuffer();
    key ??= (await crypto.subtle.generateKey('Ed25519', false, ['sign'])).privateKey;
    const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', key, payload));
    return new Response(`{"n":${signature.length}}`, { headers: { 'content-type': 'application/json' } });
  },
};
