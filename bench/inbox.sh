#!/usr/bin/env bash
# Measures the practice's review inbox, as issue 5 asks: a practice with 20,000 linked patients
# and 50,000 shared entries waiting, its GP signed in, 32 connections with wrk on loopback. Prints
# p50, p99 and requests a second of the inbox's first page on SQLite and on PostgreSQL. Every
# page view writes one access log row per patient it shows (25) before it answers: that is part
# of what is measured. Nothing is asserted: the figures are for people.
#   bench/inbox.sh [PATIENTS] [ENTRIES]
set -euo pipefail
cd "$(dirname "$0")/.."
patients=${1:-20000}
entries=${2:-50000}
port=${BENCH_PORT:-3301}
duration=${BENCH_SECONDS:-20}

./scripts/install-tools.sh build >/dev/null
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "Please install wrk (apt-get install wrk)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ -x target/release/carry ] || cargo leptos build --release
ods=$(grep -o 'DEMO_PRACTICE: (&str, &str) = ("[^"]*", "[^"]*")' app/src/pages/home.rs | grep -o '"[A-Z0-9]*")' | tr -d '")')
gp_email=$(grep -o '"Demo GP: [^"]*", "[^"]*", "[^"]*"' app/src/pages/home.rs | cut -d'"' -f4)
gp_password=$(grep -o '"Demo GP: [^"]*", "[^"]*", "[^"]*"' app/src/pages/home.rs | cut -d'"' -f6)
data=$(mktemp -d /tmp/carry-bench-inbox.XXXXXX)
server=
cleanup() { [ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$data"; }
trap cleanup EXIT

run() { # backend database-url
  local backend=$1 url=$2
  CARRY_MODE=demo CARRY_LISTEN=127.0.0.1:$port CARRY_PUBLIC_URL=http://localhost:$port \
    DATABASE_URL=$url LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    CARRY_SIGN_IN_PER_ADDRESS=1000000 CARRY_REQUESTS_PER_ADDRESS=1000000 \
    target/release/carry >"$data/server-$backend.log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "Carry did not start:" >&2; cat "$data/server-$backend.log" >&2; exit 1; }
  echo "[$backend] seeding..."
  python3 bench/seed_inbox.py "$url" "$ods" "$patients" "$entries"
  local cookie
  cookie=$(curl -s -D - -o /dev/null -H "Origin: http://localhost:$port" -H "Host: localhost:$port" -H "Accept: application/json" \
    --data-urlencode "email=$gp_email" --data-urlencode "password=$gp_password" "http://127.0.0.1:$port/api/sign-in" \
    | grep -i '^set-cookie:' | head -1 | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*);.*/\1/')
  [ -n "$cookie" ] || { echo "the demo GP could not sign in" >&2; exit 1; }
  # Clinical pages need a passkey session. A passkey ceremony needs a browser (the Chromium
  # suite does it); here the bench marks the demo GP's session as one, in the database.
  local sql="update sessions set auth_method = 'passkey' where user_id in (select id from users where email_key = '$gp_email')"
  case $backend in
    sqlite) python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()" "${url#sqlite://}" "$sql" ;;
    postgres) psql -q "$url" -c "$sql" >/dev/null ;;
  esac
  local status
  status=$(curl -s -o "$data/page.html" -w '%{http_code}' -H "Host: localhost:$port" -H "Cookie: $cookie" "http://127.0.0.1:$port/practice/inbox")
  [ "$status" = 200 ] && grep -q "Review inbox" "$data/page.html" || { echo "[$backend] the inbox answered $status" >&2; exit 1; }
  for connections in 1 32; do
    wrk -t"$(( connections < 2 ? 1 : 2 ))" -c"$connections" -d"${duration}s" --latency -H "Host: localhost:$port" -H "Cookie: $cookie" \
      "http://127.0.0.1:$port/practice/inbox" >"$data/wrk.txt"
    awk -v name="$backend" -v c="$connections" '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /^Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
      END { printf "%-9s inbox, first page (25 patients), %2d connection(s)   p50 %7.2f ms   p99 %7.2f ms   %6.0f req/s%s\n", name, c, p50, p99, rps, bad ? "   NON-2XX: " bad : "" }
    ' "$data/wrk.txt"
  done
  echo "[$backend] access log after the run: $(DATABASE_URL=$url target/release/carry audit verify 2>&1 | tail -1)"
  kill "$server"; wait "$server" 2>/dev/null || true; server=
}

echo "Inbox of a practice with $patients linked patients and $entries entries waiting ($(nproc) cores; wrk on loopback, ${duration} s each)"
run sqlite "sqlite://$data/carry.db"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  db="carry_bench_inbox_$$"
  psql -q -h 127.0.0.1 -U postgres -c "create database $db" postgres
  run postgres "postgres://postgres@127.0.0.1:5432/$db"
  psql -q -h 127.0.0.1 -U postgres -c "drop database $db" postgres
else
  echo "postgres   not measured: nothing answers at 127.0.0.1:5432 (scripts/test.sh starts it)"
fi
