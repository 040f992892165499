#!/usr/bin/env bash
# Carry's test command: installs what the tests need (skipping what is present), then runs
# every test: formatting and lints, the wasm boundary check, unit tests (with the short fuzzing
# pass), the store conformance suite on SQLite and PostgreSQL, HTTP tests of the server on port 0
# with a real SMTP server (both databases), kill -9 during writes (both databases), and the
# browser suite in Chromium with JavaScript on and off. SLOW=1 runs the long kill -9 pass.
# Everything builds once, in release, into the one target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export PATH="$PWD/node_modules/.bin:$PATH"
started=$(date +%s)
logs=$(mktemp -d /tmp/carry-test.XXXXXX)

step() { printf '\n==> %s\n' "$1"; shift; ./scripts/null-device.sh; "$@"; }

step "Installing what is missing" ./scripts/install-tools.sh test
step "Formatting" cargo fmt --all -- --check
step "The wasm bundle pulls in no server code" ./scripts/check-wasm-deps.sh
step "Building Carry (release; the same build the browser suite and the serve command use)" cargo leptos build --release
step "Lints (server crates, then the wasm crate)" cargo clippy --release --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --target-dir target/front --profile wasm-release -- -D warnings

printf '\n==> %s\n' "Unit tests, store conformance and HTTP tests, on SQLite and PostgreSQL"
cargo test --release 2>&1 | tee "$logs/cargo.log"
cargo_status=${PIPESTATUS[0]}
[ "$cargo_status" -eq 0 ] || { echo "cargo test failed" >&2; exit "$cargo_status"; }

# security.md T24: the server (never the database) killed with SIGKILL during writes, on both
# databases; a few kills here, 50 per backend with SLOW=1.
kills=3
[ "${SLOW:-}" = 1 ] && kills=50
step "kill -9 during writes, $kills kills per backend" python3 scripts/kill9.py --backend sqlite --kills "$kills"
python3 scripts/kill9.py --backend postgres --kills "$kills"

printf '\n==> %s\n' "Browser suite (Chromium; every journey with JavaScript on and off; axe-core)"
set +e
npx playwright test --config end2end/playwright.config.mjs 2>&1 | tee "$logs/e2e.log"
e2e_status=${PIPESTATUS[0]}
set -e

# One closing line for the whole run.
sum() { { grep -oE "$1" "$2" || true; } | { grep -oE '[0-9]+' || true; } | awk '{s+=$1} END {print s+0}'; }
passed=$(( $(sum 'test result: [a-zA-Z]+\. [0-9]+ passed' "$logs/cargo.log") + $(sum '^ +[0-9]+ passed' "$logs/e2e.log") ))
failed=$(( $(sum '[0-9]+ failed;' "$logs/cargo.log") + $(sum '^ +[0-9]+ failed' "$logs/e2e.log") ))
skipped=$(( $(sum '[0-9]+ ignored;' "$logs/cargo.log") + $(sum '^ +[0-9]+ skipped' "$logs/e2e.log") ))
flaky=$(sum '^ +[0-9]+ flaky' "$logs/e2e.log")
[ "$flaky" -eq 0 ] || echo "WARNING: $flaky browser test(s) passed only on a second try (see above): treat them as bugs."
printf '\nTook %s s.\n' "$(( $(date +%s) - started ))"
echo "$passed passed, $failed failed, $skipped skipped"
rm -rf "$logs"
[ "$e2e_status" -eq 0 ] && [ "$failed" -eq 0 ]
