//! The mail outbox. Rows are claimed with a lease so that two servers never send one message
//! twice, and a server that dies mid-send leaves the row to be retried after the lease ends.

use crate::{Conn, StoreResult};
use domain::Timestamp;

/// How many times a message is tried before it is left for a person to look at.
pub const MAX_MAIL_ATTEMPTS: i64 = 25;

/// A message waiting to be sent (or sent). Its `Debug` leaves out the body (it may hold a link).
#[derive(Clone, PartialEq, Eq)]
pub struct MailRow {
    /// Random id.
    pub id: String,
    /// Recipient address.
    pub to_address: String,
    /// Subject line (never clinical content).
    pub subject: String,
    /// Plain-text body (never clinical content).
    pub body_text: String,
    /// How many sends have been tried.
    pub attempts: i64,
}

impl std::fmt::Debug for MailRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailRow").field("id", &self.id).field("attempts", &self.attempts).finish_non_exhaustive()
    }
}

/// Queues a message (in the caller's transaction).
pub async fn insert_mail(conn: &mut Conn, id: &str, to: &str, subject: &str, body: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into mail_outbox (id, to_address, subject, body_text, attempts, next_attempt_at, created_at, updated_at) \
         values ($1, $2, $3, $4, 0, $5, $5, $5)",
    )
    .bind(id)
    .bind(to)
    .bind(subject)
    .bind(body)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims the oldest due, unleased message until `lease_until`. Returns None when nothing is due
/// or another worker won the race for the row.
pub async fn claim_due_mail(conn: &mut Conn, now: Timestamp, lease_until: Timestamp) -> StoreResult<Option<MailRow>> {
    let candidate: Option<String> = sqlx::query_scalar(
        "select id from mail_outbox where sent_at is null and next_attempt_at <= $1 and attempts < $2 \
         and (lease_until is null or lease_until <= $1) order by next_attempt_at, id limit 1",
    )
    .bind(now.as_millis())
    .bind(MAX_MAIL_ATTEMPTS)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = candidate else { return Ok(None) };
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
        "update mail_outbox set lease_until = $1, attempts = attempts + 1, updated_at = $2 \
         where id = $3 and sent_at is null and (lease_until is null or lease_until <= $2) \
         returning id, to_address, subject, body_text, attempts",
    )
    .bind(lease_until.as_millis())
    .bind(now.as_millis())
    .bind(&id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, to_address, subject, body_text, attempts)| MailRow { id, to_address, subject, body_text, attempts }))
}

/// Marks a message sent and drops its body (it may hold a sign-in link).
pub async fn update_mail_sent(conn: &mut Conn, id: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update mail_outbox set sent_at = $1, lease_until = null, body_text = '', updated_at = $1 where id = $2")
        .bind(now.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed send and when to try again.
pub async fn update_mail_failed(conn: &mut Conn, id: &str, error: &str, next_attempt_at: Timestamp, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update mail_outbox set lease_until = null, last_error = $1, next_attempt_at = $2, updated_at = $3 where id = $4")
        .bind(error)
        .bind(next_attempt_at.as_millis())
        .bind(now.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Messages not yet sent (for the health of the mail worker and for tests).
pub async fn count_unsent_mail(conn: &mut Conn) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("select count(*) from mail_outbox where sent_at is null").fetch_one(conn).await?)
}

/// Deletes messages sent before `before` (their bodies are already gone).
pub async fn delete_sent_mail(conn: &mut Conn, before: Timestamp) -> StoreResult<u64> {
    let done =
        sqlx::query("delete from mail_outbox where sent_at is not null and sent_at < $1").bind(before.as_millis()).execute(conn).await?;
    Ok(done.rows_affected())
}
