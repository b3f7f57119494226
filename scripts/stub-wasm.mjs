// Replaces the bodies of functions the issuer links but never runs with `Ok(())`, and removes
// the exports no JS can call, so wasm-opt can drop everything only they reach. Usage:
// node scripts/stub-wasm.mjs IN.wasm OUT.wasm [GLUE.js] (IN must still have its name section:
// wasm-bindgen's output does; GLUE is wasm-bindgen's JS for IN).
//
// `<f64 as Display>::fmt` (core's float printing, about 7 KB of gzipped wasm with what it
// reaches): serde's `Unexpected::fmt` names it for its float branch, and that branch is dead
// here, because serde_json prints an unexpected float itself (with zmij) before it falls back
// to serde's text for the other cases; nothing of ours formats a float. The function sits in
// the indirect-call table (formatting calls through `fmt::Arguments`), so no optimizer can see
// that it is never called. Stubbed, not trapped: were it ever reached, a float would print as
// empty text in an error description instead of the request failing.
//
// Exports of classes no JS can hold an instance of (given GLUE): the `worker` crate links
// wasm-streams, whose stream adapters (`IntoUnderlyingSource`, `...ByteSource`, `...Sink`)
// are `#[wasm_bindgen]` structs, and has `MinifyConfig`, `R2Range` and
// `ContainerStartupOptions` of its own; each exports its methods, field accessors and `free`
// (about 2.7 KB of the issuer's gzipped wasm with what only they reach). The glue gives a JS
// object a Rust pointer in two places only: a class's `constructor`, and its `__wrap`, which
// it writes when some Rust function hands such a value to JS. A class with neither in the glue
// never has an instance with a pointer, so no method of it is ever called with one, and its
// finalizer never runs (objects are registered in those two places only). The exports removed
// are the ones only such classes name: an export the glue names anywhere else stays.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { default: binaryen } = await import(join(root, 'node_modules/binaryen/index.js'));

/** Functions to stub, by their mangled-then-demangled names (rustc's crate hash varies). */
const STUBBED = [/^<f64 as core(\[[0-9a-f]+\])?::fmt::Display>::fmt$/];

const [input, output, glue] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/stub-wasm.mjs IN.wasm OUT.wasm [GLUE.js]');
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
const unreachable = glue ? unreachableExports(readFileSync(glue, 'utf8')) : [];
for (const name of unreachable) mod.removeExport(name);
if (!mod.validate()) throw new Error('stub-wasm: the module does not validate after stubbing');
binaryen.setDebugInfo(true); // keep the name section: EDGEAUTH_KEEP_NAMES builds want it
writeFileSync(output, mod.emitBinary());
const missing = STUBBED.filter((re) => !stubbed.some((f) => re.test(f.name)));
// A toolchain that names or links these differently only costs size (the budget check says).
for (const re of missing) console.warn(`stub-wasm: no function matches ${re}; nothing stubbed for it`);
console.log(
  `stub-wasm: ${stubbed.length} function(s) stubbed, ${unreachable.length} unreachable export(s) removed`,
);

/** The wasm exports that only classes without a constructor or `__wrap` name in `glue`. */
function unreachableExports(glue) {
  const named = (text) => new Set([...text.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]));
  let rest = glue;
  const candidates = new Set();
  for (const [, name] of glue.matchAll(/^(?:export )?class (\w+) \{$/gm)) {
    const start = glue.search(new RegExp(`^(?:export )?class ${name} \\{$`, 'm'));
    const body = glue.slice(start, glue.indexOf('\n}\n', start) + 3);
    if (/^ {4}constructor\(/m.test(body) || glue.includes(`${name}.__wrap`)) continue;
    // The class, its finalizer and its dispose alias: nothing else of the glue names them.
    const finalizer = new RegExp(
      `^const ${name}Finalization = [^]*?\\n\\}\\);\\n|^if \\(Symbol\\.dispose\\) ${name}\\.prototype.*\\n`,
      'gm',
    );
    rest = rest.replace(body, '').replace(finalizer, '');
    for (const e of named(body)) candidates.add(e);
  }
  const used = named(rest);
  const exports = new Set();
  for (let i = 0; i < mod.getNumExports(); i++) {
    exports.add(binaryen.getExportInfo(mod.getExportByIndex(i)).name);
  }
  // `free` is named in the finalizer, not the class body.
  for (const e of exports) if (/^__wbg_\w+_free$/.test(e) && !used.has(e)) candidates.add(e);
  return [...candidates].filter((e) => exports.has(e) && !used.has(e) && !rest.includes(e));
}
