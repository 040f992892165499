//! Carry's FHIR API over HTTP on both databases: discovery, a system client obtaining its own
//! token with a signed assertion (no cookie, no Origin), searches and reads with it, and
//! OperationOutcome for every error. The rows for `/fhir/...` in the route matrix point here.

use crate::harness::TestApp;
use crate::practices::{json, page, world};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use service::Clock;
use std::path::PathBuf;
use store::Backend;

const NHS: &str = "https://fhir.nhs.uk/Id/nhs-number|9434765919";

fn keys() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../service/tests/fhir_api")
}

/// A clients file registering "The regional care record system" with the tests' ES384 key.
fn clients_file() -> String {
    let dir = std::env::temp_dir().join(format!("carry-fhir-clients-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(keys().join("client-es384.pub.pem"), dir.join("regional.pub.pem")).unwrap();
    let file = json!({"clients": [{
        "client_id": "regional-record", "name": "The regional care record system",
        "keys": [{"alg": "ES384", "kid": "es-1", "public_key_file": "regional.pub.pem"}],
        "scope": "system/*.rs", "labels": ["general"]
    }]});
    let path = dir.join("clients.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn assertion(app: &TestApp, aud: &str) -> String {
    let now = app.clock.now().as_millis() / 1000;
    let claims =
        json!({"iss": "regional-record", "sub": "regional-record", "aud": aud, "exp": now + 240, "jti": uuid::Uuid::new_v4().to_string()});
    let mut header = Header::new(Algorithm::ES384);
    header.kid = Some("es-1".into());
    let key = EncodingKey::from_ec_pem(std::fs::read(keys().join("client-es384.pem")).unwrap().as_slice()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn token(app: &TestApp, token_url: &str, assertion: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "system/DocumentReference.rs system/Provenance.rs system/Patient.r"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
    ];
    app.client.post(token_url).form(&form).send().await.unwrap()
}

async fn run(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CARRY_FHIR_CLIENTS_FILE", &clients_file())]).await;
    let w = world(&app).await;
    let res = app
        .form_post(
            "/practice",
            "practice/decide-link",
            &[("patient", &w.patient), ("seen", &w.seen), ("decision", "accept")],
            Some(&w.admin),
        )
        .await;
    assert!(res.status().is_redirection());

    // Discovery needs no token.
    let res = app.client.get(app.url("/fhir/metadata")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/fhir+json"));
    let metadata: Value = res.json().await.unwrap();
    assert_eq!((metadata["resourceType"].as_str(), metadata["fhirVersion"].as_str()), (Some("CapabilityStatement"), Some("4.0.1")));
    let summary_op =
        metadata["rest"][0]["resource"].as_array().unwrap().iter().find(|r| r["type"] == "Patient").unwrap()["operation"][0].clone();
    assert_eq!(summary_op["definition"], "http://hl7.org/fhir/uv/ips/OperationDefinition/summary");
    let smart: Value = app.client.get(app.url("/fhir/.well-known/smart-configuration")).send().await.unwrap().json().await.unwrap();
    let token_url = smart["token_endpoint"].as_str().unwrap().to_owned();
    assert_eq!(token_url, app.url("/fhir/auth/token"));

    // The client gets its own token: a form post with no cookie and no Origin.
    let res = token(&app, &token_url, &assertion(&app, &token_url)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[CACHE_CONTROL].to_str().unwrap().contains("no-store"));
    let issued: Value = res.json().await.unwrap();
    assert_eq!(issued["token_type"], "bearer");
    let bearer = format!("Bearer {}", issued["access_token"].as_str().unwrap());
    // An assertion for another audience is refused, as OAuth words it.
    let res = token(&app, &token_url, &assertion(&app, &app.url("/fhir"))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let refused: Value = res.json().await.unwrap();
    assert_eq!(refused["error"], "invalid_client");
    let res = app.client.post(&token_url).body("{}").header(CONTENT_TYPE, "application/json").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A search with the token: what Sam shared, within the client's labels.
    let search = |t: &str, auth: Option<&str>| {
        let mut req = app.client.get(app.url(&format!("/fhir/{t}"))).query(&[("patient:identifier", NHS)]);
        if let Some(a) = auth {
            req = req.header(AUTHORIZATION, a);
        }
        req.send()
    };
    let res = search("DocumentReference", Some(&bearer)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bundle: Value = res.json().await.unwrap();
    assert_eq!(bundle["total"], 1, "{bundle}");
    let doc = &bundle["entry"][0]["resource"];
    assert_eq!(doc["description"], "Dizzy spells");
    let text = bundle.to_string();
    assert!(!text.contains("CANARY") && !text.contains("Help with shopping"), "unshared and social-care notes stay out: {text}");
    let id = doc["id"].as_str().unwrap();
    let res = app.client.get(app.url(&format!("/fhir/DocumentReference/{id}"))).header(AUTHORIZATION, &bearer).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A read says its version and when it was made, as HTTP does.
    assert_eq!(res.headers()["etag"].to_str().unwrap(), format!("W/\"{}\"", doc["meta"]["versionId"].as_str().unwrap()));
    assert!(res.headers()["last-modified"].to_str().unwrap().ends_with(" GMT"));
    // What it serves carries its privacy label as security labels.
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["meta"]["security"], json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]));

    // Errors are OperationOutcomes with the right status.
    let outcome = |res: reqwest::Response| async move {
        let status = res.status();
        let www = res.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
        (status, body["issue"][0]["code"].as_str().unwrap().to_owned(), www)
    };
    let (status, code, www) = outcome(search("DocumentReference", None).await.unwrap()).await;
    assert_eq!((status, code.as_str(), www.as_deref()), (StatusCode::UNAUTHORIZED, "login", Some("Bearer")));
    let (status, code, _) = outcome(search("DocumentReference", Some("Bearer made-up")).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "login"));
    let (status, code, _) = outcome(search("Observation", Some(&bearer)).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "the token has no Observation scope");
    let (status, code, _) = outcome(search("Patient", Some(&bearer)).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not-supported"));
    let res = app.client.get(app.url("/fhir/DocumentReference?patient=Patient/1")).header(AUTHORIZATION, &bearer).send().await.unwrap();
    let (status, code, _) = outcome(res).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid"));
    // A value that is not ASCII is refused by name, never a dropped connection (it once
    // panicked the handler, splitting inside a character).
    for bad in ["gé2026-12-01", "é", "\u{1F600}"] {
        let res = app
            .client
            .get(app.url("/fhir/DocumentReference"))
            .query(&[("patient:identifier", NHS), ("_lastUpdated", bad)])
            .header(AUTHORIZATION, &bearer)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!((status, body["issue"][0]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")), "{bad}: {body}");
        assert!(body["issue"][0]["diagnostics"].as_str().unwrap().contains("_lastUpdated"), "{body}");
    }
    let res = app.client.get(app.url("/fhir/DocumentReference/not-an-id")).header(AUTHORIZATION, &bearer).send().await.unwrap();
    assert_eq!(outcome(res).await.0, StatusCode::NOT_FOUND);
    let res = app.client.get(app.url("/fhir/a/b/c")).send().await.unwrap();
    assert_eq!(outcome(res).await.0, StatusCode::NOT_FOUND);
    let res = app.client.post(app.url("/fhir/DocumentReference")).header(AUTHORIZATION, &bearer).body("{}").send().await.unwrap();
    let (status, code, _) = outcome(res).await;
    assert_eq!((status, code.as_str()), (StatusCode::METHOD_NOT_ALLOWED, "not-supported"), "the API is read-only, and says so");
    // The base itself, with or without a slash, answers as FHIR, never as the web app.
    for base in ["/fhir", "/fhir/"] {
        let (status, code, _) = outcome(app.client.get(app.url(base)).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not-found"), "{base}");
    }
    // XML is not offered: 406, by Accept or by _format.
    let res = app
        .client
        .get(app.url(&format!("/fhir/DocumentReference/{id}")))
        .header(AUTHORIZATION, &bearer)
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(outcome(res).await.0, StatusCode::NOT_ACCEPTABLE);
    let res = search("DocumentReference", Some(&bearer)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "no Accept is JSON");
    let res = app.client.get(app.url("/fhir/metadata?_format=xml")).send().await.unwrap();
    assert_eq!(outcome(res).await.0, StatusCode::NOT_ACCEPTABLE);
    // _count=0 answers the total alone.
    let res = app
        .client
        .get(app.url("/fhir/DocumentReference"))
        .query(&[("patient:identifier", NHS), ("_count", "0")])
        .header(AUTHORIZATION, &bearer)
        .send()
        .await
        .unwrap();
    let counted: Value = res.json().await.unwrap();
    assert_eq!((counted["total"].as_u64(), counted.get("entry")), (Some(1), None), "{counted}");
    // The type's history, not a read of an entry called "_history".
    let res = app.client.get(app.url("/fhir/DocumentReference/_history")).header(AUTHORIZATION, &bearer).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let history: Value = res.json().await.unwrap();
    assert_eq!(
        (history["type"].as_str(), history["entry"][0]["resource"]["description"].as_str()),
        (Some("history"), Some("Dizzy spells"))
    );

    // The patient summary: its own route, not a read of a Patient called "$summary".
    let summary = |query: &'static [(&'static str, &'static str)]| {
        app.client.get(app.url("/fhir/Patient/$summary")).query(query).header(AUTHORIZATION, &bearer).send()
    };
    let res = summary(&[("identifier", NHS)]).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/fhir+json"));
    let document: Value = res.json().await.unwrap();
    assert_eq!(
        (document["type"].as_str(), document["entry"][0]["resource"]["resourceType"].as_str()),
        (Some("document"), Some("Composition"))
    );
    assert!(!document.to_string().contains("CANARY"));
    let (status, code, _) = outcome(summary(&[]).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid"));

    // Sam reads who looked, in plain words.
    let log = page(&app, "/record/access-log", &w.sam).await;
    assert!(log.contains("The regional care record system viewed your journal notes"), "{log}");
    assert!(log.contains("The regional care record system viewed your health summary"), "{log}");
    let (_, log_json) = json(&app, "GET", "access/log", &[], &w.sam).await;
    assert!(log_json.contains("The regional care record system"), "{log_json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_client_gets_its_own_token_and_reads_over_http_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_client_gets_its_own_token_and_reads_over_http_on_postgres() {
    run(Backend::Postgres).await;
}
