#!/usr/bin/env bash
# Gateway benchmark: the gateway Worker under PLAIN workerd beside the issuer and a JS upstream
# in the same process, a verified route (valid token) against a pass-through (`public: true`)
# route, alternating, with the ratio and the CPU added per request, and the pass-through against
# a JS Worker forwarding to the same upstream over the same binding (bench/forwarder/), its
# floor: the CPU ratio, aim <= 1.3 (bench/gateway.mjs).
# Options pass through (defaults shown):
#   bash bench/gateway.sh --rounds 3 --duration 10 --warmup 2 --connections 32 --threads 1
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

command -v wrk >/dev/null || bash scripts/setup.sh --wrk
# Each build is skipped when its build folder is newer than the sources it is made from; the
# others share one cargo build, as in scripts/test.sh.
EDGEAUTH_SKIP_BUILD=fresh bash scripts/build.sh . crates/gateway
export EDGEAUTH_BENCH_CMD="bash bench/gateway.sh${*:+ $*}"
exec node bench/gateway.mjs "$@"
