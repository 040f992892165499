//! WebAuthn ceremony state, held server-side between the two halves of a ceremony and deleted
//! on first use, so a replayed browser response finds nothing.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{Timestamp, UserId};

/// A ceremony as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRow {
    /// Random id handed to the browser.
    pub id: String,
    /// `register`, `add`, `authenticate` or `recover`.
    pub purpose: String,
    /// The user it is for, when known.
    pub user_id: Option<UserId>,
    /// The email link the ceremony completes, when there is one.
    pub link_token_hash: Option<String>,
    /// webauthn-rs's serialised state.
    pub state_json: String,
    /// Refused after this time.
    pub expires_at: Timestamp,
}

/// The columns `take_ceremony` reads back: id, purpose, user, link, state, expiry.
type CeremonyTuple = (String, String, Option<String>, Option<String>, String, i64);

/// Stores a ceremony's state.
pub async fn insert_ceremony(conn: &mut Conn, row: &CeremonyRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into webauthn_ceremonies (id, purpose, user_id, link_token_hash, state_json, expires_at, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&row.id)
    .bind(&row.purpose)
    .bind(row.user_id.map(|u| u.to_string()))
    .bind(row.link_token_hash.as_deref())
    .bind(&row.state_json)
    .bind(row.expires_at.as_millis())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes and returns a ceremony of the given purpose, if it exists and has not expired.
/// Whatever the outcome the row is gone afterwards: state is single use.
pub async fn take_ceremony(conn: &mut Conn, id: &str, purpose: &str, now: Timestamp) -> StoreResult<Option<CeremonyRow>> {
    let raw: Option<CeremonyTuple> = sqlx::query_as(
        "delete from webauthn_ceremonies where id = $1 \
         returning id, purpose, user_id, link_token_hash, state_json, expires_at",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some((id, row_purpose, user_id, link_token_hash, state_json, expires_at)) = raw else {
        return Ok(None);
    };
    if row_purpose != purpose || expires_at <= now.as_millis() {
        return Ok(None);
    }
    Ok(Some(CeremonyRow {
        id,
        purpose: row_purpose,
        user_id: user_id.as_deref().map(|u| parse_id("webauthn_ceremonies.user_id", u)).transpose()?,
        link_token_hash,
        state_json,
        expires_at: Timestamp::from_millis(expires_at),
    }))
}

/// Deletes ceremonies that expired unused.
pub async fn delete_expired_ceremonies(conn: &mut Conn, now: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("delete from webauthn_ceremonies where expires_at <= $1").bind(now.as_millis()).execute(conn).await?;
    Ok(done.rows_affected())
}
