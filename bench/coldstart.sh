#!/usr/bin/env bash
# Cold start: a new workerd process per sample, the time and CPU of its very first request
# (edgeauth's GET /healthz and token request beside the JS hello-world's GET / and token floor),
# the startup before it, the wasm's size and its compile time in workerd (bench/coldstart.mjs).
# Options pass through (defaults shown):
#   bash bench/coldstart.sh --samples 5 --warm 20
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# Skips the build when build/ is newer than the sources.
EDGEAUTH_SKIP_BUILD=fresh bash scripts/build.sh
export EDGEAUTH_BENCH_CMD="bash bench/coldstart.sh${*:+ $*}"
exec node bench/coldstart.mjs "$@"
