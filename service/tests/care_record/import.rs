#![allow(dead_code)]
//! The synthetic-patient import, shared by its test (`care_record_import.rs`) and its benchmark
//! (`examples/import_bench.rs`, which `bench/import.sh` runs): Synthea's patients loaded into a
//! real FHIR server, linked in Carry by their NHS numbers, pulled whole, then 100 of their
//! resources changed and pulled again.

use crate::common::{linked_born, practice, services_with};
use crate::peer::{workspace, Sekmet};
use serde_json::Value;
use service::{AssertionAlg, Services};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The types Carry pulls, as the manifest counts them.
pub use fhir::pull::PULLED_TYPES as PULLED;

/// What one run measured.
#[derive(Debug, Default)]
pub struct Figures {
    pub patients: usize,
    /// Resources in the transactions (all types, as Synthea made them).
    pub resources_loaded: u64,
    /// The FHIR server's own time to take them.
    pub load: Duration,
    /// Items Carry holds after the full pull, by type.
    pub items: BTreeMap<String, i64>,
    /// What the manifest says Carry should hold, by type.
    pub expected: BTreeMap<String, i64>,
    /// The full pull: wall time and the part spent waiting on the server.
    pub full: Duration,
    pub full_remote: Duration,
    /// The incremental pull after 100 changes.
    pub changed: usize,
    pub changed_seen: i64,
    pub incremental: Duration,
    pub incremental_remote: Duration,
}

impl Figures {
    pub fn items_total(&self) -> i64 {
        self.items.values().sum()
    }
}

/// Synthea's patients as transactions, made once and kept under `target/`.
pub fn synthetic(patients: usize, seed: u64) -> (PathBuf, Value) {
    // Tests on both databases run at once in one process: one of them makes the data.
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = workspace().join(format!("target/synthea-{patients}-{seed}"));
    let out = Command::new("python3")
        .arg(workspace().join("scripts/fhir/synthea_transactions.py"))
        .arg(&dir)
        .args(["--patients", &patients.to_string(), "--seed", &seed.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "synthea_transactions.py: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    (dir, manifest)
}

/// Loads the patients into `remote` (unless an earlier run did: `load` false), links them in
/// Carry, pulls everything (Carry talking to `via`: the server itself, or a proxy in front of
/// it), changes 100 Observations there and pulls again.
pub async fn import(
    db: &store::Db,
    remote: &Sekmet,
    via: &str,
    dir: &std::path::Path,
    manifest: &Value,
    load: bool,
) -> (Services, Figures) {
    let mut f = Figures::default();
    let patients = manifest["patients"].as_array().unwrap();
    f.patients = patients.len();
    let started = Instant::now();
    for p in patients {
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(p["file"].as_str().unwrap())).unwrap()).unwrap();
        f.resources_loaded += bundle["entry"].as_array().unwrap().len() as u64;
        if load {
            remote.transaction(&bundle).await;
        }
    }
    f.load = started.elapsed();
    for t in PULLED {
        let n: i64 = patients.iter().map(|p| p["by_type"][t].as_i64().unwrap_or(0)).sum();
        f.expected.insert(t.to_owned(), n);
    }

    let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(via, AssertionAlg::Es384)));
    let practice = practice(db, &s, "Riverside Practice", "A81001").await;
    for p in patients {
        let name = format!("{} {}", p["given"].as_str().unwrap(), p["family"].as_str().unwrap());
        linked_born(db, &s, &practice, &name, p["nhs_number"].as_str().unwrap(), p["birth_date"].as_str().unwrap()).await;
    }

    let remote_before = s.care_record_remote_time();
    let started = Instant::now();
    let finished = s.pull_due_from_care_record().await.unwrap();
    f.full = started.elapsed();
    f.full_remote = s.care_record_remote_time() - remote_before;
    assert_eq!(finished, patients.len(), "every record's pull finished");
    f.items = items_by_type(db).await;

    // 100 Observations change on the server (a new value, so a new version).
    let before = observation_versions(db).await;
    let first = patients[0]["id"].as_str().unwrap();
    let page = remote.get(&format!("Observation?patient={first}&_count=100&_sort=_lastUpdated")).await;
    let mut changed = Vec::new();
    for e in page["entry"].as_array().unwrap() {
        let mut r = e["resource"].clone();
        let id = r["id"].as_str().unwrap().to_owned();
        r["status"] = Value::String("amended".into());
        r.as_object_mut().unwrap().remove("meta");
        remote.put(&format!("Observation/{id}"), &r).await;
        changed.push(id);
    }
    f.changed = changed.len();
    clock.advance(service::care_record::pull::PULL_EVERY);
    clock.advance(domain::Span::minutes(1));
    let remote_before = s.care_record_remote_time();
    let started = Instant::now();
    let finished = s.pull_due_from_care_record().await.unwrap();
    f.incremental = started.elapsed();
    f.incremental_remote = s.care_record_remote_time() - remote_before;
    assert_eq!(finished, patients.len());
    let after = observation_versions(db).await;
    f.changed_seen = changed.iter().filter(|id| after.get(*id).is_some_and(|v| before.get(*id) != Some(v))).count() as i64;
    (s, f)
}

/// Each stored Observation's version, by id.
async fn observation_versions(db: &store::Db) -> BTreeMap<String, String> {
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("select remote_id, version_id from care_record_items where resource_type = 'Observation'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.into_iter().collect()
}

async fn items_by_type(db: &store::Db) -> BTreeMap<String, i64> {
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query_as("select resource_type, count(*) from care_record_items group by resource_type").fetch_all(&mut *conn).await.unwrap();
    let mut out: BTreeMap<String, i64> = PULLED.iter().map(|t| ((*t).to_owned(), 0)).collect();
    out.extend(rows);
    out
}
