//! Registered passkeys. The credential itself is kept as webauthn-rs's JSON, opaque to the store.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{PasskeyId, Timestamp, UserId};

/// A passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    /// Carry's id for it.
    pub id: PasskeyId,
    /// Whose it is.
    pub user_id: UserId,
    /// The WebAuthn credential id, base64url.
    pub credential_id: String,
    /// The name the person gave it.
    pub name: String,
    /// webauthn-rs's serialised `Passkey` (public key and counter).
    pub passkey_json: String,
    /// When it was last used to sign in.
    pub last_used_at: Option<Timestamp>,
    /// When it was registered.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawPasskey {
    id: String,
    user_id: String,
    credential_id: String,
    name: String,
    passkey_json: String,
    last_used_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<RawPasskey> for PasskeyRow {
    type Error = crate::StoreError;
    fn try_from(r: RawPasskey) -> Result<Self, Self::Error> {
        Ok(PasskeyRow {
            id: parse_id("passkeys.id", &r.id)?,
            user_id: parse_id("passkeys.user_id", &r.user_id)?,
            credential_id: r.credential_id,
            name: r.name,
            passkey_json: r.passkey_json,
            last_used_at: r.last_used_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

/// Stores a new passkey. Fails with `Conflict("passkeys_credential_id_unique")` if the credential
/// is already registered.
pub async fn insert_passkey(conn: &mut Conn, row: &PasskeyRow) -> StoreResult<()> {
    sqlx::query(
        "insert into passkeys (id, user_id, credential_id, name, passkey_json, last_used_at, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(row.id.to_string())
    .bind(row.user_id.to_string())
    .bind(&row.credential_id)
    .bind(&row.name)
    .bind(&row.passkey_json)
    .bind(row.last_used_at.map(Timestamp::as_millis))
    .bind(row.created_at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// A user's passkeys, oldest first.
pub async fn list_passkeys(conn: &mut Conn, user: UserId) -> StoreResult<Vec<PasskeyRow>> {
    let raws: Vec<RawPasskey> = sqlx::query_as(
        "select id, user_id, credential_id, name, passkey_json, last_used_at, created_at from passkeys \
         where user_id = $1 order by created_at, id",
    )
    .bind(user.to_string())
    .fetch_all(conn)
    .await?;
    raws.into_iter().map(PasskeyRow::try_from).collect()
}

/// Finds a passkey by its WebAuthn credential id.
pub async fn find_passkey_by_credential(conn: &mut Conn, credential_id: &str) -> StoreResult<Option<PasskeyRow>> {
    let raw: Option<RawPasskey> = sqlx::query_as(
        "select id, user_id, credential_id, name, passkey_json, last_used_at, created_at from passkeys \
         where credential_id = $1",
    )
    .bind(credential_id)
    .fetch_optional(conn)
    .await?;
    raw.map(PasskeyRow::try_from).transpose()
}

/// Records a sign-in with the passkey and its updated counter state.
pub async fn update_passkey_use(conn: &mut Conn, id: PasskeyId, passkey_json: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update passkeys set passkey_json = $1, last_used_at = $2, updated_at = $2 where id = $3")
        .bind(passkey_json)
        .bind(now.as_millis())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Renames one of the user's passkeys. Returns false if the user has no such passkey.
pub async fn update_passkey_name(conn: &mut Conn, user: UserId, id: PasskeyId, name: &str, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query("update passkeys set name = $1, updated_at = $2 where id = $3 and user_id = $4")
        .bind(name)
        .bind(now.as_millis())
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes one of the user's passkeys; sessions signed in with it go too (foreign key cascade).
/// Returns false if the user has no such passkey.
pub async fn delete_passkey(conn: &mut Conn, user: UserId, id: PasskeyId) -> StoreResult<bool> {
    let done = sqlx::query("delete from passkeys where id = $1 and user_id = $2")
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
