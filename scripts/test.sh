#!/usr/bin/env bash
# Run every test: toolchain setup, Rust format/lint/unit tests, wasm build, end-to-end tests
# against the built Worker under `wrangler dev`, browser tests of the admin page.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false

step() { printf '\n==> %s\n' "$*"; }

# The Rust target first: the Rust steps need nothing else. The rest of the setup
# (wasm-bindgen-cli, npm, the Python libraries, Chromium: on a fresh machine a cargo install
# and downloads) runs beside the Rust steps and is waited for before the build, which is the
# first step that needs it.
step "setup: the Rust target (the rest installs in the background)"
bash scripts/setup.sh --target
mkdir -p .tools
setup_log=.tools/setup.log
# A process group of its own, so a failing step stops the install's children too.
setsid bash scripts/setup.sh --chromium >"$setup_log" 2>&1 &
setup_pid=$!
trap 'kill -- "-$setup_pid" 2>/dev/null || true' EXIT

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

step "setup: waiting for the background install"
if ! wait "$setup_pid"; then
  cat "$setup_log" >&2
  echo "test: setup failed (log above, also in $setup_log)" >&2
  exit 1
fi
trap - EXIT
cat "$setup_log"

# One cargo build for both Workers (the gateway's e2e test runs it beside the issuer): their
# dependencies are compiled once, with the features of both, and linked twice.
step "build the issuer and the gateway Workers (release wasm)"
bash scripts/build.sh . crates/gateway
# The issuer's wasm budget (docs/BENCHMARKS.md): features must fit in it.
wasm_gz=$(gzip -9 -c build/index_bg.wasm | wc -c)
(( wasm_gz <= 300000 )) || { echo "test: the issuer's wasm is $wasm_gz B gzipped, over the 300,000 B budget" >&2; exit 1; }

# Tests start their own `wrangler dev` on the prebuilt build/ and must not rebuild it.
export EDGEAUTH_SKIP_BUILD=1

# Two test files at a time (node's default is one on a 2-core machine): a file spends most of
# its time waiting for its own `wrangler dev` to start and answer, and each has its own ports
# and state directory (tests/support/worker.mjs), so two overlap without sharing anything.
# e2e 265 -> 143 s and browser 152 -> 119 s on the 2-core machine.
concurrency="${EDGEAUTH_TEST_CONCURRENCY:-2}"
# A test that waits for something that never comes fails after 4 minutes instead of holding
# the run: the longest test takes about 35 s here.
timeout_ms="${EDGEAUTH_TEST_TIMEOUT_MS:-240000}"

step "end-to-end tests"
node --test --test-concurrency="$concurrency" --test-timeout="$timeout_ms" tests/e2e/

if [[ -d tests/browser ]] && compgen -G 'tests/browser/*.test.mjs' >/dev/null; then
  step "browser tests"
  node --test --test-concurrency="$concurrency" --test-timeout="$timeout_ms" tests/browser/
else
  step "browser tests: none yet (tests/browser/*.test.mjs), skipped"
fi

step "all tests passed"
