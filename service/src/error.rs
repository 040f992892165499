//! The service layer's one error type. Doors map each variant to their wire format; an internal
//! failure is logged here with an incident id and only the id travels on.

use domain::ValidationError;

/// What a use case can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input was wrong; each message names its field.
    #[error("invalid input: {0}")]
    Validation(ValidationError),
    /// Sign-in failed. One message for every cause, so nobody learns whether an account exists.
    #[error("email or password not recognised")]
    SignInFailed,
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts")]
    Throttled {
        /// Seconds to wait.
        retry_after_secs: i64,
    },
    /// Too many failures in a row: only recovery unlocks password sign-in.
    #[error("locked until recovered")]
    LockedUntilRecovered,
    /// The request needs a signed-in person.
    #[error("not signed in")]
    NotSignedIn,
    /// A sensitive change needs a recent sign-in.
    #[error("recent sign-in required")]
    ReauthRequired,
    /// Clinical work needs a session started with a passkey.
    #[error("passkey sign-in required")]
    PasskeyRequired,
    /// No such thing, or not yours: the two look the same from outside.
    #[error("not found")]
    NotFound,
    /// The caller may not do this with this record.
    #[error("forbidden")]
    Forbidden,
    /// The thing changed since the caller last saw it; nothing was overwritten.
    #[error("stale version")]
    Stale,
    /// A deleted entry can only be restored within the restore window, and only once deleted.
    #[error("cannot be restored")]
    NotRestorable,
    /// This kind of entry cannot be deleted ("about me" is changed, not deleted).
    #[error("cannot be deleted")]
    NotDeletable,
    /// A deleted entry must be restored before it is changed.
    #[error("entry is deleted")]
    Deleted,
    /// An emailed link that expired, was used, or never existed.
    #[error("link expired or already used")]
    LinkInvalid,
    /// A passkey ceremony failed (wrong origin, replay, cancelled, unknown passkey...).
    #[error("passkey not accepted")]
    PasskeyFailed,
    /// Something broke inside; the cause is in the log under this incident id.
    #[error("internal error, incident {incident}")]
    Internal {
        /// Quote this to support.
        incident: String,
    },
}

/// The result of every use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// Logs `cause` with a new incident id and returns the error that carries only the id.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let incident = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        tracing::error!(incident = %incident, error = %cause, "internal error");
        ServiceError::Internal { incident }
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> Self {
        ServiceError::Validation(e)
    }
}

impl From<store::StoreError> for ServiceError {
    fn from(e: store::StoreError) -> Self {
        ServiceError::internal(&e)
    }
}
