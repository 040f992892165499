//! Password hashes (argon2id PHC strings). Plain passwords never reach the store.

use crate::{Conn, StoreResult};
use domain::{Timestamp, UserId};

/// Sets or replaces a user's password hash.
pub async fn upsert_password(conn: &mut Conn, user: UserId, phc: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into passwords (user_id, phc, created_at, updated_at) values ($1, $2, $3, $3) \
         on conflict (user_id) do update set phc = excluded.phc, updated_at = excluded.updated_at",
    )
    .bind(user.to_string())
    .bind(phc)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's password hash and when it was set, if they have a password.
pub async fn find_password(conn: &mut Conn, user: UserId) -> StoreResult<Option<(String, Timestamp)>> {
    let row: Option<(String, i64)> =
        sqlx::query_as("select phc, updated_at from passwords where user_id = $1").bind(user.to_string()).fetch_optional(conn).await?;
    Ok(row.map(|(phc, at)| (phc, Timestamp::from_millis(at))))
}

/// Removes the user's password. Returns whether there was one.
pub async fn delete_password(conn: &mut Conn, user: UserId) -> StoreResult<bool> {
    let done = sqlx::query("delete from passwords where user_id = $1").bind(user.to_string()).execute(conn).await?;
    Ok(done.rows_affected() > 0)
}
