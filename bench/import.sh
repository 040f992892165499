#!/usr/bin/env bash
# The shared care record import (issues 6 and 18): Synthea's synthetic patients (20 by default,
# about 25,000 resources) loaded into a real FHIR server (sekmet-fhir on loopback), linked in
# Carry by NHS number once the 5-minute overlap has passed since the load (a region's record is
# older than Carry's first pull of it), and pulled whole into a fresh database; then 100 of their
# resources changed there and pulled again. On SQLite and PostgreSQL, with the server's next links and
# through a proxy that strips them (Carry then pages by _lastUpdated windows). Prints a table:
# each pull's wall time, the part spent waiting on the server, and Carry's own time (targets: at
# most 3 s for the full pull, 0.3 s for 100 changes). The figures are for people.
#   bench/import.sh            PATIENTS=5 bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-tools.sh test >/dev/null
cargo build --release -p service --example import_bench
exec target/release/examples/import_bench
