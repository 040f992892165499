//! Server-side sessions. The cookie carries a random token; only its SHA-256 is stored, so a copy
//! of the database cannot be used to sign in.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{PasskeyId, SessionId, Timestamp, UserId};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The session's id (shown on the sessions page; not the cookie value).
    pub id: SessionId,
    /// Who is signed in.
    pub user_id: UserId,
    /// `password`, `passkey` or `recovery`.
    pub auth_method: String,
    /// The passkey used, when signed in with one.
    pub passkey_id: Option<PasskeyId>,
    /// A coarse description of the browser ("Chrome on Linux").
    pub device: String,
    /// When the person last proved who they are in this session.
    pub authenticated_at: Timestamp,
    /// The last request seen.
    pub last_seen_at: Timestamp,
    /// The session ends at this time whatever happens.
    pub absolute_expires_at: Timestamp,
    /// When it began.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawSession {
    id: String,
    user_id: String,
    auth_method: String,
    passkey_id: Option<String>,
    device: String,
    authenticated_at: i64,
    last_seen_at: i64,
    absolute_expires_at: i64,
    created_at: i64,
}

impl TryFrom<RawSession> for SessionRow {
    type Error = crate::StoreError;
    fn try_from(r: RawSession) -> Result<Self, Self::Error> {
        Ok(SessionRow {
            id: parse_id("sessions.id", &r.id)?,
            user_id: parse_id("sessions.user_id", &r.user_id)?,
            auth_method: r.auth_method,
            passkey_id: r.passkey_id.as_deref().map(|p| parse_id("sessions.passkey_id", p)).transpose()?,
            device: r.device,
            authenticated_at: Timestamp::from_millis(r.authenticated_at),
            last_seen_at: Timestamp::from_millis(r.last_seen_at),
            absolute_expires_at: Timestamp::from_millis(r.absolute_expires_at),
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

/// Stores a new session under the hash of its token.
pub async fn insert_session(conn: &mut Conn, row: &SessionRow, token_hash: &str) -> StoreResult<()> {
    sqlx::query(
        "insert into sessions (id, token_hash, user_id, auth_method, passkey_id, device, authenticated_at, last_seen_at, \
         absolute_expires_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(row.id.to_string())
    .bind(token_hash)
    .bind(row.user_id.to_string())
    .bind(&row.auth_method)
    .bind(row.passkey_id.map(|p| p.to_string()))
    .bind(&row.device)
    .bind(row.authenticated_at.as_millis())
    .bind(row.last_seen_at.as_millis())
    .bind(row.absolute_expires_at.as_millis())
    .bind(row.created_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds the session whose token hashes to `token_hash`.
pub async fn find_session_by_token_hash(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<SessionRow>> {
    let raw: Option<RawSession> = sqlx::query_as(
        "select id, user_id, auth_method, passkey_id, device, authenticated_at, last_seen_at, absolute_expires_at, created_at \
         from sessions where token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    raw.map(SessionRow::try_from).transpose()
}

/// A user's sessions, most recently used first.
pub async fn list_sessions(conn: &mut Conn, user: UserId) -> StoreResult<Vec<SessionRow>> {
    let raws: Vec<RawSession> = sqlx::query_as(
        "select id, user_id, auth_method, passkey_id, device, authenticated_at, last_seen_at, absolute_expires_at, created_at \
         from sessions where user_id = $1 order by last_seen_at desc, id",
    )
    .bind(user.to_string())
    .fetch_all(conn)
    .await?;
    raws.into_iter().map(SessionRow::try_from).collect()
}

/// Records activity on a session (for the idle timeout).
pub async fn update_session_seen(conn: &mut Conn, id: SessionId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update sessions set last_seen_at = $1, updated_at = $1 where id = $2")
        .bind(now.as_millis())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends one of the user's sessions. Returns false if the user has no such session.
pub async fn delete_session(conn: &mut Conn, user: UserId, id: SessionId) -> StoreResult<bool> {
    let done = sqlx::query("delete from sessions where id = $1 and user_id = $2")
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of the user except `keep` (pass `None` to end them all). Returns how many.
pub async fn delete_sessions_of_user(conn: &mut Conn, user: UserId, keep: Option<SessionId>) -> StoreResult<u64> {
    let keep = keep.map(|k| k.to_string()).unwrap_or_default();
    let done = sqlx::query("delete from sessions where user_id = $1 and id <> $2").bind(user.to_string()).bind(keep).execute(conn).await?;
    Ok(done.rows_affected())
}

/// Ends the user's sessions that were signed in with `auth_method`, except `keep`.
pub async fn delete_sessions_by_method(conn: &mut Conn, user: UserId, auth_method: &str, keep: SessionId) -> StoreResult<u64> {
    let done = sqlx::query("delete from sessions where user_id = $1 and auth_method = $2 and id <> $3")
        .bind(user.to_string())
        .bind(auth_method)
        .bind(keep.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions past their absolute end or idle since before `idle_cutoff`. Returns how many.
pub async fn delete_expired_sessions(conn: &mut Conn, now: Timestamp, idle_cutoff: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("delete from sessions where absolute_expires_at <= $1 or last_seen_at < $2")
        .bind(now.as_millis())
        .bind(idle_cutoff.as_millis())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
