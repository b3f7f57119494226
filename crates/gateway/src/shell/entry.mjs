// The gateway Worker's entry module, in place of worker-build's generated shim: the runtime
// calls `fetch`, which calls the wasm through wasm-bindgen's glue. scripts/build.sh bundles this
// file with the glue (`./index.js` is the glue's name in the build's staging folder).
//
// A plain module object: no per-request instance, no proxies. Panic recovery stays as
// worker-build had it: after a trap the glue makes a fresh wasm instance on its next call.
import * as wasm from './index.js';

const init = globalThis.__worker_init_state;

// A panic sets the flag (the worker crate's hook) on top of the trap's own scheduled reset; an
// error that escapes the glue's catch (an async task's, say) sets it here.
addEventListener('error', (e) => {
  if (e.error instanceof WebAssembly.RuntimeError) init.criticalError = true;
});

/** The 502 of a forward whose upstream could not be reached, or whose answer could not be edited. */
const failed = (e) => wasm.bad_gateway(String(e));

export default {
  fetch(request, env) {
    if (init.criticalError) {
      init.criticalError = false;
      wasm.__wbg_reset_state();
    }
    return wasm.fetch(request, env, failed);
  },
};
