#!/usr/bin/env bash
# Benchmark: the built Worker under PLAIN workerd (node_modules/.bin/workerd, started here; no
# Miniflare, no wrangler dev), wrk against a JS hello-world under the same workerd, GET /healthz,
# POST /oauth/token (client_secret_basic without and with a token quota and with a request.cf,
# self_signed_tls_client_auth with its certificate in request.cf, and private_key_jwt with
# unique pre-signed assertions),
# POST /oauth/introspect and GET /admin/clients. Options pass through to bench/issuer.mjs
# (defaults shown):
#   bash bench/issuer.sh --duration 10 --warmup 2 --connections 32 --threads 1
#   bash bench/issuer.sh --peers /tmp/peers   # also oidc-provider (cp -r ../shared/peers /tmp/peers)
#   EDGEAUTH_RUSTFLAGS='--cfg curve25519_dalek_bits="64"' bash bench/issuer.sh   # rebuilds with it
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

command -v wrk >/dev/null || bash scripts/setup.sh --wrk
# Skips the build when build/ is newer than the sources (a forced build costs ~25 s of wasm-opt);
# EDGEAUTH_RUSTFLAGS always rebuilds.
if [[ -n "${EDGEAUTH_RUSTFLAGS:-}" ]]; then bash scripts/build.sh; else EDGEAUTH_SKIP_BUILD=fresh bash scripts/build.sh; fi
export EDGEAUTH_BENCH_CMD="bash bench/issuer.sh${*:+ $*}"
exec node bench/issuer.mjs "$@"
