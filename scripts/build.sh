#!/usr/bin/env bash
# Release build of the Worker into build/ (build/index.js + wasm), with no GitHub downloads:
# worker-build uses the wasm-bindgen installed by scripts/setup.sh, and wasm-opt and esbuild
# from node_modules.
#
#   bash scripts/build.sh                 the issuer, into build/
#   bash scripts/build.sh crates/gateway  another Worker crate, into crates/gateway/build/
#                                         (scripts/build-gateway.sh)
#
# Env knobs:
#   EDGEAUTH_SKIP_BUILD=1      skip when build/index.js exists (tests prebuild once; wrangler dev
#                              runs the [build] command twice at start)
#   EDGEAUTH_SKIP_BUILD=fresh  skip when build/index.js is newer than the crate's sources, the
#                              crates it uses, Cargo.toml and Cargo.lock
#   EDGEAUTH_KEEP_NAMES=1      keep the wasm function-name section (for bench/profile.mjs: CPU
#                              profiles then name Rust functions instead of wasm-function[N])
#   EDGEAUTH_RUSTFLAGS         extra RUSTFLAGS for the wasm build, e.g.
#                              --cfg curve25519_dalek_bits="64"
set -euo pipefail
cd "$(dirname "$0")/.."

crate="${1:-.}"
out="$crate/build"
if [[ "$crate" == "." ]]; then
  out="build"
  # The issuer does not use the gateway: a gateway change leaves it fresh.
  sources=(src crates/verify Cargo.toml Cargo.lock)
else
  [[ -f "$crate/Cargo.toml" ]] || { echo "build: no crate at $crate" >&2; exit 1; }
  sources=("$crate" crates/verify Cargo.toml Cargo.lock)
fi

case "${EDGEAUTH_SKIP_BUILD:-}" in
  1|true|yes)
    if [[ -f "$out/index.js" ]]; then exit 0; fi ;;
  fresh)
    if [[ -f "$out/index.js" ]] \
       && [[ -z "$(find "${sources[@]}" -path "$out" -prune -o -newer "$out/index.js" -print -quit 2>/dev/null)" ]]; then
      exit 0
    fi ;;
esac

export PATH="$HOME/.cargo/bin:$PATH"
root="$(pwd)"

# worker-build reads {NAME}_BIN for each tool it would otherwise download.
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || true)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/binaryen/bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"

fail() { echo "build: $*" >&2; exit 1; }
[[ -n "$WASM_BINDGEN_BIN" && -x "$WASM_BINDGEN_BIN" ]] || fail "wasm-bindgen not found; run scripts/setup.sh"
[[ -x "$WASM_OPT_BIN" ]] || fail "$WASM_OPT_BIN missing; run scripts/setup.sh (npm ci)"
[[ -x "$ESBUILD_BIN" ]] || fail "$ESBUILD_BIN missing; run scripts/setup.sh (npm ci)"
command -v worker-build >/dev/null || fail "worker-build not found; run scripts/setup.sh"

# The CLI must match the wasm-bindgen crate exactly, or wasm-bindgen refuses the module.
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock 2>/dev/null || true)"
have="$("$WASM_BINDGEN_BIN" --version | awk '{print $2}')"
if [[ -n "$want" && "$want" != "$have" ]]; then
  fail "wasm-bindgen CLI is $have but Cargo.lock has $want; run scripts/setup.sh"
fi

if [[ -n "${EDGEAUTH_RUSTFLAGS:-}" ]]; then
  # worker-build appends its own flags to RUSTFLAGS; with --target set, cargo applies RUSTFLAGS
  # to the wasm artifacts only (not to build scripts or proc-macros).
  export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$EDGEAUTH_RUSTFLAGS"
  echo "build: RUSTFLAGS=$RUSTFLAGS"
fi

(cd "$crate" && worker-build --release)

# worker-build passes --debuginfo to wasm-opt, which keeps the function-name section (about 150
# KB); names only help stack traces and profiles, so drop them. With the names gone, one more -Os
# pass shrinks the module further (about 3.5 KB gzipped): the named module optimizes less well.
# The features are the ones worker-build enables, so nothing newer than workerd takes is emitted.
# --low-memory-unused lets wasm-opt fold constant pointer offsets into loads and stores (about
# 2.3 KB gzipped): rustc links wasm32 with --stack-first, so the low 1 KB of memory is the far
# end of the 1 MB stack, and the folding only differs where a wrapped address would land there.
# --converge repeats the passes until the module stops shrinking (about 0.9 KB gzipped more,
# for a few more seconds of build).
if [[ "${EDGEAUTH_KEEP_NAMES:-}" != 1 ]]; then
  features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue
            reference-types exception-handling)
  "$WASM_OPT_BIN" "$out/index_bg.wasm" -o "$out/index_bg.wasm" --strip-debug --strip-producers \
    "${features[@]/#/--enable-}" -Os --low-memory-unused --converge
fi
