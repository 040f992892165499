#!/usr/bin/env bash
# The browser bundle must hold no server code: none of sqlx, tokio networking (mio), axum,
# hyper, lettre, argon2, webauthn-rs, or Carry's server-only crates. Reads the dependency graph
# of the wasm build (frontend for wasm32, normal dependencies) and fails naming what leaked.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(sqlx|sqlx-core|sqlx-sqlite|sqlx-postgres|tokio|mio|axum|axum-core|hyper|lettre|argon2|webauthn-rs|webauthn-rs-core|service|store|server|leptos_axum)$'
deps=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --no-dedupe 2>/dev/null | awk '{print $1}' | sort -u)
[ -n "$deps" ] || { echo "could not read the wasm dependency graph" >&2; exit 1; }
leaked=$(printf '%s\n' "$deps" | grep -E "$forbidden" || true)
if [ -n "$leaked" ]; then
  echo "The wasm bundle pulls in server-only crates:" >&2
  printf '  %s\n' $leaked >&2
  for crate in $leaked; do cargo tree -p frontend --target wasm32-unknown-unknown -e normal -i "$crate" 2>/dev/null | head -8 >&2; done
  exit 1
fi
echo "wasm bundle: $(printf '%s\n' "$deps" | wc -l) crates, none of them server-only"
