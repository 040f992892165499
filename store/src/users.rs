//! Accounts.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{Timestamp, UserId};

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// The user's id.
    pub id: UserId,
    /// The address as they typed it (domain lower-cased).
    pub email: String,
    /// The name they want shown.
    pub display_name: String,
    /// When the account was made.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawUser {
    id: String,
    email: String,
    display_name: String,
    created_at: i64,
}

impl TryFrom<RawUser> for UserRow {
    type Error = crate::StoreError;
    fn try_from(r: RawUser) -> Result<Self, Self::Error> {
        Ok(UserRow {
            id: parse_id("users.id", &r.id)?,
            email: r.email,
            display_name: r.display_name,
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

/// Adds an account. Fails with `Conflict("users_email_key_unique")` if the address is taken.
pub async fn insert_user(conn: &mut Conn, id: UserId, email: &str, email_key: &str, display_name: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("insert into users (id, email, email_key, display_name, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
        .bind(id.to_string())
        .bind(email)
        .bind(email_key)
        .bind(display_name)
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// Finds an account by its lower-cased address.
pub async fn find_user_by_email_key(conn: &mut Conn, email_key: &str) -> StoreResult<Option<UserRow>> {
    let raw: Option<RawUser> = sqlx::query_as("select id, email, display_name, created_at from users where email_key = $1")
        .bind(email_key)
        .fetch_optional(conn)
        .await?;
    raw.map(UserRow::try_from).transpose()
}

/// Finds an account by id.
pub async fn find_user(conn: &mut Conn, id: UserId) -> StoreResult<Option<UserRow>> {
    let raw: Option<RawUser> = sqlx::query_as("select id, email, display_name, created_at from users where id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    raw.map(UserRow::try_from).transpose()
}

/// Touches the user's row inside a transaction so that concurrent changes to the same account's
/// ways of signing in queue behind each other (a row lock on PostgreSQL; SQLite has one writer).
pub async fn lock_user(conn: &mut Conn, id: UserId, now: Timestamp) -> StoreResult<bool> {
    let done =
        sqlx::query("update users set updated_at = $1 where id = $2").bind(now.as_millis()).bind(id.to_string()).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}
