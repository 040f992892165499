//! Server-side sessions: made at sign-in with a fresh id, checked on every request against the
//! idle and absolute timeouts, listed and ended by their owner.

use crate::error::{ServiceError, ServiceResult};
use crate::tokens::Token;
use crate::Services;
use domain::practices::StaffRole;
use domain::{PasskeyId, PracticeId, SessionId, Span, Timestamp, UserId};
use std::net::IpAddr;
use store::sessions::{self, SessionRow};

/// What the doors know about the client making a request.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer address (for per-address throttling only; never stored).
    pub address: Option<IpAddr>,
    /// A coarse description of the browser, for the sessions list.
    pub device: String,
}

/// A signed-in person, as resolved from their session cookie for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// Who.
    pub user_id: UserId,
    /// Their name.
    pub display_name: String,
    /// The session.
    pub session_id: SessionId,
    /// When they last proved who they are (for re-authentication before sensitive changes).
    pub authenticated_at: Timestamp,
    /// Whether this session was started with a passkey.
    pub passkey: bool,
    /// Their job at a practice, if they have one (looked up afresh on every request, so an
    /// ended job ends its access at once).
    pub staff: Option<StaffJob>,
    /// The request they are making (for the access log).
    pub request: RequestMeta,
}

/// Someone's job at a practice, as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffJob {
    /// The practice.
    pub practice: PracticeId,
    /// Its name.
    pub practice_name: String,
    /// The job.
    pub job: StaffRole,
}

/// Which request a signed-in person is making, as the access log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    /// The request's id (`x-request-id`).
    pub id: String,
    /// The door it came through.
    pub door: domain::audit::Door,
}

impl Default for RequestMeta {
    fn default() -> Self {
        Self { id: "-".to_owned(), door: domain::audit::Door::Page }
    }
}

/// Who is asking, as the server resolved it for one request: put in the request's extensions
/// by the server and read by the doors.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The signed-in person, if any.
    pub signed_in: Option<SignedIn>,
    /// The client.
    pub client: ClientInfo,
}

/// A session just made. The token goes in the cookie and nowhere else (not even `Debug`).
pub struct NewSession {
    /// The cookie value.
    pub token: String,
    /// Who signed in.
    pub user_id: UserId,
    /// The cookie should not outlive the session.
    pub max_age: Span,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("user_id", &self.user_id).field("max_age", &self.max_age).finish_non_exhaustive()
    }
}

/// How a session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Password,
    Passkey(PasskeyId),
    Recovery,
}

/// Starts a session in the caller's transaction, ending `replacing` (the session that asked,
/// if any) so that signing in again always rotates the id.
pub(crate) async fn start(
    services: &Services,
    conn: &mut store::Conn,
    user: UserId,
    method: Method,
    client: &ClientInfo,
    replacing: Option<SessionId>,
) -> ServiceResult<NewSession> {
    let now = services.now();
    if let Some(old) = replacing {
        sessions::delete_session(conn, user, old).await?;
    }
    let token = Token::generate();
    let absolute = services.config().session_absolute;
    let (auth_method, passkey_id) = match method {
        Method::Password => ("password", None),
        Method::Passkey(p) => ("passkey", Some(p)),
        Method::Recovery => ("recovery", None),
    };
    let row = SessionRow {
        id: SessionId::from_uuid(uuid::Uuid::new_v4()),
        user_id: user,
        auth_method: auth_method.to_owned(),
        passkey_id,
        device: truncate(&client.device, 80),
        authenticated_at: now,
        last_seen_at: now,
        absolute_expires_at: now.plus(absolute),
        created_at: now,
    };
    sessions::insert_session(conn, &row, &token.hash()).await?;
    Ok(NewSession { token: token.expose().to_owned(), user_id: user, max_age: absolute })
}

fn truncate(s: &str, max: usize) -> String {
    let t: String = s.chars().take(max).collect();
    if t.is_empty() {
        "Unknown browser".to_owned()
    } else {
        t
    }
}

impl Services {
    /// Finds the live session for a cookie value. An expired or idle session is deleted and
    /// gives `None`. Activity is recorded at most once a minute to spare the database.
    pub async fn resolve_session(&self, token: &str) -> ServiceResult<Option<SignedIn>> {
        let now = self.now();
        let hash = Token::from_presented(token).hash();
        let mut conn = self.db().conn().await?;
        let Some(row) = sessions::find_session_by_token_hash(&mut conn, &hash).await? else {
            return Ok(None);
        };
        let Some((display_name, staff)) = store::practices::find_person(&mut conn, row.user_id).await? else {
            return Ok(None);
        };
        let (idle, absolute) = match staff {
            Some(_) => {
                (self.config().staff_session_idle, row.absolute_expires_at.min(row.created_at.plus(self.config().staff_session_absolute)))
            }
            None => (self.config().session_idle, row.absolute_expires_at),
        };
        if absolute <= now || row.last_seen_at < now.minus(idle) {
            sessions::delete_session(&mut conn, row.user_id, row.id).await?;
            return Ok(None);
        }
        if now.since(row.last_seen_at) >= Span::minutes(1) {
            sessions::update_session_seen(&mut conn, row.id, now).await?;
        }
        Ok(Some(SignedIn {
            user_id: row.user_id,
            display_name,
            session_id: row.id,
            authenticated_at: row.authenticated_at,
            passkey: row.auth_method == "passkey",
            staff: staff.map(|s| StaffJob { practice: s.practice.id, practice_name: s.practice.name, job: s.job }),
            request: RequestMeta::default(),
        }))
    }

    /// Ends the session that asked.
    pub async fn sign_out(&self, who: &SignedIn) -> ServiceResult<()> {
        let mut conn = self.db().conn().await?;
        sessions::delete_session(&mut conn, who.user_id, who.session_id).await?;
        Ok(())
    }

    /// Ends every session of the person, this one included.
    pub async fn sign_out_everywhere(&self, who: &SignedIn) -> ServiceResult<u64> {
        let mut conn = self.db().conn().await?;
        Ok(sessions::delete_sessions_of_user(&mut conn, who.user_id, None).await?)
    }

    /// Ends one of the person's sessions. Someone else's session id is "not found".
    pub async fn end_session(&self, who: &SignedIn, session: SessionId) -> ServiceResult<()> {
        let mut conn = self.db().conn().await?;
        if sessions::delete_session(&mut conn, who.user_id, session).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Refuses a sensitive change unless the person signed in within the re-authentication window.
    pub(crate) fn require_recent_sign_in(&self, who: &SignedIn) -> ServiceResult<()> {
        if self.now().since(who.authenticated_at) <= self.config().reauth_window {
            Ok(())
        } else {
            Err(ServiceError::ReauthRequired)
        }
    }

    /// Deletes sessions, ceremonies and counters that can no longer matter (run periodically).
    pub async fn sweep_expired(&self) -> ServiceResult<()> {
        let now = self.now();
        let mut conn = self.db().conn().await?;
        sessions::delete_expired_sessions(&mut conn, now, now.minus(self.config().session_idle)).await?;
        store::ceremonies::delete_expired_ceremonies(&mut conn, now).await?;
        // Windows last at most a day (the invitation caps'); anything older has ended.
        store::throttle::delete_old_windows(&mut conn, now.minus(Span::days(2))).await?;
        store::throttle::delete_stale_failures(&mut conn, now.minus(Span::days(1)), self.config().throttle.hard_stop_failures).await?;
        store::email_links::delete_expired_links(&mut conn, now.minus(Span::days(1))).await?;
        store::mail::delete_sent_mail(&mut conn, now.minus(Span::days(30))).await?;
        store::fhir_api::delete_expired(&mut conn, now).await?;
        Ok(())
    }
}

/// A coarse, non-identifying label for a User-Agent string: "Chrome on Linux".
pub fn device_label(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("HeadlessChrome/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("CrOS") {
        "ChromeOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::device_label;

    #[test]
    fn device_labels_name_browser_and_system_only() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
        assert_eq!(device_label(chrome), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(iphone), "Safari on iOS");
        assert_eq!(device_label(""), "A browser on an unknown system");
    }
}
