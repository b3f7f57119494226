// The issuer Worker's entry module, in place of worker-build's generated shim: the runtime calls
// these, and they call the wasm through wasm-bindgen's glue. scripts/build.sh bundles this file
// with the glue (`./index.js` is the glue's name in the build's staging folder, not build/).
//
// The handlers are plain functions of a module object: no per-request instance, no proxies.
// Panic recovery stays as worker-build had it: after a trap the glue makes a fresh wasm
// instance on its next call (the worker crate schedules that), and every (re)start counts
// up `__worker_init_state.instanceId`.
import { DurableObject } from 'cloudflare:workers';
import * as wasm from './index.js';

const init = globalThis.__worker_init_state;

// A panic sets the flag (the worker crate's hook) on top of the trap's own scheduled reset; an
// error that escapes the glue's catch (an async task's, say) sets it here.
addEventListener('error', (e) => {
  if (e.error instanceof WebAssembly.RuntimeError) init.criticalError = true;
});

/** Resets the wasm instance now if a panic or a trap left it unusable. */
function recover() {
  if (init.criticalError) {
    init.criticalError = false;
    wasm.__wbg_reset_state();
  }
}

export default {
  fetch(request, env, ctx) {
    recover();
    return wasm.fetch(request, env, ctx);
  },
  scheduled(controller, env, ctx) {
    recover();
    return wasm.scheduled(controller, env, ctx);
  },
};

/**
 * The per-client guard (src/shell/guard.rs): a real DurableObject, so that the Worker reaches
 * it by RPC (`claim`, `change`), holding the Rust object it delegates to. A Rust object belongs
 * to the wasm instance that made it: after a reset it is made again, over the same storage.
 */
export class ClientGuard extends DurableObject {
  #rust = null;
  #instance = -1;

  #guard() {
    recover();
    // Any call into the glue runs its guard, which carries out a reset the trap scheduled.
    wasm.__worker_init_state();
    if (this.#instance !== init.instanceId) {
      this.#rust = new wasm.ClientGuard(this.ctx);
      this.#instance = init.instanceId;
    }
    return this.#rust;
  }

  /** Records jti `jtis[i]` until `untils[i]`: "1" or "0" per claim, in order. */
  claim(jtis, untils) {
    return this.#guard().claim(jtis, untils);
  }

  /** Applies a guard change (JSON text): the guard state after it (JSON text). */
  change(request) {
    return this.#guard().change(request);
  }

  alarm() {
    return this.#guard().alarm();
  }
}
