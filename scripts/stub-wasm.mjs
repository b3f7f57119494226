// Replaces the bodies of functions the issuer links but never runs with `Ok(())`, so wasm-opt
// can drop everything only they reach. Usage: node scripts/stub-wasm.mjs IN.wasm OUT.wasm
// (IN must still have its name section: wasm-bindgen's output does).
//
// `<f64 as Display>::fmt` (core's float printing, about 7 KB of gzipped wasm with what it
// reaches): serde's `Unexpected::fmt` names it for its float branch, and that branch is dead
// here, because serde_json prints an unexpected float itself (with zmij) before it falls back
// to serde's text for the other cases; nothing of ours formats a float. The function sits in
// the indirect-call table (formatting calls through `fmt::Arguments`), so no optimizer can see
// that it is never called. Stubbed, not trapped: were it ever reached, a float would print as
// empty text in an error description instead of the request failing.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { default: binaryen } = await import(join(root, 'node_modules/binaryen/index.js'));

/** Functions to stub, by their mangled-then-demangled names (rustc's crate hash varies). */
const STUBBED = [/^<f64 as core(\[[0-9a-f]+\])?::fmt::Display>::fmt$/];

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/stub-wasm.mjs IN.wasm OUT.wasm');
  process.exit(2);
}
const mod = binaryen.readBinary(readFileSync(input));
// The features scripts/build.sh gives wasm-opt: emitting with more (binaryen's "all") writes
// encodings workerd cannot compile.
const F = binaryen.Features;
mod.setFeatures(
  F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt |
    F.Multivalue | F.ReferenceTypes | F.CallIndirectOverlong | F.ExceptionHandling,
);
const stubbed = [];
for (let i = 0; i < mod.getNumFunctions(); i++) {
  const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
  if (info.body && STUBBED.some((re) => re.test(info.name))) stubbed.push(info);
}
for (const f of stubbed) {
  // `fmt::Result` is an i32: 0 is `Ok(())`.
  if (f.results !== binaryen.i32) throw new Error(`stub-wasm: ${f.name} does not return an i32`);
  mod.removeFunction(f.name);
  mod.addFunction(f.name, f.params, f.results, [], mod.i32.const(0));
}
if (!mod.validate()) throw new Error('stub-wasm: the module does not validate after stubbing');
binaryen.setDebugInfo(true); // keep the name section: EDGEAUTH_KEEP_NAMES builds want it
writeFileSync(output, mod.emitBinary());
const missing = STUBBED.filter((re) => !stubbed.some((f) => re.test(f.name)));
// A toolchain that names or links these differently only costs size (the budget check says).
for (const re of missing) console.warn(`stub-wasm: no function matches ${re}; nothing stubbed for it`);
console.log(`stub-wasm: ${stubbed.length} function(s) stubbed`);
