#!/usr/bin/env bash
# Release build of a Worker into its build/ folder (index.js + index_bg.wasm), with no GitHub
# downloads and no worker-build: cargo builds the wasm, the wasm-bindgen CLI (installed by
# scripts/setup.sh at Cargo.lock's version) writes its JS glue, wasm-opt (npm binaryen) shrinks
# the module, and esbuild (npm) bundles our own entry module, src/shell/entry.mjs, with the glue.
#
#   bash scripts/build.sh                   the issuer, into build/
#   bash scripts/build.sh crates/gateway    another Worker crate, into crates/gateway/build/
#                                           (scripts/build-gateway.sh)
#   bash scripts/build.sh . crates/gateway  both, in one cargo build: their dependencies are
#                                           compiled once, with the features of both
#
# Env knobs:
#   EDGEAUTH_SKIP_BUILD=1      skip when build/index.js exists (tests prebuild once; wrangler dev
#                              runs the [build] command twice at start)
#   EDGEAUTH_SKIP_BUILD=fresh  skip when build/index.js is newer than the crate's sources, the
#                              crates it uses, Cargo.toml and Cargo.lock
#   EDGEAUTH_KEEP_NAMES=1      keep the wasm function-name section and unminified JS (for
#                              bench/profile.mjs: CPU profiles then name Rust and JS functions
#                              instead of wasm-function[N])
#   EDGEAUTH_RUSTFLAGS         extra RUSTFLAGS for the wasm build, e.g.
#                              --cfg curve25519_dalek_bits="64"
#   WASM_BINDGEN_BIN, WASM_OPT_BIN, ESBUILD_BIN   the tools, if not the default ones
set -euo pipefail
cd "$(dirname "$0")/.."

# The crates to build: those given (the issuer by default), less those EDGEAUTH_SKIP_BUILD skips.
crates=()
for crate in "${@:-.}"; do
  crate="${crate%/}"
  [[ -f "$crate/Cargo.toml" ]] || { echo "build: no crate at $crate" >&2; exit 1; }
  out="$crate/build"
  if [[ "$crate" == "." ]]; then
    out="build"
    # The issuer does not use the gateway: a gateway change leaves it fresh.
    sources=(src crates/verify Cargo.toml Cargo.lock)
  else
    sources=("$crate" crates/verify Cargo.toml Cargo.lock)
  fi
  case "${EDGEAUTH_SKIP_BUILD:-}" in
    1|true|yes)
      if [[ -f "$out/index.js" ]]; then continue; fi ;;
    fresh)
      if [[ -f "$out/index.js" ]] \
         && [[ -z "$(find "${sources[@]}" -path "$out" -prune -o -newer "$out/index.js" -print -quit 2>/dev/null)" ]]; then
        continue
      fi ;;
  esac
  crates+=("$crate")
done
[[ ${#crates[@]} -gt 0 ]] || exit 0

export PATH="$HOME/.cargo/bin:$PATH"
root="$(pwd)"
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || true)}"
WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/binaryen/bin/wasm-opt}"
ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"

fail() { echo "build: $*" >&2; exit 1; }
[[ -n "$WASM_BINDGEN_BIN" && -x "$WASM_BINDGEN_BIN" ]] || fail "wasm-bindgen not found; run scripts/setup.sh"
[[ -x "$WASM_OPT_BIN" ]] || fail "$WASM_OPT_BIN missing; run scripts/setup.sh (npm ci)"
[[ -x "$ESBUILD_BIN" ]] || fail "$ESBUILD_BIN missing; run scripts/setup.sh (npm ci)"
# The CLI must match the wasm-bindgen crate exactly, or wasm-bindgen refuses the module.
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock 2>/dev/null || true)"
have="$("$WASM_BINDGEN_BIN" --version | awk '{print $2}')"
if [[ -n "$want" && "$want" != "$have" ]]; then
  fail "wasm-bindgen CLI is $have but Cargo.lock has $want; run scripts/setup.sh"
fi

# Each crate's package name: cargo writes target/.../<name with _>.wasm.
names=()
for crate in "${crates[@]}"; do
  name="$(awk -F'"' '/^\[package\]/ { p = 1 } p && /^name = / { print $2; exit }' "$crate/Cargo.toml")"
  [[ -n "$name" ]] || fail "no package name in $crate/Cargo.toml"
  [[ -f "$crate/src/shell/entry.mjs" ]] || fail "no entry module $crate/src/shell/entry.mjs"
  names+=("$name")
done

if [[ -n "${EDGEAUTH_RUSTFLAGS:-}" ]]; then
  # With --target set, cargo applies RUSTFLAGS to the wasm artifacts only (not to build
  # scripts or proc-macros). Changing them rebuilds every dependency.
  export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$EDGEAUTH_RUSTFLAGS"
  echo "build: RUSTFLAGS=$RUSTFLAGS"
fi

# wrangler dev starts its [build] command twice: the second waits for the first (where flock
# exists: util-linux).
mkdir -p target
if command -v flock >/dev/null; then
  exec 9>"target/entry.lock"
  flock 9
fi

step() { printf 'build: %s\n' "$*"; }

step "cargo build (${names[*]}, wasm32, release)"
# WASM_BINDGEN_USE_JS_SYS: wasm-bindgen's macros then drive async exports with js-sys's
# futures, as worker-build had them (it set the same variable).
WASM_BINDGEN_USE_JS_SYS=1 cargo build --lib --release --target wasm32-unknown-unknown \
  "${names[@]/#/--package=}"

# Features: the ones rustc's wasm32 target and wasm-bindgen's catch wrappers use, named so
# that nothing newer than workerd takes is emitted. Without the name section (about 150 KB,
# only for stack traces and profiles) a second -Os pass shrinks the module further: the passes
# after the first find more to fold. --low-memory-unused lets wasm-opt fold constant pointer
# offsets into loads and stores (about 2.3 KB gzipped): rustc links wasm32 with --stack-first,
# so the low 1 KB of memory is the far end of the 1 MB stack, and the folding only differs
# where a wrapped address would land there. --converge repeats the last passes until the module
# stops shrinking (about 0.9 KB gzipped more, for a few more seconds of build).
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue
          reference-types exception-handling)
opt=("${features[@]/#/--enable-}")
minify=(--minify)
if [[ "${EDGEAUTH_KEEP_NAMES:-}" == 1 ]]; then
  opt+=(-Os --debuginfo)
  minify=()
else
  opt+=(-Os --strip-debug --strip-producers -Os --low-memory-unused --converge)
fi

for i in "${!crates[@]}"; do
  crate="${crates[$i]}" name="${names[$i]}"
  out="$crate/build"
  [[ "$crate" == "." ]] && out="build"
  wasm="target/wasm32-unknown-unknown/release/${name//-/_}.wasm"
  entry="$crate/src/shell/entry.mjs"
  # The glue and the entry meet here, outside build/: the test harness embeds every module it
  # finds in build/.
  stage="target/entry/$name"
  [[ -f "$wasm" ]] || fail "cargo wrote no $wasm"

  step "wasm-bindgen $name"
  rm -rf "$stage"
  # The reset-state function and the abort handler give panic recovery: after a trap the glue
  # makes a fresh instance on the next call (the worker crate schedules it), and entry.mjs
  # makes its Durable Object's Rust half again when the instance changed.
  "$WASM_BINDGEN_BIN" "$wasm" --out-dir "$stage" --out-name index --target module \
    --no-typescript --experimental-reset-state-function --force-enable-abort-handler

  step "stub-wasm $name"
  node scripts/stub-wasm.mjs "$stage/index_bg.wasm" "$stage/stubbed.wasm" "$stage/index.js"

  step "wasm-opt $name"
  "$WASM_OPT_BIN" "$stage/stubbed.wasm" -o "$stage/opt.wasm" "${opt[@]}"

  step "esbuild $entry"
  cp "$entry" "$stage/entry.mjs"
  # The glue imports the module as a source (`import source`); workerd and wrangler take a
  # plain import of a .wasm file as the compiled module.
  "$ESBUILD_BIN" "$stage/entry.mjs" --bundle --format=esm "${minify[@]}" --log-level=warning \
    --external:./index_bg.wasm --external:'cloudflare:*' --outfile="$stage/bundle.js"
  sed -i 's/import source /import /' "$stage/bundle.js"
  grep -q 'from *"./index_bg.wasm"' "$stage/bundle.js" || fail "the bundle does not import ./index_bg.wasm"

  # The wasm first and index.js last: EDGEAUTH_SKIP_BUILD=fresh compares against index.js.
  mkdir -p "$out"
  rm -rf "$out/worker" "$out/package.json"  # worker-build's leftovers
  mv "$stage/opt.wasm" "$out/index_bg.wasm"
  mv "$stage/bundle.js" "$out/index.js"
  step "$out/index.js, $out/index_bg.wasm ($(gzip -9 -c "$out/index_bg.wasm" | wc -c) B gzipped)"
done
