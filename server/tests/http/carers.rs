//! Carers over HTTP on both databases (security.md T1 to T5, T21): the route inventory and its
//! matrix, canaries that must never reach a viewer outside their labels, another patient's
//! ids in every record route, extra fields, and revocation in an open session.

use crate::both;
use crate::harness::TestApp;
use reqwest::header::{ACCEPT, COOKIE, LOCATION};
use reqwest::StatusCode;

const PASSWORD: &str = "kettle lantern orbit meadow";
const CANARY: &str = "CANARY-91b2-sexual-health";
const WHEN: &str = "2026-11-03T09:15";

/// What a path is for, as the matrix sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// No patient data: anyone may ask.
    Public,
    /// The caller's own account (or their own notices and dashboard): never another person's.
    OwnAccount,
    /// A record, the caller's own or (with `patient`) one a grant allows.
    Record,
    /// The caller's own record only: `patient` is not accepted.
    OwnRecord,
    /// Practice staff only, for records linked to their own practice (tests in practices.rs).
    Staff,
    /// Carry's FHIR API: discovery for anyone, data for system clients with a bearer token
    /// (tests in fhir.rs).
    Fhir,
    /// Whoever holds a health link: its address's 256 random bits, and the key for what it
    /// serves (tests in exports.rs and the service's).
    HealthLink,
}

/// Every path the server answers, with its class. A new route must be added here, or the
/// inventory test fails.
const MATRIX: &[(&str, Class)] = &[
    ("/", Class::Public),
    ("/health", Class::Public),
    ("/dev/outbox", Class::Public),
    ("/pkg/*", Class::Public),
    ("/register", Class::Public),
    ("/register/sent", Class::Public),
    ("/welcome/{token}", Class::Public),
    ("/sign-in", Class::Public),
    ("/signed-out", Class::Public),
    ("/recover", Class::Public),
    ("/recover/sent", Class::Public),
    ("/recover/{token}", Class::Public),
    ("/invitations/{token}", Class::Public),
    ("/records/take/{token}", Class::Public),
    ("/account", Class::OwnAccount),
    ("/caring", Class::OwnAccount),
    ("/notices", Class::OwnAccount),
    ("/record", Class::Record),
    ("/record/readings/new", Class::Record),
    ("/record/notes/new", Class::Record),
    ("/record/entries/{id}", Class::Record),
    ("/record/charts", Class::Record),
    ("/record/nhs", Class::Record),
    ("/record/summary", Class::Record),
    ("/record/summary/document", Class::Record),
    ("/record/export", Class::Record),
    ("/record/export/{id}", Class::OwnAccount),
    ("/record/export/{id}/{format}", Class::OwnAccount),
    ("/record/links", Class::Record),
    ("/record/links/new", Class::Record),
    ("/api/record/health-links", Class::Record),
    ("/api/record/end-link", Class::Record),
    ("/shl", Class::Public),
    ("/shl/m/{token}", Class::HealthLink),
    ("/shl/f/{ticket}", Class::HealthLink),
    ("/record/charts/{kind}", Class::Record),
    ("/record/about-me", Class::OwnRecord),
    ("/record/entries/{id}/edit", Class::OwnRecord),
    ("/record/deleted", Class::OwnRecord),
    ("/record/people", Class::OwnRecord),
    ("/record/access-log", Class::OwnRecord),
    ("/record/practice", Class::OwnRecord),
    ("/practice", Class::Staff),
    ("/practice/inbox", Class::Staff),
    ("/practice/patients/{id}", Class::Staff),
    ("/practice/join/{token}", Class::Public),
    ("/api/me", Class::Public),
    ("/api/demo-mode", Class::Public),
    ("/api/register", Class::Public),
    ("/api/registration-link", Class::Public),
    ("/api/complete-registration", Class::Public),
    ("/api/passkey/register/start", Class::Public),
    ("/api/passkey/register/finish", Class::Public),
    ("/api/sign-in", Class::Public),
    ("/api/passkey/sign-in/start", Class::Public),
    ("/api/passkey/sign-in/finish", Class::Public),
    ("/api/recover", Class::Public),
    ("/api/recovery-link", Class::Public),
    ("/api/complete-recovery", Class::Public),
    ("/api/passkey/recover/start", Class::Public),
    ("/api/passkey/recover/finish", Class::Public),
    ("/api/access/invitation", Class::Public),
    ("/api/records/offer", Class::Public),
    ("/api/practice/invitation", Class::Public),
    ("/api/practice/join", Class::OwnAccount),
    ("/api/practice/mine", Class::OwnRecord),
    ("/api/practice/link", Class::OwnRecord),
    ("/api/practice/birth-date", Class::OwnRecord),
    ("/api/practice/unlink", Class::OwnRecord),
    ("/api/record/answer", Class::Record),
    ("/api/practice/home", Class::Staff),
    ("/api/practice/invite", Class::Staff),
    ("/api/practice/remove-staff", Class::Staff),
    ("/api/practice/retry-send", Class::Staff),
    ("/api/practice/recheck-match", Class::Staff),
    ("/api/practice/decide-link", Class::Staff),
    ("/api/practice/inbox", Class::Staff),
    ("/api/practice/patient", Class::Staff),
    ("/api/practice/review", Class::Staff),
    ("/api/practice/care-note", Class::Staff),
    ("/api/sign-out", Class::OwnAccount),
    ("/api/sign-out-everywhere", Class::OwnAccount),
    ("/api/end-session", Class::OwnAccount),
    ("/api/account", Class::OwnAccount),
    ("/api/passkey/add/start", Class::OwnAccount),
    ("/api/passkey/add/finish", Class::OwnAccount),
    ("/api/rename-passkey", Class::OwnAccount),
    ("/api/remove-passkey", Class::OwnAccount),
    ("/api/set-password", Class::OwnAccount),
    ("/api/remove-password", Class::OwnAccount),
    ("/api/access/answer", Class::OwnAccount),
    ("/api/caring", Class::OwnAccount),
    ("/api/caring/add-child", Class::OwnAccount),
    ("/api/caring/offer-record", Class::OwnAccount),
    ("/api/records/take", Class::OwnAccount),
    ("/api/notices", Class::OwnAccount),
    ("/api/notices/mark-read", Class::OwnAccount),
    ("/api/record/now", Class::Public),
    ("/api/record/timeline", Class::Record),
    ("/api/record/entry", Class::Record),
    ("/api/record/chart", Class::Record),
    ("/api/record/about-me", Class::Record),
    ("/api/record/nhs", Class::Record),
    ("/api/record/summary", Class::Record),
    ("/api/record/exports", Class::Record),
    ("/api/record/request-export", Class::Record),
    ("/api/record/export-status", Class::OwnAccount),
    ("/api/record/nhs/update", Class::Record),
    ("/api/record/context", Class::Record),
    ("/api/record/add-reading", Class::Record),
    ("/api/record/add-note", Class::Record),
    ("/api/record/deleted", Class::OwnRecord),
    ("/api/record/edit-reading", Class::OwnRecord),
    ("/api/record/edit-note", Class::OwnRecord),
    ("/api/record/set-privacy", Class::OwnRecord),
    ("/api/record/delete", Class::OwnRecord),
    ("/api/record/restore", Class::OwnRecord),
    ("/api/record/save-about-me", Class::OwnRecord),
    ("/api/access/grants", Class::OwnRecord),
    ("/api/access/invite", Class::OwnRecord),
    ("/api/access/change", Class::OwnRecord),
    ("/api/access/revoke", Class::OwnRecord),
    ("/api/access/confirm", Class::OwnRecord),
    ("/api/access/log", Class::OwnRecord),
    ("/fhir", Class::Fhir),
    ("/fhir/", Class::Fhir),
    ("/fhir/metadata", Class::Fhir),
    ("/fhir/.well-known/smart-configuration", Class::Fhir),
    ("/fhir/auth/token", Class::Fhir),
    ("/fhir/Patient/$summary", Class::Fhir),
    ("/fhir/{type}", Class::Fhir),
    ("/fhir/{type}/_history", Class::Fhir),
    ("/fhir/{type}/{id}", Class::Fhir),
];

#[tokio::test]
async fn every_route_and_server_function_has_a_row_in_the_matrix() {
    let served = server::route_inventory();
    let missing: Vec<&String> = served.iter().filter(|p| !MATRIX.iter().any(|(m, _)| m == p)).collect();
    let stale: Vec<&str> = MATRIX.iter().map(|(m, _)| *m).filter(|m| !served.iter().any(|p| p == m)).collect();
    assert!(missing.is_empty(), "routes without a row in the matrix: {missing:?}");
    assert!(stale.is_empty(), "rows for routes that do not exist: {stale:?}");
}

/// A page's HTML with Leptos's hydration markers taken out, so text reads as a person sees it.
async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    app.get(path, cookie).await.text().await.unwrap().replace("<!>", "")
}

/// A server function called by the page's script, GET or POST, JSON back with its status.
async fn json(app: &TestApp, method: &str, endpoint: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> (StatusCode, String) {
    let res = if method == "GET" {
        let mut req = app.client.get(app.url(&format!("/api/{endpoint}"))).query(fields).header(ACCEPT, "application/json");
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    } else {
        app.call(endpoint, fields, cookie).await
    };
    let status = res.status();
    (status, res.text().await.unwrap())
}

struct People {
    sam: String,
    alex: String,
    eve: String,
    patient: String,
    general_id: String,
    hidden_id: String,
}

/// Sam (patient) with a general weight and a sexual-health note holding the canary; Alex
/// (carer: general, may add) who accepted by the emailed link; Eve, a stranger.
async fn people(app: &TestApp) -> People {
    let sam = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
    let alex = app.register("Alex Smith", "alex@example.org", PASSWORD).await;
    let eve = app.register("Eve Other", "eve@example.org", PASSWORD).await;
    let add = |fields: Vec<(&'static str, String)>, endpoint: &'static str| {
        let cookie = sam.clone();
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.form_post("/record", endpoint, &f, Some(&cookie)).await;
            assert!(res.status().is_redirection(), "{}", res.status());
            let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
            to.trim_start_matches("/record/entries/").split('?').next().unwrap().to_owned()
        }
    };
    let general_id = add(
        vec![("kind", "weight".into()), ("value", "70.5".into()), ("occurred_at", WHEN.into()), ("label", "general".into())],
        "record/add-reading",
    )
    .await;
    let hidden_id = add(
        vec![("title", CANARY.into()), ("text", CANARY.into()), ("occurred_at", WHEN.into()), ("label", "sexual-health".into())],
        "record/add-note",
    )
    .await;
    let invite = [("name", "Alex"), ("email", "alex@example.org"), ("relationship", "SPS"), ("label_general", "yes"), ("can_add", "yes")];
    let (status, body) = json(app, "POST", "access/invite", &invite, Some(&sam)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mail = app.mail.wait_for("alex@example.org", 2).await;
    assert!(!mail.text.contains(CANARY) && !mail.text.contains("70.5"), "the invitation carries no clinical content");
    let link = mail.link(&app.url("/invitations/"));
    let token = link.rsplit('/').next().unwrap().to_owned();
    // The invitation page needs no sign-in, and offers it.
    let offer = page(app, &format!("/invitations/{token}"), None).await;
    assert!(offer.contains("Sam Patel has invited you"), "{offer}");
    let res =
        app.form_post(&format!("/invitations/{token}"), "access/answer", &[("token", &token), ("answer", "accept")], Some(&alex)).await;
    assert!(res.status().is_redirection());
    let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let patient = to.split("patient=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    People { sam, alex, eve, patient, general_id, hidden_id }
}

both! {
    async fn the_matrix_holds_for_patient_carer_stranger_and_nobody(app) {
        let p = people(&app).await;
        let unknown = uuid::Uuid::new_v4().to_string();
        let reads: [(&str, Vec<(&str, &str)>); 7] = [
            ("record/timeline", vec![]),
            ("record/nhs", vec![]),
            ("record/summary", vec![]),
            ("record/entry", vec![("id", &p.general_id)]),
            ("record/chart", vec![("kind", "weight")]),
            ("record/about-me", vec![]),
            ("record/context", vec![]),
        ];
        for (endpoint, fields) in &reads {
            let with = |who: &'static str| {
                let mut f = fields.clone();
                f.push(("patient", match who { "sam" | "alex" | "eve" => p.patient.as_str(), _ => unknown.as_str() }));
                f
            };
            assert_eq!(json(&app, "GET", endpoint, fields, Some(&p.sam)).await.0, StatusCode::OK, "{endpoint} own");
            assert_eq!(json(&app, "GET", endpoint, &with("alex"), Some(&p.alex)).await.0, StatusCode::OK, "{endpoint} carer");
            let (eve, eve_body) = json(&app, "GET", endpoint, &with("eve"), Some(&p.eve)).await;
            let (nobody, nobody_body) = json(&app, "GET", endpoint, &with("unknown"), Some(&p.eve)).await;
            assert_eq!(eve, StatusCode::FORBIDDEN, "{endpoint} stranger");
            assert_eq!((eve, eve_body), (nobody, nobody_body), "{endpoint}: no access and no such record look the same");
            assert_eq!(json(&app, "GET", endpoint, &with("alex"), None).await.0, StatusCode::UNAUTHORIZED, "{endpoint} signed out");
        }
        // Asking for the NHS record to be fetched again: the patient, a carer, never a stranger.
        let update = |who: &str| [("patient", if who == "sam" { "" } else { p.patient.as_str() })];
        assert_eq!(json(&app, "POST", "record/nhs/update", &update("sam"), Some(&p.sam)).await.0, StatusCode::OK);
        assert_eq!(json(&app, "POST", "record/nhs/update", &update("alex"), Some(&p.alex)).await.0, StatusCode::OK);
        assert_eq!(json(&app, "POST", "record/nhs/update", &update("eve"), Some(&p.eve)).await.0, StatusCode::FORBIDDEN);
        let nhs_page = page(&app, "/record/nhs", Some(&p.sam)).await;
        assert!(nhs_page.contains("Carry is not connected to a shared care record"), "{nhs_page}");
        // The carer's own record is empty, and theirs alone: Sam's entry is not in it.
        let (status, _) = json(&app, "GET", "record/entry", &[("id", &p.general_id)], Some(&p.alex)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Adding: the carer within the grant; the stranger never.
        let add = [("kind", "weight"), ("value", "81"), ("occurred_at", WHEN), ("label", "general"), ("patient", p.patient.as_str())];
        assert_eq!(json(&app, "POST", "record/add-reading", &add, Some(&p.alex)).await.0, StatusCode::OK);
        assert_eq!(json(&app, "POST", "record/add-reading", &add, Some(&p.eve)).await.0, StatusCode::FORBIDDEN);
        let hidden_label = [("kind", "weight"), ("value", "81"), ("occurred_at", WHEN), ("label", "sexual-health"), ("patient", p.patient.as_str())];
        assert_eq!(json(&app, "POST", "record/add-reading", &hidden_label, Some(&p.alex)).await.0, StatusCode::BAD_REQUEST);
        // Own-record routes take no patient: naming one is refused (T5), and a carer's call
        // with Sam's ids finds nothing in the carer's own record and never touches Sam's.
        for (endpoint, fields) in [
            ("record/delete", vec![("id", p.general_id.as_str()), ("version", "1")]),
            ("record/set-privacy", vec![("id", p.general_id.as_str()), ("version", "1"), ("label", "general")]),
            ("record/restore", vec![("id", p.general_id.as_str()), ("version", "1")]),
        ] {
            let mut naming_sam = fields.clone();
            naming_sam.push(("patient", p.patient.as_str()));
            let (status, body) = json(&app, "POST", endpoint, &naming_sam, Some(&p.alex)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{endpoint}: {body}");
            assert!(body.contains("\u{201c}patient\u{201d}"), "{endpoint}: {body}");
            let (status, _) = json(&app, "POST", endpoint, &fields, Some(&p.alex)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint}");
        }
        let (_, grants) = json(&app, "GET", "access/grants", &[], Some(&p.alex)).await;
        assert_eq!(grants, "[]", "the carer sees their own (empty) list, not Sam's");
        let (_, log) = json(&app, "GET", "access/log", &[], Some(&p.alex)).await;
        assert!(!log.contains("Sam"), "{log}");
        // Sam's entry is untouched.
        let (status, body) = json(&app, "GET", "record/entry", &[("id", &p.general_id)], Some(&p.sam)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("\"version\":1") && !body.contains("\"deleted_at\":1"), "{body}");
        // Every refusal is in Sam's log, in plain words.
        let refused = page(&app, "/record/access-log?outcome=refused", Some(&p.sam)).await;
        assert!(refused.contains("Eve Other tried to view your record and was refused"), "{refused}");
        assert!(refused.contains("Eve Other tried to add to your weight readings and was refused"), "{refused}");
        let views = page(&app, "/record/access-log", Some(&p.sam)).await;
        assert!(views.contains("Alex Smith (your carer) viewed your weight readings"), "{views}");
    }
}

both! {
    async fn canaries_never_reach_a_carer_outside_their_labels(app) {
        let p = people(&app).await;
        let q = format!("patient={}", p.patient);
        let pages = [
            format!("/record?{q}"),
            format!("/record?{q}&label=sexual-health"),
            format!("/record?{q}&type=notes"),
            format!("/record/entries/{}?{q}", p.hidden_id),
            format!("/record/entries/{}?{q}", p.general_id),
            format!("/record/charts/weight?{q}&period=all"),
            format!("/record/nhs?{q}"),
            format!("/record/summary?{q}"),
            format!("/record/notes/new?{q}"),
            format!("/record/readings/new?kind=weight&{q}"),
            "/caring".to_owned(),
            "/notices".to_owned(),
        ];
        for path in &pages {
            let body = page(&app, path, Some(&p.alex)).await;
            assert!(!body.contains(CANARY), "{path} leaks the canary");
            assert!(!body.contains("Sexual health"), "{path} shows a label outside the grant");
        }
        let timeline = page(&app, &format!("/record?{q}"), Some(&p.alex)).await;
        assert!(timeline.contains("You are acting for Sam Patel"), "the banner");
        assert!(timeline.contains("70.5 kg"));
        for (endpoint, fields) in [
            ("record/timeline", vec![("patient", p.patient.as_str())]),
            ("record/timeline", vec![("patient", p.patient.as_str()), ("label", "sexual-health")]),
            ("record/entry", vec![("patient", p.patient.as_str()), ("id", p.hidden_id.as_str())]),
            ("record/chart", vec![("patient", p.patient.as_str()), ("kind", "weight"), ("period", "all")]),
            ("record/context", vec![("patient", p.patient.as_str())]),
            ("record/summary", vec![("patient", p.patient.as_str())]),
        ] {
            let (_, body) = json(&app, "GET", endpoint, &fields, Some(&p.alex)).await;
            assert!(!body.contains(CANARY), "{endpoint} leaks the canary");
        }
        for m in app.mail.all() {
            assert!(!m.text.contains(CANARY), "an email leaks the canary");
        }
        // The patient sees it.
        assert!(page(&app, "/record", Some(&p.sam)).await.contains(CANARY));
    }
}

both! {
    async fn revocation_refuses_the_carers_open_session_on_its_next_click(app) {
        let p = people(&app).await;
        let record = format!("/record?patient={}", p.patient);
        assert!(page(&app, &record, Some(&p.alex)).await.contains("70.5 kg"));
        let (_, grants) = json(&app, "GET", "access/grants", &[], Some(&p.sam)).await;
        let grants: serde_json::Value = serde_json::from_str(&grants).unwrap();
        let (id, version) = (grants[0]["id"].as_str().unwrap().to_owned(), grants[0]["version"].to_string());
        let res = app.form_post("/record/people", "access/revoke", &[("id", &id), ("version", &version)], Some(&p.sam)).await;
        assert!(res.status().is_redirection());
        let after = page(&app, &record, Some(&p.alex)).await;
        assert!(!after.contains("70.5 kg"));
        assert!(after.contains("You do not have access to this record."), "{after}");
        // Both were told, in the portal and by an email with only a link.
        let told = app.mail.wait_for("alex@example.org", 4).await;
        assert!(told.text.contains("/caring") && !told.text.contains("70.5"));
        let notices = page(&app, "/notices", Some(&p.alex)).await;
        assert!(notices.contains("Sam Patel stopped your access to their record."));
        let log = page(&app, "/record/access-log?outcome=refused", Some(&p.sam)).await;
        assert!(log.contains("Alex Smith (your carer) tried to view your record and was refused: their access had been stopped"), "{log}");
    }
}

both! {
    async fn extra_fields_are_rejected_and_never_applied_t5(app) {
        let p = people(&app).await;
        let (_, before) = json(&app, "GET", "record/timeline", &[], Some(&p.sam)).await;
        // A carer's reading with fields naming someone else as its author, a role and a source.
        let fields = [
            ("kind", "weight"), ("value", "82"), ("occurred_at", WHEN), ("label", "general"), ("patient", p.patient.as_str()),
            ("entered_by", "00000000-0000-0000-0000-000000000001"), ("role", "patient"), ("source", "sync"), ("patient_id", "x"),
        ];
        let (status, body) = json(&app, "POST", "record/add-reading", &fields, Some(&p.alex)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        for name in ["entered_by", "role", "source", "patient_id"] {
            assert!(body.contains(&format!("\u{201c}{name}\u{201d}")), "the refusal names {name}: {body}");
        }
        let (_, after) = json(&app, "GET", "record/timeline", &[], Some(&p.sam)).await;
        assert_eq!(before, after, "nothing was added");
        // Without JavaScript the form comes back with the error, and nothing was added.
        let res = app.form_post("/record/readings/new", "record/add-reading", &fields, Some(&p.alex)).await;
        assert!(res.status().is_redirection() || res.status() == StatusCode::BAD_REQUEST, "{}", res.status());
        let (_, after) = json(&app, "GET", "record/timeline", &[], Some(&p.sam)).await;
        assert_eq!(before, after, "nothing was added without JavaScript either");
        // The same fields without the extras are taken, with the carer as the author.
        let (status, body) = json(&app, "POST", "record/add-reading", &fields[..5], Some(&p.alex)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, timeline) = json(&app, "GET", "record/timeline", &[], Some(&p.sam)).await;
        assert!(timeline.contains("Alex Smith for you"), "{timeline}");
        // A grant cannot be widened by fields the form does not have.
        let (_, grants) = json(&app, "GET", "access/grants", &[], Some(&p.sam)).await;
        let grants: serde_json::Value = serde_json::from_str(&grants).unwrap();
        let (id, version) = (grants[0]["id"].as_str().unwrap().to_owned(), grants[0]["version"].to_string());
        let widen = [
            ("id", id.as_str()), ("version", version.as_str()), ("label_general", "yes"), ("labels", "sexual-health"),
            ("role", "patient"), ("patient_id", p.patient.as_str()), ("status", "active"),
        ];
        let (status, body) = json(&app, "POST", "access/change", &widen, Some(&p.sam)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("\u{201c}labels\u{201d}") && body.contains("\u{201c}status\u{201d}"), "{body}");
        let (_, after) = json(&app, "GET", "access/grants", &[], Some(&p.sam)).await;
        let after: serde_json::Value = serde_json::from_str(&after).unwrap();
        assert_eq!(after[0]["labels"], serde_json::json!(["general"]), "{after}");
        assert_eq!(after[0]["version"], grants[0]["version"], "the grant was not touched");
        // However the body is labelled, it is read as the form it is, and refused.
        let body: String = fields.iter().map(|(k, v)| format!("{k}={v}&")).collect();
        for content_type in ["text/plain", "Application/X-WWW-Form-Urlencoded", "multipart/form-data"] {
            let res = app
                .client
                .post(app.url("/api/record/add-reading"))
                .header("origin", &app.base)
                .header("accept", "application/json")
                .header("content-type", content_type)
                .header("cookie", &p.alex)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{content_type}");
        }
        let mut nested = fields[..5].to_vec();
        nested.push(("patient[x]", "y"));
        let (status, _) = json(&app, "POST", "record/add-reading", &nested, Some(&p.alex)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a nested name is not a field either");
        let (status, _) = json(&app, "POST", "record/add-reading", &[("kind", "weight")], Some(&p.alex)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "missing fields are the caller's mistake, not the server's");
        let res = app.client.post(app.url("/api/sign-out")).header("origin", &app.base).form(&[("role", "x")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "signed out, sign-out with an extra field is refused too");
        // Reads too: a query field the function does not take is refused.
        let (status, body) = json(&app, "GET", "record/timeline", &[("patient_id", p.patient.as_str())], Some(&p.alex)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}

#[test]
fn every_server_function_says_which_fields_it_takes() {
    let accepted: Vec<&str> = app::api::accepted_fields().into_iter().map(|(path, _)| path).collect();
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        assert!(accepted.contains(&path), "{path} is missing from app::api::accepted_fields()");
    }
    let fields = app::api::accepted_fields();
    let add_reading = fields.iter().find(|(p, _)| *p == "/api/record/add-reading").unwrap().1;
    assert_eq!(add_reading, ["kind", "value", "diastolic", "pulse", "occurred_at", "label", "share", "patient"]);
}

both! {
    async fn the_request_id_in_the_log_is_always_carrys_own(app) {
        let res = app.client.get(app.url("/health")).header("x-request-id", "forged-id").send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, "forged-id");
        assert_eq!(id.len(), 36, "a UUID: {id}");
    }
}
