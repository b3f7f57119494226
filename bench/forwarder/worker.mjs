// The gateway's floor: a JS Worker that forwards each request, as it came, to the upstream over
// a service binding (UPSTREAM), the binding the gateway's pass-through route uses, and hands the
// upstream's response back. bench/gateway.mjs runs it beside the gateway under the same workerd:
// what the gateway's pass-through costs over this is what our forwarding adds.
//
// It is the least a forwarding Worker does: redirects are handed back (as the gateway does) but
// no header is read or rewritten, where the gateway drops hop-by-hop headers and sets its own.
export default {
  fetch(request, env) {
    return env.UPSTREAM.fetch(new Request(request, { redirect: 'manual' }));
  },
};
