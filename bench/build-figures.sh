#!/usr/bin/env bash
# Prints the README's build figures: cold release build time (from an empty target directory,
# so it takes a while on 2 cores), warm rebuild time, and the wasm bundle's size raw, gzip and
# brotli, plus the server binary's size. Nothing is asserted: the figures are for people.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
./scripts/install-tools.sh build >/dev/null
command -v brotli >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq brotli >/dev/null; }
target=$(mktemp -d /tmp/carry-cold-build.XXXXXX)
trap 'rm -rf "$target"' EXIT
echo "Cold release build into an empty target directory ($(nproc) cores)..."
t0=$(date +%s)
CARGO_TARGET_DIR=$target cargo leptos build --release >"$target.log" 2>&1 || { tail -30 "$target.log"; exit 1; }
t1=$(date +%s)
touch app/src/lib.rs
CARGO_TARGET_DIR=$target cargo leptos build --release >>"$target.log" 2>&1
t2=$(date +%s)
wasm=$(ls "$target"/site/pkg/*.wasm 2>/dev/null || ls target/site/pkg/*.wasm)
site_root=$(dirname "$(dirname "$wasm")")
raw=$(stat -c %s "$wasm")
gz=$(gzip -9c "$wasm" | wc -c)
br=$(brotli -c -q 11 "$wasm" | wc -c)
js=$(stat -c %s "$site_root/pkg/carry.js")
bin=$(stat -c %s "$target/release/carry")
rm -f "$target.log"
printf '\nCarry build figures (%s, %s cores)\n' "$(date -u +%Y-%m-%d)" "$(nproc)"
printf '  cold release build:        %4d s\n' $((t1 - t0))
printf '  rebuild after a UI change: %4d s\n' $((t2 - t1))
printf '  wasm bundle:  %7d KB raw, %6d KB gzip, %6d KB brotli\n' $((raw / 1024)) $((gz / 1024)) $((br / 1024))
printf '  js loader:    %7d KB raw\n' $((js / 1024))
printf '  server binary: %6d MB\n' $((bin / 1048576))
