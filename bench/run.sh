#!/usr/bin/env bash
# Benchmark: the built Worker under Miniflare's API, wrk against GET /healthz and
# POST /oauth/token (client_secret_basic, and private_key_jwt with unique pre-signed assertions).
# Options pass through to bench/bench.mjs (defaults shown):
#   bash bench/run.sh --duration 10 --warmup 3 --connections 16 --threads 2
#   EDGEAUTH_RUSTFLAGS='--cfg curve25519_dalek_bits="64"' bash bench/run.sh   # rebuilds with it
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false

bash scripts/setup.sh --wrk
bash scripts/build.sh   # cargo makes this quick when nothing changed
export EDGEAUTH_BENCH_CMD="bash bench/run.sh${*:+ $*}"
exec node bench/bench.mjs "$@"
