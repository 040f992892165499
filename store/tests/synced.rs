//! The record the NHS holds, as stored: every test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::care_record::{Confidentiality, Origin, Section, Standing, SyncedItem};
use domain::{PatientId, PrivacyLabel, Timestamp, UserId};
use store::patients::{self, PatientRow};
use store::testing::answers::permit;
use store::{conformance, synced, users};
use uuid::Uuid;

const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

async fn add_patient(db: &store::Db) -> PatientId {
    let user = UserId::from_uuid(Uuid::new_v4());
    let patient = PatientId::from_uuid(Uuid::new_v4());
    let mut conn = db.conn().await.unwrap();
    let email = format!("{}@example.com", user.as_uuid().simple());
    users::insert_user(&mut conn, user, &email, &email, "Sam Jones", T0).await.unwrap();
    patients::insert_patient(&mut conn, &PatientRow { id: patient, user_id: Some(user), name: String::new(), born_on: None }, T0)
        .await
        .unwrap();
    patient
}

fn condition(id: &str, version: &str, title: &str) -> SyncedItem {
    SyncedItem {
        resource_type: "Condition".to_owned(),
        remote_id: id.to_owned(),
        version_id: version.to_owned(),
        last_updated: Some("2026-12-01T10:00:00Z".to_owned()),
        section: Section::Problems,
        standing: Standing::Current,
        quarantine_reason: None,
        title: title.to_owned(),
        detail: None,
        occurred: Some("2026-11-30".to_owned()),
        occurred_at: Some(1_796_000_000_000),
        source: None,
        origin: Origin::SharedRecord,
        label: PrivacyLabel::General,
        confidentiality: Confidentiality::Normal,
        security_codes: Vec::new(),
        measure: None,
    }
}

/// The resource text a condition is stored with.
fn text(item: &SyncedItem) -> String {
    format!(r#"{{"resourceType":"Condition","id":"{}","code":{{"text":"{}"}}}}"#, item.remote_id, item.title)
}

async fn upsert(db: &store::Db, patient: PatientId, items: &[SyncedItem]) -> u64 {
    let texts: Vec<String> = items.iter().map(text).collect();
    let rows: Vec<(SyncedItem, &str)> = items.iter().cloned().zip(texts.iter().map(String::as_str)).collect();
    let mut tx = db.begin().await.unwrap();
    let changed = synced::upsert_items(&mut tx, patient, &rows, T0).await.unwrap();
    tx.commit().await.unwrap();
    changed
}

async fn titles(db: &store::Db, patient: PatientId) -> Vec<(String, String, String)> {
    let mut conn = db.conn().await.unwrap();
    let mut items: Vec<_> = synced::list_items(&mut conn, &permit(patient, &PrivacyLabel::ALL))
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.remote_id, i.version_id, i.title))
        .collect();
    items.sort();
    items
}

conformance! {
    async fn many_resources_are_stored_at_once_and_only_new_versions_change_anything(db) {
        let patient = add_patient(db).await;
        // More than one statement's worth, and not a multiple of it.
        let items: Vec<SyncedItem> = (0..250).map(|n| condition(&format!("c{n:03}"), "1", &format!("Problem {n}"))).collect();
        assert_eq!(upsert(db, patient, &items).await, 250);
        let mut conn = db.conn().await.unwrap();
        assert_eq!(synced::count_items(&mut conn, patient).await.unwrap(), 250);
        drop(conn);
        // The same versions again (an overlapping window) change nothing.
        assert_eq!(upsert(db, patient, &items).await, 0);
        let mut changed = items.clone();
        changed[7] = condition("c007", "2", "Problem 7, resolved");
        assert_eq!(upsert(db, patient, &changed).await, 1);
        let stored = titles(db, patient).await;
        assert_eq!(stored.len(), 250);
        assert_eq!(stored[7], ("c007".to_owned(), "2".to_owned(), "Problem 7, resolved".to_owned()));
        let mut conn = db.conn().await.unwrap();
        let held = synced::held_versions(&mut conn, patient, "Condition").await.unwrap();
        assert_eq!(held.len(), 250);
        assert_eq!(held["c007"], "2");
        assert_eq!(held["c008"], "1");
        assert!(synced::held_versions(&mut conn, patient, "Observation").await.unwrap().is_empty());
    }
}

conformance! {
    async fn a_resource_given_twice_at_once_is_stored_as_given_last(db) {
        let patient = add_patient(db).await;
        let items = [condition("a", "1", "Asthma"), condition("b", "1", "Eczema"), condition("a", "2", "Asthma, resolved")];
        assert_eq!(upsert(db, patient, &items).await, 2);
        assert_eq!(
            titles(db, patient).await,
            [("a".to_owned(), "2".to_owned(), "Asthma, resolved".to_owned()), ("b".to_owned(), "1".to_owned(), "Eczema".to_owned())]
        );
    }
}

conformance! {
    async fn without_versions_a_changed_resource_is_stored_and_the_same_one_is_not(db) {
        // A server need not give meta.versionId: then the text says whether it changed.
        let patient = add_patient(db).await;
        assert_eq!(upsert(db, patient, &[condition("a", "", "Asthma")]).await, 1);
        assert_eq!(upsert(db, patient, &[condition("a", "", "Asthma")]).await, 0);
        assert_eq!(upsert(db, patient, &[condition("a", "", "Asthma, resolved")]).await, 1);
        assert_eq!(titles(db, patient).await, [("a".to_owned(), String::new(), "Asthma, resolved".to_owned())]);
        // Nothing to compare a version with: a pull reads it whole each time.
        let mut conn = db.conn().await.unwrap();
        assert!(synced::held_versions(&mut conn, patient, "Condition").await.unwrap().is_empty());
    }
}

conformance! {
    async fn held_types_names_the_types_a_record_holds_and_only_its_own(db) {
        let patient = add_patient(db).await;
        let other = add_patient(db).await;
        upsert(db, patient, &[condition("a", "1", "Asthma")]).await;
        let mut conn = db.conn().await.unwrap();
        let types = ["Observation", "Condition", "AllergyIntolerance"];
        let held = synced::held_types(&mut conn, patient, &types).await.unwrap();
        assert_eq!(held, ["Condition".to_owned()].into_iter().collect());
        assert!(synced::held_types(&mut conn, other, &types).await.unwrap().is_empty());
        assert!(synced::held_types(&mut conn, patient, &[]).await.unwrap().is_empty());
    }
}
