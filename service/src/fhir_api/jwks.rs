//! Client keys published at a registered `jwks_uri` (SMART Backend Services allows a client to
//! register the address of its JSON Web Key Set rather than the keys). Fetched when an
//! assertion needs them, kept for five minutes, fetched again at once for a `kid` not seen yet
//! (a key rotation) but at most every 30 seconds; with a timeout, without redirects, and over
//! https only (loopback excepted, for tests and a client on the same host).

use super::token::ClientKey;
use crate::config::AssertionAlg;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::DecodingKey;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// How long fetched keys are trusted.
const KEEP_FOR: Duration = Duration::from_secs(300);
/// The soonest keys are fetched again for a `kid` not among them.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// How long a fetch may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest key set read.
const MAX_BYTES: usize = 64 * 1024;

/// A client's key set address and what was last fetched from it.
pub(crate) struct Jwks {
    uri: Url,
    cache: Mutex<Option<(std::sync::Arc<Vec<ClientKey>>, Instant)>>,
}

/// Checks a registered `jwks_uri`: https, or http on loopback.
pub(crate) fn check_uri(uri: &Url) -> Result<(), String> {
    let loopback = matches!(uri.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if uri.scheme() == "https" || (uri.scheme() == "http" && loopback) {
        Ok(())
    } else {
        Err(format!("jwks_uri {uri} must be https"))
    }
}

impl Jwks {
    pub(crate) fn new(uri: Url) -> Result<Self, String> {
        check_uri(&uri)?;
        Ok(Self { uri, cache: Mutex::new(None) })
    }

    /// The keys, fetched when they are older than five minutes, or when `kid` is not among them
    /// and they are older than 30 seconds. A failed fetch keeps what was fetched before.
    pub(crate) async fn keys(&self, kid: Option<&str>) -> Result<std::sync::Arc<Vec<ClientKey>>, String> {
        let cached = self.cache.lock().map_err(|_| "the key cache is poisoned".to_owned())?.clone();
        if let Some((keys, at)) = &cached {
            let known = kid.is_none_or(|k| keys.iter().any(|key| key.kid() == Some(k)));
            if at.elapsed() < KEEP_FOR && (known || at.elapsed() < REFETCH_AFTER) {
                return Ok(keys.clone());
            }
        }
        match self.fetch().await {
            Ok(keys) => {
                let keys = std::sync::Arc::new(keys);
                if let Ok(mut c) = self.cache.lock() {
                    *c = Some((keys.clone(), Instant::now()));
                }
                Ok(keys)
            }
            Err(e) => {
                tracing::warn!(jwks_uri = %self.uri, error = %e, "a client's key set could not be fetched");
                cached.map(|(keys, _)| keys).ok_or(e)
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<ClientKey>, String> {
        let http =
            reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
        let response = http.get(self.uri.as_str()).header("accept", "application/json").send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_BYTES {
            return Err("the key set is larger than 64 KB".to_owned());
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| format!("not a JSON Web Key Set ({e})"))?;
        Ok(read_set(&set))
    }
}

/// The signing keys of a set Carry can check: P-384 keys for ES384, RSA keys for RS384 and
/// RS512 (or the one algorithm the key names). Others are left out.
pub(crate) fn read_set(set: &JwkSet) -> Vec<ClientKey> {
    let mut out = Vec::new();
    for jwk in &set.keys {
        let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
        let kid = jwk.common.key_id.clone();
        let algs: Vec<AssertionAlg> = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::EllipticCurve(ec), _) if ec.curve == EllipticCurve::P384 => vec![AssertionAlg::Es384],
            (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::RS384)) => vec![AssertionAlg::Rs384],
            (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::RS512)) => vec![AssertionAlg::Rs512],
            (AlgorithmParameters::RSA(_), None) => vec![AssertionAlg::Rs384, AssertionAlg::Rs512],
            _ => Vec::new(),
        };
        out.extend(algs.into_iter().map(|alg| ClientKey::from_decoding(alg, kid.clone(), key.clone())));
    }
    out
}
