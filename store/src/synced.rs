//! What the shared care record holds about each linked record (pulled, upserted by id and
//! version, removed when deleted there), and each record's pull: due time, watermark, lease and
//! progress. Every read takes the record's id and the labels the caller may see.

use crate::entries::label_slots;
use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::access::{synced_levels, Permit};
use domain::care_record::{Confidentiality, Origin, Section};
use domain::{PatientId, PrivacyLabel, Timestamp};

/// One pulled resource, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    /// The FHIR type.
    pub resource_type: String,
    /// Its id there.
    pub remote_id: String,
    /// Its version there.
    pub version_id: String,
    /// `meta.lastUpdated` there.
    pub last_updated: Option<String>,
    /// Where it is shown.
    pub section: Section,
    /// What it is.
    pub title: String,
    /// More, in words.
    pub detail: Option<String>,
    /// When (ISO 8601 text, as the record gives it).
    pub occurred: Option<String>,
    /// The organisation it came from.
    pub source: Option<String>,
    /// The badge.
    pub origin: Origin,
    /// Its privacy label.
    pub label: PrivacyLabel,
    /// Who beyond the label may see it.
    pub confidentiality: Confidentiality,
    /// The source's security codings, as given (`code (system)`).
    pub security_codes: Vec<String>,
    /// A numeric result: (`system|code`, value, unit).
    pub measure: Option<(String, f64, String)>,
}

/// Stores a pulled resource: inserted, or replaced when its version differs. Returns whether
/// anything changed (an overlapping window brings the same versions again: they change nothing).
pub async fn upsert_item(conn: &mut Conn, patient: PatientId, item: &ItemRow, resource_json: &str, now: Timestamp) -> StoreResult<bool> {
    // The value is always bound as a number (0 without a measure, where the code is null):
    // sqlx's Any driver sends a null float to PostgreSQL in a format it refuses.
    let (code, value, unit) = match &item.measure {
        Some((c, v, u)) => (Some(c.as_str()), *v, Some(u.as_str())),
        None => (None, 0.0, None),
    };
    let done = sqlx::query(
        "insert into care_record_items (patient_id, resource_type, remote_id, version_id, last_updated, section, title, detail, \
         occurred, source, origin, label, measure_code, measure_value, measure_unit, resource, created_at, updated_at, confidentiality, \
         security_codes) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19) \
         on conflict (patient_id, resource_type, remote_id) do update set version_id = excluded.version_id, \
         last_updated = excluded.last_updated, section = excluded.section, title = excluded.title, detail = excluded.detail, \
         occurred = excluded.occurred, source = excluded.source, origin = excluded.origin, label = excluded.label, \
         measure_code = excluded.measure_code, measure_value = excluded.measure_value, measure_unit = excluded.measure_unit, \
         resource = excluded.resource, updated_at = excluded.updated_at, confidentiality = excluded.confidentiality, \
         security_codes = excluded.security_codes \
         where care_record_items.version_id <> excluded.version_id or care_record_items.confidentiality = 'unchecked'",
    )
    .bind(patient.to_string())
    .bind(&item.resource_type)
    .bind(&item.remote_id)
    .bind(&item.version_id)
    .bind(&item.last_updated)
    .bind(item.section.slug())
    .bind(&item.title)
    .bind(&item.detail)
    .bind(&item.occurred)
    .bind(&item.source)
    .bind(item.origin.slug())
    .bind(item.label.slug())
    .bind(code)
    .bind(value)
    .bind(unit)
    .bind(resource_json)
    .bind(now.as_millis())
    .bind(item.confidentiality.slug())
    .bind(codes_text(&item.security_codes))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes a resource the shared care record deleted. Returns whether there was one.
pub async fn delete_item(conn: &mut Conn, patient: PatientId, resource_type: &str, remote_id: &str) -> StoreResult<bool> {
    let done = sqlx::query("delete from care_record_items where patient_id = $1 and resource_type = $2 and remote_id = $3")
        .bind(patient.to_string())
        .bind(resource_type)
        .bind(remote_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes everything pulled for a record (its match changed: what was pulled may be another
/// person's).
pub async fn delete_items_of(conn: &mut Conn, patient: PatientId) -> StoreResult<()> {
    sqlx::query("delete from care_record_items where patient_id = $1").bind(patient.to_string()).execute(conn).await?;
    Ok(())
}

type RawItem = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<f64>,
    Option<String>,
    String,
    Option<String>,
);

/// A record's items the permit may see (its labels, and the confidentiality levels the policy
/// gives its role), by section, newest first.
pub async fn list_items(conn: &mut Conn, permit: &Permit) -> StoreResult<Vec<ItemRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let levels = synced_levels(permit.role());
    let level = |i: usize| levels.get(i).map_or("", |c| c.slug());
    let rows: Vec<RawItem> = sqlx::query_as(
        "select resource_type, remote_id, version_id, last_updated, section, title, detail, occurred, source, origin, label, \
         measure_code, measure_value, measure_unit, confidentiality, security_codes from care_record_items \
         where patient_id = $1 and label in ($2, $3, $4, $5) and confidentiality in ($6, $7, $8) \
         order by section, occurred desc, title, remote_id",
    )
    .bind(permit.patient().to_string())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .bind(level(0))
    .bind(level(1))
    .bind(level(2))
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(rtype, id, version, updated, section, title, detail, occurred, source, origin, label, code, value, unit, conf, codes)| {
            Ok(ItemRow {
                resource_type: rtype,
                remote_id: id,
                version_id: version,
                last_updated: updated,
                section: Section::parse(&section).ok_or(StoreError::Corrupt { column: "care_record_items.section" })?,
                title,
                detail,
                occurred,
                source,
                origin: Origin::parse(&origin).ok_or(StoreError::Corrupt { column: "care_record_items.origin" })?,
                label: PrivacyLabel::parse("label", &label).map_err(|_| StoreError::Corrupt { column: "care_record_items.label" })?,
                confidentiality: Confidentiality::parse(&conf)
                    .ok_or(StoreError::Corrupt { column: "care_record_items.confidentiality" })?,
                security_codes: codes.map(|c| c.lines().map(str::to_owned).collect()).unwrap_or_default(),
                measure: match (code, value, unit) {
                    (Some(c), Some(v), u) => Some((c, v, u.unwrap_or_default())),
                    _ => None,
                },
            })
        })
        .collect()
}

/// The security codings as stored: one per line, none as null.
fn codes_text(codes: &[String]) -> Option<String> {
    (!codes.is_empty()).then(|| codes.join("\n"))
}

/// Items pulled before Carry kept their confidentiality, at most `limit`: the record, the
/// type, the id and the resource as stored, to be read again.
pub async fn list_unchecked_items(conn: &mut Conn, limit: i64) -> StoreResult<Vec<(PatientId, String, String, String)>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "select patient_id, resource_type, remote_id, resource from care_record_items where confidentiality = 'unchecked' \
         order by patient_id, resource_type, remote_id limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|(p, t, id, json)| Ok((parse_id("care_record_items.patient_id", &p)?, t, id, json))).collect()
}

/// What an item's security codings mean, read again from its stored resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSecurity {
    /// Its privacy label.
    pub label: PrivacyLabel,
    /// Who beyond the label may see it.
    pub confidentiality: Confidentiality,
    /// The codings as the source gave them.
    pub codes: Vec<String>,
}

/// Sets an item's label and confidentiality.
pub async fn update_item_security(
    conn: &mut Conn,
    patient: PatientId,
    resource_type: &str,
    remote_id: &str,
    security: &ItemSecurity,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "update care_record_items set label = $4, confidentiality = $5, security_codes = $6, updated_at = $7 \
         where patient_id = $1 and resource_type = $2 and remote_id = $3",
    )
    .bind(patient.to_string())
    .bind(resource_type)
    .bind(remote_id)
    .bind(security.label.slug())
    .bind(security.confidentiality.slug())
    .bind(codes_text(&security.codes))
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// How many items a record has (all labels), by type: for tests and the import benchmark.
pub async fn count_items(conn: &mut Conn, patient: PatientId) -> StoreResult<i64> {
    let n: i64 = sqlx::query_scalar("select count(*) from care_record_items where patient_id = $1")
        .bind(patient.to_string())
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// A record's pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRow {
    /// The record.
    pub patient_id: PatientId,
    /// The largest `meta.lastUpdated` seen, in the shared care record's clock.
    pub watermark: Option<String>,
    /// When the next pull is due.
    pub due_at: Timestamp,
    /// Held by a running pull until then.
    pub lease_until: Option<Timestamp>,
    /// Kinds of resource done, of all, in the running pull.
    pub progress: (i64, i64),
    /// The last pull that finished.
    pub last_success_at: Option<Timestamp>,
    /// The last failure (cleared by a success).
    pub last_error: Option<String>,
}

type RawSync = (String, Option<String>, i64, Option<i64>, i64, i64, Option<i64>, Option<String>);

fn sync_row(r: RawSync) -> StoreResult<SyncRow> {
    let (patient, watermark, due, lease, done, total, success, error) = r;
    Ok(SyncRow {
        patient_id: parse_id("care_record_sync.patient_id", &patient)?,
        watermark,
        due_at: Timestamp::from_millis(due),
        lease_until: lease.map(Timestamp::from_millis),
        progress: (done, total),
        last_success_at: success.map(Timestamp::from_millis),
        last_error: error,
    })
}

macro_rules! SYNC_SELECT {
    () => {
        "select patient_id, watermark, due_at, lease_until, progress_done, progress_total, last_success_at, last_error \
         from care_record_sync where patient_id = $1"
    };
}

/// A record's pull, if it has one.
pub async fn find_sync(conn: &mut Conn, patient: PatientId) -> StoreResult<Option<SyncRow>> {
    let row: Option<RawSync> = sqlx::query_as(SYNC_SELECT!()).bind(patient.to_string()).fetch_optional(conn).await?;
    row.map(sync_row).transpose()
}

/// Gives every record linked to a practice a pull (due now) if it has none yet.
pub async fn insert_missing_syncs(conn: &mut Conn, now: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query(
        "insert into care_record_sync (patient_id, due_at, progress_done, progress_total, created_at, updated_at) \
         select l.patient_id, $1, 0, 0, $1, $1 from practice_links l where l.status = 'linked' \
         and not exists (select 1 from care_record_sync s where s.patient_id = l.patient_id)",
    )
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Makes a record's pull due now (the patient asked, or the record was just linked).
pub async fn request_sync(conn: &mut Conn, patient: PatientId, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into care_record_sync (patient_id, due_at, progress_done, progress_total, created_at, updated_at) \
         values ($1, $2, 0, 0, $2, $2) on conflict (patient_id) do update set due_at = excluded.due_at, updated_at = excluded.updated_at",
    )
    .bind(patient.to_string())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a record's watermark, so its next pull is a full one (its match changed).
pub async fn reset_sync(conn: &mut Conn, patient: PatientId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update care_record_sync set watermark = null, due_at = $1, updated_at = $1 where patient_id = $2")
        .bind(now.as_millis())
        .bind(patient.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims the longest-due record whose pull is not leased, until `lease_until`, for a pull of
/// `total` kinds. None when nothing is due or another server won the race.
pub async fn claim_due_sync(conn: &mut Conn, now: Timestamp, lease_until: Timestamp, total: i64) -> StoreResult<Option<SyncRow>> {
    let candidate: Option<String> = sqlx::query_scalar(
        "select patient_id from care_record_sync where due_at <= $1 and (lease_until is null or lease_until <= $1) \
         order by due_at, patient_id limit 1",
    )
    .bind(now.as_millis())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(patient) = candidate else { return Ok(None) };
    let claimed = sqlx::query(
        "update care_record_sync set lease_until = $1, progress_done = 0, progress_total = $2, updated_at = $3 \
         where patient_id = $4 and (lease_until is null or lease_until <= $3)",
    )
    .bind(lease_until.as_millis())
    .bind(total)
    .bind(now.as_millis())
    .bind(&patient)
    .execute(&mut *conn)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(None);
    }
    let row: Option<RawSync> = sqlx::query_as(SYNC_SELECT!()).bind(&patient).fetch_optional(conn).await?;
    row.map(sync_row).transpose()
}

/// Records how far a running pull is, and extends its lease.
pub async fn update_sync_progress(
    conn: &mut Conn,
    patient: PatientId,
    done: i64,
    lease_until: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("update care_record_sync set progress_done = $1, lease_until = $2, updated_at = $3 where patient_id = $4")
        .bind(done)
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .bind(patient.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a pull that finished: the new watermark (kept when `None`), the next due time.
pub async fn update_sync_done(
    conn: &mut Conn,
    patient: PatientId,
    watermark: Option<&str>,
    next: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "update care_record_sync set watermark = coalesce($1, watermark), due_at = $2, lease_until = null, progress_done = 0, \
         progress_total = 0, last_success_at = $3, last_error = null, updated_at = $3 where patient_id = $4",
    )
    .bind(watermark)
    .bind(next.as_millis())
    .bind(now.as_millis())
    .bind(patient.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a pull that failed: the reason, and when to try again. The watermark stays, so the
/// next pull starts where the last good one ended.
pub async fn update_sync_failed(conn: &mut Conn, patient: PatientId, error: &str, next: Timestamp, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "update care_record_sync set due_at = $1, lease_until = null, progress_done = 0, progress_total = 0, last_error = $2, \
         updated_at = $3 where patient_id = $4",
    )
    .bind(next.as_millis())
    .bind(error)
    .bind(now.as_millis())
    .bind(patient.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
