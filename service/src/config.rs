//! Settings the use cases need. The server reads them from the environment; tests build them
//! in code with [`ServiceConfig::for_tests`].

use domain::{PasswordRules, Span};
use url::Url;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl Argon2Params {
    /// OWASP's recommendation (m=19456 KiB, t=2, p=1).
    pub const OWASP: Self = Self { m_kib: 19_456, t: 2, p: 1 };
}

/// How sign-in attempts are slowed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// From this many consecutive failures on an account, each attempt waits (doubling each time).
    pub delay_from_failures: i64,
    /// The longest wait between attempts.
    pub max_delay: Span,
    /// At this many consecutive failures the account refuses passwords until it is recovered.
    pub hard_stop_failures: i64,
    /// Sign-in attempts allowed from one address per window.
    pub sign_in_per_address: i64,
    /// Registration and recovery requests allowed from one address per window.
    pub requests_per_address: i64,
    /// Messages sent to one email address per window (registration and recovery).
    pub mails_per_address: i64,
    /// Invitations (carer, staff, a record to take) one person may send in a day.
    pub invitations_per_sender: i64,
    /// Invitations one email address may receive in a day, from anyone.
    pub invitations_per_address: i64,
    /// The window for the per-address counts.
    pub window: Span,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            delay_from_failures: 3,
            max_delay: Span::minutes(15),
            hard_stop_failures: 50,
            sign_in_per_address: 100,
            requests_per_address: 20,
            mails_per_address: 5,
            invitations_per_sender: 20,
            invitations_per_address: 3,
            window: Span::minutes(15),
        }
    }
}

/// Where mail goes. `Debug` never shows the SMTP URL (it may hold a password).
#[derive(Clone, PartialEq, Eq)]
pub enum MailTransportConfig {
    /// An SMTP server, as a lettre URL (`smtp://host:port`, `smtps://user:pass@host`, ...).
    Smtp {
        /// The URL (it may hold a password, so it is never logged).
        url: String,
    },
    /// Development: each message is written as a `.eml` file in this folder, readable at /dev/outbox.
    Folder {
        /// The folder.
        path: std::path::PathBuf,
    },
}

impl std::fmt::Debug for MailTransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailTransportConfig::Smtp { .. } => f.write_str("Smtp { url: <redacted> }"),
            MailTransportConfig::Folder { path } => f.debug_struct("Folder").field("path", path).finish(),
        }
    }
}

/// Everything the use cases need to know.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where people reach Carry (`https://carry.example.org`); links in mail and the WebAuthn
    /// origin derive from it.
    pub public_url: Url,
    /// Sessions end after this long without a request.
    pub session_idle: Span,
    /// Sessions end this long after sign-in whatever happens.
    pub session_absolute: Span,
    /// Practice staff's sessions end after this long without a request (shorter: they see
    /// many patients' records, often on shared computers).
    pub staff_session_idle: Span,
    /// Practice staff's sessions end this long after sign-in.
    pub staff_session_absolute: Span,
    /// Sensitive changes need a sign-in at most this long ago.
    pub reauth_window: Span,
    /// Registration links last this long.
    pub register_link_ttl: Span,
    /// Recovery links last this long.
    pub recovery_link_ttl: Span,
    /// WebAuthn ceremonies must finish within this.
    pub ceremony_ttl: Span,
    /// Password length rules.
    pub password_rules: PasswordRules,
    /// Password hashing cost.
    pub argon2: Argon2Params,
    /// At most this many hashes run at once (each takes `argon2.m_kib` of memory).
    pub max_concurrent_hashes: usize,
    /// Sign-in throttling.
    pub throttle: ThrottleConfig,
    /// Where mail goes.
    pub mail: MailTransportConfig,
    /// The From: address of Carry's mail.
    pub mail_from: String,
    /// The ages at which a parent's access to a child's record changes.
    pub age_rules: domain::grants::AgeRules,
    /// The shared care record, when one is connected (sync is off without it).
    pub care_record: Option<CareRecordConfig>,
    /// The system clients registered for Carry's own FHIR API (none: it refuses every token).
    pub fhir_clients: Vec<FhirClientConfig>,
    /// Where copies of records prepared to download are kept until they expire (an hour).
    /// Only the server reads it: make it private to Carry's user, and shared by every server
    /// of one deployment.
    pub export_dir: std::path::PathBuf,
    /// The server's key for long-term health links (`L`), which must be able to encrypt the
    /// current summary: each such link's own key is kept sealed under it. None: long-term links
    /// are not offered. Every server of one deployment needs the same key; changing it stops
    /// every long-term link made before.
    pub health_link_key: Option<[u8; 32]>,
}

/// A system client of Carry's FHIR API (the shared care record), registered by its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirClientConfig {
    /// Its client id (the `iss` and `sub` of its assertions).
    pub client_id: String,
    /// Its name, as patients read it in their access log ("The regional care record system").
    pub name: String,
    /// The public keys its assertions may be signed with (several during a key rotation).
    pub keys: Vec<FhirClientKey>,
    /// Where it publishes its keys as a JSON Web Key Set, instead of or beside `keys` (https,
    /// or http on loopback).
    pub jwks_uri: Option<url::Url>,
    /// The scopes it may be granted (`system/Observation.rs ...`); a token gets those it asks
    /// for that are also here.
    pub scope: String,
    /// The privacy labels it may see. Sensitive labels are never shared by default: `general`.
    pub labels: Vec<domain::PrivacyLabel>,
}

/// One public key of a system client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirClientKey {
    /// The algorithm its assertions use.
    pub alg: AssertionAlg,
    /// Its id (`kid`), when the client names its keys.
    pub kid: Option<String>,
    /// The public key, PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
}

/// How Carry signs its SMART Backend Services client assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlg {
    /// ECDSA P-384 with SHA-384 (the default).
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (NHS England's own APIs).
    Rs512,
}

impl AssertionAlg {
    /// The name JWTs use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es384 => "ES384",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
        }
    }

    /// Reads `ES384`, `RS384` or `RS512`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ES384" => Some(Self::Es384),
            "RS384" => Some(Self::Rs384),
            "RS512" => Some(Self::Rs512),
            _ => None,
        }
    }
}

/// A private key's PEM text. Its `Debug` never shows it, and it is not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKeyPem(pub String);

impl std::fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

/// The shared care record Carry syncs with, and how it signs in there (SMART Backend Services).
#[derive(Debug, Clone)]
pub struct CareRecordConfig {
    /// The FHIR base URL (`https://scr.example.nhs.uk/fhir`).
    pub base_url: Url,
    /// Carry's client id there.
    pub client_id: String,
    /// The private key Carry signs its client assertions with (PKCS#8 PEM).
    pub private_key: PrivateKeyPem,
    /// The key's algorithm.
    pub alg: AssertionAlg,
    /// The key's id (`kid`), when the other server asks for one.
    pub key_id: Option<String>,
    /// The token endpoint; found by discovery (`.well-known/smart-configuration`) when absent.
    pub token_url: Option<Url>,
    /// The scopes Carry asks for.
    pub scope: String,
    /// How long one request may take.
    pub timeout: std::time::Duration,
    /// Which security codes mean social care at this connection (none by default).
    pub security: fhir::security::SecurityRules,
}

impl CareRecordConfig {
    /// The scopes Carry asks for unless told otherwise: read and search of what it pulls,
    /// create and update of what it sends. A transaction is posted to the base, which servers
    /// authorise as a create of any type (`system/*.c`).
    pub const DEFAULT_SCOPE: &'static str = "system/Patient.rs system/Condition.rs system/MedicationStatement.rs \
         system/MedicationRequest.rs system/AllergyIntolerance.rs system/Observation.crus system/Immunization.rs \
         system/DiagnosticReport.rs system/DocumentReference.crus system/Encounter.rs system/CarePlan.rs system/RelatedPerson.crs \
         system/Provenance.crus system/*.c";
}

impl ServiceConfig {
    /// Settings for tests: a local public URL, production security numbers.
    ///
    /// # Panics
    /// Never: the URL is a constant that parses.
    #[allow(clippy::expect_used)]
    pub fn for_tests(mail: MailTransportConfig) -> Self {
        Self {
            public_url: Url::parse("http://localhost:3000").expect("constant URL"),
            session_idle: Span::minutes(30),
            session_absolute: Span::hours(12),
            staff_session_idle: Span::minutes(15),
            staff_session_absolute: Span::hours(8),
            reauth_window: Span::minutes(10),
            register_link_ttl: Span::hours(24),
            recovery_link_ttl: Span::minutes(30),
            ceremony_ttl: Span::minutes(5),
            password_rules: PasswordRules::default(),
            argon2: Argon2Params::OWASP,
            max_concurrent_hashes: 2,
            throttle: ThrottleConfig::default(),
            mail,
            mail_from: "Carry <no-reply@localhost>".to_owned(),
            age_rules: domain::grants::AgeRules::default(),
            care_record: None,
            fhir_clients: Vec::new(),
            export_dir: std::env::temp_dir().join(format!("carry-exports-{}", uuid::Uuid::new_v4().simple())),
            health_link_key: Some(crate::health_links::random_key()),
        }
    }

    /// Carry's identifier system for a kind of thing it names in FHIR (`entry`, `carer`):
    /// under its public URL, so two deployments never mint the same identifier.
    pub fn identifier_system(&self, kind: &str) -> String {
        self.link(&format!("/fhir/id/{kind}"))
    }

    /// An absolute link to a path of Carry.
    pub fn link(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }
}
