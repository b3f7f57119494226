// The smallest Worker: the local runtime's own cost, measured beside edgeauth's.
export default { fetch() { return new Response('ok'); } };
