#!/usr/bin/env bash
# Carry's serve command: installs what is missing, builds, and serves Carry in demo mode on
# http://localhost:3000 (listening on 127.0.0.1:3000) with its embedded SQLite database under
# ./data and a few clearly labelled demo people. Mail goes to ./data/outbox, readable at
# http://localhost:3000/dev/outbox.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
./scripts/install-tools.sh build
cargo leptos build --release
export CARRY_MODE=${CARRY_MODE:-demo}
export CARRY_LISTEN=${CARRY_LISTEN:-127.0.0.1:3000}
export DATABASE_URL=${DATABASE_URL:-sqlite://data/carry.db}
export LEPTOS_SITE_ROOT=target/site
echo
echo "Carry is starting on http://localhost:${CARRY_LISTEN##*:} (demo people are listed on the home page; Ctrl-C stops it)"
exec target/release/carry
