//! Carry's FHIR API over HTTP (`/fhir`): discovery, the SMART Backend Services token endpoint,
//! and reads and searches for registered system clients. Every answer is JSON; every error is
//! an OperationOutcome (or, at the token endpoint, an OAuth error). The work is the service's.
//!
//! The registered clients come from the file `CARRY_FHIR_CLIENTS_FILE` names (see the README).

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use service::fhir_api::{FhirError, TokenRequest};
use service::{AssertionAlg, FhirClientConfig, FhirClientKey, Services};
use std::path::Path as FsPath;

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The paths this module serves (for the route inventory).
pub const PATHS: [&str; 9] = [
    "/fhir",
    "/fhir/",
    "/fhir/metadata",
    "/fhir/.well-known/smart-configuration",
    "/fhir/auth/token",
    "/fhir/Patient/$summary",
    "/fhir/{type}",
    "/fhir/{type}/_history",
    "/fhir/{type}/{id}",
];

/// The `/fhir` routes. Requests need no cookie and no same-origin check: system clients
/// authenticate with bearer tokens, never with a browser's session. Whatever reaches `/fhir`
/// is answered here, as FHIR: an unknown path, a method the API does not offer, the base
/// itself, a format other than JSON, each with an OperationOutcome.
pub fn router() -> Router {
    let not_found = || async { fhir_error(&FhirError { status: 404, code: "not-found", diagnostics: "no such FHIR endpoint".into() }) };
    let api = Router::new()
        .route("/metadata", get(metadata))
        .route("/.well-known/smart-configuration", get(smart_configuration))
        .route("/auth/token", post(token))
        .route("/Patient/$summary", get(summary))
        .route("/{type}", get(search))
        .route("/{type}/_history", get(history))
        .route("/{type}/{id}", get(read))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            fhir_error(&FhirError {
                status: 405,
                code: "not-supported",
                diagnostics: "Carry's FHIR API is read-only: use GET for reads and searches, POST only for a token".into(),
            })
        })
        .layer(axum::middleware::from_fn(json_only));
    // The base with a slash, or none, is not the web app's either.
    let base = || async {
        fhir_error(&FhirError {
            status: 404,
            code: "not-found",
            diagnostics: "this is the FHIR base: read [base]/metadata for what it offers".into(),
        })
    };
    Router::new().route("/fhir", axum::routing::any(base)).route("/fhir/", axum::routing::any(base)).nest("/fhir", api)
}

/// Refuses, with 406, a request that accepts only a format Carry does not answer in (XML, say,
/// by `Accept` or `_format`): Carry answers in JSON only.
async fn json_only(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = request
        .uri()
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "_format").map(|(_, v)| v.into_owned()));
    let json_accepted = accept.trim().is_empty()
        || accept.split(',').any(|t| {
            let t = t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            matches!(t.as_str(), "*/*" | "application/*" | "application/json" | "application/fhir+json" | "application/json+fhir")
        });
    let format_json = format.as_deref().is_none_or(|f| matches!(f, "json" | "application/json" | "application/fhir+json"));
    if json_accepted && format_json {
        return next.run(request).await;
    }
    fhir_error(&FhirError { status: 406, code: "not-supported", diagnostics: "Carry answers in JSON only (application/fhir+json)".into() })
}

fn fhir_json(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, FHIR_JSON)], body.to_string()).into_response()
}

fn fhir_error(e: &FhirError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = fhir_json(status, &e.outcome());
    if e.status == 401 {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    res
}

async fn metadata(Extension(services): Extension<Services>) -> Response {
    fhir_json(StatusCode::OK, &services.fhir_capability_statement())
}

async fn smart_configuration(Extension(services): Extension<Services>) -> Response {
    (StatusCode::OK, axum::Json(services.fhir_smart_configuration())).into_response()
}

/// `POST /fhir/auth/token`, a form. A field given twice is refused rather than guessed at.
async fn token(Extension(services): Extension<Services>, headers: HeaderMap, body: Bytes) -> Response {
    let oauth_error = |status: u16, error: &str, description: &str| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(serde_json::json!({ "error": error, "error_description": description }))).into_response()
    };
    let form_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !form_type.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "send the request as application/x-www-form-urlencoded");
    }
    let mut form = TokenRequest::default();
    for (key, value) in url::form_urlencoded::parse(&body) {
        let slot = match key.as_ref() {
            "grant_type" => &mut form.grant_type,
            "scope" => &mut form.scope,
            "client_assertion_type" => &mut form.client_assertion_type,
            "client_assertion" => &mut form.client_assertion,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return oauth_error(400, "invalid_request", &format!("{key} is given more than once"));
        }
    }
    match services.fhir_token(&form).await {
        Ok(issued) => (StatusCode::OK, axum::Json(issued)).into_response(),
        Err(e) => oauth_error(e.status(), e.error, &e.description),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// What a type-level request (a search, or the type's history) asks: a Bundle of that type.
#[derive(Clone, Copy)]
enum TypeLevel {
    Search,
    History,
}

/// A type-level request: the caller's token checked, the query read, the service asked.
async fn type_level(services: &Services, kind: TypeLevel, type_name: &str, query: Option<String>, headers: &HeaderMap) -> Response {
    let caller = match services.fhir_caller(bearer(headers), &request_id(headers)).await {
        Ok(c) => c,
        Err(e) => return fhir_error(&e),
    };
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let answer = match kind {
        TypeLevel::Search => services.fhir_search(&caller, type_name, &pairs).await,
        TypeLevel::History => services.fhir_history(&caller, type_name, &pairs).await,
    };
    match answer {
        Ok(bundle) => fhir_json(StatusCode::OK, &bundle),
        Err(e) => fhir_error(&e),
    }
}

async fn search(
    Extension(services): Extension<Services>,
    Path(type_name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    type_level(&services, TypeLevel::Search, &type_name, query, &headers).await
}

async fn history(
    Extension(services): Extension<Services>,
    Path(type_name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    type_level(&services, TypeLevel::History, &type_name, query, &headers).await
}

/// `GET /fhir/Patient/$summary?identifier=...`: the patient's International Patient Summary.
async fn summary(Extension(services): Extension<Services>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let caller = match services.fhir_caller(bearer(&headers), &request_id(&headers)).await {
        Ok(c) => c,
        Err(e) => return fhir_error(&e),
    };
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    match services.fhir_summary(&caller, &pairs).await {
        Ok(bundle) => fhir_json(StatusCode::OK, &bundle),
        Err(e) => fhir_error(&e),
    }
}

async fn read(Extension(services): Extension<Services>, Path((type_name, id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let caller = match services.fhir_caller(bearer(&headers), &request_id(&headers)).await {
        Ok(c) => c,
        Err(e) => return fhir_error(&e),
    };
    match services.fhir_read(&caller, &type_name, &id).await {
        Ok(resource) => {
            let mut res = fhir_json(StatusCode::OK, &resource);
            // The version and the time it was made, as HTTP says them, for caches and If-Match.
            if let Some(v) = resource["meta"]["versionId"].as_str() {
                if let Ok(etag) = header::HeaderValue::from_str(&format!("W/\"{v}\"")) {
                    res.headers_mut().insert(header::ETAG, etag);
                }
            }
            if let Some(date) = resource["meta"]["lastUpdated"].as_str().and_then(service::fhir_api::http_date) {
                if let Ok(modified) = header::HeaderValue::from_str(&date) {
                    res.headers_mut().insert(header::LAST_MODIFIED, modified);
                }
            }
            res
        }
        Err(e) => fhir_error(&e),
    }
}

/// The registered clients file, as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    clients: Vec<ClientEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientEntry {
    client_id: String,
    name: String,
    #[serde(default)]
    keys: Vec<KeyEntry>,
    #[serde(default)]
    jwks_uri: Option<String>,
    scope: String,
    #[serde(default)]
    labels: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    public_key_file: String,
}

/// Reads the registered clients from `path`. Key files are relative to the file's folder.
/// Each problem is named with the client it is in.
pub fn read_clients(path: &str) -> Result<Vec<FhirClientConfig>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read ({path}): {e}"))?;
    let file: ClientsFile = serde_json::from_str(&text).map_err(|e| format!("{path} is not a valid clients file: {e}"))?;
    let folder = FsPath::new(path).parent().unwrap_or(FsPath::new("."));
    let mut clients = Vec::new();
    for c in file.clients {
        let id = &c.client_id;
        if id.is_empty() || id.len() > 200 || clients.iter().any(|x: &FhirClientConfig| &x.client_id == id) {
            return Err(format!("{path}: every client needs a client_id of its own ({id:?})"));
        }
        if c.name.trim().is_empty() {
            return Err(format!("{path}: client {id} needs a name (patients read it in their access log)"));
        }
        if c.keys.is_empty() && c.jwks_uri.is_none() {
            return Err(format!("{path}: client {id} has no keys: give keys, or the jwks_uri where it publishes them"));
        }
        let jwks_uri = c
            .jwks_uri
            .as_deref()
            .map(|u| url::Url::parse(u).map_err(|e| format!("{path}: client {id}: jwks_uri {u:?} is not a URL ({e})")))
            .transpose()?;
        let mut keys = Vec::new();
        for k in c.keys {
            let alg =
                AssertionAlg::parse(&k.alg).ok_or_else(|| format!("{path}: client {id}: alg {:?}: use ES384, RS384 or RS512", k.alg))?;
            let key_path = folder.join(&k.public_key_file);
            let pem =
                std::fs::read_to_string(&key_path).map_err(|e| format!("{path}: client {id}: cannot read {}: {e}", key_path.display()))?;
            keys.push(FhirClientKey { alg, kid: k.kid, public_key_pem: pem });
        }
        let labels = match c.labels {
            None => vec![domain::PrivacyLabel::General],
            Some(list) => list
                .iter()
                .map(|l| domain::PrivacyLabel::parse("labels", l).map_err(|_| format!("{path}: client {id}: unknown label {l:?}")))
                .collect::<Result<Vec<_>, _>>()?,
        };
        clients.push(FhirClientConfig { client_id: c.client_id, name: c.name, keys, jwks_uri, scope: c.scope, labels });
    }
    service::fhir_api::check_clients(&clients).map_err(|e| format!("{path}: client {e}"))?;
    Ok(clients)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(clients: serde_json::Value) -> String {
        let dir = std::env::temp_dir().join(format!("carry-clients-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let keys = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../service/tests/fhir_api");
        std::fs::copy(keys.join("client-es384.pub.pem"), dir.join("es.pub.pem")).unwrap();
        std::fs::copy(keys.join("client-rs384.pub.pem"), dir.join("rs.pub.pem")).unwrap();
        let path = dir.join("clients.json");
        std::fs::write(&path, clients.to_string()).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn client(key: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"client_id": "regional", "name": "The regional care record system", "keys": [key], "scope": "system/*.rs"})
    }

    #[test]
    fn a_clients_file_is_read_with_general_only_by_default_and_each_problem_is_named() {
        let good = read_clients(&file(
            serde_json::json!({"clients": [client(serde_json::json!({"alg": "ES384", "public_key_file": "es.pub.pem"}))]}),
        ))
        .unwrap();
        assert_eq!(good[0].labels, vec![domain::PrivacyLabel::General]);
        assert_eq!(good[0].keys[0].alg, AssertionAlg::Es384);
        let problems = [
            (client(serde_json::json!({"alg": "HS256", "public_key_file": "es.pub.pem"})), "alg"),
            (client(serde_json::json!({"alg": "ES384", "public_key_file": "missing.pem"})), "cannot read"),
            (client(serde_json::json!({"alg": "ES384", "public_key_file": "rs.pub.pem"})), "not a ES384 public key"),
            (client(serde_json::json!({"alg": "ES384", "public_key_file": "es.pub.pem", "extra": 1})), "unknown field"),
        ];
        for (c, says) in problems {
            let e = read_clients(&file(serde_json::json!({"clients": [c]}))).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        let mut labelled = client(serde_json::json!({"alg": "RS384", "public_key_file": "rs.pub.pem"}));
        labelled["labels"] = serde_json::json!(["general", "secret"]);
        assert!(read_clients(&file(serde_json::json!({"clients": [labelled]}))).unwrap_err().contains("unknown label \"secret\""));
        let twice = client(serde_json::json!({"alg": "RS384", "public_key_file": "rs.pub.pem"}));
        assert!(read_clients(&file(serde_json::json!({"clients": [twice.clone(), twice]}))).unwrap_err().contains("client_id of its own"));
        assert!(read_clients("/nonexistent/clients.json").unwrap_err().contains("cannot be read"));
    }
}
