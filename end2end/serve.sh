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
trap 'kill $sink 2>/dev/null; rm -rf "$data"' EXIT
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
