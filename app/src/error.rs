//! The error every server function returns. It carries only what a person may read: field
//! messages, a plain refusal, or an incident id. Never an internal error's text.

use domain::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, for the page to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Fix these fields.
    #[error("Check the answers marked below.")]
    Invalid(Vec<FieldError>),
    /// Refused, with a message that says why in plain words.
    #[error("{0}")]
    Refused(String),
    /// Sign in first.
    #[error("Please sign in to continue.")]
    NotSignedIn,
    /// Sign in again first.
    #[error("For your safety, sign in again to make this change.")]
    ReauthRequired,
    /// Nothing here (or not yours).
    #[error("We could not find that.")]
    NotFound,
    /// Someone (perhaps this person in another tab, or the patient asking again) changed it
    /// first; nothing was overwritten or decided.
    #[error("This was changed after you opened it, so nothing was saved. Open it again to see it as it is now, then try again.")]
    Conflict,
    /// Something broke on the server.
    #[error("Something went wrong on our side. If it keeps happening, contact support and quote incident {0}.")]
    Internal(String),
    /// The request itself was malformed (bad form fields, wrong encoding).
    #[error("We could not read that request. Reload the page and try again.")]
    BadRequest,
}

impl AppError {
    /// The message for one field, if the error is about it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid(list) => list.iter().find(|e| e.field == name).map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) | ServerFnErrorErr::MissingArg(_) => AppError::BadRequest,
            _ => AppError::Internal("client".to_owned()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<service::ServiceError> for AppError {
    fn from(e: service::ServiceError) -> Self {
        use service::ServiceError as S;
        match e {
            S::Validation(v) => AppError::Invalid(v.0),
            S::SignInFailed => AppError::Refused("Email or password not recognised.".to_owned()),
            S::Throttled { retry_after_secs } => AppError::Refused(format!(
                "Too many attempts. Wait {} and try again.",
                if retry_after_secs <= 90 { format!("{retry_after_secs} seconds") } else { format!("{} minutes", (retry_after_secs + 59) / 60) }
            )),
            S::LockedUntilRecovered => AppError::Refused(
                "Sign-in with a password is paused after too many failed attempts. Use \u{201c}Can\u{2019}t sign in?\u{201d} to get back in.".to_owned(),
            ),
            S::NotSignedIn => AppError::NotSignedIn,
            S::ReauthRequired => AppError::ReauthRequired,
            S::PasskeyRequired => AppError::Refused(
                "Clinical work in Carry needs a passkey. Sign in with your passkey (add one on your account page first if you have none).".to_owned(),
            ),
            S::NotFound => AppError::NotFound,
            S::LinkInvalid => AppError::Refused("This link has expired or has already been used. Ask for a new one.".to_owned()),
            S::PasskeyFailed => AppError::Refused("That passkey could not be used. Try again, or use another way to sign in.".to_owned()),
            S::Forbidden => AppError::Refused("You do not have access to this record.".to_owned()),
            S::Stale => AppError::Conflict,
            S::NotRestorable => AppError::Refused(
                "This entry can no longer be restored. Entries can be restored for 30 days after they are deleted.".to_owned(),
            ),
            S::NotDeletable => AppError::Refused(
                "\u{201c}About me\u{201d} cannot be deleted. Change or remove the answers you no longer want instead.".to_owned(),
            ),
            S::Deleted => AppError::Refused(
                "This entry is deleted. Restore it from \u{201c}Recently deleted\u{201d} before changing it.".to_owned(),
            ),
            S::Internal { incident } => AppError::Internal(incident),
        }
    }
}
