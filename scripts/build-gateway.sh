#!/usr/bin/env bash
# Release build of the gateway Worker into crates/gateway/build/, with the same tools and knobs
# as scripts/build.sh (WASM_BINDGEN_BIN, WASM_OPT_BIN, ESBUILD_BIN, EDGEAUTH_SKIP_BUILD,
# EDGEAUTH_KEEP_NAMES, EDGEAUTH_RUSTFLAGS); its entry module is crates/gateway/src/shell/entry.mjs.
set -euo pipefail
exec bash "$(dirname "$0")/build.sh" crates/gateway
