//! Wire views: what use cases return and the browser receives. Plain data, no secrets, no rows.

use crate::{PasskeyId, SessionId, Timestamp};
use serde::{Deserialize, Serialize};

/// The account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The person's name.
    pub display_name: String,
    /// Their address.
    pub email: String,
    /// Their passkeys, oldest first.
    pub passkeys: Vec<PasskeyView>,
    /// When their password was set, if they have one.
    pub password_set_at: Option<Timestamp>,
    /// Their sessions, most recent first.
    pub sessions: Vec<SessionView>,
    /// Whether the current session may make sensitive changes without signing in again.
    pub recently_authenticated: bool,
}

/// One passkey on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Its id (for rename and remove).
    pub id: PasskeyId,
    /// Its name.
    pub name: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
}

/// One session on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Its id (to end it).
    pub id: SessionId,
    /// Browser and system.
    pub device: String,
    /// How the person signed in.
    pub method: String,
    /// When.
    pub created_at: Timestamp,
    /// Last activity.
    pub last_seen_at: Timestamp,
    /// Whether this is the session asking.
    pub current: bool,
}

/// Options for the browser's WebAuthn call and the id that ties its answer to server state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    /// Send back with the answer.
    pub ceremony_id: String,
    /// webauthn-rs's JSON (`{"publicKey": {...}}`), for `PublicKeyCredential.parse*OptionsFromJSON`.
    pub options_json: String,
}

/// What an emailed link is for, shown on the page it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// The address the link was sent to.
    pub email: String,
    /// The name given at registration (registration links only).
    pub display_name: Option<String>,
}

/// The signed-in person, for the page header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeView {
    /// Their name.
    pub display_name: String,
}
