//! Talking to the shared care record: SMART Backend Services sign-in (a signed client
//! assertion exchanged for an access token) and FHIR requests with that token.

use super::clock::ServerClock;
use crate::config::{AssertionAlg, CareRecordConfig};
use crate::error::{ServiceError, ServiceResult};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use url::Url;

const FHIR_JSON: &str = "application/fhir+json";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Why a request to the shared care record did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RemoteError {
    /// Worth trying again later: the network, a 5xx, a 429 or a refused token. Carries the
    /// wait the server asked for (Retry-After), if it did.
    Transient(String, Option<Duration>),
    /// Trying again will not help until something changes (a 4xx on what Carry sent).
    Permanent(String),
}

impl RemoteError {
    pub(crate) fn text(&self) -> &str {
        match self {
            RemoteError::Transient(t, _) | RemoteError::Permanent(t) => t,
        }
    }
}

/// The HTTP client, the signing key and the current access token.
pub(crate) struct CareRecordClient {
    http: reqwest::Client,
    config: CareRecordConfig,
    key: EncodingKey,
    token_url: Mutex<Option<Url>>,
    token: Mutex<Option<(String, Instant)>>,
    /// Time spent waiting for the other server's answers (request sent to body read), in
    /// nanoseconds since start: what Carry's own share of a pull is measured against.
    remote_nanos: std::sync::atomic::AtomicU64,
    /// The server's CapabilityStatement, read at most once an hour.
    capability: Mutex<Option<(serde_json::Value, Instant)>>,
    /// Types whose `_history` the server refused although it listed it (never asked again).
    history_refused: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The server's clock, from the `Date` of its answers: where a pull's watermark comes from.
    clock: ServerClock,
}

/// How long a CapabilityStatement is trusted before it is read again.
const CAPABILITY_FOR: Duration = Duration::from_secs(3600);

impl CareRecordClient {
    /// Reads the key. Fails, naming the setting, when the key does not suit the algorithm.
    pub(crate) fn new(config: &CareRecordConfig) -> ServiceResult<Self> {
        let key = signing_key(config).map_err(|e| ServiceError::internal(&format!("CARRY_CARE_RECORD_KEY_FILE: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ServiceError::internal(&e))?;
        Ok(Self {
            http,
            config: config.clone(),
            key,
            token_url: Mutex::new(config.token_url.clone()),
            token: Mutex::new(None),
            remote_nanos: Default::default(),
            capability: Mutex::new(None),
            history_refused: Default::default(),
            clock: ServerClock::default(),
        })
    }

    /// The FHIR base URL, without a trailing slash.
    pub(crate) fn base(&self) -> String {
        self.config.base_url.as_str().trim_end_matches('/').to_owned()
    }

    /// The token endpoint: configured, or read once from the server's SMART configuration.
    async fn token_url(&self) -> Result<Url, RemoteError> {
        let mut known = self.token_url.lock().await;
        if let Some(url) = known.as_ref() {
            return Ok(url.clone());
        }
        let discovery = format!("{}/.well-known/smart-configuration", self.base());
        let response = self.http.get(&discovery).header("accept", "application/json").send().await.map_err(network)?;
        if !response.status().is_success() {
            return Err(RemoteError::Transient(format!("SMART discovery answered HTTP {}", response.status().as_u16()), None));
        }
        #[derive(serde::Deserialize)]
        struct Smart {
            token_endpoint: String,
        }
        let smart: Smart = response.json().await.map_err(|_| RemoteError::Permanent("SMART discovery has no token_endpoint".to_owned()))?;
        let url = Url::parse(&smart.token_endpoint)
            .map_err(|_| RemoteError::Permanent("SMART discovery's token_endpoint is not a URL".to_owned()))?;
        *known = Some(url.clone());
        Ok(url)
    }

    /// A valid access token: the cached one, or a new one for a fresh client assertion.
    async fn access_token(&self) -> Result<String, RemoteError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let token_url = self.token_url().await?;
        let assertion = self.client_assertion(&token_url)?;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.config.scope.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ];
        let response = self.http.post(token_url.as_str()).form(&form).send().await.map_err(network)?;
        let status = response.status().as_u16();
        if status != 200 {
            #[derive(serde::Deserialize)]
            struct OAuthError {
                error: String,
            }
            let error = response.json::<OAuthError>().await.map(|e| e.error).unwrap_or_default();
            // invalid_client can be a clock or key change on their side: worth retrying later.
            return Err(RemoteError::Transient(format!("the token endpoint refused Carry: HTTP {status} {error}"), None));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            access_token: String,
            expires_in: Option<u64>,
        }
        let token: Token = response.json().await.map_err(|_| RemoteError::Transient("the token answer is not a token".to_owned(), None))?;
        // Renew a minute early so a request never starts with a token about to lapse.
        let life = Duration::from_secs(token.expires_in.unwrap_or(300).saturating_sub(60).max(10));
        *cached = Some((token.access_token.clone(), Instant::now() + life));
        Ok(token.access_token)
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    /// A client assertion for `aud`: signed, unique (`jti`), valid for 4 minutes (at most 5
    /// are allowed). Times are the wall clock's: the other server checks them against its own.
    fn client_assertion(&self, aud: &Url) -> Result<String, RemoteError> {
        let alg = match self.config.alg {
            AssertionAlg::Es384 => Algorithm::ES384,
            AssertionAlg::Rs384 => Algorithm::RS384,
            AssertionAlg::Rs512 => Algorithm::RS512,
        };
        let mut header = Header::new(alg);
        header.typ = Some("JWT".to_owned());
        header.kid = self.config.key_id.clone();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let claims = serde_json::json!({
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": aud.as_str(),
            "exp": now + 240,
            "iat": now,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|_| RemoteError::Permanent("the client assertion could not be signed".to_owned()))
    }

    /// GET a FHIR search or read (`path` relative to the base, or an absolute `next` link on
    /// the same server), with `Prefer: handling=strict`. An error names the request, the status
    /// and what the server's OperationOutcome says (a search's outcome describes the search,
    /// never a patient's values).
    pub(crate) async fn get(&self, path: &str) -> Result<serde_json::Value, RemoteError> {
        let (shown, body) = self.get_bytes(path).await?;
        serde_json::from_slice(&body).map_err(|_| RemoteError::Transient(format!("GET {shown}: the answer is not JSON"), None))
    }

    /// A search page (see [`Self::get`]), with each resource's text as sent.
    pub(crate) async fn search(&self, path: &str) -> Result<fhir::pull::SearchPage, RemoteError> {
        let (shown, body) = self.get_bytes(path).await?;
        fhir::pull::SearchPage::parse(&body).ok_or_else(|| RemoteError::Transient(format!("GET {shown}: the answer is not a Bundle"), None))
    }

    /// A history page (see [`Self::get`]): each entry's request and response, not its resource.
    pub(crate) async fn history(&self, path: &str) -> Result<fhir::pull::HistoryPage, RemoteError> {
        let (shown, body) = self.get_bytes(path).await?;
        fhir::pull::HistoryPage::parse(&body)
            .ok_or_else(|| RemoteError::Transient(format!("GET {shown}: the answer is not a Bundle"), None))
    }

    /// The body of a GET, and the request as the words of an error name it.
    async fn get_bytes(&self, path: &str) -> Result<(String, Vec<u8>), RemoteError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            if !path.starts_with(&self.base()) {
                return Err(RemoteError::Permanent(format!("GET {path}: a paging link points away from the shared care record")));
            }
            path.to_owned()
        } else {
            format!("{}/{}", self.base(), path.trim_start_matches('/'))
        };
        let shown = url.strip_prefix(&self.base()).unwrap_or(&url).trim_start_matches('/').to_owned();
        let body = self
            .send_described(
                |http, token| http.get(&url).bearer_auth(token).header("prefer", "handling=strict"),
                |status, body| {
                    let outcome =
                        serde_json::from_slice::<serde_json::Value>(body).map(|v| fhir::pull::outcome_text(&v)).unwrap_or_default();
                    let outcome: String = outcome.chars().take(300).collect();
                    if outcome.is_empty() {
                        format!("GET {shown}: HTTP {status}")
                    } else {
                        format!("GET {shown}: HTTP {status} ({outcome})")
                    }
                },
            )
            .await?;
        Ok((shown, body))
    }

    /// Whether the server lists `history-type` for a type in its CapabilityStatement (read
    /// once an hour), and has not refused it since. A server that gives no CapabilityStatement
    /// offers nothing.
    pub(crate) async fn offers_history(&self, resource_type: &str) -> bool {
        if self.history_refused.lock().is_ok_and(|r| r.contains(resource_type)) {
            return false;
        }
        let mut cached = self.capability.lock().await;
        if cached.as_ref().is_none_or(|(_, at)| at.elapsed() > CAPABILITY_FOR) {
            let statement = self.get("metadata").await.unwrap_or_else(|e| {
                tracing::warn!(
                    error = e.text(),
                    "the shared care record's CapabilityStatement could not be read; deletions are found by comparing ids"
                );
                serde_json::Value::Null
            });
            *cached = Some((statement, Instant::now()));
        }
        cached.as_ref().is_some_and(|(statement, _)| fhir::pull::offers_history(statement, resource_type))
    }

    /// Remembers that the server refused a type's `_history` although it listed it.
    pub(crate) fn history_refused(&self, resource_type: &str) {
        if let Ok(mut refused) = self.history_refused.lock() {
            refused.insert(resource_type.to_owned());
        }
    }

    /// POSTs a transaction Bundle to the base; returns the response body.
    pub(crate) async fn transaction(&self, bundle: &fhir::model::Bundle) -> Result<Vec<u8>, RemoteError> {
        let body = serde_json::to_vec(bundle).map_err(|_| RemoteError::Permanent("the bundle could not be written".to_owned()))?;
        let url = self.base();
        // A transaction of conditional creates can take a server far longer than a search: give
        // it four times as long, so a slow commit is not mistaken for a failure (a retry would
        // find it committed, and not write it again, but the wait is the server's to take).
        let timeout = self.config.timeout.saturating_mul(4);
        self.send(|http, token| {
            http.post(&url)
                .timeout(timeout)
                .bearer_auth(token)
                .header("content-type", FHIR_JSON)
                .header("prefer", "return=minimal")
                .body(body.clone())
        })
        .await
    }

    /// Adds the time since `started` to the time spent waiting on the other server.
    fn waited<T>(&self, started: Instant, result: T) -> T {
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.remote_nanos.fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        result
    }

    /// The server's time at `moment`, estimated from the `Date` of its answers (see
    /// [`ServerClock`]); `None` when it gave none Carry trusts.
    pub(crate) fn server_time_at(&self, moment: Instant) -> Option<domain::Timestamp> {
        self.clock.at(moment)
    }

    /// Time spent waiting for the other server's answers since start.
    pub(crate) fn remote_time(&self) -> Duration {
        Duration::from_nanos(self.remote_nanos.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Sends with the access token; a 401 drops the token and tries once more with a new one.
    async fn send(&self, build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder) -> Result<Vec<u8>, RemoteError> {
        self.send_described(build, fhir::response::describe_error).await
    }

    /// [`Self::send`], with the words for an error answer made by `describe` from its status
    /// and body.
    async fn send_described(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
        describe: impl Fn(u16, &[u8]) -> String,
    ) -> Result<Vec<u8>, RemoteError> {
        for attempt in 0..2 {
            let token = self.access_token().await?;
            let started = Instant::now();
            let response = build(&self.http, &token).header("accept", FHIR_JSON).send().await;
            let response = self.waited(started, response).map_err(network)?;
            self.clock.observe(response.headers().get("date").and_then(|v| v.to_str().ok()));
            let status = response.status().as_u16();
            if status == 401 && attempt == 0 {
                self.forget_token().await;
                continue;
            }
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(3600)));
            let started = Instant::now();
            let body = response.bytes().await;
            let body = self.waited(started, body).map_err(network)?.to_vec();
            return match status {
                200..=299 => Ok(body),
                401 | 403 | 408 | 429 | 500..=599 => Err(RemoteError::Transient(describe(status, &body), retry_after)),
                _ => Err(RemoteError::Permanent(describe(status, &body))),
            };
        }
        Err(RemoteError::Transient("the shared care record refused Carry's token".to_owned(), None))
    }
}

/// The key, read for its algorithm; a key that cannot sign with it is refused here, at start-up.
pub(crate) fn signing_key(config: &CareRecordConfig) -> Result<EncodingKey, String> {
    let pem = config.private_key.0.as_bytes();
    let key = match config.alg {
        AssertionAlg::Es384 => EncodingKey::from_ec_pem(pem),
        AssertionAlg::Rs384 | AssertionAlg::Rs512 => EncodingKey::from_rsa_pem(pem),
    }
    .map_err(|_| "not a PKCS#8 PEM private key of the kind the algorithm needs (P-384 for ES384, RSA for RS384 and RS512)".to_owned())?;
    // ring reads the key only when it signs: sign once now so a wrong key stops start-up.
    let header = Header::new(match config.alg {
        AssertionAlg::Es384 => Algorithm::ES384,
        AssertionAlg::Rs384 => Algorithm::RS384,
        AssertionAlg::Rs512 => Algorithm::RS512,
    });
    jsonwebtoken::encode(&header, &serde_json::json!({"check": true}), &key)
        .map_err(|_| "the key cannot sign with the configured algorithm (CARRY_CARE_RECORD_ALG)".to_owned())?;
    Ok(key)
}

fn network(e: reqwest::Error) -> RemoteError {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    RemoteError::Transient(format!("the shared care record: {what}"), None)
}
