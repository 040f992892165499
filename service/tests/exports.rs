//! "Download my record" through the service layer on both databases: what a patient's copy
//! holds (every version with its Provenance, "about me", synced items as the source sent them
//! and only those that stand, carers as RelatedPerson and Consent, the access log as
//! AuditEvents), that it validates with two independent validators, what a carer's copy holds
//! and never holds, the new grant action, access ending between asking and preparing, and
//! copies removed when their hour is up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "care_record/peer.rs"]
mod peer;

use common::{note, person, services, CANARY};
use domain::about_me::AboutMeInput;
use domain::exports::{ExportFormat, ExportStatus};
use domain::{PatientId, Span};
use serde_json::Value;
use service::exports::ExportForm;
use service::{InviteForm, PrivacyForm, ReadingForm, RecordRef, ScopeForm, ServiceError, Services, SignedIn};
use store::conformance;

fn labelled(label: &str) -> PrivacyForm {
    PrivacyForm { label: label.into(), share: false }
}

fn weight(kg: &str) -> ReadingForm {
    ReadingForm { kind: "weight".into(), value: kg.into(), diastolic: None, pulse: None, occurred_at: "2026-11-22T09:00".into() }
}

fn labels(l: &[&str]) -> ExportForm {
    ExportForm { labels: l.iter().map(|s| (*s).to_owned()).collect() }
}

fn scope(labels: &[&str], can_export: bool) -> ScopeForm {
    ScopeForm { labels: labels.iter().map(|l| (*l).to_owned()).collect(), can_export, ..ScopeForm::default() }
}

/// Sam invites Alex (general only; export as given); Alex accepts by the emailed link.
async fn sam_and_alex(db: &store::Db, s: &Services, can_export: bool) -> (SignedIn, SignedIn, PatientId) {
    let (sam, _) = person(db, "Sam Patel").await;
    let (alex, alex_email) = person(db, "Alex Smith").await;
    let form = InviteForm {
        name: "Alex".into(),
        email: alex_email.clone(),
        relationship: "SPS".into(),
        basis: String::new(),
        scope: scope(&["general"], can_export),
    };
    s.invite_carer(&sam, &form).await.unwrap();
    let token = common::mail_token(db, &alex_email, "/invitations/").await;
    let patient = s.accept_invitation(&alex, &token).await.unwrap();
    (sam, alex, patient)
}

/// Synced items as a pull stores them: a current condition and one entered in error.
async fn synced(db: &store::Db, patient: PatientId) {
    let rules = service::SecurityRules::default();
    let current = r#"{"resourceType":"Condition","id":"c-current","meta":{"versionId":"1","lastUpdated":"2026-11-01T10:00:00Z"},
        "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
        "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}],"text":"High blood pressure"},
        "subject":{"reference":"Patient/p1"},"recordedDate":"2026-10-01"}"#;
    let in_error = r#"{"resourceType":"Condition","id":"c-wrong","meta":{"versionId":"2","lastUpdated":"2026-11-01T10:00:00Z"},
        "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]},
        "code":{"text":"WRONG-PATIENT-CONDITION"},"subject":{"reference":"Patient/p1"}}"#;
    let items: Vec<_> = [current, in_error]
        .into_iter()
        .map(|raw| (fhir::pull::read_item(raw, "p1", "http://localhost:3000/fhir/id/entry", &rules).unwrap(), raw))
        .collect();
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<_> = items.iter().map(|(i, raw)| (i.clone(), *raw)).collect();
    store::synced::upsert_items(&mut conn, patient, &rows, common::NOW).await.unwrap();
}

/// Asks for a copy, prepares it, and reads both files.
async fn copy(s: &Services, who: &SignedIn, record: RecordRef, form: &ExportForm) -> (String, Value, String) {
    let id = s.request_export(who, record, form).await.unwrap();
    assert_eq!(s.export_status(who, &id).await.unwrap().status, ExportStatus::Queued);
    assert!(s.prepare_queued_exports().await.unwrap() >= 1);
    let status = s.export_status(who, &id).await.unwrap();
    assert_eq!(status.status, ExportStatus::Ready, "{status:?}");
    assert_eq!(status.done, status.total, "{status:?}");
    let fhir = s.export_file(who, &id, ExportFormat::Fhir).await.unwrap();
    let readable = s.export_file(who, &id, ExportFormat::Readable).await.unwrap();
    assert!(fhir.file_name.ends_with(".json") && readable.file_name.ends_with(".html"), "{fhir:?}");
    let bytes = std::fs::read(&fhir.path).unwrap();
    assert_eq!(status.sizes.map(|(j, _)| j), Some(bytes.len() as i64));
    (id, serde_json::from_slice(&bytes).unwrap(), std::fs::read_to_string(&readable.path).unwrap())
}

fn of_type<'a>(bundle: &'a Value, t: &str) -> Vec<&'a Value> {
    bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).filter(|r| r["resourceType"] == t).collect()
}

conformance! {
    async fn a_patients_copy_holds_every_version_their_carers_and_their_log_and_validates(db) {
        let (s, _) = services(db);
        let (sam, _alex, patient) = sam_and_alex(db, &s, false).await;
        let id = s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        s.edit_reading(&sam, RecordRef::Own, id, 1, &weight("71.5")).await.unwrap();
        s.add_note(&sam, RecordRef::Own, &note(CANARY, CANARY), &labelled("mental-health")).await.unwrap();
        let about = AboutMeInput { goals: "Walking the dog <every> day".into(), ..AboutMeInput::default() };
        s.save_about_me(&sam, RecordRef::Own, &about, &labelled("general"), None).await.unwrap();
        synced(db, patient).await;

        // General only by default; here Sam ticks mental health too.
        let (_, bundle, html) = copy(&s, &sam, RecordRef::Own, &labels(&["general", "mental-health"])).await;
        assert_eq!((bundle["resourceType"].as_str(), bundle["type"].as_str()), (Some("Bundle"), Some("collection")));
        assert_eq!(of_type(&bundle, "Patient").len(), 1);
        let readings = of_type(&bundle, "Observation");
        let versions: Vec<(&str, &str)> =
            readings.iter().map(|o| (o["meta"]["versionId"].as_str().unwrap(), o["status"].as_str().unwrap())).collect();
        assert_eq!(versions, [("1", "final"), ("2", "amended")], "every version of the reading");
        assert!(readings.iter().all(|o| o["identifier"][0]["value"] == id.to_string()), "the original identifier");
        let targets: Vec<&str> = of_type(&bundle, "Provenance").iter().filter_map(|p| p["target"][0]["reference"].as_str()).collect();
        assert!(targets.contains(&format!("Observation/{id}/_history/1").as_str()) && targets.contains(&format!("Observation/{id}/_history/2").as_str()), "{targets:?}");
        assert_eq!(of_type(&bundle, "DocumentReference").len(), 1, "the mental-health note Sam chose to include");
        assert_eq!(of_type(&bundle, "QuestionnaireResponse").len(), 1, "about me");
        let conditions = of_type(&bundle, "Condition");
        assert_eq!(conditions.len(), 1, "only the synced item that stands");
        assert_eq!(conditions[0]["id"], "c-current");
        assert!(!bundle.to_string().contains("WRONG-PATIENT-CONDITION"));
        assert_eq!(of_type(&bundle, "RelatedPerson").len(), 1);
        let consent = of_type(&bundle, "Consent");
        assert_eq!(consent[0]["status"], "active");
        assert!(!of_type(&bundle, "AuditEvent").is_empty(), "the patient's own copy holds the access log");

        // Both independent validators find nothing wrong.
        peer::validate(&[serde_json::to_vec(&bundle).unwrap()]);

        // The readable copy says the same, escaped.
        assert!(html.contains("Sam Patel: health record") && html.contains("From Carry, held by the patient"), "{html}");
        assert!(html.contains(CANARY) && html.contains("High blood pressure") && html.contains("Walking the dog &lt;every&gt; day"));
        assert!(html.contains("Alex Smith") && html.contains("Who has looked at the record"));
        assert!(!html.contains("WRONG-PATIENT-CONDITION") && !html.contains("<every>"));

        // Asking and downloading are in the log.
        let log = s.access_log(&sam, &service::AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.starts_with("You prepared a copy of your record to download")), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("You downloaded a copy of your record")), "{words:?}");
    }
}

conformance! {
    async fn a_carer_needs_the_grant_action_and_their_copy_holds_only_their_labels(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s, false).await;
        let record = RecordRef::Patient(patient);
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        s.add_note(&sam, RecordRef::Own, &note(CANARY, CANARY), &labelled("mental-health")).await.unwrap();
        // Without the action, nothing: not the page, not a copy.
        assert!(matches!(s.exports(&alex, record).await, Err(ServiceError::Forbidden)));
        assert!(matches!(s.request_export(&alex, record, &labels(&["general"])).await, Err(ServiceError::Forbidden)));
        let grants = s.grants(&sam).await.unwrap();
        assert!(!grants[0].can_export, "off unless the patient gives it");
        s.change_grant(&sam, grants[0].id, grants[0].version, &scope(&["general"], true)).await.unwrap();
        let grants = s.grants(&sam).await.unwrap();
        assert!(grants[0].can_export && grants[0].history.last().unwrap().contains("download and make health links"), "{:?}", grants[0].history);

        // Never beyond what they may see.
        let err = s.request_export(&alex, record, &labels(&["general", "mental-health"])).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "labels"), "{err:?}");
        let err = s.request_export(&alex, record, &labels(&[])).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "labels"), "{err:?}");
        let page = s.exports(&alex, record).await.unwrap();
        assert_eq!((page.own, page.labels.clone()), (false, vec![domain::PrivacyLabel::General]));

        let (id, bundle, html) = copy(&s, &alex, record, &labels(&["general"])).await;
        assert_eq!(s.export_status(&alex, &id).await.unwrap().record, Some(patient.to_string()), "links back to the record acted for");
        let text = bundle.to_string();
        assert!(!text.contains(CANARY) && !html.contains(CANARY), "nothing outside their labels");
        assert_eq!(of_type(&bundle, "Observation").len(), 1);
        for t in ["AuditEvent", "Consent", "RelatedPerson", "DocumentReference"] {
            assert!(of_type(&bundle, t).is_empty(), "a carer's copy holds no {t}");
        }
        peer::validate(&[serde_json::to_vec(&bundle).unwrap()]);
        // Only the one who asked can see it or download it.
        assert!(matches!(s.export_status(&sam, &id).await, Err(ServiceError::NotFound)));
        assert!(matches!(s.export_file(&sam, &id, ExportFormat::Fhir).await, Err(ServiceError::NotFound)));
        // The patient sees what the carer did.
        let log = s.access_log(&sam, &service::AccessLogQuery::default()).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.starts_with("Alex Smith (your carer) downloaded a copy of your record")), "{words:?}");
        assert!(words.iter().any(|w| w.contains("tried to prepare a copy of your record to download and was refused")), "{words:?}");

        // Access that ends between asking and preparing gives nothing; a ready copy can no
        // longer be downloaded.
        let second = s.request_export(&alex, record, &labels(&["general"])).await.unwrap();
        let grants = s.grants(&sam).await.unwrap();
        s.revoke_grant(&sam, grants[0].id, grants[0].version).await.unwrap();
        s.prepare_queued_exports().await.unwrap();
        // Its page now refuses them as the record does: nothing of it, not even the name.
        assert!(matches!(s.export_status(&alex, &second).await, Err(ServiceError::Forbidden)));
        assert!(!s.config().export_dir.join(format!("{second}.json")).exists(), "nothing is written");
        assert!(matches!(s.export_file(&alex, &id, ExportFormat::Fhir).await, Err(ServiceError::Forbidden)));
        let log = s.access_log(&sam, &service::AccessLogQuery { outcome: "refused".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        let when_prepared = "Alex Smith (your carer) tried to prepare a copy of your record to download and was refused: their access had been stopped";
        assert!(words.iter().any(|w| w.starts_with(when_prepared)), "{words:?}");
    }
}

conformance! {
    async fn copies_are_removed_when_their_hour_is_up(db) {
        let (s, clock) = services(db);
        let (sam, _) = person(db, "Sam Patel").await;
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        let (id, _, _) = copy(&s, &sam, RecordRef::Own, &labels(&["general"])).await;
        let path = s.export_file(&sam, &id, ExportFormat::Fhir).await.unwrap().path;
        clock.advance(Span::minutes(59));
        s.sweep_exports().await.unwrap();
        assert!(path.exists(), "kept for the hour");
        clock.advance(Span::minutes(2));
        assert!(matches!(s.export_status(&sam, &id).await, Err(ServiceError::NotFound)), "gone from the page at once");
        s.sweep_exports().await.unwrap();
        assert!(!path.exists(), "and its files removed");
        // At most five copies an hour.
        for _ in 0..5 {
            s.request_export(&sam, RecordRef::Own, &labels(&["general"])).await.unwrap();
        }
        let err = s.request_export(&sam, RecordRef::Own, &labels(&["general"])).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].message.contains("5 copies")), "{err:?}");
    }
}

conformance! {
    async fn a_summary_for_another_clinicians_system_is_an_ips_document_within_the_labels_chosen(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s, false).await;
        let record = RecordRef::Patient(patient);
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        // A newer weight under a label the summary leaves out: the latest general one stands.
        let hidden = ReadingForm { occurred_at: "2026-11-22T09:30".into(), ..weight("88.8") };
        s.add_reading(&sam, RecordRef::Own, &hidden, &labelled("sexual-health")).await.unwrap();
        let about = AboutMeInput { goals: "Walking the dog <every> day".into(), ..AboutMeInput::default() };
        s.save_about_me(&sam, RecordRef::Own, &about, &labelled("general"), None).await.unwrap();
        synced(db, patient).await;
        let general = ["general".to_owned()];

        let doc = s.summary_document(&sam, RecordRef::Own, &general).await.unwrap();
        assert!(doc.file_name.starts_with("carry-summary-sam-patel-") && doc.file_name.ends_with(".json"), "{}", doc.file_name);
        let bundle = doc.bundle;
        let sections = common::check_ips(&bundle);
        let problems = common::section_resources(&bundle, &sections["11450-4"]);
        assert_eq!(problems.len(), 1, "the condition that stands, not the one entered in error");
        assert_eq!(problems[0]["id"], "c-current");
        assert_eq!(problems[0]["subject"]["reference"], bundle["entry"][1]["fullUrl"], "the condition names the Bundle's patient");
        // Nothing pulled says whether there are none: "unavailable", never "none known".
        assert_eq!(sections["10160-0"]["emptyReason"]["coding"][0]["code"], "unavailable");
        let vitals = common::section_resources(&bundle, &sections["8716-3"]);
        assert_eq!(vitals.len(), 1);
        assert_eq!(vitals[0]["valueQuantity"]["value"], 70.5);
        assert!(vitals[0]["meta"].get("versionId").is_none(), "a summary is a snapshot");
        assert!(sections["81338-6"]["text"]["div"].as_str().unwrap().contains("Walking the dog &lt;every&gt; day"));
        let text = bundle.to_string();
        assert!(!text.contains("88.8") && !text.contains("WRONG-PATIENT-CONDITION"), "nothing outside the labels, nothing entered in error");
        peer::validate(&[serde_json::to_vec(&bundle).unwrap()]);

        // The sexual-health label ticked too: the newer weight is the latest.
        let both = ["general".to_owned(), "sexual-health".to_owned()];
        let bundle = s.summary_document(&sam, RecordRef::Own, &both).await.unwrap().bundle;
        let sections = common::check_ips(&bundle);
        assert_eq!(common::section_resources(&bundle, &sections["8716-3"])[0]["valueQuantity"]["value"], 88.8);

        // A carer: nothing without the grant action, never beyond their labels.
        assert!(matches!(s.summary_document(&alex, record, &general).await, Err(ServiceError::Forbidden)));
        let grants = s.grants(&sam).await.unwrap();
        s.change_grant(&sam, grants[0].id, grants[0].version, &scope(&["general"], true)).await.unwrap();
        let err = s.summary_document(&alex, record, &both).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "labels" && v.0[0].message.contains("hidden from you")), "{err:?}");
        let err = s.summary_document(&alex, record, &[]).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "labels"), "{err:?}");
        let bundle = s.summary_document(&alex, record, &general).await.unwrap().bundle;
        common::check_ips(&bundle);
        assert!(!bundle.to_string().contains("88.8"));

        let log = s.access_log(&sam, &service::AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.starts_with("You downloaded your health summary (International Patient Summary)")), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("Alex Smith (your carer) downloaded your health summary")), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("Alex Smith (your carer) tried to download your health summary")), "{words:?}");
    }
}

/// A health link's parts, as a viewer reads them from `shlink:/...`.
struct Shl {
    token: String,
    key: String,
    payload: Value,
}

fn read_shlink(s: &Services, made: &service::health_links::MadeLink) -> Shl {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    assert_eq!(made.viewer_url, format!("{}#{}", s.config().link("/shl"), made.shlink));
    let payload: Value = serde_json::from_slice(&b64.decode(made.shlink.strip_prefix("shlink:/").unwrap()).unwrap()).unwrap();
    let url = payload["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&s.config().link("/shl/m/")), "{url}");
    let token = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 43, "256 bits of randomness");
    let key = payload["key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 43);
    assert_eq!(payload["v"], 1);
    Shl { token, key, payload }
}

/// A compact JWE (dir, A256GCM) opened as the specification says, with `ring` directly rather
/// than Carry's own code.
fn open_jwe(key: &str, jwe: &str) -> Value {
    use base64::Engine;
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwe.split('.').collect();
    assert_eq!((parts.len(), parts[1]), (5, ""), "compact, direct encryption");
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!((header["alg"].as_str(), header["enc"].as_str()), (Some("dir"), Some("A256GCM")));
    let cipher = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &b64.decode(key).unwrap()).unwrap());
    let nonce = Nonce::try_assume_unique_for_key(&b64.decode(parts[2]).unwrap()).unwrap();
    let mut data = b64.decode(parts[3]).unwrap();
    data.extend(b64.decode(parts[4]).unwrap());
    serde_json::from_slice(cipher.open_in_place(nonce, Aad::from(parts[0].as_bytes()), &mut data).unwrap()).unwrap()
}

fn ask(recipient: &str, passcode: Option<&str>) -> service::health_links::ManifestRequest {
    service::health_links::ManifestRequest {
        recipient: Some(recipient.to_owned()),
        passcode: passcode.map(str::to_owned),
        embedded_length_max: None,
    }
}

fn link_form(label: &str, labels: &[&str], passcode: &str, long_term: bool) -> service::health_links::LinkForm {
    service::health_links::LinkForm {
        label: label.into(),
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        expires: String::new(),
        passcode: passcode.into(),
        long_term,
    }
}

conformance! {
    async fn a_health_link_gives_the_summary_encrypted_to_whoever_holds_it_and_every_use_is_logged(db) {
        use service::health_links::LinkError;
        let (s, clock) = services(db);
        let (sam, _) = person(db, "Sam Patel").await;
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        let hidden = ReadingForm { occurred_at: "2026-11-22T09:30".into(), ..weight("88.8") };
        s.add_reading(&sam, RecordRef::Own, &hidden, &labelled("sexual-health")).await.unwrap();

        let made = s.make_health_link(&sam, RecordRef::Own, &link_form("  A&E   card ", &["general"], "kettle-22", false)).await.unwrap();
        assert_eq!(made.label, "A&E card");
        assert!(made.qr_svg.starts_with("<svg") && made.passcode && !made.long_term);
        let shl = read_shlink(&s, &made);
        assert_eq!((shl.payload["flag"].as_str(), shl.payload["label"].as_str()), (Some("P"), Some("A&E card")));
        assert_eq!(shl.payload["exp"].as_i64(), Some(common::NOW.plus(Span::hours(24)).as_millis() / 1000), "24 hours unless chosen");

        // Who is looking must be said; a wrong passcode says how many tries are left.
        let err = s.health_link_manifest(&shl.token, &ask(" ", Some("kettle-22")), "r1").await.unwrap_err();
        assert!(matches!(err, LinkError::Invalid(ref m) if m.starts_with("recipient")), "{err:?}");
        let err = s.health_link_manifest(&shl.token, &ask("Dr Jones", Some("kettle-23")), "r2").await.unwrap_err();
        assert_eq!(err, LinkError::WrongPasscode { remaining: 4 });
        let err = s.health_link_manifest(&shl.token, &ask("Dr Jones", None), "r3").await.unwrap_err();
        assert_eq!(err, LinkError::WrongPasscode { remaining: 3 });
        assert_eq!(s.health_link_manifest(&"x".repeat(43), &ask("Dr Jones", None), "r4").await.unwrap_err(), LinkError::NotFound);

        let manifest = s.health_link_manifest(&shl.token, &ask("Dr Jones", Some("kettle-22")), "r5").await.unwrap();
        assert_eq!(manifest["status"], "finalized");
        assert_eq!(manifest["files"][0]["contentType"], "application/fhir+json");
        let bundle = open_jwe(&shl.key, manifest["files"][0]["embedded"].as_str().unwrap());
        let sections = common::check_ips(&bundle);
        assert_eq!(common::section_resources(&bundle, &sections["8716-3"])[0]["valueQuantity"]["value"], 70.5);
        assert!(!bundle.to_string().contains("88.8"), "only the labels chosen");
        peer::validate(&[serde_json::to_vec(&bundle).unwrap()]);
        // A client that wants small manifests gets the file by address, for an hour.
        let small = service::health_links::ManifestRequest { embedded_length_max: Some(10), ..ask("Dr Jones", Some("kettle-22")) };
        let manifest = s.health_link_manifest(&shl.token, &small, "r6").await.unwrap();
        let location = manifest["files"][0]["location"].as_str().unwrap().to_owned();
        let ticket = location.strip_prefix(&s.config().link("/shl/f/")).unwrap().to_owned();
        let file = s.health_link_file(&ticket).await.unwrap().unwrap();
        assert_eq!(open_jwe(&shl.key, &file)["type"], "document");

        // The patient sees each use, failed passcodes too, in their log and on the links page.
        let log = s.access_log(&sam, &service::AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        let by_link = "Someone with your health link \u{201c}A&E card\u{201d}, who gave the name Dr Jones,";
        assert!(words.iter().any(|w| w.starts_with(&format!("{by_link} viewed your health summary"))), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with(&format!("{by_link} tried to view your health summary (International Patient Summary) and was refused: the passcode was wrong"))), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("You made a health link to your summary")), "{words:?}");
        let page = s.health_links(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(page.links.len(), 1);
        let link = &page.links[0];
        assert_eq!((link.state, link.attempts_left, link.mine), (domain::health_links::LinkState::Active, 3, true));
        assert_eq!(link.uses.len(), 4, "{:?}", link.uses);

        // Three more wrong passcodes lock it: then even the right one gets 404.
        for left in [2, 1, 0] {
            let err = s.health_link_manifest(&shl.token, &ask("Someone", Some("guess-123")), "r7").await.unwrap_err();
            assert_eq!(err, LinkError::WrongPasscode { remaining: left });
        }
        assert_eq!(s.health_link_manifest(&shl.token, &ask("Dr Jones", Some("kettle-22")), "r8").await.unwrap_err(), LinkError::NotFound);
        assert!(s.health_link_file(&ticket).await.unwrap().is_none(), "nor its files");
        assert_eq!(s.health_links(&sam, RecordRef::Own).await.unwrap().links[0].state, domain::health_links::LinkState::Locked);

        // Ended at once; expired when its time is up.
        let open = s.make_health_link(&sam, RecordRef::Own, &link_form("Holiday", &["general"], "", false)).await.unwrap();
        let shl = read_shlink(&s, &open);
        assert!(shl.payload.get("flag").is_none());
        s.health_link_manifest(&shl.token, &ask("Hotel doctor", None), "r9").await.unwrap();
        s.end_health_link(&sam, &open.id).await.unwrap();
        assert_eq!(s.health_link_manifest(&shl.token, &ask("Hotel doctor", None), "r10").await.unwrap_err(), LinkError::NotFound);
        let day = s.make_health_link(&sam, RecordRef::Own, &link_form("Day", &["general"], "", false)).await.unwrap();
        let shl = read_shlink(&s, &day);
        clock.advance(Span::hours(25));
        assert_eq!(s.health_link_manifest(&shl.token, &ask("Late", None), "r11").await.unwrap_err(), LinkError::NotFound);
        let log = s.access_log(&sam, &service::AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.starts_with("You ended a health link to your summary")), "{words:?}");
        assert!(words.iter().any(|w| w.contains("who gave the name Late, tried to view your health summary (International Patient Summary) and was refused: the link had ended, expired or locked")), "{words:?}");

        // What a link may hold is checked like any choice of labels.
        let err = s.make_health_link(&sam, RecordRef::Own, &link_form("", &["general"], "", false)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "label"), "{err:?}");
        let err = s.make_health_link(&sam, RecordRef::Own, &link_form("Card", &["general"], "123", false)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "passcode"), "{err:?}");
        let err = s.make_health_link(&sam, RecordRef::Own, &link_form("Card", &[], "", false)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "labels"), "{err:?}");
    }
}

conformance! {
    async fn a_carers_link_needs_the_grant_action_tells_the_patient_and_ends_with_their_access(db) {
        use service::health_links::LinkError;
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s, false).await;
        let record = RecordRef::Patient(patient);
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        let form = link_form("For the hospital", &["general"], "", false);
        assert!(matches!(s.make_health_link(&alex, record, &form).await, Err(ServiceError::Forbidden)));
        assert!(matches!(s.health_links(&alex, record).await, Err(ServiceError::Forbidden)));
        let grants = s.grants(&sam).await.unwrap();
        s.change_grant(&sam, grants[0].id, grants[0].version, &scope(&["general"], true)).await.unwrap();
        let err = s.make_health_link(&alex, record, &link_form("x", &["mental-health"], "", false)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "labels"), "{err:?}");
        let made = s.make_health_link(&alex, record, &form).await.unwrap();
        let shl = read_shlink(&s, &made);
        s.health_link_manifest(&shl.token, &ask("Ward 4", None), "r1").await.unwrap();

        // The patient is told, and sees it; the carer sees only their own.
        let notices = s.notices(&sam).await.unwrap();
        assert!(notices.iter().any(|n| n.text.contains("Alex Smith made a health link to your summary")), "{notices:?}");
        let own = s.make_health_link(&sam, RecordRef::Own, &link_form("Mine", &["general"], "", false)).await.unwrap();
        let page = s.health_links(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(page.links.len(), 2);
        assert!(page.links.iter().any(|l| l.made_by == "Alex Smith" && !l.mine));
        let theirs = s.health_links(&alex, record).await.unwrap();
        assert_eq!(theirs.links.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(), ["For the hospital"]);
        // A carer cannot end the patient's own link.
        assert!(matches!(s.end_health_link(&alex, &own.id).await, Err(ServiceError::Forbidden)));

        // When the carer's access ends, so do their links.
        let grants = s.grants(&sam).await.unwrap();
        s.revoke_grant(&sam, grants[0].id, grants[0].version).await.unwrap();
        assert_eq!(s.health_link_manifest(&shl.token, &ask("Ward 4", None), "r2").await.unwrap_err(), LinkError::NotFound);
        let log = s.access_log(&sam, &service::AccessLogQuery { outcome: "refused".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.ends_with("was refused: the person who made the link no longer has the access it needs") || w.contains("the person who made the link no longer has the access it needs")), "{words:?}");
    }
}

conformance! {
    async fn a_long_term_link_always_gives_the_current_summary(db) {
        let (s, _) = services(db);
        let (sam, _) = person(db, "Sam Patel").await;
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        let made = s.make_health_link(&sam, RecordRef::Own, &link_form("Always", &["general"], "", true)).await.unwrap();
        let shl = read_shlink(&s, &made);
        assert_eq!(shl.payload["flag"], "L");
        let later = ReadingForm { occurred_at: "2026-11-22T09:45".into(), ..weight("71.2") };
        s.add_reading(&sam, RecordRef::Own, &later, &labelled("general")).await.unwrap();
        let manifest = s.health_link_manifest(&shl.token, &ask("Paramedic", None), "r1").await.unwrap();
        assert_eq!(manifest["status"], "can-change");
        let bundle = open_jwe(&shl.key, manifest["files"][0]["embedded"].as_str().unwrap());
        let sections = common::check_ips(&bundle);
        assert_eq!(common::section_resources(&bundle, &sections["8716-3"])[0]["valueQuantity"]["value"], 71.2, "the summary as it is now");
        // Without the server's key, a long-term link cannot be made.
        let (plain, _) = common::services_with(db, |c| c.health_link_key = None);
        let err = plain.make_health_link(&sam, RecordRef::Own, &link_form("Always", &["general"], "", true)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "long_term"), "{err:?}");
    }
}
