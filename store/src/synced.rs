//! What the shared care record holds about each linked record (pulled, upserted by id and
//! version, removed when deleted there), and each record's pull: due time, watermark, lease and
//! progress. Every read takes the record's id and the labels the caller may see.

use crate::entries::label_slots;
use crate::error::parse_id;
use crate::shared::AnyQuery;
use crate::{Conn, StoreError, StoreResult};
use domain::access::{synced_levels, Permit};
use domain::care_record::{Confidentiality, Origin, Section, Standing, SyncedItem, SyncedMeasure};
use domain::{PatientId, PrivacyLabel, Timestamp};
use std::collections::{HashMap, HashSet};

/// Rows per insert statement: 25 parameters each, far below either database's limit.
const ROWS_PER_STATEMENT: usize = 100;

/// Stores pulled resources, each as what Carry read from it and its text exactly as the server
/// sent it: inserted, or replaced when its version differs (or, from a server that gives no
/// versions, when its text does), or when it was stored before Carry read resources as it does
/// now. A resource given twice is stored as given last. Returns how many changed (an
/// overlapping window brings the same versions again: they change nothing). One statement for
/// many resources: a pull's time is not spent on round trips to the database.
pub async fn upsert_items(conn: &mut Conn, patient: PatientId, items: &[(SyncedItem, &str)], now: Timestamp) -> StoreResult<u64> {
    // The last of each id, in the order given (one statement may not touch a row twice).
    let mut last = HashMap::new();
    for (i, (item, _)) in items.iter().enumerate() {
        last.insert((item.resource_type.as_str(), item.remote_id.as_str()), i);
    }
    let unique: Vec<&(SyncedItem, &str)> = items
        .iter()
        .enumerate()
        .filter(|(i, (item, _))| last[&(item.resource_type.as_str(), item.remote_id.as_str())] == *i)
        .map(|(_, r)| r)
        .collect();
    let patient = patient.to_string();
    let numbered = conn.backend_name() != "SQLite";
    let mut changed = 0;
    for chunk in unique.chunks(ROWS_PER_STATEMENT) {
        let sql = upsert_sql(chunk.len(), numbered);
        let mut query = sqlx::query(&sql);
        for (item, resource_json) in chunk {
            // The value is always bound as a number (0 without a measure, where the code is
            // null): sqlx's Any driver sends a null float to PostgreSQL in a format it refuses.
            let m = item.measure.as_ref();
            query = query
                .bind(&patient)
                .bind(now.as_millis())
                .bind(now.as_millis())
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
                .bind(m.map(|m| m.code.as_str()))
                .bind(m.map_or(0.0, |m| m.value))
                .bind(m.map(|m| m.unit.as_str()))
                .bind(*resource_json)
                .bind(item.confidentiality.slug())
                .bind(codes_text(&item.security_codes))
                .bind(item.standing.slug())
                .bind(&item.quarantine_reason)
                .bind(item.occurred_at)
                .bind(m.map(|m| m.text.as_str()))
                .bind(m.and_then(|m| m.ucum.as_deref()));
        }
        changed += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(changed)
}

/// The upsert of `rows` items, each row's 25 values in order. PostgreSQL's parameters are
/// numbered (`$1`); SQLite's are anonymous (`?`): sqlx asks SQLite each parameter's name, and
/// SQLite finds a named one by a scan of them all, so binding numbered ones there took time
/// quadratic in the statement's parameters (most of a pull's own time at 100 rows).
fn upsert_sql(rows: usize, numbered: bool) -> String {
    const PER_ROW: usize = 25;
    let mut sql = String::from(
        "insert into care_record_items (patient_id, created_at, updated_at, resource_type, remote_id, version_id, last_updated, \
         section, title, detail, occurred, source, origin, label, measure_code, measure_value, measure_unit, resource, \
         confidentiality, security_codes, standing, quarantine_reason, occurred_at, measure_text, measure_ucum) values ",
    );
    for row in 0..rows {
        let first = 1 + row * PER_ROW;
        let values: Vec<String> = (first..first + PER_ROW).map(|n| if numbered { format!("${n}") } else { "?".to_owned() }).collect();
        sql.push_str(if row == 0 { "(" } else { ", (" });
        sql.push_str(&values.join(", "));
        sql.push(')');
    }
    sql.push_str(
        " on conflict (patient_id, resource_type, remote_id) do update set version_id = excluded.version_id, \
         last_updated = excluded.last_updated, section = excluded.section, title = excluded.title, detail = excluded.detail, \
         occurred = excluded.occurred, source = excluded.source, origin = excluded.origin, label = excluded.label, \
         measure_code = excluded.measure_code, measure_value = excluded.measure_value, measure_unit = excluded.measure_unit, \
         resource = excluded.resource, updated_at = excluded.updated_at, confidentiality = excluded.confidentiality, \
         security_codes = excluded.security_codes, standing = excluded.standing, quarantine_reason = excluded.quarantine_reason, \
         occurred_at = excluded.occurred_at, measure_text = excluded.measure_text, measure_ucum = excluded.measure_ucum \
         where care_record_items.version_id <> excluded.version_id \
         or (excluded.version_id = '' and care_record_items.resource <> excluded.resource) \
         or care_record_items.confidentiality = 'unchecked'",
    );
    sql
}

/// The versions of a record's items of one type that Carry has read as it reads them now, by
/// id: a pull need not read these versions again.
pub async fn held_versions(conn: &mut Conn, patient: PatientId, resource_type: &str) -> StoreResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select remote_id, version_id from care_record_items where patient_id = $1 and resource_type = $2 \
         and confidentiality <> 'unchecked' and version_id <> ''",
    )
    .bind(patient.to_string())
    .bind(resource_type)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Keeps a stored item from everyone, with the reason, when its stored resource can no longer
/// be read (it is counted as an item that could not be shown).
pub async fn quarantine_item(
    conn: &mut Conn,
    patient: PatientId,
    resource_type: &str,
    remote_id: &str,
    reason: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "update care_record_items set standing = 'quarantined', quarantine_reason = $4, confidentiality = 'no-patient', title = '', \
         detail = null, measure_code = null, updated_at = $5 where patient_id = $1 and resource_type = $2 and remote_id = $3",
    )
    .bind(patient.to_string())
    .bind(resource_type)
    .bind(remote_id)
    .bind(reason)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
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

/// Which of `types` a record holds any item of, in one query (an index seek each): a pull asks
/// this once, not once per type.
pub async fn held_types(conn: &mut Conn, patient: PatientId, types: &[&str]) -> StoreResult<HashSet<String>> {
    if types.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = (0..types.len())
        .map(|i| {
            let n = i + 2;
            format!(
                "select cast(${n} as text) where exists (select 1 from care_record_items where patient_id = $1 and resource_type = ${n})"
            )
        })
        .collect::<Vec<_>>()
        .join(" union all ");
    let mut query = sqlx::query_scalar(&sql).bind(patient.to_string());
    for t in types {
        query = query.bind(*t);
    }
    let held: Vec<String> = query.fetch_all(conn).await?;
    Ok(held.into_iter().collect())
}

/// The ids of a record's items of one type (every standing): what deletions are checked against.
pub async fn list_item_ids(conn: &mut Conn, patient: PatientId, resource_type: &str) -> StoreResult<Vec<String>> {
    let ids: Vec<String> = sqlx::query_scalar("select remote_id from care_record_items where patient_id = $1 and resource_type = $2")
        .bind(patient.to_string())
        .bind(resource_type)
        .fetch_all(conn)
        .await?;
    Ok(ids)
}

/// Removes everything pulled for a record (its match changed: what was pulled may be another
/// person's).
pub async fn delete_items_of(conn: &mut Conn, patient: PatientId) -> StoreResult<()> {
    sqlx::query("delete from care_record_items where patient_id = $1").bind(patient.to_string()).execute(conn).await?;
    Ok(())
}

/// The columns a listed item is read from.
#[derive(sqlx::FromRow)]
struct RawItem {
    resource_type: String,
    remote_id: String,
    version_id: String,
    last_updated: Option<String>,
    section: String,
    title: String,
    detail: Option<String>,
    occurred: Option<String>,
    occurred_at: Option<i64>,
    source: Option<String>,
    origin: String,
    label: String,
    measure_code: Option<String>,
    measure_value: Option<f64>,
    measure_unit: Option<String>,
    measure_text: Option<String>,
    measure_ucum: Option<String>,
    confidentiality: String,
    security_codes: Option<String>,
}

impl RawItem {
    fn read(self) -> StoreResult<SyncedItem> {
        let measure = match (self.measure_code, self.measure_value) {
            (Some(code), Some(value)) => Some(SyncedMeasure {
                code,
                value,
                text: self.measure_text.unwrap_or_else(|| value.to_string()),
                unit: self.measure_unit.unwrap_or_default(),
                ucum: self.measure_ucum,
            }),
            _ => None,
        };
        Ok(SyncedItem {
            resource_type: self.resource_type,
            remote_id: self.remote_id,
            version_id: self.version_id,
            last_updated: self.last_updated,
            section: Section::parse(&self.section).ok_or(StoreError::Corrupt { column: "care_record_items.section" })?,
            standing: Standing::Current,
            quarantine_reason: None,
            title: self.title,
            detail: self.detail,
            occurred: self.occurred,
            occurred_at: self.occurred_at,
            source: self.source,
            origin: Origin::parse(&self.origin).ok_or(StoreError::Corrupt { column: "care_record_items.origin" })?,
            label: PrivacyLabel::parse("label", &self.label).map_err(|_| StoreError::Corrupt { column: "care_record_items.label" })?,
            confidentiality: Confidentiality::parse(&self.confidentiality)
                .ok_or(StoreError::Corrupt { column: "care_record_items.confidentiality" })?,
            security_codes: self.security_codes.map(|c| c.lines().map(str::to_owned).collect()).unwrap_or_default(),
            measure,
        })
    }
}

/// The condition that keeps a record's items to the permit's labels ($2 to $5) and the
/// confidentiality levels the policy gives its role ($6 to $8); $1 is the record.
macro_rules! permitted_items {
    () => {
        "patient_id = $1 and label in ($2, $3, $4, $5) and confidentiality in ($6, $7, $8)"
    };
}

/// Binds [`permitted_items!`]'s parameters for a permit.
fn bind_permitted<'q, O>(query: AnyQuery<'q, O>, permit: &Permit) -> AnyQuery<'q, O> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let levels = synced_levels(permit.role());
    let level = |i: usize| levels.get(i).map_or("", |c| c.slug());
    query.bind(permit.patient().to_string()).bind(l1).bind(l2).bind(l3).bind(l4).bind(level(0)).bind(level(1)).bind(level(2))
}

/// A record's current items the permit may see (its labels, and the confidentiality levels
/// the policy gives its role), by section, newest first as instants.
pub async fn list_items(conn: &mut Conn, permit: &Permit) -> StoreResult<Vec<SyncedItem>> {
    let query = sqlx::query_as(concat!(
        "select resource_type, remote_id, version_id, last_updated, section, title, detail, occurred, occurred_at, source, origin, \
         label, measure_code, measure_value, measure_unit, measure_text, measure_ucum, confidentiality, security_codes \
         from care_record_items where ",
        permitted_items!(),
        " and standing = 'current' order by section, occurred_at desc nulls last, title, remote_id"
    ));
    let rows: Vec<RawItem> = bind_permitted(query, permit).fetch_all(conn).await?;
    rows.into_iter().map(RawItem::read).collect()
}

/// How many current items within the permit a record holds.
pub async fn count_visible(conn: &mut Conn, permit: &Permit) -> StoreResult<i64> {
    let (n,) = bind_permitted(
        sqlx::query_as(concat!("select count(*) from care_record_items where ", permitted_items!(), " and standing = 'current'")),
        permit,
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// A pulled resource as the shared care record sent it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldResource {
    /// Its FHIR type.
    pub resource_type: String,
    /// Its id there.
    pub remote_id: String,
    /// The resource (JSON).
    pub resource: String,
}

/// Up to `limit` current items within the permit, as the resources the server sent, in type
/// and id order after `after` (a type and id).
pub async fn list_resources(conn: &mut Conn, permit: &Permit, after: Option<(&str, &str)>, limit: i64) -> StoreResult<Vec<HeldResource>> {
    let (after_type, after_id) = after.unwrap_or(("", ""));
    let query = sqlx::query_as(concat!(
        "select resource_type, remote_id, resource from care_record_items where ",
        permitted_items!(),
        " and standing = 'current' and (resource_type > $9 or (resource_type = $9 and remote_id > $10)) order by resource_type, remote_id limit $11"
    ));
    Ok(bind_permitted(query, permit).bind(after_type).bind(after_id).bind(limit).fetch_all(conn).await?)
}

/// A pulled resource with the words the record's pages show for it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WordedResource {
    /// Its FHIR type.
    pub resource_type: String,
    /// Its id there.
    pub remote_id: String,
    /// What it is.
    pub title: String,
    /// More about it (status, dose, value).
    pub detail: Option<String>,
    /// When, as the source gave it.
    pub occurred: Option<String>,
    /// The resource (JSON).
    pub resource: String,
}

/// The newest `limit` current items of one section within the permit, with their resources
/// and words, newest first (undated last).
pub async fn list_section_resources(conn: &mut Conn, permit: &Permit, section: Section, limit: i64) -> StoreResult<Vec<WordedResource>> {
    let query = sqlx::query_as(concat!(
        "select resource_type, remote_id, title, detail, occurred, resource from care_record_items where ",
        permitted_items!(),
        " and standing = 'current' and section = $9 order by occurred_at desc nulls last, title, remote_id limit $10"
    ));
    Ok(bind_permitted(query, permit).bind(section.slug()).bind(limit).fetch_all(conn).await?)
}

/// How many of a record's items within the permit could not be shown (quarantined).
pub async fn count_quarantined(conn: &mut Conn, permit: &Permit) -> StoreResult<i64> {
    let (n,) = bind_permitted(
        sqlx::query_as(concat!("select count(*) from care_record_items where ", permitted_items!(), " and standing = 'quarantined'")),
        permit,
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// The FHIR types of a record's items that could not be shown (quarantined), of every label:
/// which parts of the record are not known whole, never what they hold.
pub async fn quarantined_types(conn: &mut Conn, permit: &Permit) -> StoreResult<Vec<String>> {
    let types: Vec<String> =
        sqlx::query_scalar("select distinct resource_type from care_record_items where patient_id = $1 and standing = 'quarantined'")
            .bind(permit.patient().to_string())
            .fetch_all(conn)
            .await?;
    Ok(types)
}

/// An item that could not be shown, as an administrator sees it: no clinical content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedRow {
    /// The FHIR type.
    pub resource_type: String,
    /// Its id on the shared care record.
    pub remote_id: String,
    /// Why.
    pub reason: String,
}

/// The quarantined items of records linked to a practice, at most `limit`, by type and id.
pub async fn list_quarantined_for_practice(conn: &mut Conn, practice: domain::PracticeId, limit: i64) -> StoreResult<Vec<QuarantinedRow>> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select i.resource_type, i.remote_id, i.quarantine_reason from care_record_items i \
         join practice_links l on l.patient_id = i.patient_id and l.status = 'linked' \
         where l.practice_id = $1 and i.standing = 'quarantined' order by i.resource_type, i.remote_id limit $2",
    )
    .bind(practice.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(resource_type, remote_id, reason)| QuarantinedRow { resource_type, remote_id, reason: reason.unwrap_or_default() })
        .collect())
}

/// The security codings as stored: one per line, none as null.
fn codes_text(codes: &[String]) -> Option<String> {
    (!codes.is_empty()).then(|| codes.join("\n"))
}

/// Items to be read again from their stored resource (pulled before Carry read them as it
/// does now), at most `limit`: the record, the type, the id and the resource as stored.
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
    /// What the last pulls could not fetch, in words, and since when (cleared by a complete pull).
    pub incomplete: Option<(String, Timestamp)>,
    /// Pulls that failed in a row since the last that finished.
    pub failures: i64,
}

type RawSync = (String, Option<String>, i64, Option<i64>, i64, i64, Option<i64>, Option<String>, Option<String>, Option<i64>, i64);

fn sync_row(r: RawSync) -> StoreResult<SyncRow> {
    let (patient, watermark, due, lease, done, total, success, error, incomplete, since, failures) = r;
    Ok(SyncRow {
        patient_id: parse_id("care_record_sync.patient_id", &patient)?,
        watermark,
        due_at: Timestamp::from_millis(due),
        lease_until: lease.map(Timestamp::from_millis),
        progress: (done, total),
        last_success_at: success.map(Timestamp::from_millis),
        last_error: error,
        incomplete: incomplete.map(|what| (what, Timestamp::from_millis(since.unwrap_or(0)))),
        failures,
    })
}

macro_rules! SYNC_SELECT {
    () => {
        "select patient_id, watermark, due_at, lease_until, progress_done, progress_total, last_success_at, last_error, \
         incomplete, incomplete_since, failures from care_record_sync where patient_id = $1"
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

/// Ends a pull that finished: the new watermark (kept when `None`), the next due time, and
/// what it could not fetch (`None` when every count agreed). An incomplete pull keeps the
/// moment the record first became incomplete.
pub async fn update_sync_done(
    conn: &mut Conn,
    patient: PatientId,
    watermark: Option<&str>,
    incomplete: Option<&str>,
    next: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "update care_record_sync set watermark = coalesce($1, watermark), due_at = $2, lease_until = null, progress_done = 0, \
         progress_total = 0, last_success_at = $3, last_error = null, failures = 0, updated_at = $3, incomplete = $5, \
         incomplete_since = case when $5 is null then null else coalesce(incomplete_since, $3) end where patient_id = $4",
    )
    .bind(watermark)
    .bind(next.as_millis())
    .bind(now.as_millis())
    .bind(patient.to_string())
    .bind(incomplete)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that were left incomplete, linked to a practice: the record and what is missing,
/// at most `limit`, longest incomplete first.
pub async fn list_incomplete_for_practice(
    conn: &mut Conn,
    practice: domain::PracticeId,
    limit: i64,
) -> StoreResult<Vec<(PatientId, String, Timestamp)>> {
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "select s.patient_id, s.incomplete, s.incomplete_since from care_record_sync s \
         join practice_links l on l.patient_id = s.patient_id and l.status = 'linked' \
         where l.practice_id = $1 and s.incomplete is not null order by s.incomplete_since, s.patient_id limit $2",
    )
    .bind(practice.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(p, what, since)| Ok((parse_id("care_record_sync.patient_id", &p)?, what, Timestamp::from_millis(since.unwrap_or(0)))))
        .collect()
}

/// Ends a pull that failed: the reason, and when to try again (one more failure in a row).
/// The watermark stays, so the next pull starts where the last good one ended.
pub async fn update_sync_failed(conn: &mut Conn, patient: PatientId, error: &str, next: Timestamp, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "update care_record_sync set due_at = $1, lease_until = null, progress_done = 0, progress_total = 0, last_error = $2, \
         failures = failures + 1, updated_at = $3 where patient_id = $4",
    )
    .bind(next.as_millis())
    .bind(error)
    .bind(now.as_millis())
    .bind(patient.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
