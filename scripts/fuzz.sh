#!/usr/bin/env bash
# Fuzzes one of Carry's parsers with cargo-fuzz (libFuzzer and AddressSanitizer) for a while,
# then prints how many cases were tried and how many crashed (security.md T18).
#
#   scripts/fuzz.sh TARGET MINUTES      TARGET: fhir_bundle, fhir_search, token_assertion, forms
#   scripts/fuzz.sh all MINUTES         each target in turn, MINUTES each
#
# It runs on the stable toolchain with RUSTC_BOOTSTRAP=1 (sanitizers are a nightly flag), and
# installs cargo-fuzz, pinned, the first time. Every crashing input is copied into
# fuzz/corpus/TARGET/, so the test suite's short pass fails on it until it is fixed: each crash
# becomes a regression test. Exits 1 if anything crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_FUZZ_VERSION=0.13.1
targets=(fhir_bundle fhir_search token_assertion forms)
target=${1:-}
minutes=${2:-}
if [ -z "$target" ] || ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh TARGET|all MINUTES   (TARGET: ${targets[*]})" >&2
  exit 2
fi
if [ "$target" = all ]; then
  status=0
  for t in "${targets[@]}"; do "$0" "$t" "$minutes" || status=1; done
  exit $status
fi
if ! printf '%s\n' "${targets[@]}" | grep -qx "$target"; then
  echo "fuzz.sh: no target $target (choose from: ${targets[*]})" >&2
  exit 2
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  echo "==> Installing cargo-fuzz $CARGO_FUZZ_VERSION (once per machine)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

export RUSTC_BOOTSTRAP=1
work=fuzz/found/$target
artifacts=fuzz/artifacts/$target
mkdir -p "$work" "$artifacts"
log=$(mktemp /tmp/carry-fuzz.XXXXXX)
seconds=$(( minutes * 60 ))
echo "==> Fuzzing $target for $minutes minute(s)"
set +e
# -fork keeps fuzzing after a crash, so one run reports every distinct crash it meets.
(cd fuzz && cargo fuzz run "$target" "found/$target" "corpus/$target" -- \
  -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -artifact_prefix="artifacts/$target/" -print_final_stats=1) 2>&1 \
  | tee "$log" | grep -E '^(#[0-9]+: |==[0-9]+==ERROR|INFO: fuzzed)' || true
set -e
# In fork mode libFuzzer reports "#<cases>: cov: ... oom/timeout/crash: a/b/c ..." as it goes.
tried=$( { grep -E '^#[0-9]+' "$log" || true; } | tail -1 | sed -nE 's/^#([0-9]+).*/\1/p')
tried=${tried:-0}
crashes=0
for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
  [ -e "$f" ] || continue
  crashes=$((crashes + 1))
  cp "$f" "fuzz/corpus/$target/$(basename "$f")"
done
rm -f "$log"
echo "$target: $tried cases tried, $crashes crash(es)"
if [ "$crashes" -gt 0 ]; then
  echo "Each crashing input is now in fuzz/corpus/$target/: the test suite fails on it until it is fixed."
  exit 1
fi
