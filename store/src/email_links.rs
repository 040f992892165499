//! Single-use links sent by email (registration, recovery). Only the token's SHA-256 is stored.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{Timestamp, UserId};

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailLinkRow {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// `register` or `recover`.
    pub purpose: String,
    /// The address it was sent to.
    pub email: String,
    /// For registration: the name given.
    pub display_name: Option<String>,
    /// For recovery: whose account.
    pub user_id: Option<UserId>,
    /// It is refused after this time.
    pub expires_at: Timestamp,
    /// When it was used, if it was.
    pub used_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct RawLink {
    token_hash: String,
    purpose: String,
    email: String,
    display_name: Option<String>,
    user_id: Option<String>,
    expires_at: i64,
    used_at: Option<i64>,
}

/// Stores a new link.
pub async fn insert_link(conn: &mut Conn, row: &EmailLinkRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into email_links (token_hash, purpose, email, email_key, display_name, user_id, expires_at, used_at, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&row.token_hash)
    .bind(&row.purpose)
    .bind(&row.email)
    .bind(row.email.to_lowercase())
    .bind(row.display_name.as_deref())
    .bind(row.user_id.map(|u| u.to_string()))
    .bind(row.expires_at.as_millis())
    .bind(row.used_at.map(Timestamp::as_millis))
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Finds a link by token hash and purpose, used or not (the caller decides what to say).
pub async fn find_link(conn: &mut Conn, token_hash: &str, purpose: &str) -> StoreResult<Option<EmailLinkRow>> {
    let raw: Option<RawLink> = sqlx::query_as(
        "select token_hash, purpose, email, display_name, user_id, expires_at, used_at from email_links \
         where token_hash = $1 and purpose = $2",
    )
    .bind(token_hash)
    .bind(purpose)
    .fetch_optional(conn)
    .await?;
    raw.map(|r| {
        Ok(EmailLinkRow {
            user_id: r.user_id.as_deref().map(|u| parse_id("email_links.user_id", u)).transpose()?,
            token_hash: r.token_hash,
            purpose: r.purpose,
            email: r.email,
            display_name: r.display_name,
            expires_at: Timestamp::from_millis(r.expires_at),
            used_at: r.used_at.map(Timestamp::from_millis),
        })
    })
    .transpose()
}

/// Marks a link used if it is unused and unexpired. Returns true only for the one caller that
/// wins, so two tabs racing on the same link cannot both use it.
pub async fn update_link_used(conn: &mut Conn, token_hash: &str, purpose: &str, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query(
        "update email_links set used_at = $1, updated_at = $1 \
         where token_hash = $2 and purpose = $3 and used_at is null and expires_at > $1",
    )
    .bind(now.as_millis())
    .bind(token_hash)
    .bind(purpose)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Voids every unused link of a purpose for an address (a newer link replaces older ones).
pub async fn update_links_void(conn: &mut Conn, email_key: &str, purpose: &str, now: Timestamp) -> StoreResult<u64> {
    let done =
        sqlx::query("update email_links set used_at = $1, updated_at = $1 where lower(email) = $2 and purpose = $3 and used_at is null")
            .bind(now.as_millis())
            .bind(email_key)
            .bind(purpose)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// Deletes links that expired before `before` (used or not): they can never be used again.
pub async fn delete_expired_links(conn: &mut Conn, before: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("delete from email_links where expires_at < $1").bind(before.as_millis()).execute(conn).await?;
    Ok(done.rows_affected())
}
