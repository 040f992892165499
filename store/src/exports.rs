//! Copies of records prepared to download: the queue the export worker takes them from, and
//! where each stands.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::exports::ExportStatus;
use domain::grants::{labels_from_text, labels_to_text};
use domain::{PatientId, PrivacyLabel, Timestamp, UserId};

/// A copy as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    /// Its id (a UUID; its files are named by it).
    pub id: String,
    /// Whose record.
    pub patient_id: PatientId,
    /// Who asked for it.
    pub requested_by: UserId,
    /// The labels it holds.
    pub labels: Vec<PrivacyLabel>,
    /// Whether it holds the access log.
    pub with_access_log: bool,
    /// Where it stands.
    pub status: ExportStatus,
    /// Items written so far.
    pub done: i64,
    /// Items in all (an estimate until ready).
    pub total: i64,
    /// Why it failed.
    pub failure: Option<String>,
    /// The sizes of its files once ready: the FHIR Bundle, the readable document.
    pub sizes: Option<(i64, i64)>,
    /// When it and its files are removed (set when it is ready or failed).
    pub expires_at: Option<Timestamp>,
    /// When it was asked for.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawExport {
    id: String,
    patient_id: String,
    requested_by: String,
    labels: String,
    with_access_log: i64,
    status: String,
    done: i64,
    total: i64,
    failure: Option<String>,
    fhir_bytes: Option<i64>,
    readable_bytes: Option<i64>,
    expires_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<RawExport> for ExportRow {
    type Error = StoreError;
    fn try_from(r: RawExport) -> StoreResult<Self> {
        Ok(ExportRow {
            id: r.id,
            patient_id: parse_id("exports.patient_id", &r.patient_id)?,
            requested_by: parse_id("exports.requested_by", &r.requested_by)?,
            labels: labels_from_text(&r.labels).ok_or(StoreError::Corrupt { column: "exports.labels" })?,
            with_access_log: r.with_access_log != 0,
            status: ExportStatus::from_slug(&r.status).ok_or(StoreError::Corrupt { column: "exports.status" })?,
            done: r.done,
            total: r.total,
            failure: r.failure,
            sizes: r.fhir_bytes.zip(r.readable_bytes),
            expires_at: r.expires_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

const SELECT: &str = "select id, patient_id, requested_by, labels, with_access_log, status, done, total, failure, fhir_bytes, \
                      readable_bytes, expires_at, created_at from exports ";

/// Queues a copy to prepare.
pub async fn insert_export(conn: &mut Conn, row: &ExportRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into exports (id, patient_id, requested_by, labels, with_access_log, status, done, total, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, 0, 0, $7, $7)",
    )
    .bind(&row.id)
    .bind(row.patient_id.to_string())
    .bind(row.requested_by.to_string())
    .bind(labels_to_text(&row.labels))
    .bind(i64::from(row.with_access_log))
    .bind(row.status.slug())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// One copy, if it exists (whoever asked for it: the service checks that).
pub async fn find_export(conn: &mut Conn, id: &str) -> StoreResult<Option<ExportRow>> {
    let row: Option<RawExport> = sqlx::query_as(&format!("{SELECT} where id = $1")).bind(id).fetch_optional(conn).await?;
    row.map(ExportRow::try_from).transpose()
}

/// The copies of one record one person asked for and that are still kept, newest first.
pub async fn list_exports(conn: &mut Conn, requested_by: UserId, patient: PatientId) -> StoreResult<Vec<ExportRow>> {
    let rows: Vec<RawExport> =
        sqlx::query_as(&format!("{SELECT} where requested_by = $1 and patient_id = $2 order by created_at desc, id desc limit 20"))
            .bind(requested_by.to_string())
            .bind(patient.to_string())
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(ExportRow::try_from).collect()
}

/// Takes the oldest queued copy for preparing, if any: it is `running` from now on.
pub async fn claim_queued(conn: &mut Conn, now: Timestamp) -> StoreResult<Option<ExportRow>> {
    let next: Option<(String,)> =
        sqlx::query_as("select id from exports where status = 'queued' order by created_at, id limit 1").fetch_optional(&mut *conn).await?;
    let Some((id,)) = next else { return Ok(None) };
    let taken = sqlx::query("update exports set status = 'running', updated_at = $2 where id = $1 and status = 'queued'")
        .bind(&id)
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if taken == 0 {
        return Ok(None);
    }
    find_export(conn, &id).await
}

/// Puts copies left `running` by a server that stopped back in the queue (at start-up).
pub async fn requeue_running(conn: &mut Conn, now: Timestamp) -> StoreResult<u64> {
    Ok(sqlx::query("update exports set status = 'queued', done = 0, updated_at = $1 where status = 'running'")
        .bind(now.as_millis())
        .execute(conn)
        .await?
        .rows_affected())
}

/// How far preparing a copy has got.
pub async fn update_progress(conn: &mut Conn, id: &str, done: i64, total: i64, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update exports set done = $2, total = $3, updated_at = $4 where id = $1")
        .bind(id)
        .bind(done)
        .bind(total)
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// A copy is ready: its files' sizes, and when it is removed.
pub async fn update_ready(conn: &mut Conn, id: &str, sizes: (i64, i64), expires_at: Timestamp, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "update exports set status = 'ready', done = total, fhir_bytes = $2, readable_bytes = $3, expires_at = $4, updated_at = $5 \
         where id = $1",
    )
    .bind(id)
    .bind(sizes.0)
    .bind(sizes.1)
    .bind(expires_at.as_millis())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// A copy could not be prepared.
pub async fn update_failed(conn: &mut Conn, id: &str, failure: &str, expires_at: Timestamp, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update exports set status = 'failed', failure = $2, expires_at = $3, updated_at = $4 where id = $1")
        .bind(id)
        .bind(failure)
        .bind(expires_at.as_millis())
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes copies whose time is up; returns their ids, so their files can go too.
pub async fn delete_expired(conn: &mut Conn, now: Timestamp) -> StoreResult<Vec<String>> {
    let ids: Vec<(String,)> = sqlx::query_as("select id from exports where expires_at is not null and expires_at <= $1")
        .bind(now.as_millis())
        .fetch_all(&mut *conn)
        .await?;
    for (id,) in &ids {
        sqlx::query("delete from exports where id = $1").bind(id).execute(&mut *conn).await?;
    }
    Ok(ids.into_iter().map(|(id,)| id).collect())
}
