//! Sending what practices accept to the shared care record, against a real FHIR server
//! (sekmet-fhir) with SMART Backend Services, on both databases: every accepted entry arrives
//! exactly once through 500s, 429s, answers lost after the server committed, a send killed in
//! flight and the server restarting; a doubtful patient match is quarantined, never merged;
//! failures end in the dead-letter list administrators retry; what Carry sends passes an
//! independent validator (security.md T27).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "care_record/peer.rs"]
mod peer;

use common::*;
use domain::{PatientId, Span};
use peer::{Fault, Proxy, Sekmet};
use service::review::ReviewForm;
use service::{AssertionAlg, RecordRef, Services, SignedIn};
use std::time::Duration;
use store::care_record::count_outbox;
use store::conformance;

fn entry_system() -> String {
    "http://localhost:3000/fhir/id/entry".to_owned()
}

/// A linked patient who added a blood pressure reading and a note and shared both; the GP
/// accepts them. Returns the patient, their record and the two entries' ids.
async fn accepted_pair(
    db: &store::Db,
    s: &Services,
    p: &Practice,
    name: &str,
    nhs: &str,
    born: &str,
) -> (SignedIn, PatientId, Vec<String>) {
    let (sam, _, patient) = linked_born(db, s, p, name, nhs, born).await;
    let reading = s.add_reading(&sam, RecordRef::Own, &bp(150, 95, "2026-11-21T08:00"), &shared("general")).await.unwrap();
    let note = s.add_note(&sam, RecordRef::Own, &note("Headaches", "Mornings, since the new tablets"), &shared("general")).await.unwrap();
    let form = ReviewForm { entries: vec![format!("{reading}:1"), format!("{note}:1")], decision: "accept".into(), message: String::new() };
    assert_eq!(s.review_entries(&p.gp, patient, &form).await.unwrap(), 2);
    (sam, patient, vec![reading.to_string(), note.to_string()])
}

/// Runs the worker and moves the test clock on until nothing is due, at most `rounds` times.
async fn quiesce(db: &store::Db, s: &Services, clock: &service::ManualClock, rounds: usize) -> (i64, i64, i64) {
    for _ in 0..rounds {
        s.send_due_to_care_record().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        let counts = count_outbox(&mut conn).await.unwrap();
        if counts.0 == 0 {
            return counts;
        }
        clock.advance(Span::hours(2));
    }
    let mut conn = db.conn().await.unwrap();
    count_outbox(&mut conn).await.unwrap()
}

async fn exactly_once(remote: &Sekmet, ids: &[String]) {
    let (reading, note) = (&ids[0], &ids[1]);
    assert_eq!(remote.count("Observation", &format!("identifier={}|{reading}", entry_system())).await, 1, "the reading, once");
    assert_eq!(remote.count("DocumentReference", &format!("identifier={}|{note}", entry_system())).await, 1, "the note, once");
    for id in ids {
        let prov = remote.get(&format!("Provenance/carry-{id}-1")).await;
        assert!(prov["target"][0]["reference"].as_str().unwrap().contains('/'), "the Provenance points at what it describes");
    }
}

conformance! {
    async fn accepted_entries_reach_the_care_record_exactly_once_through_faults(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let remote_patient = remote.add_patient(&nhs, "Sam", "Patel", "1980-04-02").await;
        // The server fails, then is busy, then commits but the answer is lost; then all is well.
        for f in [Fault::ServerError, Fault::TooMany, Fault::LoseAnswer, Fault::LoseAnswer] {
            proxy.then(f);
        }
        let (_, patient, ids) = accepted_pair(db, &s, &p, "Sam Patel", &nhs, "1980-04-02").await;
        let (waiting, sent, failed) = quiesce(db, &s, &clock, 10).await;
        assert_eq!((waiting, sent, failed), (0, 2, 0));
        // The lost answers reached the server; the retries found them committed and wrote nothing again.
        assert_eq!(proxy.forwarded(), 2, "each committed once, never written again");
        exactly_once(&remote, &ids).await;
        // Subject and performer are the patient's record there; values are coded.
        let obs = remote.get(&format!("Observation?identifier={}|{}", entry_system(), ids[0])).await;
        let obs = &obs["entry"][0]["resource"];
        assert_eq!(obs["subject"]["reference"], format!("Patient/{remote_patient}"));
        assert_eq!(obs["code"]["coding"][0]["code"], "85354-9");
        assert_eq!(obs["component"][0]["valueQuantity"]["value"], 150.0);
        assert_eq!(obs["component"][0]["valueQuantity"]["code"], "mm[Hg]");
        // The patient's access log says who received it.
        let log = s.access_log(&fresh(db, &linked_owner(db, patient).await).await, &Default::default()).await.unwrap();
        assert!(log.rows.iter().any(|r| r.words.starts_with("The regional care record system viewed an entry in your record")), "{:?}", log.rows);
        // Everything Carry sent passes the independent validator.
        peer::validate(&proxy.transactions());
    }
}

conformance! {
    async fn a_slow_commit_is_waited_for_or_found_and_never_written_again(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, clock) = services_with(db, |c| {
            let mut config = remote.config(&proxy.url, AssertionAlg::Es384);
            config.timeout = Duration::from_secs(1);
            c.care_record = Some(config);
        });
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        remote.add_patient(&nhs, "Sam", "Patel", "1980-04-02").await;
        // A transaction of conditional creates that takes the server 3 s (three times a search's
        // timeout) is waited for; one that takes 6 s is given up on, though the server commits it.
        proxy.then(Fault::Hold(Duration::from_secs(3)));
        proxy.then(Fault::Hold(Duration::from_secs(6)));
        let (_, _, ids) = accepted_pair(db, &s, &p, "Sam Patel", &nhs, "1980-04-02").await;
        s.send_due_to_care_record().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        assert_eq!(count_outbox(&mut conn).await.unwrap(), (1, 1, 0), "the slow one was waited for; the slower one waits to be tried again");
        drop(conn);
        // The retry finds it committed: nothing is sent again, nothing is rewritten, and it is
        // never dead-lettered.
        let (waiting, sent, failed) = quiesce(db, &s, &clock, 10).await;
        assert_eq!((waiting, sent, failed), (0, 2, 0));
        assert_eq!(proxy.forwarded(), 2, "each transaction reached the server once");
        exactly_once(&remote, &ids).await;
        for id in &ids {
            let prov = remote.get(&format!("Provenance/carry-{id}-1")).await;
            assert_eq!(prov["meta"]["versionId"], "1", "the Provenance was written once");
        }
    }
}

/// The account that owns a record.
async fn linked_owner(db: &store::Db, patient: PatientId) -> SignedIn {
    let mut conn = db.conn().await.unwrap();
    let row = store::patients::find_patient(&mut conn, patient).await.unwrap().unwrap();
    SignedIn {
        user_id: row.user_id.unwrap(),
        display_name: row.name,
        session_id: domain::SessionId::from_uuid(uuid::Uuid::new_v4()),
        authenticated_at: NOW,
        passkey: true,
        staff: None,
        request: Default::default(),
    }
}

conformance! {
    async fn a_send_killed_in_flight_and_a_restarted_server_still_give_one_copy(db) {
        let mut remote = Sekmet::start("RS384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Rs384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        remote.add_patient(&nhs, "Kim", "Okafor", "1975-09-30").await;
        // The worker dies while the server holds its answer: the server has the entry, Carry
        // does not know it, and the row stays leased.
        proxy.then(Fault::Hold(Duration::from_secs(3)));
        let (_, _, ids) = accepted_pair(db, &s, &p, "Kim Okafor", &nhs, "1975-09-30").await;
        let worker = tokio::spawn({
            let s = s.clone();
            async move { s.send_due_to_care_record().await }
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        worker.abort();
        let _ = worker.await;
        assert_eq!(proxy.forwarded(), 1);
        // While the lease lasts nobody else takes that row; the other entry goes on its own.
        s.send_due_to_care_record().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        assert_eq!(count_outbox(&mut conn).await.unwrap(), (1, 1, 0), "the leased row still waits");
        drop(conn);
        assert_eq!(proxy.forwarded(), 2);
        // The server goes down, and comes back.
        remote.stop().await;
        clock.advance(Span::minutes(2));
        s.send_due_to_care_record().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        assert_eq!(count_outbox(&mut conn).await.unwrap(), (1, 1, 0), "nothing is lost while the server is down");
        drop(conn);
        remote.restart().await;
        let (waiting, sent, failed) = quiesce(db, &s, &clock, 10).await;
        assert_eq!((waiting, sent, failed), (0, 2, 0));
        exactly_once(&remote, &ids).await;
        peer::validate(&proxy.transactions());
    }
}

conformance! {
    async fn a_doubtful_match_is_held_for_a_person_and_failures_end_in_the_dead_letter_list(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        // The shared care record spells the family name differently: never merged.
        let remote_patient = remote.add_patient(&nhs, "Alex", "Smyth", "1990-01-15").await;
        let (_, _, ids) = accepted_pair(db, &s, &p, "Alex Smith", &nhs, "1990-01-15").await;
        assert_eq!(quiesce(db, &s, &clock, 3).await, (0, 0, 2));
        assert_eq!(proxy.forwarded(), 0, "nothing was sent for a doubtful match");
        let sends = s.care_record_sends(&p.admin).await.unwrap();
        assert!(sends.connected);
        assert_eq!(sends.rows.len(), 2);
        assert!(sends.rows.iter().all(|r| r.failed && r.reason.as_deref().unwrap().contains("name in the shared care record is different")));
        assert!(!format!("{sends:?}").contains("Headaches") && !format!("{sends:?}").contains("150"), "no clinical content for administrators");
        // Only this practice's administrators see or retry it.
        assert!(s.care_record_sends(&p.gp).await.is_err());
        assert!(s.retry_care_record_send(&p.gp, &sends.rows[0].id).await.is_err());

        // A person corrects the record there and tries again: now it goes, once.
        remote
            .put(
                &format!("Patient/{remote_patient}"),
                &serde_json::json!({"resourceType": "Patient", "id": remote_patient,
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
                    "name": [{"family": "Smith", "given": ["Alex"]}], "birthDate": "1990-01-15"}),
            )
            .await;
        // The server now fails every time: after the last try the rows are dead letters again.
        proxy.always_fail(true);
        for r in &sends.rows {
            s.retry_care_record_send(&p.admin, &r.id).await.unwrap();
        }
        assert!(s.retry_care_record_send(&p.admin, &sends.rows[0].id).await.is_err(), "already waiting");
        let (waiting, sent, failed) = quiesce(db, &s, &clock, 30).await;
        assert_eq!((waiting, sent, failed), (0, 0, 2));
        let sends = s.care_record_sends(&p.admin).await.unwrap();
        assert!(sends.rows.iter().all(|r| r.failed && r.attempts == service::care_record::push::MAX_ATTEMPTS), "{sends:?}");
        assert!(sends.rows[0].reason.as_deref().unwrap().starts_with("HTTP 500"));
        // Back to health; the administrator retries; each arrives once.
        proxy.always_fail(false);
        for r in &sends.rows {
            s.retry_care_record_send(&p.admin, &r.id).await.unwrap();
        }
        assert_eq!(quiesce(db, &s, &clock, 3).await, (0, 2, 0));
        exactly_once(&remote, &ids).await;
        assert!(s.care_record_sends(&p.admin).await.unwrap().rows.is_empty());
    }
}

conformance! {
    async fn without_a_care_record_accepted_entries_wait_and_say_so(db) {
        let (s, _) = services(db);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        accepted_pair(db, &s, &p, "Sam Patel", &peer::nhs_number(), BORN).await;
        assert_eq!(s.send_due_to_care_record().await.unwrap(), 0);
        let sends = s.care_record_sends(&p.admin).await.unwrap();
        assert!(!sends.connected);
        assert_eq!(sends.rows.len(), 2);
        assert!(sends.rows.iter().all(|r| !r.failed));
        // A GP who notes, rejects or asks files nothing.
        let mut conn = db.conn().await.unwrap();
        assert_eq!(count_outbox(&mut conn).await.unwrap(), (2, 0, 0));
    }
}
