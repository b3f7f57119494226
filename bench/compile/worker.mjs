// The wasm's compile time in workerd itself, for bench/coldstart.mjs: the issuer's module (as
// wasm.wasm, a wasm module of the config, as in the issuer's own) imported and never
// instantiated. workerd compiles it while the Worker starts, before it listens; its clock
// stands still while JavaScript runs, so the time is read outside: this process's startup CPU
// over the JS hello-world's alone. Runtime compiles (new WebAssembly.Module) are refused in a
// Worker, as on Cloudflare.
import module from './wasm.wasm';

export default {
  fetch() {
    return new Response(`${WebAssembly.Module.exports(module).length} exports`);
  },
};
