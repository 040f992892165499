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
    let (loaded, took) = load_patients(remote, dir, manifest, load).await;
    let mut run = Run::full(db, remote, via, manifest).await;
    run.f.resources_loaded = loaded;
    run.f.load = took;
    let changed = change_observations(remote, manifest).await;
    run.incremental(&changed).await;
    (run.s, run.f)
}

/// Loads the patients' transactions into `remote` (only counts them, `load` false). Returns
/// how many resources they hold and how long the server took.
pub async fn load_patients(remote: &Sekmet, dir: &std::path::Path, manifest: &Value, load: bool) -> (u64, Duration) {
    let started = Instant::now();
    let mut resources = 0;
    for p in manifest["patients"].as_array().unwrap() {
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(p["file"].as_str().unwrap())).unwrap()).unwrap();
        resources += bundle["entry"].as_array().unwrap().len() as u64;
        if load {
            remote.transaction(&bundle).await;
        }
    }
    (resources, started.elapsed())
}

/// Changes 100 of the first patient's Observations on the server (a new status, so a new
/// version of each). Returns their ids.
pub async fn change_observations(remote: &Sekmet, manifest: &Value) -> Vec<String> {
    let first = manifest["patients"][0]["id"].as_str().unwrap();
    let page = remote.get(&format!("Observation?patient={first}&_count=100&_sort=_lastUpdated")).await;
    let mut changed = Vec::new();
    for e in page["entry"].as_array().unwrap() {
        let mut r = e["resource"].clone();
        let id = r["id"].as_str().unwrap().to_owned();
        r["status"] = Value::String(if r["status"] == "amended" { "corrected" } else { "amended" }.into());
        r.as_object_mut().unwrap().remove("meta");
        remote.put(&format!("Observation/{id}"), &r).await;
        changed.push(id);
    }
    changed
}

/// One Carry, on its own database, pulling the patients.
pub struct Run {
    pub s: Services,
    clock: std::sync::Arc<service::ManualClock>,
    db: store::Db,
    pub f: Figures,
}

impl Run {
    /// Links the manifest's patients in a new Carry on `db` and pulls everything.
    pub async fn full(db: &store::Db, remote: &Sekmet, via: &str, manifest: &Value) -> Self {
        let mut f = Figures::default();
        let patients = manifest["patients"].as_array().unwrap();
        f.patients = patients.len();
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
        Run { s, clock, db: db.clone(), f }
    }

    /// The next pull, six hours later in Carry's clock, after `changed` Observations changed.
    pub async fn incremental(&mut self, changed: &[String]) {
        let before = observation_versions(&self.db).await;
        self.f.changed = changed.len();
        self.clock.advance(service::care_record::pull::PULL_EVERY);
        self.clock.advance(domain::Span::minutes(1));
        let remote_before = self.s.care_record_remote_time();
        let started = Instant::now();
        let finished = self.s.pull_due_from_care_record().await.unwrap();
        self.f.incremental = started.elapsed();
        self.f.incremental_remote = self.s.care_record_remote_time() - remote_before;
        assert_eq!(finished, self.f.patients);
        let after = observation_versions(&self.db).await;
        self.f.changed_seen = changed.iter().filter(|id| after.get(*id).is_some_and(|v| before.get(*id) != Some(v))).count() as i64;
    }
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
