//! Counters behind sign-in throttling: consecutive failures per account key, and fixed-window
//! hit counts per client address.

use crate::{Conn, StoreResult};
use domain::Timestamp;

/// Counts one attempt against the key before it is checked, atomically, and returns the new
/// count with the time of the attempt before it. Concurrent attempts each see a distinct count
/// and the time of the one before, so sending guesses in parallel gains nothing.
pub async fn insert_attempt(conn: &mut Conn, account_key: &str, now: Timestamp) -> StoreResult<(i64, Option<Timestamp>)> {
    let (n, previous): (i64, Option<i64>) = sqlx::query_as(
        "insert into sign_in_failures (account_key, failures, last_failure_at, previous_failure_at, created_at, updated_at) \
         values ($1, 1, $2, null, $2, $2) \
         on conflict (account_key) do update set failures = sign_in_failures.failures + 1, \
         previous_failure_at = sign_in_failures.last_failure_at, last_failure_at = excluded.last_failure_at, \
         updated_at = excluded.updated_at returning failures, previous_failure_at",
    )
    .bind(account_key)
    .bind(now.as_millis())
    .fetch_one(conn)
    .await?;
    Ok((n, previous.map(Timestamp::from_millis)))
}

/// Consecutive failures for the key and when the last one was.
pub async fn find_failures(conn: &mut Conn, account_key: &str) -> StoreResult<Option<(i64, Timestamp)>> {
    let row: Option<(i64, i64)> = sqlx::query_as("select failures, last_failure_at from sign_in_failures where account_key = $1")
        .bind(account_key)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(n, at)| (n, Timestamp::from_millis(at))))
}

/// Forgets the key's failures (after a success or a recovery).
pub async fn delete_failures(conn: &mut Conn, account_key: &str) -> StoreResult<()> {
    sqlx::query("delete from sign_in_failures where account_key = $1").bind(account_key).execute(conn).await?;
    Ok(())
}

/// Counts one hit in the bucket's window and returns the window's total so far.
pub async fn insert_hit(conn: &mut Conn, bucket: &str, window_start: Timestamp, now: Timestamp) -> StoreResult<i64> {
    let n: i64 = sqlx::query_scalar(
        "insert into rate_windows (bucket, window_start, hits, created_at, updated_at) values ($1, $2, 1, $3, $3) \
         on conflict (bucket, window_start) do update set hits = rate_windows.hits + 1, updated_at = excluded.updated_at \
         returning hits",
    )
    .bind(bucket)
    .bind(window_start.as_millis())
    .bind(now.as_millis())
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Forgets counts below `below` whose last attempt was before `before` (a quiet day resets an
/// account's count; a count at the hard stop stays until recovery).
pub async fn delete_stale_failures(conn: &mut Conn, before: Timestamp, below: i64) -> StoreResult<u64> {
    let done = sqlx::query("delete from sign_in_failures where last_failure_at < $1 and failures < $2")
        .bind(before.as_millis())
        .bind(below)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Drops windows that ended before `before`.
pub async fn delete_old_windows(conn: &mut Conn, before: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("delete from rate_windows where window_start < $1").bind(before.as_millis()).execute(conn).await?;
    Ok(done.rows_affected())
}
