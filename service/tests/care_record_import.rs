//! A full pull of realistic synthetic patients (Synthea, five of them, about 7,000 resources)
//! from a real FHIR server, on both databases: every resource of every type Carry pulls arrives
//! once (0 missing, 0 duplicate), and after 100 of them change there, the next pull takes the
//! 100 new versions. `bench/import.sh` times the same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "care_record/import.rs"]
mod import;
#[path = "care_record/peer.rs"]
mod peer;

use store::conformance;

conformance! {
    async fn five_synthetic_patients_are_pulled_whole_and_changes_follow(db) {
        let (dir, manifest) = import::synthetic(5, 42);
        let remote = peer::Sekmet::start("ES384").await;
        let (_, f) = import::import(db, &remote, &remote.base(), &dir, &manifest, true).await;
        assert_eq!(f.patients, 5);
        assert!(f.resources_loaded > 5_000, "{}", f.resources_loaded);
        assert_eq!(f.items, f.expected, "every resource Carry pulls arrived exactly once");
        assert_eq!((f.changed, f.changed_seen), (100, 100), "the changed resources' new versions arrived");
    }
}
