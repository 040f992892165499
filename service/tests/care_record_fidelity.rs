//! Sync fidelity against servers that do what FHIR allows but the suite's server does not do by
//! itself (the proxy in front of it makes them): searches without `next` links, pages in no
//! order, more than a page of resources changed at one instant, type-level `_history` refused
//! and not in the CapabilityStatement, one kind of search failing. And what a source may say that must never be misstated: entered in error, refuted,
//! provisional, comparators, the precision of numbers, units, time zones, resources that do not
//! conform or carry a modifier Carry does not understand. On both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "care_record/peer.rs"]
mod peer;

use common::*;
use domain::care_record::{CareRecordView, Section, SyncStatus};
use domain::Span;
use peer::{Proxy, Sekmet};
use serde_json::json;
use service::{AssertionAlg, InviteForm, RecordRef, ScopeForm};
use store::conformance;

fn observation(patient: &str, text: &str, value: serde_json::Value, on: &str) -> serde_json::Value {
    json!({"resourceType": "Observation", "status": "final", "subject": {"reference": format!("Patient/{patient}")},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": text}], "text": text},
        "effectiveDateTime": on, "valueQuantity": value})
}

fn condition(patient: &str, text: &str, verification: &str) -> serde_json::Value {
    json!({"resourceType": "Condition", "subject": {"reference": format!("Patient/{patient}")}, "code": {"text": text},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]}})
}

fn section(v: &CareRecordView, s: Section) -> &domain::care_record::SectionView {
    v.sections.iter().find(|x| x.section == s).unwrap()
}

fn titles(v: &CareRecordView, s: Section) -> Vec<String> {
    let mut t: Vec<String> = section(v, s).items.iter().map(|i| i.title.clone()).collect();
    t.sort();
    t
}

/// Runs the pull worker's pass; asserts how many pulls finished, showing the record's status
/// when it is not that many.
async fn pull(s: &service::Services, who: &service::SignedIn, finished: usize) {
    let n = s.pull_due_from_care_record().await.unwrap();
    if n != finished {
        panic!("{n} pulls finished, not {finished}: {:?}", s.nhs_record(who, RecordRef::Own).await.unwrap().status);
    }
}

fn incomplete(v: &CareRecordView) -> Option<String> {
    match &v.status {
        SyncStatus::On { incomplete, .. } => incomplete.as_ref().map(|(what, _)| what.clone()),
        other => panic!("{other:?}"),
    }
}

fn last_error(v: &CareRecordView) -> Option<String> {
    match &v.status {
        SyncStatus::On { last_error, .. } => last_error.clone(),
        other => panic!("{other:?}"),
    }
}

conformance! {
    async fn a_server_without_next_links_is_read_in_windows_until_the_counts_agree(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        proxy.strip_next_links(true);
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        // 250 results (two and a half of Carry's pages), in transactions of 50.
        for batch in 0..5 {
            let entries: Vec<serde_json::Value> = (0..50)
                .map(|i| {
                    let n = batch * 50 + i;
                    json!({"resource": observation(&rp, "Glucose", json!({"value": 4 + n % 5, "unit": "mmol/L"}),
                        &format!("2025-01-01T{:02}:{:02}:00Z", n / 60, n % 60)), "request": {"method": "POST", "url": "Observation"}})
                })
                .collect();
            remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        }
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 250, "every result, without a single next link");
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
        assert!(proxy.paths().iter().any(|p| p.contains("_lastUpdated=ge")), "{:?}", proxy.paths());

        // A server that also ignores _sort: its pages are split until each is whole.
        proxy.reverse_pages(true);
        for n in 0..120 {
            remote.post("Observation", &observation(&rp, "Glucose", json!({"value": 5, "unit": "mmol/L"}),
                &format!("2025-02-01T{:02}:{:02}:00Z", n / 60, n % 60))).await;
        }
        clock.advance(Span::hours(7));
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 370);
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
    }
}

conformance! {
    async fn a_server_that_cannot_be_paged_leaves_the_pull_incomplete_and_says_so(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        proxy.strip_next_links(true);
        // A server that ignores _lastUpdated: windows cannot narrow what it answers.
        proxy.ignore_last_updated(true);
        let (s, _) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        let entries: Vec<serde_json::Value> = (0..130)
            .map(|n| json!({"resource": observation(&rp, "Glucose", json!({"value": 5, "unit": "mmol/L"}),
                &format!("2025-01-01T{:02}:{:02}:00Z", n / 60, n % 60)), "request": {"method": "POST", "url": "Observation"}}))
            .collect();
        remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        s.pull_due_from_care_record().await.unwrap();
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        let missing = incomplete(&v).expect("the pull says it is incomplete");
        assert!(missing.contains("of 130 Observation"), "{missing}");
        // The practice's administrators see it, with no clinical content.
        let sends = s.care_record_sends(&p.admin).await.unwrap();
        assert_eq!(sends.incomplete.len(), 1);
        assert_eq!(sends.incomplete[0].patient_name, "Sam Patel");
        assert!(sends.incomplete[0].missing.contains("of 130 Observation"));
    }
}

conformance! {
    async fn more_than_a_page_changed_at_one_instant_leaves_the_pull_incomplete_until_it_can_be_read(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        proxy.strip_next_links(true);
        // A server whose bulk load stamped every resource with one instant: no _lastUpdated
        // window can hold fewer than all of them.
        proxy.one_instant(Some("2025-06-01T09:00:00.000Z"));
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        let entries: Vec<serde_json::Value> = (0..130)
            .map(|n| json!({"resource": observation(&rp, "Glucose", json!({"value": 5, "unit": "mmol/L"}),
                &format!("2025-01-01T{:02}:{:02}:00Z", n / 60, n % 60)), "request": {"method": "POST", "url": "Observation"}}))
            .collect();
        remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 100, "the one page that could be read");
        let missing = incomplete(&v).expect("the pull says it is incomplete");
        assert!(missing.starts_with("30 of 130 Observation"), "{missing}");

        // Once the server pages, the next pull reads the rest and the record is whole again.
        proxy.strip_next_links(false);
        clock.advance(Span::hours(7));
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 130);
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
    }
}

/// The days (`YYYY-MM-DD`) an incremental search started from "now less the overlap" may name.
fn days_near_now() -> [String; 2] {
    let now =
        domain::Timestamp::from_millis(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64);
    let earlier = now.minus(Span::minutes(30));
    [fhir::instant(now)[..10].to_owned(), fhir::instant(earlier)[..10].to_owned()]
}

/// Where the searches and history reads of the pulls since `from` (an index into the proxy's
/// paths) started: each `_lastUpdated=ge` and `_since` value.
fn starts(proxy: &Proxy, from: usize) -> Vec<String> {
    let mut out = Vec::new();
    for path in &proxy.paths()[from..] {
        for part in path.split(['?', '&']) {
            if let Some(v) = part.strip_prefix("_lastUpdated=ge").or_else(|| part.strip_prefix("_since=")) {
                out.push(v.replace("%3A", ":"));
            }
        }
    }
    out
}

/// A quiet record (everything in it last changed on 1 June 2025, 09:00) pulled, then pulled
/// again seven hours later, from a server whose `Date` is `date_skew` seconds from the truth.
/// Returns where the second pull's searches and history reads started.
async fn quiet_record_pulled_twice(db: &store::Db, date_skew: Option<i64>) -> Vec<String> {
    let remote = Sekmet::start("ES384").await;
    let proxy = Proxy::start(&remote.base()).await;
    proxy.one_instant(Some("2025-06-01T09:00:00.000Z"));
    proxy.date_skew(date_skew);
    let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
    let p = practice(db, &s, "Riverside Practice", "A81001").await;
    let nhs = peer::nhs_number();
    let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
    remote.post("Observation", &observation(&rp, "Glucose", json!({"value": 5, "unit": "mmol/L"}), "2025-05-30T08:00:00Z")).await;
    remote.post("Condition", &condition(&rp, "Asthma", "confirmed")).await;
    let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
    pull(&s, &sam, 1).await;
    let before = proxy.paths().len();
    clock.advance(Span::hours(7));
    pull(&s, &sam, 1).await;
    let starts_there = starts(&proxy, before);
    assert!(!starts_there.is_empty(), "{:?}", proxy.paths());
    let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
    assert_eq!(titles(&v, Section::Problems), ["Asthma"], "nothing lost");
    assert_eq!(section(&v, Section::Results).items.len(), 1);
    starts_there
}

conformance! {
    async fn the_next_pull_starts_from_when_the_last_began_there_not_from_the_last_change(db) {
        // The next pull reads what changed since this one began (less the overlap), in the
        // server's clock as its Date header gives it: not the months since the record changed,
        // which on a real server would be months of every patient's history.
        let starts_there = quiet_record_pulled_twice(db, None).await;
        let days = days_near_now();
        assert!(starts_there.iter().all(|v| days.iter().any(|d| v.starts_with(d.as_str()))), "{starts_there:?} not from {days:?}");
    }
}

conformance! {
    async fn a_date_far_from_carrys_clock_is_not_taken_for_the_servers(db) {
        // A Date an hour from the truth (a proxy's clock, or a server's that is wrong) may not
        // be the clock its lastUpdated values are in: the pull falls back to the newest change
        // it saw (09:00), less the overlap, which reads more but never skips a change.
        let starts_there = quiet_record_pulled_twice(db, Some(3600)).await;
        assert!(starts_there.iter().all(|v| v.starts_with("2025-06-01T08:55")), "{starts_there:?}");
    }
}

conformance! {
    async fn a_deletion_beyond_a_history_page_the_server_does_not_page_is_still_found(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        // The server lists _history, but pages neither its history nor its searches.
        proxy.strip_next_links(true);
        let (s, _) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        let glucose = |n: usize| observation(&rp, "Glucose", json!({"value": 5, "unit": "mmol/L"}), &format!("2025-01-01T{:02}:{:02}:00Z", n / 60, n % 60));
        let entries: Vec<serde_json::Value> =
            (0..130).map(|n| json!({"resource": glucose(n), "request": {"method": "POST", "url": "Observation"}})).collect();
        remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        pull(&s, &sam, 1).await;
        assert_eq!(section(&s.nhs_record(&sam, RecordRef::Own).await.unwrap(), Section::Results).items.len(), 130);

        // One result is deleted, then 120 more arrive: the deletion is beyond the history's
        // first page, and the server gives no way to the second.
        let page = remote.get(&format!("Observation?patient={rp}&_count=1")).await;
        let first = page["entry"][0]["resource"]["id"].as_str().unwrap().to_owned();
        remote.delete(&format!("Observation/{first}")).await;
        let entries: Vec<serde_json::Value> =
            (130..250).map(|n| json!({"resource": glucose(n), "request": {"method": "POST", "url": "Observation"}})).collect();
        remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        s.update_nhs_record(&sam, RecordRef::Own).await.unwrap();
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 249, "the deleted result is gone, the new ones are there");
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
        assert!(proxy.paths().iter().any(|p| p.contains("/_history")), "{:?}", proxy.paths());
    }
}

conformance! {
    async fn deletions_among_more_ids_than_a_page_are_found_from_a_server_that_pages_nothing(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        // No _history, no next links: only ids compared in _lastUpdated windows find deletions.
        proxy.refuse_history(true);
        proxy.strip_next_links(true);
        let (s, _) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        // 1,050 results (more than a page of ids), in transactions of 50.
        for batch in 0..21 {
            let entries: Vec<serde_json::Value> = (0..50)
                .map(|i| {
                    let n = batch * 50 + i;
                    json!({"resource": observation(&rp, "Glucose", json!({"value": 5, "unit": "mmol/L"}),
                        &format!("2025-01-{:02}T{:02}:{:02}:00Z", 1 + n / 60 / 24, n / 60 % 24, n % 60)), "request": {"method": "POST", "url": "Observation"}})
                })
                .collect();
            remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        }
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        pull(&s, &sam, 1).await;
        assert_eq!(section(&s.nhs_record(&sam, RecordRef::Own).await.unwrap(), Section::Results).items.len(), 1_050);

        // The first and the last are deleted there.
        let ids = |page: serde_json::Value| page["entry"][0]["resource"]["id"].as_str().unwrap().to_owned();
        let first = ids(remote.get(&format!("Observation?patient={rp}&_sort=_lastUpdated&_count=1")).await);
        let last = ids(remote.get(&format!("Observation?patient={rp}&_sort=-_lastUpdated&_count=1")).await);
        remote.delete(&format!("Observation/{first}")).await;
        remote.delete(&format!("Observation/{last}")).await;
        s.update_nhs_record(&sam, RecordRef::Own).await.unwrap();
        let before = proxy.paths().len();
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 1_048, "both deletions found");
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
        // By ids, in windows; the results were not all read again (every search of whole
        // resources is the incremental one, from the watermark on).
        let asked: Vec<String> = proxy.paths()[before..].iter().filter(|p| p.starts_with("/Observation?")).cloned().collect();
        assert!(asked.iter().any(|p| p.contains("_elements=id") && p.contains("_lastUpdated=ge")), "{asked:?}");
        assert!(asked.iter().all(|p| p.contains("_elements=id") || p.contains("_lastUpdated=ge")), "{asked:?}");

        // A server that refuses _elements: the whole search, read in windows, still finds one.
        proxy.refuse_elements(true);
        let second = ids(remote.get(&format!("Observation?patient={rp}&_sort=_lastUpdated&_count=1")).await);
        remote.delete(&format!("Observation/{second}")).await;
        s.update_nhs_record(&sam, RecordRef::Own).await.unwrap();
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Results).items.len(), 1_047);
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
    }
}

conformance! {
    async fn deletions_are_found_without_history_and_a_failing_kind_stops_nothing_else(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        proxy.refuse_history(true);
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        let asthma = remote.post("Condition", &condition(&rp, "Asthma", "confirmed")).await;
        remote.post("Condition", &condition(&rp, "Eczema", "confirmed")).await;
        remote.post("Encounter", &json!({"resourceType": "Encounter", "status": "finished", "subject": {"reference": format!("Patient/{rp}")},
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "type": [{"text": "Asthma review"}]})).await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        pull(&s, &sam, 1).await;
        assert_eq!(titles(&s.nhs_record(&sam, RecordRef::Own).await.unwrap(), Section::Problems), vec!["Asthma", "Eczema"]);

        // A deletion, learned with no _history: by the ids the server still holds.
        remote.delete(&format!("Condition/{asthma}")).await;
        s.update_nhs_record(&sam, RecordRef::Own).await.unwrap();
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(titles(&v, Section::Problems), vec!["Eczema"]);
        assert_eq!((last_error(&v), incomplete(&v)), (None, None));
        assert!(!proxy.paths().iter().any(|p| p.contains("_history")), "history is not asked where it is not offered");
        assert!(proxy.paths().iter().any(|p| p.contains("_elements=id")), "{:?}", proxy.paths());

        // Encounters fail; everything else is still pulled, and the failure names the request.
        proxy.fail_searches_of(Some("Encounter"));
        remote.post("Condition", &condition(&rp, "Hay fever", "confirmed")).await;
        s.update_nhs_record(&sam, RecordRef::Own).await.unwrap();
        pull(&s, &sam, 0).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(titles(&v, Section::Problems), vec!["Eczema", "Hay fever"], "the other kinds went on");
        assert_eq!(titles(&v, Section::Encounters), vec!["Asthma review"], "what was pulled before stays");
        let error = last_error(&v).unwrap();
        assert!(error.contains("GET Encounter?patient=Patient/") && error.contains("HTTP 500") && error.contains("the search index is rebuilding"), "{error}");
        // It is tried again later (not at once), and succeeds once the server is well.
        pull(&s, &sam, 0).await;
        proxy.fail_searches_of(None);
        clock.advance(Span::minutes(7));
        pull(&s, &sam, 1).await;
        assert_eq!(last_error(&s.nhs_record(&sam, RecordRef::Own).await.unwrap()), None);
    }
}

conformance! {
    async fn what_the_source_says_is_shown_as_it_says_it_and_nothing_in_error_is_shown(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, _) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        remote.post("Condition", &condition(&rp, "CANARY entered in error", "entered-in-error")).await;
        remote.post("Condition", &condition(&rp, "CANARY ruled out", "refuted")).await;
        remote.post("Condition", &condition(&rp, "Angina", "provisional")).await;
        let mut wrong = observation(&rp, "CANARY wrong result", json!({"value": 9.9, "unit": "mmol/L"}), "2026-01-01");
        wrong["status"] = json!("entered-in-error");
        remote.post("Observation", &wrong).await;
        remote.post("Observation", &observation(&rp, "Troponin", json!({"value": 2, "comparator": "<", "unit": "ng/L"}), "2026-01-02")).await;
        remote.post("Observation", &observation(&rp, "Potassium", json!({"value": 5.0, "unit": "mmol/L"}), "2026-01-03")).await;
        let mut modified = observation(&rp, "CANARY modified", json!({"value": 1, "unit": "mmol/L"}), "2026-01-04");
        modified["modifierExtension"] = json!([{"url": "https://example.org/fhir/not-really", "valueBoolean": true}]);
        remote.post("Observation", &modified).await;
        remote.post("AllergyIntolerance", &json!({"resourceType": "AllergyIntolerance", "patient": {"reference": format!("Patient/{rp}")},
            "code": {"text": "CANARY allergy modified"},
            "modifierExtension": [{"url": "https://example.org/fhir/not-really", "valueBoolean": true}]})).await;
        // A date the suite's server would refuse, sent as another server might.
        remote.post("Observation", &observation(&rp, "CANARY odd date", json!({"value": 3, "unit": "mmol/L"}), "1999-09-09")).await;
        proxy.rewrite("\"1999-09-09\"", "\"yesterday\"");
        // Weights in two commensurable units, in two time zones.
        let weight = |v: serde_json::Value, unit: &str, at: &str| {
            let mut o = observation(&rp, "Body weight", json!({"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}), at);
            o["code"]["coding"][0]["code"] = json!("29463-7");
            o
        };
        remote.post("Observation", &weight(json!(70.0), "kg", "2026-03-01T09:00:00+05:00")).await;
        remote.post("Observation", &weight(json!(154.0), "[lb_av]", "2026-03-01T05:00:00Z")).await;

        let (sam, _, patient) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert!(!format!("{v:?}").contains("CANARY"), "{v:#?}");
        assert_eq!(titles(&v, Section::Problems), vec!["Angina"]);
        assert_eq!(section(&v, Section::Problems).items[0].detail.as_deref(), Some("Provisional"));
        let results = section(&v, Section::Results);
        let detail = |t: &str| results.items.iter().find(|i| i.title == t).and_then(|i| i.detail.clone()).unwrap();
        assert_eq!(detail("Troponin"), "<2 ng/L");
        assert_eq!(detail("Potassium"), "5.0 mmol/L");
        // One trend in one unit, oldest first as instants (09:00+05:00 is before 05:00Z).
        assert_eq!(results.trends.len(), 1, "{:?}", results.trends);
        let trend = &results.trends[0];
        assert_eq!(trend.unit, "[lb_av]");
        assert_eq!(trend.points.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(), vec!["154.324", "154.0"]);
        assert_eq!(v.not_shown, Some(3), "the two modified and the odd date");

        // The summary to print holds the same. Its allergies are not known whole (one could not
        // be shown), so an empty part never reads as "none recorded".
        let summary = s.record_summary(&sam, RecordRef::Own).await.unwrap();
        assert!(!format!("{summary:?}").contains("CANARY"), "{summary:#?}");
        let problems = summary.sections.iter().find(|x| x.section == Section::Problems).unwrap();
        assert_eq!(problems.items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(), ["Angina"]);
        assert_eq!(summary.not_shown, Some(3));
        assert_eq!(summary.known_whole, [Section::Problems, Section::Medicines, Section::Immunisations]);

        // The practice's clinicians are told as well, beside what the patient shared; a carer is not.
        s.add_note(&sam, RecordRef::Own, &note("Chest pain", "On the stairs"), &shared("general")).await.unwrap();
        assert_eq!(s.shared_record(&p.gp, patient).await.unwrap().nhs_items_not_shown, Some(3));
        let (alex, alex_email) = person(db, "Alex Smith").await;
        let form = InviteForm { name: "Alex".into(), email: alex_email.clone(), relationship: "SPS".into(), basis: String::new(),
            scope: ScopeForm { labels: vec!["general".into()], can_add: false, ..ScopeForm::default() } };
        s.invite_carer(&sam, &form).await.unwrap();
        s.accept_invitation(&alex, &mail_token(db, &alex_email, "/invitations/").await).await.unwrap();
        assert_eq!(s.nhs_record(&alex, RecordRef::Patient(patient)).await.unwrap().not_shown, None);
        // Administrators see type, id and reason, never what the items hold.
        let sends = s.care_record_sends(&p.admin).await.unwrap();
        let reasons: Vec<&str> = sends.quarantined.iter().map(|q| q.reason.as_str()).collect();
        assert_eq!(sends.quarantined.len(), 3, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("https://example.org/fhir/not-really")), "{reasons:?}");
        assert!(reasons.contains(&"effectiveDateTime is other text, not a FHIR dateTime"), "{reasons:?}");
        assert!(!reasons.iter().any(|r| r.contains("yesterday")), "a reason never quotes a value: {reasons:?}");
        assert!(!format!("{sends:?}").contains("CANARY"));
    }
}

conformance! {
    async fn one_pass_reads_a_types_history_once_for_the_records_it_pulls(db) {
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let mut people = Vec::new();
        for (given, family) in [("Sam", "Patel"), ("Kim", "Okafor")] {
            let nhs = peer::nhs_number();
            let rp = remote.add_patient(&nhs, given, family, BORN).await;
            let asthma = remote.post("Condition", &condition(&rp, &format!("Asthma of {given}"), "confirmed")).await;
            remote.post("Condition", &condition(&rp, &format!("Eczema of {given}"), "confirmed")).await;
            let (who, _, _) = linked(db, &s, &p, &format!("{given} {family}"), &nhs).await;
            // Each pulled in its own pass: Sam's pull begins first, so Sam's next one starts
            // earlier (as records' pulls are claimed in the order they last finished).
            assert_eq!(s.pull_due_from_care_record().await.unwrap(), 1);
            people.push((who, asthma));
        }

        // Each record's asthma is deleted there, and both records are pulled in one pass (Sam's
        // first: the history read for Sam starts early enough for Kim).
        for (who, asthma) in &people {
            remote.delete(&format!("Condition/{asthma}")).await;
            s.update_nhs_record(who, RecordRef::Own).await.unwrap();
            clock.advance(Span::seconds(1));
        }
        let before = proxy.paths().len();
        assert_eq!(s.pull_due_from_care_record().await.unwrap(), 2);
        let read: Vec<String> = proxy.paths()[before..].iter().filter(|p| p.contains("Condition/_history")).cloned().collect();
        assert_eq!(read.len(), 1, "the type's history is read once for both: {read:?}");
        for (who, _) in &people {
            let problems = titles(&s.nhs_record(who, RecordRef::Own).await.unwrap(), Section::Problems);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].starts_with("Eczema of"), "{problems:?}");
        }
    }
}

conformance! {
    async fn a_search_that_fails_part_way_keeps_the_pages_that_came_before_it(db) {
        // Pages are stored together (up to 1,000 resources a commit): those fetched before a
        // failing page are stored all the same, and the pull is retried for the rest.
        let remote = Sekmet::start("ES384").await;
        let proxy = Proxy::start(&remote.base()).await;
        let (s, clock) = services_with(db, |c| c.care_record = Some(remote.config(&proxy.url, AssertionAlg::Es384)));
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let nhs = peer::nhs_number();
        let rp = remote.add_patient(&nhs, "Sam", "Patel", BORN).await;
        let entries: Vec<serde_json::Value> = (0..250)
            .map(|n| json!({"resource": condition(&rp, &format!("Problem {n:03}"), "confirmed"), "request": {"method": "POST", "url": "Condition"}}))
            .collect();
        remote.transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})).await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", &nhs).await;
        // Two pages of Conditions (100 each) are answered, the third fails.
        proxy.fail_searches_of_after(Some("Condition"), 2);
        pull(&s, &sam, 0).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Problems).items.len(), 200, "the two pages that came are kept");
        let error = last_error(&v).expect("the failure is recorded");
        assert!(error.contains("GET ") && error.contains("HTTP 500"), "{error}");
        // Tried again later, it reads the rest.
        proxy.fail_searches_of(None);
        clock.advance(Span::minutes(7));
        pull(&s, &sam, 1).await;
        let v = s.nhs_record(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(section(&v, Section::Problems).items.len(), 250);
        assert_eq!((incomplete(&v), last_error(&v)), (None, None));
    }
}
