#!/usr/bin/env bash
# Soak the token endpoint under plain workerd (--runtime wrangler: under wrangler dev): 60 s at
# 64 connections by default; prints the non-2xx count and workerd's memory over time
# (bench/soak.mjs). Not part of the test command.
#   bash bench/soak.sh [--duration 60] [--connections 64] [--runtime workerd|wrangler]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
command -v wrk >/dev/null || bash scripts/setup.sh --wrk
EDGEAUTH_SKIP_BUILD=fresh bash scripts/build.sh
exec node bench/soak.mjs "$@"
