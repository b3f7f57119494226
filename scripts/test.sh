#!/usr/bin/env bash
# Run every test: toolchain setup, Rust format/lint/unit tests, wasm build, end-to-end tests
# against the built Worker under `wrangler dev`, browser tests of the admin page.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false

step() { printf '\n==> %s\n' "$*"; }

step "setup"
bash scripts/setup.sh --chromium

# --workspace: the Worker at the root, crates/verify (the token verifier) and crates/gateway
# (the gateway Worker) alike.
step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (host)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy (wasm32)"
cargo clippy --workspace --target wasm32-unknown-unknown --lib -- -D warnings

step "cargo test"
cargo test --workspace

# One cargo build for both Workers (the gateway's e2e test runs it beside the issuer): their
# dependencies are compiled once, with the features of both, and linked twice.
step "build the issuer and the gateway Workers (release wasm)"
bash scripts/build.sh . crates/gateway

# Tests start their own `wrangler dev` on the prebuilt build/ and must not rebuild it.
export EDGEAUTH_SKIP_BUILD=1

step "end-to-end tests"
node --test tests/e2e/

if [[ -d tests/browser ]] && compgen -G 'tests/browser/*.test.mjs' >/dev/null; then
  step "browser tests"
  node --test tests/browser/
else
  step "browser tests: none yet (tests/browser/*.test.mjs), skipped"
fi

step "all tests passed"
