//! The token endpoint of Carry's FHIR API: SMART Backend Services. A registered system client
//! signs a short-lived JWT (its client assertion) with its private key and exchanges it for an
//! access token. The assertion must name the client (`iss` = `sub`), be addressed to this
//! endpoint exactly (`aud`), expire within five minutes, and carry a `jti` never used before.

use super::{Clients, RegisteredClient};
use crate::config::{AssertionAlg, FhirClientConfig};
use crate::tokens::Token;
use crate::Services;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::{Span, Timestamp};
use fhir::api::Scopes;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// How long an access token lasts.
pub const TOKEN_LIFETIME_SECONDS: i64 = 300;
/// The furthest ahead an assertion may expire.
const MAX_ASSERTION_SECONDS: i64 = 300;
/// Clock difference tolerated between the client and Carry.
const SKEW_SECONDS: i64 = 30;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What a client posts to the token endpoint (a form).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenRequest {
    /// `client_credentials`.
    pub grant_type: Option<String>,
    /// The scopes asked for.
    pub scope: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    pub client_assertion_type: Option<String>,
    /// The signed JWT.
    pub client_assertion: Option<String>,
}

/// An access token issued.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedToken {
    /// The bearer token.
    pub access_token: String,
    /// `bearer`.
    pub token_type: &'static str,
    /// Seconds it lasts.
    pub expires_in: i64,
    /// The scopes granted.
    pub scope: String,
}

/// A refusal, as OAuth 2.0 words it (RFC 6749 section 5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct TokenError {
    /// `invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type`.
    pub error: &'static str,
    /// What is wrong, for the client's developers.
    pub description: String,
}

impl TokenError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { error, description: description.into() }
    }

    /// The HTTP status: 401 when the client could not be authenticated, else 400.
    pub fn status(&self) -> u16 {
        if self.error == "invalid_client" {
            401
        } else {
            400
        }
    }
}

/// A client's key, ready to check signatures.
pub(crate) struct ClientKey {
    alg: AssertionAlg,
    kid: Option<String>,
    key: DecodingKey,
}

impl ClientKey {
    pub(crate) fn new(alg: AssertionAlg, kid: Option<String>, pem: &str) -> Result<Self, String> {
        let key = match alg {
            AssertionAlg::Es384 => DecodingKey::from_ec_pem(pem.as_bytes()),
            AssertionAlg::Rs384 | AssertionAlg::Rs512 => DecodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .map_err(|e| format!("not a {} public key in PEM ({e})", alg.name()))?;
        Ok(Self { alg, kid, key })
    }

    pub(crate) fn from_decoding(alg: AssertionAlg, kid: Option<String>, key: DecodingKey) -> Self {
        Self { alg, kid, key }
    }

    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

fn algorithm(alg: AssertionAlg) -> Algorithm {
    match alg {
        AssertionAlg::Es384 => Algorithm::ES384,
        AssertionAlg::Rs384 => Algorithm::RS384,
        AssertionAlg::Rs512 => Algorithm::RS512,
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<i64>,
    jti: Option<String>,
}

impl Services {
    /// The token endpoint's address (an assertion's `aud` must be exactly this).
    pub fn fhir_token_url(&self) -> String {
        self.config().link("/fhir/auth/token")
    }

    /// Checks a client assertion and issues an access token with the scopes asked for that the
    /// client is registered for. Each refusal says what was wrong; none issues anything.
    pub async fn fhir_token(&self, form: &TokenRequest) -> Result<IssuedToken, TokenError> {
        if form.grant_type.as_deref() != Some("client_credentials") {
            return Err(TokenError::new("unsupported_grant_type", "grant_type must be client_credentials"));
        }
        if form.client_assertion_type.as_deref() != Some(ASSERTION_TYPE) {
            return Err(TokenError::new("invalid_request", format!("client_assertion_type must be {ASSERTION_TYPE}")));
        }
        let assertion = form
            .client_assertion
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| TokenError::new("invalid_request", "client_assertion is missing"))?;
        let asked =
            form.scope.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                TokenError::new("invalid_request", "scope is missing: ask for system scopes such as system/Observation.rs")
            })?;
        let asked = Scopes::parse(asked).map_err(|e| TokenError::new("invalid_scope", e.to_string()))?;

        let (client, claims) = self.check_assertion(assertion).await?;
        let now = self.now();
        let exp = claims.exp.ok_or_else(|| TokenError::new("invalid_client", "the assertion has no exp"))?;
        let exp = Timestamp::from_millis(exp.saturating_mul(1000));
        if exp < now.minus(Span::seconds(SKEW_SECONDS)) {
            return Err(TokenError::new("invalid_client", "the assertion has expired"));
        }
        if exp > now.plus(Span::seconds(MAX_ASSERTION_SECONDS + SKEW_SECONDS)) {
            return Err(TokenError::new("invalid_client", "the assertion's exp is more than 5 minutes ahead"));
        }
        let jti = claims.jti.filter(|j| !j.is_empty()).ok_or_else(|| TokenError::new("invalid_client", "the assertion has no jti"))?;
        if jti.len() > 255 {
            return Err(TokenError::new("invalid_client", "the assertion's jti is longer than 255 characters"));
        }

        let granted = asked.intersect(&client.scopes);
        if granted.is_empty() {
            return Err(TokenError::new(
                "invalid_scope",
                "none of the scopes asked for is one this client may have (read-only system scopes of Observation, \
                 DocumentReference, QuestionnaireResponse, Provenance, and system/Patient.r for the patient summary)",
            ));
        }
        let token = Token::generate();
        let expires = now.plus(Span::seconds(TOKEN_LIFETIME_SECONDS));
        let internal = |e: store::StoreError| {
            let _ = crate::ServiceError::internal(&e);
            TokenError::new("server_error", "the token could not be issued; try again")
        };
        let mut tx = self.db().begin().await.map_err(internal)?;
        let fresh = store::fhir_api::record_assertion(&mut tx, &client.config.client_id, &jti, exp.plus(Span::seconds(SKEW_SECONDS)), now)
            .await
            .map_err(internal)?;
        if !fresh {
            tracing::warn!(client = %client.config.client_id, "replayed client assertion refused");
            return Err(TokenError::new("invalid_client", "this assertion's jti has been used before (a replay)"));
        }
        store::fhir_api::insert_token(&mut tx, &token.hash(), &client.config.client_id, &granted.text(), expires, now)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(client = %client.config.client_id, scope = %granted.text(), "FHIR API token issued");
        Ok(IssuedToken {
            access_token: token.expose().to_owned(),
            token_type: "bearer",
            expires_in: TOKEN_LIFETIME_SECONDS,
            scope: granted.text(),
        })
    }

    /// Finds the client an assertion names and checks its signature, issuer, subject and
    /// audience. Expiry and replay are the caller's (they need Carry's clock and database).
    async fn check_assertion(&self, assertion: &str) -> Result<(&RegisteredClient, Claims), TokenError> {
        let bad = |d: &str| TokenError::new("invalid_client", d.to_owned());
        let (header, unverified) = read_unverified(assertion)?;
        let iss = unverified.iss.ok_or_else(|| bad("the assertion has no iss"))?;
        let client = self.inner_fhir_clients().find(&iss).ok_or_else(|| bad("the assertion's iss is not a registered client"))?;
        let published = match &client.jwks {
            Some(jwks) => {
                jwks.keys(header.kid.as_deref()).await.map_err(|e| bad(&format!("the client's key set could not be fetched: {e}")))?
            }
            None => Default::default(),
        };
        let keys: Vec<&ClientKey> = client.keys.iter().chain(published.iter()).collect();
        // SMART Backend Services asks for a kid. Without one, only a client registered with a
        // single key can be told which key signed; that is accepted, and logged for its team.
        if header.kid.is_none() {
            if keys.len() != 1 {
                return Err(bad(
                    "the assertion's header has no kid: SMART Backend Services asks for one, and this client has several keys",
                ));
            }
            tracing::warn!(client = %client.config.client_id, "client assertion without a kid accepted (the client has one key); SMART Backend Services asks for a kid");
        }
        let mut checked = None;
        for key in keys.into_iter().filter(|k| algorithm(k.alg) == header.alg) {
            if header.kid.is_some() && key.kid.is_some() && header.kid != key.kid {
                continue;
            }
            let mut validation = Validation::new(algorithm(key.alg));
            validation.validate_exp = false;
            validation.validate_aud = false;
            validation.required_spec_claims.clear();
            if let Ok(data) = jsonwebtoken::decode::<Claims>(assertion, &key.key, &validation) {
                checked = Some(data.claims);
                break;
            }
        }
        let claims = checked.ok_or_else(|| bad("the assertion's signature does not match any of this client's registered keys"))?;
        if claims.iss.as_deref() != Some(client.config.client_id.as_str())
            || claims.sub.as_deref() != Some(client.config.client_id.as_str())
        {
            return Err(bad("the assertion's iss and sub must both be the client id"));
        }
        let token_url = self.fhir_token_url();
        let aud_ok = match &claims.aud {
            Some(serde_json::Value::String(a)) => *a == token_url,
            Some(serde_json::Value::Array(list)) => list.len() == 1 && list[0].as_str() == Some(token_url.as_str()),
            _ => false,
        };
        if !aud_ok {
            return Err(bad(&format!("the assertion's aud must be this token endpoint exactly: {token_url}")));
        }
        Ok((client, claims))
    }

    pub(crate) fn inner_fhir_clients(&self) -> &Clients {
        &self.inner.fhir_clients
    }
}

/// Reads the clients' keys and scopes once, at start-up.
pub(crate) fn registered(config: &FhirClientConfig) -> Result<RegisteredClient, String> {
    let keys = config
        .keys
        .iter()
        .map(|k| ClientKey::new(k.alg, k.kid.clone(), &k.public_key_pem))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", config.client_id))?;
    let scopes = Scopes::parse(&config.scope).map_err(|e| format!("{}: {e}", config.client_id))?;
    let jwks = config.jwks_uri.clone().map(super::jwks::Jwks::new).transpose().map_err(|e| format!("{}: {e}", config.client_id))?;
    if keys.is_empty() && jwks.is_none() {
        return Err(format!("{}: give its keys, or the jwks_uri where it publishes them", config.client_id));
    }
    Ok(RegisteredClient { config: config.clone(), keys, jwks, scopes })
}

/// Reads an assertion's header and claims before its signature is checked (the issuer says
/// whose keys to check it with). Refusals say what is wrong.
fn read_unverified(assertion: &str) -> Result<(jsonwebtoken::Header, Claims), TokenError> {
    let bad = |d: &str| TokenError::new("invalid_client", d.to_owned());
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| bad("client_assertion is not a signed JWT"))?;
    if header.typ.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return Err(bad("the assertion's typ must be JWT"));
    }
    let payload = assertion.split('.').nth(1).ok_or_else(|| bad("client_assertion is not a signed JWT"))?;
    let unverified: Claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the assertion's claims cannot be read"))?;
    Ok((header, unverified))
}

/// The fuzzing entry point for the token endpoint's JWT parsing (security.md T18): arbitrary
/// bytes as a `client_assertion`, read as the endpoint reads it and checked against a key, and
/// as the token form's `scope`. Refused or read, never a panic. The cargo-fuzz target
/// `token_assertion` and the short pass in the test suite both call it.
#[doc(hidden)]
pub fn fuzz_assertion(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok((header, _claims)) = read_unverified(&text) {
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let key = jsonwebtoken::DecodingKey::from_secret(b"not a registered key");
        let _ = jsonwebtoken::decode::<Claims>(&text, &key, &validation);
    }
    let _ = Scopes::parse(&text);
}

/// The short pass of security.md T18 for the token endpoint: the saved corpus (with every
/// crash found so far), then generated inputs, through exactly what the fuzz target runs.
#[cfg(test)]
mod fuzz_tests {
    use super::fuzz_assertion;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    #[test]
    fn the_saved_corpus_runs_without_a_panic() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/token_assertion");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty());
        for f in files {
            fuzz_assertion(&std::fs::read(f).unwrap());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz_assertion(&data);
        }

        #[test]
        fn well_formed_jwts_with_any_header_and_claims_never_panic(header in "\\PC{0,64}", claims in "\\PC{0,96}", sig in "[A-Za-z0-9_-]{0,80}") {
            let jwt = format!("{}.{}.{sig}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(&claims));
            fuzz_assertion(jwt.as_bytes());
            let json_header = r#"{"alg":"ES384","typ":"JWT"}"#;
            let jwt = format!("{}.{}.{sig}", URL_SAFE_NO_PAD.encode(json_header), URL_SAFE_NO_PAD.encode(format!("{{\"iss\":{claims:?}}}")));
            fuzz_assertion(jwt.as_bytes());
        }
    }
}
