#!/usr/bin/env bash
# Soak the token endpoint in the local runtime: 60 s at 64 connections by default; prints the
# non-2xx count and workerd's memory over time (bench/soak.mjs). Not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
bash scripts/setup.sh --wrk
bash scripts/build.sh
exec node bench/soak.mjs "$@"
