#!/usr/bin/env bash
# The shared care record import, as issue 6 asks: Synthea's synthetic patients (5 by default,
# about 7,000 resources) loaded into a real FHIR server (sekmet-fhir on loopback), linked in
# Carry by NHS number, and pulled whole into a fresh SQLite database; then 100 of their
# resources changed there and pulled again. Prints the figures: each pull's wall time, the part
# spent waiting on the server's answers, and Carry's own time (the target: the import at most
# 5 s, not counting the remote server's time). Nothing else is asserted: the figures are for people.
#   bench/import.sh            PATIENTS=20 bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-tools.sh test >/dev/null
cargo build --release -p service --example import_bench
exec target/release/examples/import_bench
