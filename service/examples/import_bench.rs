//! The import benchmark (run by `bench/import.sh`): Synthea's patients pulled from a real FHIR
//! server into a fresh SQLite database, then an incremental pull of 100 changed resources.
//! Prints the figures; Carry's own time is the wall time less the time spent waiting for the
//! server's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/care_record/import.rs"]
mod import;
#[path = "../tests/care_record/peer.rs"]
mod peer;

use std::time::Duration;

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let patients: usize = std::env::var("PATIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let (dir, manifest) = import::synthetic(patients, 42);
    let remote = peer::Sekmet::start("ES384").await;
    let test_db = store::testing::TestDb::new(store::Backend::Sqlite).await;
    let (_, f) = import::import(&test_db.db, &remote, &dir, &manifest).await;
    let own = f.full.saturating_sub(f.full_remote);
    let own_incremental = f.incremental.saturating_sub(f.incremental_remote);
    println!("Import of {} synthetic patients into SQLite (sekmet-fhir on loopback)", f.patients);
    println!("  resources on the server:        {} (loaded in {}, the server's own time)", f.resources_loaded, secs(f.load));
    println!("  items Carry pulled:             {} (expected {})", f.items_total(), f.expected.values().sum::<i64>());
    for (t, n) in &f.items {
        println!("    {t:<20} {n:>6}");
    }
    println!("  full pull, wall time:           {}", secs(f.full));
    println!("    waiting on the server:        {}", secs(f.full_remote));
    println!("    Carry's own time:             {}   (target: at most 5 s)", secs(own));
    println!(
        "  incremental pull of {} changes: {} wall, {} waiting, {} Carry's own",
        f.changed,
        secs(f.incremental),
        secs(f.incremental_remote),
        secs(own_incremental)
    );
    println!("    new versions taken:           {}", f.changed_seen);
    let ok = own <= Duration::from_secs(5) && f.items_total() == f.expected.values().sum::<i64>() && f.changed_seen == f.changed as i64;
    println!("{}", if ok { "RESULT: within target" } else { "RESULT: OUTSIDE TARGET" });
    test_db.cleanup().await;
    if !ok {
        std::process::exit(1);
    }
}
