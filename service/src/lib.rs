//! Carry's use cases. Each public function authorises the caller, reads or writes through the
//! store (in one transaction with its side effects, such as queued mail), and returns a view
//! type that carries no secret. Both doors (server functions and, later, FHIR routes) call these.

pub mod access;
pub mod access_log;
pub mod accounts;
mod audit_queue;
pub mod auth;
pub mod care_record;
pub mod carers;
pub mod clock;
pub mod config;
pub mod cookie;
mod demo;
mod entry_views;
pub mod error;
pub mod exports;
pub mod fhir_api;
pub mod handover;
pub mod health_links;
pub mod links;
pub mod mail;
pub mod practices;
pub mod records;
pub mod recovery;
pub mod review;
pub mod sessions;
mod throttle;
mod tokens;

pub use access::RecordRef;
pub use access_log::AccessLogQuery;
pub use carers::{InviteForm, ScopeForm};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Argon2Params, AssertionAlg, CareRecordConfig, FhirClientConfig, FhirClientKey, MailTransportConfig, PrivateKeyPem, ServiceConfig,
    ThrottleConfig,
};
pub use domain::views;
pub use error::{ServiceError, ServiceResult};
pub use fhir::security::SecurityRules;
pub use records::{NoteForm, PrivacyForm, ReadingForm, TimelineQuery};
pub use sessions::{Caller, ClientInfo, NewSession, RequestMeta, SignedIn, StaffJob};

use auth::passkey::Passkeys;
use auth::password::PasswordHasher;
use std::sync::Arc;
use store::Db;
use tokio::sync::Notify;

/// The handle every door holds: database, clock, settings and the crypto helpers.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    hasher: PasswordHasher,
    passkeys: Passkeys,
    transport: mail::Transport,
    mail_wakeup: Arc<Notify>,
    audit: audit_queue::AuditQueue,
    care_record: Option<care_record::CareRecordClient>,
    care_record_wakeup: Arc<Notify>,
    export_wakeup: Arc<Notify>,
    fhir_clients: fhir_api::Clients,
}

impl Services {
    /// Builds the services. Fails when the public URL cannot serve as a WebAuthn origin.
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: ServiceConfig) -> ServiceResult<Self> {
        let hasher = PasswordHasher::new(config.argon2, config.max_concurrent_hashes)?;
        let passkeys = Passkeys::new(&config.public_url)?;
        let transport = mail::Transport::new(&config.mail)?;
        let care_record = config.care_record.as_ref().map(care_record::CareRecordClient::new).transpose()?;
        let fhir_clients = fhir_api::Clients::new(&config.fhir_clients)
            .map_err(|e| ServiceError::internal(&format!("a FHIR API client's key cannot be used: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                config,
                hasher,
                passkeys,
                transport,
                mail_wakeup: Arc::new(Notify::new()),
                audit: Default::default(),
                care_record,
                care_record_wakeup: Arc::new(Notify::new()),
                export_wakeup: Arc::new(Notify::new()),
                fhir_clients,
            }),
        })
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Appends an access log row in a transaction of its own (batched with other requests'
    /// rows) and returns once it is committed.
    pub(crate) async fn log(&self, event: domain::audit::AuditEvent) -> ServiceResult<()> {
        self.inner.audit.append(&self.inner.db, event).await
    }

    /// Appends several access log rows (batched with other requests') and returns once all are
    /// committed.
    pub(crate) async fn log_all(&self, events: Vec<domain::audit::AuditEvent>) -> ServiceResult<()> {
        self.inner.audit.append_all(&self.inner.db, events).await
    }

    pub(crate) fn now(&self) -> domain::Timestamp {
        self.inner.clock.now()
    }

    /// The current time by the server's clock (pages use it to fill in "now").
    pub fn current_time(&self) -> domain::Timestamp {
        self.now()
    }

    /// The settings in force.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    pub(crate) fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    pub(crate) fn passkeys(&self) -> &Passkeys {
        &self.inner.passkeys
    }

    pub(crate) fn transport(&self) -> &mail::Transport {
        &self.inner.transport
    }

    /// Tells the mail worker that a message was queued.
    pub(crate) fn wake_mailer(&self) {
        self.inner.mail_wakeup.notify_one();
    }

    pub(crate) fn mail_wakeup(&self) -> Arc<Notify> {
        self.inner.mail_wakeup.clone()
    }

    /// Checks the database answers, and says which one it is (for `/health`).
    pub async fn health(&self) -> ServiceResult<&'static str> {
        self.db().ping().await?;
        Ok(self.db().backend().name())
    }
}
