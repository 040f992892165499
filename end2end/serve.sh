#!/usr/bin/env bash
# Starts what the browser suite talks to: a real SMTP server (aiosmtpd) and Carry, built by
# `cargo leptos build --release`, on http://localhost:$E2E_PORT with a fresh SQLite database
# (or $E2E_DATABASE_URL). Playwright starts this and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${E2E_PORT:-3100}
mail_dir=${E2E_MAIL_DIR:?set by playwright.config.mjs}
data=$(mktemp -d /tmp/carry-e2e.XXXXXX)
rm -rf "$mail_dir"; mkdir -p "$mail_dir"
fifo="$data/smtp-port"; mkfifo "$fifo"
.tools/venv/bin/python end2end/smtp_sink.py --dir "$mail_dir" > "$fifo" &
sink=$!
read -r _ smtp_port < "$fifo"
# The shared care record: a real FHIR server (sekmet-fhir) on loopback, with Carry registered as a
# SMART Backend Services client by a key made now, and a "tests" client the suite seeds it with.
care="$data/care-record"; mkdir -p "$care/keys"
care_port=$(.tools/venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
root=$PWD
(cd "$care" && "$root/.tools/venv/bin/sekmet" keys generate --alg ES384 --out keys/carry.pem >/dev/null)
cat > "$care/settings.yaml" <<YAML
base_url: http://127.0.0.1:$care_port/fhir
host: 127.0.0.1
port: $care_port
data_dir: data
log_inbound: false
simulator:
  enabled: false
server_auth:
  types: [smart]
  smart_clients:
    - client_id: carry
      public_key_path: keys/carry.pem
      scopes: "system/*.*"
    - client_id: tests
      client_secret: tests-secret
      scopes: "system/*.*"
YAML
(cd "$care" && exec "$root/.tools/venv/bin/sekmet" serve -c settings.yaml --host 127.0.0.1 --port "$care_port" > serve.log 2>&1) &
fhir_server=$!
trap 'kill $sink $fhir_server 2>/dev/null; rm -rf "$data"' EXIT
.tools/venv/bin/python - "$care_port" <<'PY'
import sys, time, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/fhir/metadata", timeout=2)
        break
    except Exception:
        time.sleep(0.25)
else:
    sys.exit("the FHIR test server did not start")
PY
echo "http://127.0.0.1:$care_port" > "$mail_dir/care-record-root"
export CARRY_CARE_RECORD_URL=http://127.0.0.1:$care_port/fhir
export CARRY_CARE_RECORD_CLIENT_ID=carry
export CARRY_CARE_RECORD_KEY_FILE=$care/keys/carry.pem
export CARRY_CARE_RECORD_ALG=ES384
export CARRY_MODE=development
export CARRY_LISTEN=127.0.0.1:$port
export CARRY_PUBLIC_URL=http://localhost:$port
export CARRY_SMTP_URL=smtp://127.0.0.1:$smtp_port
export CARRY_MAIL_FROM="Carry <no-reply@localhost>"
export DATABASE_URL=${E2E_DATABASE_URL:-sqlite://$data/carry.db}
# The browser suite runs `carry practice create` against the same database.
echo "$DATABASE_URL" > "$mail_dir/database-url"
export LEPTOS_SITE_ROOT=target/site
# The whole suite comes from one address; the limits themselves are tested over HTTP.
export CARRY_SIGN_IN_PER_ADDRESS=100000 CARRY_REQUESTS_PER_ADDRESS=100000
export RUST_LOG=${RUST_LOG:-warn}
exec "${CARRY_BIN:-target/release/carry}"
