//! The import benchmark (run by `bench/import.sh`): Synthea's patients (20 by default, about
//! 25,000 resources) pulled from a real FHIR server into a fresh database, then an incremental
//! pull of 100 changed resources (the pulls start once the overlap has passed since the load);
//! on SQLite and on PostgreSQL, from the server as it is (with
//! `next` links) and through a proxy that strips them (paging is optional in FHIR: Carry then
//! reads `_lastUpdated` windows). Prints the figures; Carry's own time is the wall time less the
//! time spent waiting for the server's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/care_record/import.rs"]
mod import;
#[path = "../tests/care_record/peer.rs"]
mod peer;

use std::time::Duration;
use store::Backend;

/// The targets (issue 18): Carry's own time for the full pull and for 100 changes.
const FULL_TARGET: Duration = Duration::from_secs(3);
const INCREMENTAL_TARGET: Duration = Duration::from_millis(300);

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let patients: usize = std::env::var("PATIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let (dir, manifest) = import::synthetic(patients, 42);
    let mut ok = true;
    println!("Import of {patients} synthetic patients (Synthea, seed 42) from sekmet-fhir on loopback; times: wall / waiting on the server / Carry's own");
    println!("| database | paging | resources | items pulled (expected) | full pull | incremental pull of 100 changes |");
    println!("|---|---|---|---|---|---|");
    // One server, loaded once (loading is most of the run): each run pulls into a fresh
    // database, and its incremental pull reads from its own watermark.
    let remote = peer::Sekmet::start("ES384").await;
    let (loaded, _) = import::load_patients(&remote, &dir, &manifest, true).await;
    // A region's record is older than Carry's first pull of it: start the pulls once the
    // overlap each incremental pull reads again has passed since the load, so the incremental
    // pulls time the 100 changes and not the end of the bulk load (pulls are hours apart; one
    // within 5 minutes of a bulk change reads that change again: see the README).
    let overlap = Duration::from_secs(service::care_record::pull::OVERLAP_SECONDS.unsigned_abs() + 5);
    eprintln!("loaded; waiting {} s, the overlap, before the first pull", overlap.as_secs());
    tokio::time::sleep(overlap).await;
    // Four Carrys, each on a fresh database, pull everything; then 100 Observations change
    // there and each pulls again.
    let mut runs = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for next_links in [true, false] {
            let proxy = peer::Proxy::start(&remote.base()).await;
            proxy.strip_next_links(!next_links);
            let test_db = store::testing::TestDb::new(backend).await;
            let run = import::Run::full(&test_db.db, &remote, &proxy.url, &manifest).await;
            runs.push((backend, next_links, proxy, test_db, run));
        }
    }
    let changed = import::change_observations(&remote, &manifest).await;
    for (_, _, _, _, run) in &mut runs {
        run.incremental(&changed).await;
    }
    for (backend, next_links, _proxy, test_db, run) in runs {
        let f = &run.f;
        let own = f.full.saturating_sub(f.full_remote);
        let own_incremental = f.incremental.saturating_sub(f.incremental_remote);
        let whole = f.items_total() == f.expected.values().sum::<i64>() && f.changed_seen == f.changed as i64;
        ok &= whole && own <= FULL_TARGET && own_incremental <= INCREMENTAL_TARGET;
        println!(
            "| {backend:?} | {} | {} | {} ({}) | {} / {} / **{}** | {} / {} / **{}** |",
            if next_links { "next links" } else { "no next links (windows)" },
            loaded,
            f.items_total(),
            f.expected.values().sum::<i64>(),
            secs(f.full),
            secs(f.full_remote),
            secs(own),
            secs(f.incremental),
            secs(f.incremental_remote),
            secs(own_incremental),
        );
        drop(run);
        test_db.cleanup().await;
    }
    println!("Targets: Carry's own time at most {} for the full pull, {} for 100 changes.", secs(FULL_TARGET), secs(INCREMENTAL_TARGET));
    println!("{}", if ok { "RESULT: within target" } else { "RESULT: OUTSIDE TARGET" });
    if !ok {
        // exit skips destructors: stop the server first.
        drop(remote);
        std::process::exit(1);
    }
}
