//! What the service tests share: services on a test clock, people, practices joined by their
//! emailed links, linked patients, and the forms they fill in.
#![allow(dead_code)]

use domain::{PatientId, PracticeId, SessionId, Timestamp, UserId};
use service::{MailTransportConfig, ManualClock, NoteForm, PrivacyForm, ReadingForm, ServiceConfig, Services, SignedIn, StaffJob};
use std::sync::Arc;
use store::users;
use uuid::Uuid;

// 2026-11-22 10:00 UTC.
pub const NOW: Timestamp = Timestamp::from_millis(1_795_341_600_000);
pub const CANARY: &str = "CANARY-41c9-not-shared";
pub const VALID_NHS: &str = "943 476 5919";
pub const KIM_NHS: &str = "9434765870";

pub fn services(db: &store::Db) -> (Services, Arc<ManualClock>) {
    services_with(db, |_| {})
}

/// Services whose settings `change` adjusts first.
pub fn services_with(db: &store::Db, change: impl FnOnce(&mut ServiceConfig)) -> (Services, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    let dir = std::env::temp_dir().join(format!("carry-mail-{}", Uuid::new_v4().simple()));
    let mut config = ServiceConfig::for_tests(MailTransportConfig::Folder { path: dir });
    change(&mut config);
    (Services::new(db.clone(), clock.clone(), config).unwrap(), clock)
}

pub async fn person(db: &store::Db, name: &str) -> (SignedIn, String) {
    let id = UserId::from_uuid(Uuid::new_v4());
    let mut conn = db.conn().await.unwrap();
    let email = format!("{}@example.com", id.as_uuid().simple());
    users::insert_user(&mut conn, id, &email, &email, name, NOW).await.unwrap();
    let who = SignedIn {
        user_id: id,
        display_name: name.to_owned(),
        session_id: SessionId::from_uuid(Uuid::new_v4()),
        authenticated_at: NOW,
        passkey: true,
        staff: None,
        request: Default::default(),
    };
    (who, email)
}

/// The person as a request sees them now (their job looked up afresh, as the server does).
pub async fn fresh(db: &store::Db, who: &SignedIn) -> SignedIn {
    let mut conn = db.conn().await.unwrap();
    let job = store::practices::find_staff(&mut conn, who.user_id).await.unwrap();
    SignedIn { staff: job.map(|j| StaffJob { practice: j.practice.id, practice_name: j.practice.name, job: j.job }), ..who.clone() }
}

pub async fn mail_token(db: &store::Db, to: &str, path: &str) -> String {
    let mut conn = db.conn().await.unwrap();
    let bodies: Vec<(String,)> =
        sqlx::query_as("select body_text from mail_outbox where to_address = $1").bind(to).fetch_all(&mut *conn).await.unwrap();
    let body = bodies.iter().map(|b| b.0.clone()).rev().find(|b| b.contains(path)).expect("an email with the link");
    body.split(path).nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
}

pub async fn mail_to(db: &store::Db, to: &str) -> String {
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("select subject, body_text from mail_outbox where to_address = $1").bind(to).fetch_all(&mut *conn).await.unwrap();
    rows.into_iter().map(|(s, b)| format!("{s}\n{b}\n")).collect()
}

/// A practice with an administrator, a GP and a social care worker, each joined by their link.
pub struct Practice {
    pub id: PracticeId,
    pub admin: SignedIn,
    pub gp: SignedIn,
    pub social: SignedIn,
}

pub async fn practice(db: &store::Db, s: &Services, name: &str, ods: &str) -> Practice {
    let (admin, admin_email) = person(db, &format!("Jo Lee of {name}")).await;
    let id = s.create_practice(name, ods, "Jo Lee", &admin_email).await.unwrap();
    s.join_practice(&admin, &mail_token(db, &admin_email, "/practice/join/").await).await.unwrap();
    let admin = fresh(db, &admin).await;
    let mut joined = Vec::new();
    for (who, job) in [("Dr Priya Shah", "gp"), ("Chris Morgan", "social-care")] {
        let (p, email) = person(db, who).await;
        let form = service::practices::StaffInviteForm { name: who.into(), email: email.clone(), job: job.into() };
        s.invite_staff(&admin, &form).await.unwrap();
        s.join_practice(&p, &mail_token(db, &email, "/practice/join/").await).await.unwrap();
        joined.push(fresh(db, &p).await);
    }
    let social = joined.pop().unwrap();
    let gp = joined.pop().unwrap();
    Practice { id, admin, gp, social }
}

pub fn bp(s: u16, d: u16, at: &str) -> ReadingForm {
    ReadingForm { kind: "blood-pressure".into(), value: s.to_string(), diastolic: Some(d.to_string()), pulse: None, occurred_at: at.into() }
}

pub fn shared(label: &str) -> PrivacyForm {
    PrivacyForm { label: label.into(), share: true }
}

pub fn note(title: &str, text: &str) -> NoteForm {
    NoteForm { title: title.into(), text: text.into(), tags: String::new(), occurred_at: "2026-11-21T09:00".into() }
}

/// The date of birth test patients give unless a test says otherwise (the shared care record
/// stand-in's patients share it).
pub const BORN: &str = "1980-04-02";

/// A patient asks to link to the practice and the administrator accepts.
pub async fn linked(db: &store::Db, s: &Services, p: &Practice, name: &str, nhs: &str) -> (SignedIn, String, PatientId) {
    linked_born(db, s, p, name, nhs, BORN).await
}

/// A patient born on `born` asks to link to the practice and the administrator accepts.
pub async fn linked_born(db: &store::Db, s: &Services, p: &Practice, name: &str, nhs: &str, born: &str) -> (SignedIn, String, PatientId) {
    let (sam, sam_email) = person(db, name).await;
    s.request_link(&sam, &p.id.to_string(), nhs, born).await.unwrap();
    let home = s.staff_home(&p.admin).await.unwrap();
    let patient = home.link_requests.iter().find(|r| r.name == name).expect("the request").patient_id;
    s.decide_link(&p.admin, patient, &seen(s, p, patient).await, true, "").await.unwrap();
    (sam, sam_email, patient)
}

/// The fingerprint of the request to link the administrator's home shows for `patient`.
pub async fn seen(s: &Services, p: &Practice, patient: PatientId) -> String {
    let home = s.staff_home(&p.admin).await.unwrap();
    home.link_requests.into_iter().find(|r| r.patient_id == patient).expect("the request on the administrator's home").seen
}

/// The IPS 2.0.0 constraints that matter, checked on a summary (the HL7 validator cannot be
/// fetched here): a document Bundle with an identifier and a timestamp, a Composition first
/// (LOINC 60591-5) whose subject and author resolve in the Bundle, the three required sections
/// present with their codes, each with entries or an `emptyReason` and always a narrative, and
/// every reference anywhere resolving to an entry of the Bundle. Returns the sections by code.
pub fn check_ips(bundle: &serde_json::Value) -> std::collections::HashMap<String, serde_json::Value> {
    use serde_json::Value;
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "document");
    assert!(bundle["identifier"]["value"].is_string() && bundle["timestamp"].is_string(), "a document needs an identifier and a timestamp");
    let entries = bundle["entry"].as_array().expect("entries");
    let urls: Vec<&str> = entries.iter().map(|e| e["fullUrl"].as_str().expect("every entry has a fullUrl")).collect();
    let mut unique = urls.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), urls.len(), "fullUrls are unique");
    let composition = &entries[0]["resource"];
    assert_eq!(composition["resourceType"], "Composition", "the Composition comes first");
    assert_eq!(composition["type"]["coding"][0]["system"], "http://loinc.org");
    assert_eq!(composition["type"]["coding"][0]["code"], "60591-5");
    assert_eq!(composition["status"], "final");
    // Every reference resolves inside the Bundle: to a fullUrl, or a contained `#id`.
    fn references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("reference") {
                    out.push(r);
                }
                m.values().for_each(|x| references(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| references(x, out)),
            _ => {}
        }
    }
    for e in entries {
        let mut refs = Vec::new();
        references(&e["resource"], &mut refs);
        for r in refs {
            assert!(r.starts_with('#') || urls.contains(&r), "{r} (in {}) does not resolve in the Bundle", e["fullUrl"]);
        }
    }
    let subject = composition["subject"]["reference"].as_str().unwrap();
    let patient = entries.iter().find(|e| e["fullUrl"] == subject).expect("the subject is in the Bundle");
    assert_eq!(patient["resource"]["resourceType"], "Patient");
    assert!(composition["author"][0]["reference"].is_string());
    let mut sections = std::collections::HashMap::new();
    for s in composition["section"].as_array().expect("sections") {
        let code = s["code"]["coding"][0]["code"].as_str().unwrap().to_owned();
        assert_eq!(s["code"]["coding"][0]["system"], "http://loinc.org");
        assert!(s["title"].is_string(), "{code} has a title");
        assert!(s["text"]["div"].as_str().unwrap().starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">"), "{code} has a narrative");
        let has_entries = s["entry"].as_array().is_some_and(|e| !e.is_empty());
        assert!(!(has_entries && s.get("emptyReason").is_some()), "{code}: entries and an emptyReason");
        sections.insert(code, s.clone());
    }
    for required in ["11450-4", "10160-0", "48765-2"] {
        let s = sections.get(required).unwrap_or_else(|| panic!("the required section {required} is missing"));
        assert!(s["entry"].as_array().is_some_and(|e| !e.is_empty()) || s["emptyReason"]["coding"][0]["code"].is_string(), "{required}");
    }
    sections
}

/// The resources a summary section names.
pub fn section_resources<'a>(bundle: &'a serde_json::Value, section: &serde_json::Value) -> Vec<&'a serde_json::Value> {
    let entries = bundle["entry"].as_array().unwrap();
    section["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| &entries.iter().find(|e| e["fullUrl"] == r["reference"]).unwrap()["resource"])
        .collect()
}
