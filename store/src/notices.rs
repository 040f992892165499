//! Notices shown in the portal (grants given, changed, ending, revoked). Never clinical.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{NoticeId, Timestamp, UserId};

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    /// The notice.
    pub id: NoticeId,
    /// What it says.
    pub text: String,
    /// Where it leads (a path in Carry).
    pub link: String,
    /// When it was dismissed.
    pub read_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawNotice {
    id: String,
    text: String,
    link: String,
    read_at: Option<i64>,
    created_at: i64,
}

/// Adds a notice for a person.
pub async fn insert_notice(conn: &mut Conn, id: NoticeId, user: UserId, text: &str, link: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("insert into notices (id, user_id, text, link, read_at, created_at) values ($1, $2, $3, $4, null, $5)")
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(text)
        .bind(link)
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// A person's newest notices.
pub async fn list_notices(conn: &mut Conn, user: UserId, limit: i64) -> StoreResult<Vec<NoticeRow>> {
    let raw: Vec<RawNotice> = sqlx::query_as(
        "select id, text, link, read_at, created_at from notices where user_id = $1 order by created_at desc, id desc limit $2",
    )
    .bind(user.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    raw.into_iter()
        .map(|r| {
            Ok(NoticeRow {
                id: parse_id("notices.id", &r.id)?,
                text: r.text,
                link: r.link,
                read_at: r.read_at.map(Timestamp::from_millis),
                created_at: Timestamp::from_millis(r.created_at),
            })
        })
        .collect()
}

/// Marks all of a person's notices read.
pub async fn mark_all_read(conn: &mut Conn, user: UserId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update notices set read_at = $2 where user_id = $1 and read_at is null")
        .bind(user.to_string())
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}
