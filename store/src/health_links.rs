//! SMART Health Links: each link as made (its address hashed; its summary encrypted, or its
//! key sealed), where it stands, and the files a manifest named by address for an hour.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::grants::{labels_from_text, labels_to_text};
use domain::{PatientId, PrivacyLabel, Timestamp, UserId};

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    /// Its id (a UUID).
    pub id: String,
    /// Whose summary.
    pub patient_id: PatientId,
    /// Who made it.
    pub made_by: UserId,
    /// Their name (read with it).
    pub made_by_name: String,
    /// What they called it.
    pub label: String,
    /// The labels its summary holds.
    pub labels: Vec<PrivacyLabel>,
    /// The SHA-256 (hex) of the random part of its manifest's address.
    pub manifest_hash: String,
    /// The passcode's Argon2 hash, if it has one.
    pub passcode_hash: Option<String>,
    /// Wrong passcodes still allowed.
    pub attempts_left: i64,
    /// Whether it serves the current summary (`L`): then `sealed_key` is set; otherwise `file`.
    pub long_term: bool,
    /// The link's key sealed under the server's key (long-term links only).
    pub sealed_key: Option<String>,
    /// The summary as made, encrypted under the link's key (other links).
    pub file: Option<String>,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When someone ended it.
    pub ended_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawLink {
    id: String,
    patient_id: String,
    made_by: String,
    made_by_name: String,
    label: String,
    labels: String,
    manifest_hash: String,
    passcode_hash: Option<String>,
    attempts_left: i64,
    long_term: i64,
    sealed_key: Option<String>,
    file: Option<String>,
    expires_at: i64,
    ended_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<RawLink> for LinkRow {
    type Error = StoreError;
    fn try_from(r: RawLink) -> StoreResult<Self> {
        Ok(LinkRow {
            id: r.id,
            patient_id: parse_id("health_links.patient_id", &r.patient_id)?,
            made_by: parse_id("health_links.made_by", &r.made_by)?,
            made_by_name: r.made_by_name,
            label: r.label,
            labels: labels_from_text(&r.labels).ok_or(StoreError::Corrupt { column: "health_links.labels" })?,
            manifest_hash: r.manifest_hash,
            passcode_hash: r.passcode_hash,
            attempts_left: r.attempts_left,
            long_term: r.long_term != 0,
            sealed_key: r.sealed_key,
            file: r.file,
            expires_at: Timestamp::from_millis(r.expires_at),
            ended_at: r.ended_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

const SELECT: &str = "select l.id, l.patient_id, l.made_by, u.display_name as made_by_name, l.label, l.labels, l.manifest_hash, \
     l.passcode_hash, l.attempts_left, l.long_term, l.sealed_key, l.file, l.expires_at, l.ended_at, l.created_at \
     from health_links l join users u on u.id = l.made_by ";

/// Stores a new link.
pub async fn insert_link(conn: &mut Conn, l: &LinkRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into health_links (id, patient_id, made_by, label, labels, manifest_hash, passcode_hash, attempts_left, long_term, \
         sealed_key, file, expires_at, ended_at, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&l.id)
    .bind(l.patient_id.to_string())
    .bind(l.made_by.to_string())
    .bind(&l.label)
    .bind(labels_to_text(&l.labels))
    .bind(&l.manifest_hash)
    .bind(l.passcode_hash.as_deref())
    .bind(l.attempts_left)
    .bind(i64::from(l.long_term))
    .bind(l.sealed_key.as_deref())
    .bind(l.file.as_deref())
    .bind(l.expires_at.as_millis())
    .bind(l.ended_at.map(Timestamp::as_millis))
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The link whose manifest address has this hash.
pub async fn find_by_manifest(conn: &mut Conn, manifest_hash: &str) -> StoreResult<Option<LinkRow>> {
    let row: Option<RawLink> =
        sqlx::query_as(&format!("{SELECT} where l.manifest_hash = $1")).bind(manifest_hash).fetch_optional(conn).await?;
    row.map(LinkRow::try_from).transpose()
}

/// A link by id.
pub async fn find_link(conn: &mut Conn, id: &str) -> StoreResult<Option<LinkRow>> {
    let row: Option<RawLink> = sqlx::query_as(&format!("{SELECT} where l.id = $1")).bind(id).fetch_optional(conn).await?;
    row.map(LinkRow::try_from).transpose()
}

/// A record's links, newest first: every one, or only those `made_by` made.
pub async fn list_links(conn: &mut Conn, patient: PatientId, made_by: Option<UserId>) -> StoreResult<Vec<LinkRow>> {
    let rows: Vec<RawLink> =
        sqlx::query_as(&format!("{SELECT} where l.patient_id = $1 and ($2 = '' or l.made_by = $2) order by l.created_at desc, l.id"))
            .bind(patient.to_string())
            .bind(made_by.map(|u| u.to_string()).unwrap_or_default())
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(LinkRow::try_from).collect()
}

/// Ends a link now; `false` when it had ended already.
pub async fn end_link(conn: &mut Conn, id: &str, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query("update health_links set ended_at = $1, updated_at = $1 where id = $2 and ended_at is null")
        .bind(now.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a wrong passcode against a link, in one statement so that two guesses at once cannot
/// both use the last attempt; the attempts left after it, or `None` when none were left.
pub async fn use_attempt(conn: &mut Conn, id: &str, now: Timestamp) -> StoreResult<Option<i64>> {
    let left: Option<(i64,)> = sqlx::query_as(
        "update health_links set attempts_left = attempts_left - 1, updated_at = $1 where id = $2 and attempts_left > 0 \
         returning attempts_left",
    )
    .bind(now.as_millis())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(left.map(|(n,)| n))
}

/// Stores a file a manifest named by address, for an hour.
pub async fn insert_file(
    conn: &mut Conn,
    token_hash: &str,
    link_id: &str,
    file: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("insert into health_link_files (token_hash, link_id, file, expires_at, created_at) values ($1, $2, $3, $4, $5)")
        .bind(token_hash)
        .bind(link_id)
        .bind(file)
        .bind(expires_at.as_millis())
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// A file named by address that has not expired, with its link's id.
pub async fn find_file(conn: &mut Conn, token_hash: &str, now: Timestamp) -> StoreResult<Option<(String, String)>> {
    Ok(sqlx::query_as("select link_id, file from health_link_files where token_hash = $1 and expires_at > $2")
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(conn)
        .await?)
}

/// Removes files named by address whose hour is up, and those of links that ended.
pub async fn delete_stale_files(conn: &mut Conn, now: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query(
        "delete from health_link_files where expires_at <= $1 \
         or link_id in (select id from health_links where ended_at is not null or expires_at <= $1)",
    )
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// How many links `made_by` made for a record since `since`.
pub async fn count_made_since(conn: &mut Conn, patient: PatientId, made_by: UserId, since: Timestamp) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from health_links where patient_id = $1 and made_by = $2 and created_at >= $3")
        .bind(patient.to_string())
        .bind(made_by.to_string())
        .bind(since.as_millis())
        .fetch_one(conn)
        .await?;
    Ok(n)
}
