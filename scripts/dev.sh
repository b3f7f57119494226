#!/usr/bin/env bash
# Run edgeauth locally under `wrangler dev` (workerd + local KV in .wrangler/state).
# First run: installs the toolchain (scripts/setup.sh) and writes .dev.vars with random secrets.
#   PORT=8787 bash scripts/dev.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
PORT="${PORT:-8787}"

bash scripts/setup.sh

rand_b64url() { # 32 random bytes, base64url without padding (43 chars)
  node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))'
}

if [[ ! -f .dev.vars ]]; then
  echo "dev: writing .dev.vars with fresh random secrets"
  umask 077
  {
    echo "ADMIN_TOKEN=\"$(rand_b64url)\""
    echo "SECRET_PEPPER=\"$(rand_b64url)\""
    echo "SIGNING_KEY_SEED=\"$(rand_b64url)\""
  } > .dev.vars
fi

admin_token="$(sed -n 's/^ADMIN_TOKEN *= *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' .dev.vars | head -n1)"
if [[ -z "$admin_token" ]]; then
  echo "dev: .dev.vars has no ADMIN_TOKEN; add one or delete the file to regenerate it" >&2
  exit 1
fi

bash scripts/build.sh

base="http://localhost:$PORT"
cat <<MSG

  edgeauth (local)
  issuer       $base
  admin page   $base/admin/
  admin token  $admin_token

  # create a client (the answer shows client.client_id and secret.client_secret once):
  curl -s -X POST $base/admin/clients \\
    -H 'Authorization: Bearer $admin_token' \\
    -H 'Content-Type: application/json' \\
    -d '{"client_name":"demo"}'

  # get an access token with them:
  curl -s -u 'CLIENT_ID:CLIENT_SECRET' -d grant_type=client_credentials $base/oauth/token

MSG

# Rebuild only when sources are newer than build/ (wrangler runs the [build] command at start
# and on changes).
export EDGEAUTH_SKIP_BUILD=fresh
exec npx wrangler dev --port "$PORT" --persist-to .wrangler/state
