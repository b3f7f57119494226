#!/usr/bin/env bash
# Idempotent install of what the build and the tests need, on a machine that already has
# Rust (rustup), Node 20 and npm. Downloads nothing from GitHub.
#
#   bash scripts/setup.sh                  # Rust target, wasm-bindgen-cli, npm deps
#   bash scripts/setup.sh --chromium       # ... plus Debian's chromium (browser tests)
#   bash scripts/setup.sh --wrk            # ... plus wrk (bench)
#   bash scripts/setup.sh --all            # everything
#   bash scripts/setup.sh --target         # only the Rust target (what clippy and cargo test need)
set -euo pipefail
cd "$(dirname "$0")/.."

want_chromium=0
want_wrk=0
target_only=0
for arg in "$@"; do
  case "$arg" in
    --chromium) want_chromium=1 ;;
    --wrk) want_wrk=1 ;;
    --all) want_chromium=1; want_wrk=1 ;;
    --target) target_only=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' not found; install it first ($2)" >&2; exit 1; }; }

export PATH="$HOME/.cargo/bin:$PATH"
need cargo "Rust via rustup"
need rustup "Rust via rustup"
need node "Node 20"
need npm "npm"

# --- Rust target -------------------------------------------------------------------------
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown: present"
else
  say "rust target wasm32-unknown-unknown: adding"
  rustup target add wasm32-unknown-unknown
fi
if [[ "$target_only" == 1 ]]; then say "done (target only)"; exit 0; fi

# --- wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version ------------------------
if [[ ! -f Cargo.lock ]]; then
  say "Cargo.lock missing: generating"
  cargo generate-lockfile
fi
wb_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [[ -z "$wb_version" ]]; then
  echo "setup: no wasm-bindgen package in Cargo.lock" >&2
  exit 1
fi
have_wbc="$(wasm-bindgen --version 2>/dev/null || true)"
if [[ "$have_wbc" == "wasm-bindgen $wb_version"* ]]; then
  say "wasm-bindgen-cli $wb_version: present"
else
  say "wasm-bindgen-cli $wb_version: installing (about 6 min; was: ${have_wbc:-none})"
  # No --locked: the CLI's own lockfile pins a yanked crate.
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# --- npm dependencies (wrangler, miniflare, binaryen, esbuild, test libraries) -----------
stamp=node_modules/.package-lock.json
if [[ ! -d node_modules || ! -f "$stamp" || package.json -nt "$stamp" \
      || ( -f package-lock.json && package-lock.json -nt "$stamp" ) ]]; then
  if [[ -f package-lock.json ]]; then
    say "npm ci"
    npm ci --no-audit --no-fund
  else
    say "npm install (no package-lock.json)"
    npm install --no-audit --no-fund
  fi
  touch "$stamp"
else
  say "node_modules: up to date"
fi

# --- Python client libraries for the end-to-end tests (authlib), pinned --------------------
py_req=tests/e2e/python/requirements.txt
py_stamp=.tools/py/.requirements
if [[ -x .tools/py/bin/python && -f "$py_stamp" ]] && cmp -s "$py_req" "$py_stamp"; then
  say "python test libraries: present"
else
  need python3 "Python 3 with venv"
  say "python test libraries: installing into .tools/py ($py_req)"
  python3 -m venv .tools/py
  .tools/py/bin/pip install --quiet --disable-pip-version-check -r "$py_req"
  cp "$py_req" "$py_stamp"
fi

# --- optional system packages (Debian) ---------------------------------------------------
apt_updated=0
apt_install() {
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  if [[ "$apt_updated" == 0 ]]; then
    say "apt-get update"
    $sudo apt-get update -q
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
}
if [[ "$want_chromium" == 1 ]]; then
  if [[ -x /usr/bin/chromium ]]; then say "chromium: present"; else apt_install chromium; fi
fi
if [[ "$want_wrk" == 1 ]]; then
  if command -v wrk >/dev/null 2>&1; then say "wrk: present"; else apt_install wrk; fi
fi
say "done"
