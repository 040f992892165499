//! Carry's own FHIR API on both databases: a system client signs its own assertion, gets a
//! token, and reads what a linked patient shared, by NHS number and `_lastUpdated`, page by
//! page; nothing unshared, outside its labels or of another patient ever reaches it; every
//! bad assertion is refused with its reason; every read and refusal is in the patient's log.
//! What Carry serves passes the independent validator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "care_record/peer.rs"]
mod peer;

use common::*;
use domain::{PrivacyLabel, Span};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use service::fhir_api::{SystemCaller, TokenRequest};
use service::{AccessLogQuery, AssertionAlg, FhirClientConfig, FhirClientKey, RecordRef, Services};
use store::conformance;

const ALL_READS: &str = "system/Observation.rs system/DocumentReference.rs system/QuestionnaireResponse.rs system/Provenance.rs";
const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

fn key(name: &str) -> String {
    std::fs::read_to_string(peer::workspace().join("service/tests/fhir_api").join(name)).unwrap()
}

/// The regional care record system, registered with an ES384 key and an RS384 one.
fn client() -> FhirClientConfig {
    FhirClientConfig {
        client_id: "regional-record".into(),
        name: "The regional care record system".into(),
        keys: vec![
            FhirClientKey { alg: AssertionAlg::Es384, kid: Some("es-1".into()), public_key_pem: key("client-es384.pub.pem") },
            FhirClientKey { alg: AssertionAlg::Rs384, kid: Some("rs-1".into()), public_key_pem: key("client-rs384.pub.pem") },
        ],
        jwks_uri: None,
        scope: "system/*.rs".into(),
        labels: vec![PrivacyLabel::General],
    }
}

/// Serves the client's keys as a JSON Web Key Set on loopback, as a client publishing them at a
/// registered `jwks_uri` would; returns its address and how many times it was fetched.
async fn jwks_server() -> (url::Url, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let fetched = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let set = key("client.jwks.json");
    let counter = fetched.clone();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let set = set.clone();
            async move { ([("content-type", "application/json")], set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}/jwks.json", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fetched)
}

/// A client assertion, as the client makes it: `claims` changes the standard ones. Its header
/// names the key (`es-1` or `rs-1`, by algorithm).
fn assertion(s: &Services, private: &str, alg: Algorithm, change: impl FnOnce(&mut Value)) -> String {
    let kid = if alg == Algorithm::ES384 { "es-1" } else { "rs-1" };
    assertion_with_kid(s, private, alg, Some(kid), change)
}

fn assertion_with_kid(s: &Services, private: &str, alg: Algorithm, kid: Option<&str>, change: impl FnOnce(&mut Value)) -> String {
    let now = s.current_time().as_millis() / 1000;
    let mut claims = json!({
        "iss": "regional-record", "sub": "regional-record", "aud": s.fhir_token_url(),
        "exp": now + 240, "jti": uuid::Uuid::new_v4().to_string(),
    });
    change(&mut claims);
    let mut header = Header::new(alg);
    header.typ = Some("JWT".into());
    header.kid = kid.map(str::to_owned);
    let pem = key(private);
    let key = match alg {
        Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn token_form(assertion: String, scope: &str) -> TokenRequest {
    TokenRequest {
        grant_type: Some("client_credentials".into()),
        scope: Some(scope.into()),
        client_assertion_type: Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()),
        client_assertion: Some(assertion),
    }
}

async fn sign_in(s: &Services, scope: &str) -> SystemCaller {
    let issued = s.fhir_token(&token_form(assertion(s, "client-es384.pem", Algorithm::ES384, |_| {}), scope)).await.unwrap();
    assert_eq!(issued.expires_in, 300);
    s.fhir_caller(Some(&issued.access_token), "test-request").await.unwrap()
}

fn by_nhs(nhs: &str) -> Vec<(String, String)> {
    vec![("patient:identifier".into(), format!("{NHS_SYSTEM}|{}", nhs.replace(' ', "")))]
}

/// Every resource of every page, following `next` links as a client would.
async fn all_pages(s: &Services, caller: &SystemCaller, t: &str, mut query: Vec<(String, String)>) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let bundle = s.fhir_search(caller, t, &query).await.unwrap();
        pages += 1;
        out.extend(bundle["entry"].as_array().into_iter().flatten().map(|e| e["resource"].clone()));
        let Some(next) = bundle["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") else { break };
        let url = url::Url::parse(next["url"].as_str().unwrap()).unwrap();
        assert!(url.as_str().starts_with(&format!("{}/{t}?", s.fhir_base())));
        query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    }
    (out, pages)
}

conformance! {
    async fn a_system_client_with_its_own_token_reads_what_the_patient_shared_page_by_page(db) {
        let (s, clock) = services_with(db, |c| c.fhir_clients = vec![client()]);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", VALID_NHS).await;
        let (kim, _, _) = linked(db, &s, &p, "Kim Okafor", KIM_NHS).await;
        for (i, at) in ["2026-11-20T08:00", "2026-11-20T20:00", "2026-11-21T08:00"].into_iter().enumerate() {
            s.add_reading(&sam, RecordRef::Own, &bp(130 + i as u16, 85, at), &shared("general")).await.unwrap();
        }
        let weight = ReadingFormExt::weight("2026-11-21T09:00");
        let unshared = s.add_reading(&sam, RecordRef::Own, &weight, &service::PrivacyForm { label: "general".into(), share: false }).await.unwrap();
        let hidden = s.add_note(&sam, RecordRef::Own, &note(CANARY, CANARY), &shared("mental-health")).await.unwrap();
        s.add_note(&sam, RecordRef::Own, &note("Sleep", "Slept better this week"), &shared("general")).await.unwrap();
        let about = domain::about_me::AboutMeInput { preferred_name: "Sam".into(), goals: "Walk to the shops".into(), ..Default::default() };
        s.save_about_me(&sam, RecordRef::Own, &about, &shared("general"), None).await.unwrap();
        let kims = s.add_reading(&kim, RecordRef::Own, &bp(CANARY_SYSTOLIC, 80, "2026-11-21T09:00"), &shared("general")).await.unwrap();

        let caller = sign_in(&s, ALL_READS).await;
        let mut query = by_nhs(VALID_NHS);
        query.push(("_count".into(), "2".into()));
        let (readings, pages) = all_pages(&s, &caller, "Observation", query).await;
        assert_eq!((readings.len(), pages), (3, 2), "three shared readings, two to a page");
        assert!(readings.iter().all(|r| r["subject"]["identifier"]["value"] == "9434765919"));
        assert!(readings.iter().all(|r| r["code"]["coding"][0]["code"] == "85354-9"));
        let (notes, _) = all_pages(&s, &caller, "DocumentReference", by_nhs(VALID_NHS)).await;
        assert_eq!(notes.len(), 1, "the mental health note is outside the client's labels");
        let (answers, _) = all_pages(&s, &caller, "QuestionnaireResponse", by_nhs(VALID_NHS)).await;
        assert_eq!(answers[0]["item"][1]["answer"][0]["valueString"], "Walk to the shops");
        let (provenance, _) = all_pages(&s, &caller, "Provenance", by_nhs(VALID_NHS)).await;
        assert_eq!(provenance.len(), 5);
        let everything = json!([readings, notes, answers, provenance]).to_string();
        assert!(!everything.contains(CANARY) && !everything.contains(&kims.to_string()), "{everything}");
        assert!(!everything.contains(&unshared.to_string()), "an entry not shared with the practice is never served");

        // What Carry serves passes the independent validator.
        let bundle = s.fhir_search(&caller, "Observation", &by_nhs(VALID_NHS)).await.unwrap();
        let docs = s.fhir_search(&caller, "DocumentReference", &by_nhs(VALID_NHS)).await.unwrap();
        let qr = s.fhir_search(&caller, "QuestionnaireResponse", &by_nhs(VALID_NHS)).await.unwrap();
        let prov = s.fhir_search(&caller, "Provenance", &by_nhs(VALID_NHS)).await.unwrap();
        assert_eq!(bundle["total"], 3);
        peer::validate(&[bundle, docs, qr, prov].iter().map(|b| b.to_string().into_bytes()).collect::<Vec<_>>());

        // Incremental: only what changed since the client last asked.
        clock.advance(Span::hours(1));
        let since = fhir::instant(s.current_time());
        let added = s.add_reading(&sam, RecordRef::Own, &bp(128, 82, "2026-11-22T10:30"), &shared("general")).await.unwrap();
        let mut incremental = by_nhs(VALID_NHS);
        incremental.push(("_lastUpdated".into(), format!("ge{since}")));
        let (changed, _) = all_pages(&s, &caller, "Observation", incremental).await;
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0]["id"], added.to_string());

        // Reads by id: shared and visible only; another patient's is not found.
        let read = s.fhir_read(&caller, "Observation", &added.to_string()).await.unwrap();
        assert_eq!(read["meta"]["versionId"], "1");
        for (t, id) in [("Observation", unshared.to_string()), ("DocumentReference", hidden.to_string()), ("DocumentReference", added.to_string()),
                        ("Observation", uuid::Uuid::new_v4().to_string()), ("Observation", "not-an-id".into())] {
            let e = s.fhir_read(&caller, t, &id).await.unwrap_err();
            assert_eq!((e.status, e.code), (404, "not-found"), "{t}/{id}");
        }
        let provenance_id = format!("carry-{added}-1");
        assert_eq!(s.fhir_read(&caller, "Provenance", &provenance_id).await.unwrap()["id"], provenance_id);
        assert_eq!(s.fhir_read(&caller, "Provenance", &format!("carry-{added}-2")).await.unwrap_err().status, 404);
        // Deleted since: 410, so the client learns to let it go.
        s.delete_entry(&sam, RecordRef::Own, added, 1).await.unwrap();
        let e = s.fhir_read(&caller, "Observation", &added.to_string()).await.unwrap_err();
        assert_eq!((e.status, e.code), (410, "deleted"));
        // The type's history says so too: a client learns of changes and deletions since it last
        // asked, across the records it may read.
        let history = s.fhir_history(&caller, "Observation", &[("_since".into(), since.clone())]).await.unwrap();
        let changes: Vec<(String, String)> = history["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["request"]["method"].as_str().unwrap().to_owned(), e["request"]["url"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(changes, vec![("DELETE".to_owned(), format!("Observation/{added}"))]);
        let everything = s.fhir_history(&caller, "Observation", &[("_count".into(), "1".into())]).await.unwrap();
        assert_eq!(everything["entry"].as_array().unwrap().len(), 1);
        assert!(everything["link"].as_array().unwrap().iter().any(|l| l["relation"] == "next"), "{everything}");
        assert!(s.fhir_history(&caller, "Observation", &[("_at".into(), "x".into())]).await.is_err(), "an unknown parameter is refused");
        peer::validate(&[history.to_string().into_bytes(), everything.to_string().into_bytes()]);

        // Searching another patient by NHS number finds only theirs; an unknown one finds nothing.
        let (kim_readings, _) = all_pages(&s, &caller, "Observation", by_nhs(KIM_NHS)).await;
        assert_eq!(kim_readings.len(), 1);
        let (nobody, _) = all_pages(&s, &caller, "Observation", by_nhs(&peer::nhs_number())).await;
        assert!(nobody.is_empty());

        // Every read is in the patient's log under the client's name, and the refusals too.
        let log = s.access_log(&fresh(db, &sam).await, &AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.starts_with("The regional care record system viewed your readings")), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("The regional care record system viewed your journal notes")), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("The regional care record system viewed who entered your entries and when")), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("The regional care record system tried to view your journal notes and was refused")), "{words:?}");
        let kim_log = s.access_log(&fresh(db, &kim).await, &AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        assert!(kim_log.rows.iter().any(|r| r.words.starts_with("The regional care record system viewed your readings")));
    }
}

conformance! {
    async fn a_change_of_sharing_alone_is_not_a_new_version_of_what_is_served(db) {
        let (s, clock) = services_with(db, |c| c.fhir_clients = vec![client()]);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", VALID_NHS).await;
        let id = s.add_reading(&sam, RecordRef::Own, &bp(130, 85, "2026-11-20T08:00"), &shared("general")).await.unwrap();
        let caller = sign_in(&s, ALL_READS).await;
        let first = s.fhir_read(&caller, "Observation", &id.to_string()).await.unwrap();
        assert_eq!((first["meta"]["versionId"].as_str(), first["status"].as_str()), (Some("1"), Some("final")));

        // Sam stops sharing it (it is not served), then shares it again (versions 2 and 3).
        clock.advance(Span::minutes(5));
        let private = service::PrivacyForm { label: "general".into(), share: false };
        s.set_entry_privacy(&sam, RecordRef::Own, id, 1, &private).await.unwrap();
        assert_eq!(s.fhir_read(&caller, "Observation", &id.to_string()).await.unwrap_err().status, 404);
        clock.advance(Span::minutes(5));
        s.set_entry_privacy(&sam, RecordRef::Own, id, 2, &shared("general")).await.unwrap();
        let again = s.fhir_read(&caller, "Observation", &id.to_string()).await.unwrap();
        // The same resource at the same version: nothing in it was amended.
        let without_time = |mut r: Value| {
            r["meta"]["lastUpdated"] = Value::Null;
            r
        };
        assert_eq!(again["meta"]["versionId"], "1");
        assert_eq!(again["status"], "final");
        assert_eq!(without_time(again.clone()), without_time(first.clone()));
        assert!(again["meta"]["lastUpdated"].as_str() > first["meta"]["lastUpdated"].as_str(), "served again from then: _lastUpdated finds it");
        // Its Provenance is still the first version's, recorded when that was made.
        let provenance = s.fhir_read(&caller, "Provenance", &format!("carry-{id}-1")).await.unwrap();
        assert_eq!(provenance["activity"]["coding"][0]["code"], "CREATE");
        assert_eq!(provenance["recorded"], first["meta"]["lastUpdated"]);
        assert_eq!(s.fhir_read(&caller, "Provenance", &format!("carry-{id}-3")).await.unwrap_err().status, 404);

        // A change of the reading itself is the second version, amended, by its own Provenance.
        clock.advance(Span::minutes(5));
        s.edit_reading(&sam, RecordRef::Own, id, 3, &bp(128, 84, "2026-11-20T08:00")).await.unwrap();
        let amended = s.fhir_read(&caller, "Observation", &id.to_string()).await.unwrap();
        assert_eq!((amended["meta"]["versionId"].as_str(), amended["status"].as_str()), (Some("2"), Some("amended")));
        let provenance = s.fhir_read(&caller, "Provenance", &format!("carry-{id}-4")).await.unwrap();
        assert_eq!(provenance["activity"]["coding"][0]["code"], "UPDATE");
        assert_eq!(s.fhir_read(&caller, "Provenance", &format!("carry-{id}-1")).await.unwrap_err().status, 404);
        let (all, _) = all_pages(&s, &caller, "Provenance", by_nhs(VALID_NHS)).await;
        assert_eq!(all.iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), [format!("carry-{id}-4")]);

        // Kept private, corrected, then shared: the practice's first sight of it is its first version.
        let private = service::PrivacyForm { label: "general".into(), share: false };
        let weight = s.add_reading(&sam, RecordRef::Own, &ReadingFormExt::weight("2026-11-21T09:00"), &private).await.unwrap();
        let mut corrected = ReadingFormExt::weight("2026-11-21T09:00");
        corrected.value = "71.5".into();
        s.edit_reading(&sam, RecordRef::Own, weight, 1, &corrected).await.unwrap();
        s.set_entry_privacy(&sam, RecordRef::Own, weight, 2, &shared("general")).await.unwrap();
        let first_sight = s.fhir_read(&caller, "Observation", &weight.to_string()).await.unwrap();
        assert_eq!((first_sight["meta"]["versionId"].as_str(), first_sight["status"].as_str()), (Some("1"), Some("final")));
        assert_eq!(first_sight["valueQuantity"]["value"], 71.5);
        assert!(s.fhir_read(&caller, "Provenance", &format!("carry-{weight}-3")).await.is_ok());
    }
}

/// Kim's reading (another patient's, which a search for Sam must never return).
const CANARY_SYSTOLIC: u16 = 187;

struct ReadingFormExt;
impl ReadingFormExt {
    fn weight(at: &str) -> service::ReadingForm {
        service::ReadingForm { kind: "weight".into(), value: "70.5".into(), diastolic: None, pulse: None, occurred_at: at.into() }
    }
}

conformance! {
    async fn the_token_endpoint_refuses_every_bad_assertion_with_its_reason(db) {
        let (s, clock) = services_with(db, |c| c.fhir_clients = vec![client()]);
        let es = |change: fn(&mut Value)| assertion(&s, "client-es384.pem", Algorithm::ES384, change);
        let refused = |form: TokenRequest| {
            let s = s.clone();
            async move { s.fhir_token(&form).await.unwrap_err() }
        };
        let cases: Vec<(TokenRequest, &str, &str)> = vec![
            (token_form(es(|c| c["aud"] = json!("http://localhost:3000/fhir")), ALL_READS), "invalid_client", "aud"),
            (token_form(es(|c| c["exp"] = json!(c["exp"].as_i64().unwrap() + 360)), ALL_READS), "invalid_client", "5 minutes"),
            (token_form(es(|c| c["exp"] = json!(c["exp"].as_i64().unwrap() - 600)), ALL_READS), "invalid_client", "expired"),
            (token_form(es(|c| { c.as_object_mut().unwrap().remove("jti"); }), ALL_READS), "invalid_client", "jti"),
            (token_form(es(|c| c["iss"] = json!("someone-else")), ALL_READS), "invalid_client", "iss"),
            (token_form(es(|c| c["sub"] = json!("someone-else")), ALL_READS), "invalid_client", "sub"),
            (token_form(assertion(&s, "other-es384.pem", Algorithm::ES384, |_| {}), ALL_READS), "invalid_client", "signature"),
            (token_form("not.a.jwt".into(), ALL_READS), "invalid_client", "JWT"),
            // SMART Backend Services asks for a kid; this client has two keys.
            (token_form(assertion_with_kid(&s, "client-es384.pem", Algorithm::ES384, None, |_| {}), ALL_READS), "invalid_client", "kid"),
            (token_form(es(|_| {}), "system/Condition.rs system/Observation.cud"), "invalid_scope", "scopes"),
            (token_form(es(|_| {}), "system/Observation"), "invalid_scope", "system/Observation"),
            (TokenRequest { grant_type: Some("password".into()), ..token_form(es(|_| {}), ALL_READS) }, "unsupported_grant_type", "client_credentials"),
            (TokenRequest { scope: None, ..token_form(es(|_| {}), ALL_READS) }, "invalid_request", "scope"),
            (TokenRequest { client_assertion_type: None, ..token_form(es(|_| {}), ALL_READS) }, "invalid_request", "client_assertion_type"),
        ];
        for (form, error, names) in cases {
            let e = refused(form).await;
            assert_eq!(e.error, error, "{e}");
            assert!(e.description.contains(names), "{e}");
        }

        // The RS384 key works too; a replayed assertion is refused the second time.
        let rs = assertion(&s, "client-rs384.pem", Algorithm::RS384, |_| {});
        let issued = s.fhir_token(&token_form(rs.clone(), "system/Observation.read")).await.unwrap();
        assert_eq!(issued.scope, "system/Observation.rs");
        let replay = s.fhir_token(&token_form(rs, "system/Observation.read")).await.unwrap_err();
        assert!(replay.description.contains("replay"), "{replay}");

        // A token lasts five minutes and allows only its scope.
        let caller = s.fhir_caller(Some(&issued.access_token), "r").await.unwrap();
        let e = s.fhir_search(&caller, "DocumentReference", &by_nhs(VALID_NHS)).await.unwrap_err();
        assert_eq!((e.status, e.code), (403, "forbidden"));
        // Outside the scope the answer is the same whatever id is asked for (no way to learn what exists).
        let e = s.fhir_read(&caller, "DocumentReference", &uuid::Uuid::new_v4().to_string()).await.unwrap_err();
        assert_eq!((e.status, e.code), (403, "forbidden"));
        let e = s.fhir_search(&caller, "Patient", &by_nhs(VALID_NHS)).await.unwrap_err();
        assert_eq!((e.status, e.code), (404, "not-supported"));
        let e = s.fhir_search(&caller, "Observation", &[("code".into(), "8867-4".into())]).await.unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid"));
        assert!(e.diagnostics.starts_with("code:"), "{e}");
        clock.advance(Span::minutes(6));
        let e = s.fhir_caller(Some(&issued.access_token), "r").await.unwrap_err();
        assert_eq!((e.status, e.code), (401, "login"));
        assert_eq!(s.fhir_caller(Some("made-up"), "r").await.unwrap_err().status, 401);
        assert_eq!(s.fhir_caller(None, "r").await.unwrap_err().status, 401);
        // Expired tokens and spent assertions are swept.
        let count = |table: &'static str| async move {
            let mut conn = db.conn().await.unwrap();
            let sql = if table == "tokens" { "select count(*) from fhir_tokens" } else { "select count(*) from fhir_assertions" };
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut *conn).await.unwrap();
            n
        };
        assert_eq!((count("tokens").await, count("assertions").await), (1, 1));
        s.sweep_expired().await.unwrap();
        assert_eq!((count("tokens").await, count("assertions").await), (0, 0));

        // A client registered with one key may leave out the kid (accepted, and logged).
        let (single, _) = services_with(db, |c| {
            let mut one = client();
            one.keys.truncate(1);
            c.fhir_clients = vec![one];
        });
        let no_kid = assertion_with_kid(&single, "client-es384.pem", Algorithm::ES384, None, |_| {});
        assert!(single.fhir_token(&token_form(no_kid, ALL_READS)).await.is_ok());

        // A client may publish its keys at a jwks_uri instead: fetched once, then kept.
        let (jwks_uri, fetched) = jwks_server().await;
        let (published, _) = services_with(db, |c| {
            let mut by_uri = client();
            by_uri.keys.clear();
            by_uri.jwks_uri = Some(jwks_uri.clone());
            c.fhir_clients = vec![by_uri];
        });
        for alg in [Algorithm::ES384, Algorithm::RS384, Algorithm::ES384] {
            let private = if alg == Algorithm::ES384 { "client-es384.pem" } else { "client-rs384.pem" };
            assert!(published.fhir_token(&token_form(assertion(&published, private, alg, |_| {}), ALL_READS)).await.is_ok());
        }
        assert_eq!(fetched.load(std::sync::atomic::Ordering::SeqCst), 1, "the key set is kept, not fetched for every token");
        let other = assertion(&published, "other-es384.pem", Algorithm::ES384, |_| {});
        assert!(published.fhir_token(&token_form(other, ALL_READS)).await.unwrap_err().description.contains("signature"));
        let mut plain = client();
        plain.jwks_uri = Some(url::Url::parse("http://keys.example.org/jwks.json").unwrap());
        assert!(service::fhir_api::check_clients(&[plain]).unwrap_err().contains("https"));
    }
}

conformance! {
    async fn a_record_whose_link_is_not_verified_gives_nothing_and_the_refusal_is_logged(db) {
        let (s, _) = services_with(db, |c| c.fhir_clients = vec![client()]);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _) = person(db, "Sam Patel").await;
        s.add_reading(&sam, RecordRef::Own, &bp(130, 85, "2026-11-20T08:00"), &shared("general")).await.unwrap();
        s.request_link(&sam, &p.id.to_string(), VALID_NHS, BORN).await.unwrap();
        let caller = sign_in(&s, ALL_READS).await;
        let bundle = s.fhir_search(&caller, "Observation", &by_nhs(VALID_NHS)).await.unwrap();
        assert_eq!(bundle["total"], 0);
        let log = s.access_log(&fresh(db, &sam).await, &AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        assert!(
            log.rows.iter().any(|r| r.words.starts_with("The regional care record system tried to view your readings and was refused")),
            "{:?}",
            log.rows.iter().map(|r| &r.words).collect::<Vec<_>>()
        );
    }
}

conformance! {
    async fn two_records_linked_with_one_nhs_number_are_served_for_neither_by_search_or_by_id(db) {
        let (s, _) = services_with(db, |c| c.fhir_clients = vec![client()]);
        let riverside = practice(db, &s, "Riverside Practice", "A81001").await;
        let hillside = practice(db, &s, "Hillside Surgery", "B82002").await;
        let (sam, _, _) = linked(db, &s, &riverside, "Sam Patel", VALID_NHS).await;
        let reading = s.add_reading(&sam, RecordRef::Own, &bp(130, 85, "2026-11-20T08:00"), &shared("general")).await.unwrap();
        let caller = sign_in(&s, ALL_READS).await;
        // One record with the NHS number: served, by search and by id.
        assert_eq!(s.fhir_search(&caller, "Observation", &by_nhs(VALID_NHS)).await.unwrap()["total"], 1);
        assert_eq!(s.fhir_read(&caller, "Observation", &reading.to_string()).await.unwrap()["id"], reading.to_string());
        // A second record, at another practice, is linked with the same NHS number.
        let (other, _, _) = linked(db, &s, &hillside, "Sam Patel", VALID_NHS).await;
        s.add_reading(&other, RecordRef::Own, &bp(CANARY_SYSTOLIC, 80, "2026-11-20T09:00"), &shared("general")).await.unwrap();
        // Neither is guessed between: the search is empty and the read is not found.
        assert_eq!(s.fhir_search(&caller, "Observation", &by_nhs(VALID_NHS)).await.unwrap()["total"], 0);
        assert_eq!(s.fhir_read(&caller, "Observation", &reading.to_string()).await.unwrap_err().status, 404);
        assert_eq!(s.fhir_read(&caller, "Provenance", &format!("carry-{reading}-1")).await.unwrap_err().status, 404);
    }
}

conformance! {
    async fn the_patient_summary_needs_its_scope_and_holds_only_what_was_shared_within_the_labels(db) {
        let (s, _) = services_with(db, |c| c.fhir_clients = vec![client()]);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _, _) = linked(db, &s, &p, "Sam Patel", VALID_NHS).await;
        s.add_reading(&sam, RecordRef::Own, &bp(130, 85, "2026-11-20T08:00"), &shared("general")).await.unwrap();
        s.add_reading(&sam, RecordRef::Own, &bp(131, 86, "2026-11-21T08:00"), &shared("general")).await.unwrap();
        // Newer, but not shared, or shared under a label the client is not registered for.
        let unshared = service::PrivacyForm { label: "general".into(), share: false };
        s.add_reading(&sam, RecordRef::Own, &bp(CANARY_SYSTOLIC, 80, "2026-11-21T09:00"), &unshared).await.unwrap();
        s.add_reading(&sam, RecordRef::Own, &bp(CANARY_SYSTOLIC, 81, "2026-11-21T10:00"), &shared("mental-health")).await.unwrap();
        let about = domain::about_me::AboutMeInput { goals: "Walk to the shops".into(), ..Default::default() };
        s.save_about_me(&sam, RecordRef::Own, &about, &shared("general"), None).await.unwrap();
        let query = vec![("identifier".to_owned(), format!("{NHS_SYSTEM}|{}", VALID_NHS.replace(' ', "")))];

        // Its own scope: reading resources does not give it.
        let readers = sign_in(&s, ALL_READS).await;
        let refused = s.fhir_summary(&readers, &query).await.unwrap_err();
        assert_eq!((refused.status, refused.code), (403, "forbidden"), "{refused:?}");
        assert!(refused.diagnostics.contains("system/Patient.r"));

        let caller = sign_in(&s, "system/Patient.r").await;
        let bundle = s.fhir_summary(&caller, &query).await.unwrap();
        let sections = check_ips(&bundle);
        let vitals = section_resources(&bundle, &sections["8716-3"]);
        assert_eq!(vitals.len(), 1, "the latest shared reading of the kind");
        assert_eq!(vitals[0]["component"][0]["valueQuantity"]["value"], 131.0);
        let systolics: Vec<&Value> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Observation")
            .map(|e| &e["resource"]["component"][0]["valueQuantity"]["value"])
            .collect();
        assert_eq!(systolics, [&json!(131.0)], "nothing unshared or outside the client's labels");
        // What the shared care record sent Carry is not handed back as if Carry knew it whole.
        for required in ["11450-4", "10160-0", "48765-2"] {
            assert_eq!(sections[required]["emptyReason"]["coding"][0]["code"], "unavailable", "{required}");
        }
        assert!(sections["81338-6"]["text"]["div"].as_str().unwrap().contains("Walk to the shops"));
        peer::validate(&[serde_json::to_vec(&bundle).unwrap()]);

        // A patient Carry does not hold, and a malformed ask.
        let unknown = vec![("identifier".to_owned(), format!("{NHS_SYSTEM}|{KIM_NHS}"))];
        assert_eq!(s.fhir_summary(&caller, &unknown).await.unwrap_err().status, 404);
        let bad = s.fhir_summary(&caller, &[("identifier".to_owned(), "9434765919".to_owned())]).await.unwrap_err();
        assert_eq!((bad.status, bad.code), (400, "invalid"));
        assert!(bad.diagnostics.starts_with("identifier:"), "{bad:?}");

        let log = s.access_log(&fresh(db, &sam).await, &AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.iter().any(|w| w.starts_with("The regional care record system viewed your health summary")), "{words:?}");
    }
}
