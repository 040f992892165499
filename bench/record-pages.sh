#!/usr/bin/env bash
# Measures the record's pages under load, as issue 3 asks: a patient with 10,000 home readings
# and 2,000 notes (seeded through Carry's own API), signed in, 32 connections with wrk on
# loopback. Prints p50, p99 and requests a second for the timeline and chart pages, beside the
# same server's figures for a static file in the same run. Target: p99 at most 25 ms on 2 cores.
# Nothing is asserted: the figures are for people.
#   bench/record-pages.sh [READINGS] [NOTES]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
readings=${1:-10000}
notes=${2:-2000}
port=${BENCH_PORT:-3300}
duration=${BENCH_SECONDS:-20}

./scripts/install-tools.sh build >/dev/null
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "Please install wrk (apt-get install wrk)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ -x target/release/carry ] || cargo leptos build --release

data=$(mktemp -d /tmp/carry-bench.XXXXXX)
CARRY_MODE=demo CARRY_LISTEN=127.0.0.1:$port CARRY_PUBLIC_URL=http://localhost:$port \
  DATABASE_URL=sqlite://$data/carry.db LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  CARRY_SIGN_IN_PER_ADDRESS=1000000 CARRY_REQUESTS_PER_ADDRESS=1000000 \
  target/release/carry >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "Carry did not start:" >&2; cat "$data/server.log" >&2; exit 1; }

email=$(grep -o '"[^"]*@demo.carry.invalid"' app/src/pages/home.rs | head -1 | tr -d '"')
password=$(grep -A0 "$email" app/src/pages/home.rs | grep -o '"demo [^"]*"' | tr -d '"')
echo "Seeding ${readings} readings and ${notes} notes for ${email} through the API..."
cookie=$(python3 bench/seed_record.py "http://localhost:$port" "$email" "$password" "$readings" "$notes" | tail -1)
echo "Database: $(du -h "$data/carry.db" | cut -f1) ($(nproc) cores, wrk and Carry on the same machine)"

measure() { # name path [cookie]
  local args=(-t2 -c32 -d"${duration}s" --latency -H "Host: localhost:$port")
  [ -n "${3:-}" ] && args+=(-H "Cookie: $3")
  # The page must really be the page: a redirect to sign-in would be fast and meaningless.
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$port" ${3:+-H "Cookie: $3"} "http://127.0.0.1:$port$2")
  [ "$status" = 200 ] || { echo "$1: $2 answered $status, not 200" >&2; exit 1; }
  wrk "${args[@]}" "http://127.0.0.1:$port$2" >"$data/wrk.txt"
  awk -v name="$1" -v path="$2" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%-28s %-44s p50 %7.2f ms   p99 %7.2f ms   %8.0f req/s%s\n", name, path, p50, p99, rps, bad ? "   NON-2XX: " bad : "" }
  ' "$data/wrk.txt"
}

echo
echo "wrk: 2 threads, 32 connections, ${duration} s each, loopback"
measure "static asset" "/pkg/carry.css"
[ -n "${BENCH_BASELINE:-}" ] && measure "signed-in page, no data" "/record/charts" "$cookie"
measure "timeline (first page)" "/record" "$cookie"
measure "timeline (filtered)" "/record?type=blood-pressure" "$cookie"
measure "chart (30 days, default)" "/record/charts/blood-pressure" "$cookie"
measure "chart (1 year)" "/record/charts/blood-pressure?period=1y" "$cookie"
[ -n "${BENCH_BASELINE:-}" ] && measure "chart data only (1 year)" "/api/record/chart?kind=blood-pressure&period=1y" "$cookie"
[ -n "${BENCH_BASELINE:-}" ] && measure "timeline data only" "/api/record/timeline" "$cookie"
echo
echo "Target: p99 at most 25 ms for the timeline and chart pages."
# Every page view above wrote its access log row before it answered: the log holds them all,
# and its chains are unbroken.
echo "Access log after the run: $(DATABASE_URL=sqlite://$data/carry.db target/release/carry audit verify 2>&1 | tail -1)"
