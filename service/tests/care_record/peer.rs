//! The real FHIR server the tests send to (sekmet-fhir, from `.tools/venv`), on 127.0.0.1
//! only, and a proxy in front of it that injects faults on the way: 500s, 429s, answers lost
//! after the server committed, and answers held back (so a send can be killed in flight). On
//! the way back it can also answer as other conformant servers do: searches without `next`
//! links (paging is optional in FHIR), type-level `_history` refused and absent from the
//! CapabilityStatement, and one kind of search failing.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The workspace folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn venv_bin(name: &str) -> PathBuf {
    let bin = workspace().join(".tools/venv/bin").join(name);
    assert!(bin.exists(), "{} is missing: run ./scripts/install-tools.sh test (it installs sekmet-fhir in .tools/venv)", bin.display());
    bin
}

/// A running sekmet with Carry registered as a SMART Backend Services client.
pub struct Sekmet {
    pub dir: PathBuf,
    pub port: u16,
    pub key_pem: String,
    child: Option<Child>,
    token: String,
}

impl Sekmet {
    /// Starts one in a new folder, with a new key for Carry (`alg` ES384 or RS384).
    pub async fn start(alg: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("carry-sekmet-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        let out = Command::new(venv_bin("sekmet"))
            .args(["keys", "generate", "--alg", alg, "--out", "keys/carry.pem"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "sekmet keys generate: {}", String::from_utf8_lossy(&out.stderr));
        let key_pem = std::fs::read_to_string(dir.join("keys/carry.pem")).unwrap();
        let port = free_port();
        let settings = format!(
            "base_url: http://127.0.0.1:{port}/fhir\nhost: 127.0.0.1\nport: {port}\ndata_dir: data\nlog_inbound: false\n\
             simulator:\n  enabled: false\nserver_auth:\n  types: [smart]\n  smart_clients:\n    - client_id: carry\n      \
             public_key_path: keys/carry.pem\n      scopes: \"system/*.*\"\n    - client_id: tests\n      client_secret: tests-secret\n      \
             scopes: \"system/*.*\"\n"
        );
        std::fs::write(dir.join("settings.yaml"), settings).unwrap();
        let mut me = Sekmet { dir, port, key_pem, child: None, token: String::new() };
        me.run().await;
        me
    }

    async fn run(&mut self) {
        let log = std::fs::File::create(self.dir.join("serve.log")).unwrap();
        let child = Command::new(venv_bin("sekmet"))
            .args(["serve", "-c", "settings.yaml", "--host", "127.0.0.1", "--port", &self.port.to_string()])
            .current_dir(&self.dir)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..240 {
            if let Ok(r) = http.get(format!("{}/metadata", self.base())).send().await {
                if r.status().is_success() {
                    self.token = self.test_token().await;
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("sekmet did not start: {}", std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default());
    }

    /// Stops the server (its data stays) and starts it again.
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.run().await;
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/fhir", self.port)
    }

    /// A token for the tests' own client (client_secret), to seed and inspect the server.
    async fn test_token(&self) -> String {
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/auth/token", self.port))
            .basic_auth("tests", Some("tests-secret"))
            .form(&[("grant_type", "client_credentials"), ("scope", "system/*.*")])
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str) -> serde_json::Value {
        let r = reqwest::Client::new().get(format!("{}/{path}", self.base())).bearer_auth(&self.token).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn put(&self, path: &str, body: &serde_json::Value) {
        let r = reqwest::Client::new()
            .put(format!("{}/{path}", self.base()))
            .bearer_auth(&self.token)
            .header("content-type", "application/fhir+json")
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "PUT {path}: {} {}", r.status(), r.text().await.unwrap_or_default());
    }

    /// Creates a resource; returns its id.
    pub async fn post(&self, rtype: &str, body: &serde_json::Value) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/{rtype}", self.base()))
            .bearer_auth(&self.token)
            .header("content-type", "application/fhir+json")
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "POST {rtype}");
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// Sends a transaction Bundle.
    pub async fn transaction(&self, bundle: &serde_json::Value) {
        let r = reqwest::Client::new()
            .post(self.base())
            .bearer_auth(&self.token)
            .header("content-type", "application/fhir+json")
            .json(bundle)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "transaction: {} {}", r.status(), r.text().await.unwrap_or_default());
    }

    /// Deletes a resource.
    pub async fn delete(&self, path: &str) {
        let r = reqwest::Client::new().delete(format!("{}/{path}", self.base())).bearer_auth(&self.token).send().await.unwrap();
        assert!(r.status().is_success(), "DELETE {path}: {}", r.status());
    }

    /// Makes a Patient; returns its id.
    pub async fn add_patient(&self, nhs: &str, given: &str, family: &str, born: &str) -> String {
        let body = serde_json::json!({
            "resourceType": "Patient",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
            "name": [{"family": family, "given": [given]}],
            "birthDate": born,
        });
        let r = reqwest::Client::new()
            .post(format!("{}/Patient", self.base()))
            .bearer_auth(&self.token)
            .header("content-type", "application/fhir+json")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// How many resources of `rtype` match `query`.
    pub async fn count(&self, rtype: &str, query: &str) -> u64 {
        self.get(&format!("{rtype}?{query}&_summary=count")).await["total"].as_u64().unwrap()
    }

    pub fn config(&self, via: &str, alg: service::AssertionAlg) -> service::CareRecordConfig {
        service::CareRecordConfig {
            base_url: url::Url::parse(via).unwrap(),
            client_id: "carry".into(),
            private_key: service::PrivateKeyPem(self.key_pem.clone()),
            alg,
            key_id: None,
            token_url: None,
            scope: service::CareRecordConfig::DEFAULT_SCOPE.into(),
            timeout: Duration::from_secs(10),
            security: Default::default(),
        }
    }
}

impl Drop for Sekmet {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What the proxy does to the next transaction (POST to the base).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 without forwarding.
    ServerError,
    /// Answer 429 (Retry-After: 1) without forwarding.
    TooMany,
    /// Forward (the server commits), then break the connection instead of answering.
    LoseAnswer,
    /// Forward, then hold the answer for this long (so the test can kill the send in flight).
    Hold(Duration),
}

#[derive(Default)]
struct ProxyState {
    target: String,
    faults: VecDeque<Fault>,
    always_fail: bool,
    transactions: Vec<Vec<u8>>,
    forwarded: usize,
    gets: usize,
    strip_next: bool,
    reverse_pages: bool,
    ignore_last_updated: bool,
    rewrites: Vec<(String, String)>,
    refuse_history: bool,
    fail_searches_of: Option<String>,
    /// Searches of that type answered before they start failing.
    searches_before_failing: usize,
    one_instant: Option<String>,
    date_skew: Option<i64>,
    refuse_elements: bool,
    paths: Vec<String>,
}

/// A proxy in front of the FHIR base.
#[derive(Clone)]
pub struct Proxy {
    state: Arc<Mutex<ProxyState>>,
    pub url: String,
}

impl Proxy {
    pub async fn start(target: &str) -> Self {
        let state = Arc::new(Mutex::new(ProxyState { target: target.to_owned(), ..Default::default() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/fhir", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(forward).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Proxy { state, url }
    }

    pub fn then(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn always_fail(&self, on: bool) {
        self.state.lock().unwrap().always_fail = on;
    }

    /// Every transaction Bundle Carry sent, as sent.
    pub fn transactions(&self) -> Vec<Vec<u8>> {
        self.state.lock().unwrap().transactions.clone()
    }

    /// How many GETs (searches and reads) went through.
    pub fn forwarded_gets(&self) -> usize {
        self.state.lock().unwrap().gets
    }

    /// How many transactions reached the server.
    pub fn forwarded(&self) -> usize {
        self.state.lock().unwrap().forwarded
    }

    /// Answers searches without `next` links, as a server that does not page (Bundle.total
    /// still says how many match).
    pub fn strip_next_links(&self, on: bool) {
        self.state.lock().unwrap().strip_next = on;
    }

    /// Answers search pages newest first, as a server that ignores `_sort` may.
    pub fn reverse_pages(&self, on: bool) {
        self.state.lock().unwrap().reverse_pages = on;
    }

    /// Drops `_lastUpdated` from searches before the server sees them, as a server that does
    /// not support it (and says nothing) would answer.
    pub fn ignore_last_updated(&self, on: bool) {
        self.state.lock().unwrap().ignore_last_updated = on;
    }

    /// Replaces `from` with `to` in every answer to a GET: what a server that does not conform
    /// might send (the suite's server refuses to store such resources).
    pub fn rewrite(&self, from: &str, to: &str) {
        self.state.lock().unwrap().rewrites.push((from.to_owned(), to.to_owned()));
    }

    /// Refuses type-level `_history` (404 with an OperationOutcome), and leaves `history-type`
    /// out of the CapabilityStatement.
    pub fn refuse_history(&self, on: bool) {
        self.state.lock().unwrap().refuse_history = on;
    }

    /// Answers every search of this type with a 500 and an OperationOutcome.
    pub fn fail_searches_of(&self, rtype: Option<&str>) {
        self.fail_searches_of_after(rtype, 0);
    }

    /// Answers the next `answered` searches of this type (pages included), then fails every
    /// one after them as [`Proxy::fail_searches_of`] does: a server that fails part-way.
    pub fn fail_searches_of_after(&self, rtype: Option<&str>, answered: usize) {
        let mut s = self.state.lock().unwrap();
        s.fail_searches_of = rtype.map(str::to_owned);
        s.searches_before_failing = answered;
    }

    /// Answers as a server whose resources all changed at this one instant would: each
    /// resource's `meta.lastUpdated` is it, and a `_lastUpdated` window holds all of them or none.
    pub fn one_instant(&self, at: Option<&str>) {
        self.state.lock().unwrap().one_instant = at.map(str::to_owned);
    }

    /// Answers with a `Date` header this many seconds from the true time (a server or proxy
    /// whose clock is wrong); `None` for the true time.
    pub fn date_skew(&self, seconds: Option<i64>) {
        self.state.lock().unwrap().date_skew = seconds;
    }

    /// Refuses searches with `_elements` (400 with an OperationOutcome), as a server that does
    /// not support it and is asked to be strict does.
    pub fn refuse_elements(&self, on: bool) {
        self.state.lock().unwrap().refuse_elements = on;
    }

    /// Every GET's path and query, as asked.
    pub fn paths(&self) -> Vec<String> {
        self.state.lock().unwrap().paths.clone()
    }
}

async fn forward(
    State(state): State<Arc<Mutex<ProxyState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").trim_start_matches("/fhir").to_owned();
    if method == Method::GET {
        state.lock().unwrap().paths.push(path.clone());
    }
    if state.lock().unwrap().ignore_last_updated {
        if let Some((at, query)) = path.clone().split_once('?') {
            let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("_lastUpdated=")).collect();
            path = format!("{at}?{}", kept.join("&"));
        }
    }
    let one_instant = state.lock().unwrap().one_instant.clone();
    if let Some(at) = one_instant.as_deref().filter(|_| method == Method::GET) {
        if let Some((to, query)) = path.clone().split_once('?') {
            let (windows, kept): (Vec<&str>, Vec<&str>) = query.split('&').partition(|p| p.starts_with("_lastUpdated="));
            if !windows.iter().all(|w| holds(w.trim_start_matches("_lastUpdated="), at)) {
                let empty = r#"{"resourceType":"Bundle","type":"searchset","total":0}"#;
                return (StatusCode::OK, [("content-type", "application/fhir+json")], empty).into_response();
            }
            path = format!("{to}?{}", kept.join("&"));
        }
    }
    let is_transaction = method == Method::POST && (path.is_empty() || path == "/");
    let is_get = method == Method::GET;
    let date_skew = state.lock().unwrap().date_skew;
    let (target, fault, strip_next, refuse_history, reverse, rewrites) = {
        let mut s = state.lock().unwrap();
        if is_get {
            let rtype = path.trim_start_matches('/').split(['?', '/']).next().unwrap_or_default().to_owned();
            if s.refuse_history && path.contains("/_history") {
                let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported","diagnostics":"type-level _history is not supported"}]}"#;
                return (StatusCode::NOT_FOUND, [("content-type", "application/fhir+json")], oo).into_response();
            }
            if s.refuse_elements && path.contains("_elements=") {
                let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported","diagnostics":"_elements is not supported"}]}"#;
                return (StatusCode::BAD_REQUEST, [("content-type", "application/fhir+json")], oo).into_response();
            }
            if s.fail_searches_of.as_deref() == Some(rtype.as_str()) && path.contains('?') && s.searches_before_failing > 0 {
                s.searches_before_failing -= 1;
            } else if s.fail_searches_of.as_deref() == Some(rtype.as_str()) && path.contains('?') {
                let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"the search index is rebuilding"}]}"#;
                return (StatusCode::INTERNAL_SERVER_ERROR, [("content-type", "application/fhir+json")], oo).into_response();
            }
        }
        let fault = if is_transaction {
            s.transactions.push(body.to_vec());
            if s.always_fail {
                Some(Fault::ServerError)
            } else {
                s.faults.pop_front()
            }
        } else {
            None
        };
        (s.target.clone(), fault, s.strip_next, s.refuse_history, s.reverse_pages, s.rewrites.clone())
    };
    match fault {
        Some(Fault::ServerError) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception"}]}"#,
            )
                .into_response()
        }
        Some(Fault::TooMany) => return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response(),
        _ => {}
    }
    let mut request = reqwest::Client::new().request(method, format!("{target}{path}")).body(body.to_vec());
    for (name, value) in headers.iter() {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.unwrap();
    if is_transaction {
        state.lock().unwrap().forwarded += 1;
    }
    if is_get {
        state.lock().unwrap().gets += 1;
    }
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let mut bytes = answer.bytes().await.unwrap();
    if is_get {
        // Answer as a reverse proxy in front of the server would: with links to itself.
        let own = format!("http://{}/fhir", headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default());
        let mut text = String::from_utf8_lossy(&bytes).replace(&target, &own);
        for (from, to) in &rewrites {
            text = text.replace(from, to);
        }
        let mut answer: Option<serde_json::Value> = None;
        if strip_next || refuse_history || reverse || one_instant.is_some() {
            answer = serde_json::from_str(&text).ok();
        }
        if let Some(v) = answer.as_mut() {
            if let Some(at) = one_instant.as_deref() {
                for e in v.get_mut("entry").and_then(|e| e.as_array_mut()).into_iter().flatten() {
                    if e["resource"]["meta"].is_object() {
                        e["resource"]["meta"]["lastUpdated"] = serde_json::Value::String(at.to_owned());
                    }
                }
            }
            if strip_next {
                if let Some(links) = v.get_mut("link").and_then(|l| l.as_array_mut()) {
                    links.retain(|l| l["relation"] != "next");
                }
            }
            if reverse && v["type"] == "searchset" {
                if let Some(entries) = v.get_mut("entry").and_then(|e| e.as_array_mut()) {
                    entries.reverse();
                }
            }
            if refuse_history && v["resourceType"] == "CapabilityStatement" {
                for rest in v["rest"].as_array_mut().into_iter().flatten() {
                    for r in rest["resource"].as_array_mut().into_iter().flatten() {
                        if let Some(i) = r.get_mut("interaction").and_then(|i| i.as_array_mut()) {
                            i.retain(|x| x["code"] != "history-type");
                        }
                    }
                }
            }
        }
        bytes = axum::body::Bytes::from(answer.map_or(text, |v| v.to_string()));
    }
    let mut answer = respond(status, content_type, bytes);
    if let Some(skew) = date_skew {
        let now = std::time::SystemTime::now();
        let shifted =
            if skew >= 0 { now + Duration::from_secs(skew.unsigned_abs()) } else { now - Duration::from_secs(skew.unsigned_abs()) };
        answer.headers_mut().insert("date", httpdate::fmt_http_date(shifted).parse().unwrap());
    }
    match fault {
        Some(Fault::LoseAnswer) => {
            // The server has committed; the client gets a broken answer (the body fails mid-way).
            let broken = futures_util::stream::once(async { Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("cut")) });
            Response::builder().status(200).body(Body::from_stream(broken)).unwrap()
        }
        Some(Fault::Hold(d)) => {
            tokio::time::sleep(d).await;
            answer
        }
        _ => answer,
    }
}

/// Whether a `_lastUpdated` search value (a prefix and an instant, URL-encoded) holds `at`.
fn holds(value: &str, at: &str) -> bool {
    let value = value.replace("%3A", ":").replace("%2B", "+");
    let (prefix, when) = if value.len() > 2 && value.as_bytes()[..2].iter().all(u8::is_ascii_lowercase) {
        value.split_at(2)
    } else {
        ("eq", value.as_str())
    };
    let (Some(at), Some(when)) = (fhir::pull::when::instant_millis(at), fhir::pull::when::instant_millis(when)) else { return true };
    match prefix {
        "ge" => at >= when,
        "gt" => at > when,
        "le" => at <= when,
        "lt" => at < when,
        _ => at == when,
    }
}

fn respond(status: reqwest::StatusCode, content_type: Option<axum::http::HeaderValue>, bytes: axum::body::Bytes) -> Response {
    let mut r = Response::builder().status(status.as_u16());
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    r.body(Body::from(bytes)).unwrap()
}

/// Runs the independent validators over what Carry sent or served; panics naming each problem.
pub fn validate(bundles: &[Vec<u8>]) {
    let dir = std::env::temp_dir().join(format!("carry-sent-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, b) in bundles.iter().enumerate() {
        std::fs::write(dir.join(format!("sent-{i:03}.json")), b).unwrap();
    }
    // Two independent validators: fhir.resources (Python) and FHIR.js (Node).
    let python = Command::new(venv_bin("python")).arg(workspace().join("scripts/fhir/validate.py")).arg(&dir).output().unwrap();
    let node = Command::new("node").arg(workspace().join("scripts/fhir/validate.mjs")).arg(&dir).current_dir(workspace()).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    for (name, out) in [("fhir.resources", python), ("FHIR.js", node)] {
        assert!(
            out.status.success(),
            "{name} found problems:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A valid NHS number (modulus 11) that no other test uses.
pub fn nhs_number() -> String {
    loop {
        let n = uuid::Uuid::new_v4().as_u128();
        let digits: Vec<u32> = (0..9).map(|i| ((n >> (i * 8)) % 10) as u32).collect();
        let sum: u32 = digits.iter().enumerate().map(|(i, d)| d * (10 - i as u32)).sum();
        let check = (11 - sum % 11) % 11;
        if check == 10 {
            continue;
        }
        return digits
            .iter()
            .map(|d| char::from_digit(*d, 10).unwrap())
            .chain(std::iter::once(char::from_digit(check, 10).unwrap()))
            .collect();
    }
}
