//! Entries and their versions. Every function takes the `PatientId` and filters on it, and
//! every list takes the labels the caller may see: an entry with another label is never read.
//!
//! A change is an update of `entries` guarded by the version the caller saw, plus an insert
//! into `entry_versions`, in the caller's transaction; the guard makes a stale edit fail
//! instead of overwriting.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::access::{Action, Permit};
use domain::entries::{Change, Cursor, EntryBody, EntryKind, Snapshot, Source, TimelineFilter, TypeFilter};
use domain::{EntryId, PatientId, PrivacyLabel, ReadingKind, Timestamp, UserId};

/// An entry's current state.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    /// Its id.
    pub id: EntryId,
    /// Whose record.
    pub patient_id: PatientId,
    /// The latest version's number.
    pub version: i64,
    /// Content, label, sharing and time.
    pub current: Snapshot,
    /// Who entered it.
    pub entered_by: UserId,
    /// Their name.
    pub entered_by_name: String,
    /// Where it came from.
    pub source: Source,
    /// When it was deleted, if it was.
    pub deleted_at: Option<Timestamp>,
    /// When it was first entered.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One version of an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    /// The entry it is a version of.
    pub entry_id: EntryId,
    /// 1 for the first.
    pub version: i64,
    /// What it did.
    pub change: Change,
    /// The state after it.
    pub state: Snapshot,
    /// Who made it.
    pub changed_by: UserId,
    /// Their name.
    pub changed_by_name: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// A new entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Its id (made by the service).
    pub id: EntryId,
    /// Whose record.
    pub patient_id: PatientId,
    /// Content, label, sharing and time.
    pub state: Snapshot,
    /// Who entered it.
    pub entered_by: UserId,
    /// Where it came from.
    pub source: Source,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawEntry {
    id: String,
    patient_id: String,
    version: i64,
    body: String,
    label: String,
    shared_with_practice: i64,
    occurred_at: i64,
    entered_by: String,
    entered_by_name: String,
    source: String,
    deleted_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn label(column: &'static str, s: &str) -> StoreResult<PrivacyLabel> {
    PrivacyLabel::parse(column, s).map_err(|_| StoreError::Corrupt { column })
}

fn body(column: &'static str, s: &str) -> StoreResult<EntryBody> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt { column })
}

impl TryFrom<RawEntry> for EntryRow {
    type Error = StoreError;
    fn try_from(r: RawEntry) -> Result<Self, Self::Error> {
        Ok(EntryRow {
            id: parse_id("entries.id", &r.id)?,
            patient_id: parse_id("entries.patient_id", &r.patient_id)?,
            version: r.version,
            current: Snapshot {
                body: body("entries.body", &r.body)?,
                label: label("entries.label", &r.label)?,
                shared_with_practice: r.shared_with_practice != 0,
                occurred_at: Timestamp::from_millis(r.occurred_at),
            },
            entered_by: parse_id("entries.entered_by", &r.entered_by)?,
            entered_by_name: r.entered_by_name,
            source: Source::from_slug(&r.source).ok_or(StoreError::Corrupt { column: "entries.source" })?,
            deleted_at: r.deleted_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RawVersion {
    entry_id: String,
    version: i64,
    change: String,
    body: String,
    label: String,
    shared_with_practice: i64,
    occurred_at: i64,
    changed_by: String,
    changed_by_name: String,
    recorded_at: i64,
}

impl TryFrom<RawVersion> for VersionRow {
    type Error = StoreError;
    fn try_from(r: RawVersion) -> Result<Self, Self::Error> {
        Ok(VersionRow {
            entry_id: parse_id("entry_versions.entry_id", &r.entry_id)?,
            version: r.version,
            change: Change::from_slug(&r.change).ok_or(StoreError::Corrupt { column: "entry_versions.change" })?,
            state: Snapshot {
                body: body("entry_versions.body", &r.body)?,
                label: label("entry_versions.label", &r.label)?,
                shared_with_practice: r.shared_with_practice != 0,
                occurred_at: Timestamp::from_millis(r.occurred_at),
            },
            changed_by: parse_id("entry_versions.changed_by", &r.changed_by)?,
            changed_by_name: r.changed_by_name,
            recorded_at: Timestamp::from_millis(r.recorded_at),
        })
    }
}

/// The four label slots every list query filters on: the visible labels' slugs, with the
/// empty text (which no label has) in the unused slots.
pub(crate) fn label_slots(labels: &[PrivacyLabel]) -> [&'static str; 4] {
    let mut slots = [""; 4];
    for (slot, l) in slots.iter_mut().zip(PrivacyLabel::ALL.into_iter().filter(|l| labels.contains(l))) {
        *slot = l.slug();
    }
    slots
}

fn body_json(b: &EntryBody) -> StoreResult<String> {
    serde_json::to_string(b).map_err(|_| StoreError::Corrupt { column: "entries.body" })
}

macro_rules! entry_select {
    ($($rest:expr),*) => {
        concat!(
            "select e.id, e.patient_id, e.version, e.body, e.label, e.shared_with_practice, e.occurred_at, e.entered_by, \
             u.display_name as entered_by_name, e.source, e.deleted_at, e.created_at, e.updated_at \
             from entries e join users u on u.id = e.entered_by ",
            $($rest),*
        )
    };
}
pub(crate) use entry_select;

async fn insert_version(
    conn: &mut Conn,
    id: EntryId,
    version: i64,
    change: Change,
    state: &Snapshot,
    by: UserId,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "insert into entry_versions (entry_id, version, change, body, label, shared_with_practice, occurred_at, changed_by, \
         recorded_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)",
    )
    .bind(id.to_string())
    .bind(version)
    .bind(change.slug())
    .bind(body_json(&state.body)?)
    .bind(state.label.slug())
    .bind(i64::from(state.shared_with_practice))
    .bind(state.occurred_at.as_millis())
    .bind(by.to_string())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Checks a write against the permit it comes with: the permit's record, an action that
/// writes, a label it may use, and the name of the person it was given to.
fn check_write(permit: &Permit, patient: PatientId, label: PrivacyLabel, by: UserId, actions: &[Action]) -> StoreResult<()> {
    if permit.patient() != patient {
        return Err(StoreError::NotPermitted("a write to another record"));
    }
    if !actions.contains(&permit.action()) {
        return Err(StoreError::NotPermitted("this kind of write"));
    }
    if !permit.labels().contains(&label) {
        return Err(StoreError::NotPermitted("a label outside the permit"));
    }
    if permit.user() != Some(by) {
        return Err(StoreError::NotPermitted("a write under another person's name"));
    }
    Ok(())
}

/// Adds an entry and its first version, as the permit allows (adding an entry or a social care
/// note, or writing "about me", in the permit's record, with a label it may use, by the person
/// it was given to). A second "about me" for a record fails with
/// `Conflict("entries_patient_id_unique")`. Run it in a transaction.
pub async fn insert_entry(conn: &mut Conn, permit: &Permit, e: &NewEntry, now: Timestamp) -> StoreResult<()> {
    check_write(permit, e.patient_id, e.state.label, e.entered_by, &[Action::AddEntries, Action::AddCareNote, Action::WriteAboutMe])?;
    sqlx::query(
        "insert into entries (id, patient_id, kind, reading_kind, version, body, label, shared_with_practice, occurred_at, \
         entered_by, source, created_at, updated_at) values ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(e.id.to_string())
    .bind(e.patient_id.to_string())
    .bind(e.state.body.kind().slug())
    .bind(e.state.body.reading_kind().map(ReadingKind::slug))
    .bind(body_json(&e.state.body)?)
    .bind(e.state.label.slug())
    .bind(i64::from(e.state.shared_with_practice))
    .bind(e.state.occurred_at.as_millis())
    .bind(e.entered_by.to_string())
    .bind(e.source.slug())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    insert_version(conn, e.id, 1, Change::Created, &e.state, e.entered_by, now).await
}

/// Records a change to an entry the caller saw at `seen_version`, by the person the permit was
/// given to: the new state becomes current and is kept as the next version. `Deleted` sets the
/// tombstone and `Restored` clears it. The permit must allow changing entries (or writing
/// "about me"), and both the entry's label and the new one must be within it. Returns `false`,
/// changing nothing, when the entry is not in the permit's record, has a label outside it, or
/// has moved on from `seen_version`. Run it in a transaction.
pub async fn update_entry(
    conn: &mut Conn,
    permit: &Permit,
    id: EntryId,
    seen_version: i64,
    change: Change,
    state: &Snapshot,
    now: Timestamp,
) -> StoreResult<bool> {
    let by = permit.user().ok_or(StoreError::NotPermitted("a change by a system"))?;
    check_write(permit, permit.patient(), state.label, by, &[Action::ChangeEntries, Action::WriteAboutMe])?;
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    // The guards make the store keep its own promises whatever the caller does: the kind and
    // reading kind never change, only `Deleted` sets the tombstone (on a live entry), only
    // `Restored` clears it (on a deleted one), and nothing else touches a deleted entry.
    let done = sqlx::query(
        "update entries set version = version + 1, body = $1, label = $2, shared_with_practice = $3, occurred_at = $4, \
         deleted_at = case when $5 = 'deleted' then $6 when $5 = 'restored' then null else deleted_at end, \
         deleted_by = case when $5 = 'deleted' then $7 when $5 = 'restored' then null else deleted_by end, \
         updated_at = $6 \
         where id = $8 and patient_id = $9 and version = $10 and kind = $11 and coalesce(reading_kind, '') = $12 \
         and (case when deleted_at is null then 0 else 1 end) = $13 and label in ($14, $15, $16, $17)",
    )
    .bind(body_json(&state.body)?)
    .bind(state.label.slug())
    .bind(i64::from(state.shared_with_practice))
    .bind(state.occurred_at.as_millis())
    .bind(change.slug())
    .bind(now.as_millis())
    .bind(by.to_string())
    .bind(id.to_string())
    .bind(permit.patient().to_string())
    .bind(seen_version)
    .bind(state.body.kind().slug())
    .bind(state.body.reading_kind().map_or("", ReadingKind::slug))
    .bind(i64::from(change == Change::Restored))
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if done {
        insert_version(conn, id, seen_version + 1, change, state, by, now).await?;
    }
    Ok(done)
}

/// One entry of this record, deleted or not, if its label is visible.
pub async fn find_entry(conn: &mut Conn, permit: &Permit, id: EntryId) -> StoreResult<Option<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let row: Option<RawEntry> = sqlx::query_as(entry_select!("where e.id = $1 and e.patient_id = $2 and e.label in ($3, $4, $5, $6)"))
        .bind(id.to_string())
        .bind(permit.patient().to_string())
        .bind(l1)
        .bind(l2)
        .bind(l3)
        .bind(l4)
        .fetch_optional(conn)
        .await?;
    row.map(EntryRow::try_from).transpose()
}

/// One entry of this record whatever its label, for the service's own bookkeeping (where the
/// entry waits in a practice's inbox) in the transaction of a change the policy allowed.
/// Nothing read here is shown to anyone: views read through a [`Permit`].
pub async fn find_for_filing(conn: &mut Conn, patient: PatientId, id: EntryId) -> StoreResult<Option<EntryRow>> {
    let row: Option<RawEntry> = sqlx::query_as(entry_select!("where e.id = $1 and e.patient_id = $2"))
        .bind(id.to_string())
        .bind(patient.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(EntryRow::try_from).transpose()
}

/// The record's "about me", if it has one that is visible and not deleted.
pub async fn find_about_me(conn: &mut Conn, permit: &Permit) -> StoreResult<Option<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let row: Option<RawEntry> = sqlx::query_as(entry_select!(
        "where e.patient_id = $1 and e.kind = 'about-me' and e.deleted_at is null and e.label in ($2, $3, $4, $5)"
    ))
    .bind(permit.patient().to_string())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .fetch_optional(conn)
    .await?;
    row.map(EntryRow::try_from).transpose()
}

/// The record's "about me" whatever its label or state (to tell "none yet" from "deleted").
pub async fn find_about_me_id(conn: &mut Conn, patient: PatientId) -> StoreResult<Option<EntryId>> {
    let id: Option<String> = sqlx::query_scalar("select id from entries where patient_id = $1 and kind = 'about-me'")
        .bind(patient.to_string())
        .fetch_optional(conn)
        .await?;
    id.map(|i| parse_id("entries.id", &i)).transpose()
}

/// Up to `limit` visible, undeleted entries matching `filter`, newest first (then by id, so
/// the order is total and a page's cursor is exact).
pub async fn list_timeline(conn: &mut Conn, permit: &Permit, filter: &TimelineFilter, limit: i64) -> StoreResult<Vec<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let (kind, reading_kind) = match filter.types {
        TypeFilter::All => ("", ""),
        TypeFilter::Readings => (EntryKind::Reading.slug(), ""),
        TypeFilter::Reading(k) => (EntryKind::Reading.slug(), k.slug()),
        TypeFilter::Notes => (EntryKind::Note.slug(), ""),
        TypeFilter::AboutMe => (EntryKind::AboutMe.slug(), ""),
    };
    let (after_at, after_id) = match filter.after {
        Some(Cursor { occurred_at, id }) => (occurred_at.as_millis(), id.to_string()),
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<RawEntry> = sqlx::query_as(entry_select!(
        "where e.patient_id = $1 and e.deleted_at is null and e.label in ($2, $3, $4, $5) \
         and ($6 = '' or e.kind = $6) and ($7 = '' or e.reading_kind = $7) and ($8 = '' or e.label = $8) \
         and e.occurred_at >= $9 and e.occurred_at < $10 \
         and (e.occurred_at < $11 or (e.occurred_at = $11 and e.id < $12)) \
         order by e.occurred_at desc, e.id desc limit $13"
    ))
    .bind(permit.patient().to_string())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .bind(kind)
    .bind(reading_kind)
    .bind(filter.label.map_or("", PrivacyLabel::slug))
    .bind(filter.from.map_or(i64::MIN, Timestamp::as_millis))
    .bind(filter.until.map_or(i64::MAX, Timestamp::as_millis))
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// How many visible, undeleted entries the record holds.
pub async fn count_visible(conn: &mut Conn, permit: &Permit) -> StoreResult<i64> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from entries where patient_id = $1 and deleted_at is null and label in ($2, $3, $4, $5)")
            .bind(permit.patient().to_string())
            .bind(l1)
            .bind(l2)
            .bind(l3)
            .bind(l4)
            .fetch_one(conn)
            .await?;
    Ok(n)
}

/// The newest `limit` visible, undeleted readings of one kind since `since`, newest first.
pub async fn list_readings(
    conn: &mut Conn,
    permit: &Permit,
    kind: ReadingKind,
    since: Option<Timestamp>,
    limit: i64,
) -> StoreResult<Vec<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let rows: Vec<RawEntry> = sqlx::query_as(entry_select!(
        "where e.patient_id = $1 and e.deleted_at is null and e.reading_kind = $2 and e.occurred_at >= $3 \
         and e.label in ($4, $5, $6, $7) order by e.occurred_at desc, e.id desc limit $8"
    ))
    .bind(permit.patient().to_string())
    .bind(kind.slug())
    .bind(since.map_or(i64::MIN, Timestamp::as_millis))
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// Visible entries deleted at or after `since`, most recently deleted first.
pub async fn list_deleted(conn: &mut Conn, permit: &Permit, since: Timestamp) -> StoreResult<Vec<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let rows: Vec<RawEntry> = sqlx::query_as(entry_select!(
        "where e.patient_id = $1 and e.deleted_at is not null and e.deleted_at >= $2 and e.label in ($3, $4, $5, $6) \
         order by e.deleted_at desc, e.id desc limit 500"
    ))
    .bind(permit.patient().to_string())
    .bind(since.as_millis())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// The columns a [`VersionRow`] is read from, and the tables (`v` the versions, `e` entries).
macro_rules! version_select {
    () => {
        "select v.entry_id, v.version, v.change, v.body, v.label, v.shared_with_practice, v.occurred_at, v.changed_by, \
         u.display_name as changed_by_name, v.recorded_at \
         from entry_versions v join entries e on e.id = v.entry_id join users u on u.id = v.changed_by "
    };
}

/// The versions of an entry of this record whose label is visible, oldest first. A version
/// from when the entry had a label the caller may not see is absent, like any hidden item.
pub async fn list_versions(conn: &mut Conn, permit: &Permit, id: EntryId) -> StoreResult<Vec<VersionRow>> {
    list_versions_of(conn, permit, &[id]).await
}

/// [`list_versions`] for several entries of this record at once: by entry, each oldest first.
pub async fn list_versions_of(conn: &mut Conn, permit: &Permit, ids: &[EntryId]) -> StoreResult<Vec<VersionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let wanted: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 6)).collect();
    let sql = format!(
        concat!(
            version_select!(),
            "where e.patient_id = $1 and v.label in ($2, $3, $4, $5) and v.entry_id in ({}) order by v.entry_id, v.version"
        ),
        wanted.join(", ")
    );
    let mut query = sqlx::query_as(&sql).bind(permit.patient().to_string()).bind(l1).bind(l2).bind(l3).bind(l4);
    for id in ids {
        query = query.bind(id.to_string());
    }
    let rows: Vec<RawVersion> = query.fetch_all(conn).await?;
    rows.into_iter().map(VersionRow::try_from).collect()
}

/// One reading for a chart: less than a whole [`EntryRow`], because a chart may draw thousands.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingPoint {
    /// The entry.
    pub id: EntryId,
    /// When it was taken.
    pub occurred_at: Timestamp,
    /// The value.
    pub body: EntryBody,
}

/// The newest `limit` visible, undeleted readings of one kind since `since`, newest first, as
/// chart points.
pub async fn list_reading_points(
    conn: &mut Conn,
    permit: &Permit,
    kind: ReadingKind,
    since: Option<Timestamp>,
    limit: i64,
) -> StoreResult<Vec<ReadingPoint>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "select id, occurred_at, body from entries \
         where patient_id = $1 and deleted_at is null and reading_kind = $2 and occurred_at >= $3 \
         and label in ($4, $5, $6, $7) order by occurred_at desc, id desc limit $8",
    )
    .bind(permit.patient().to_string())
    .bind(kind.slug())
    .bind(since.map_or(i64::MIN, Timestamp::as_millis))
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, at, b)| {
            Ok(ReadingPoint { id: parse_id("entries.id", &id)?, occurred_at: Timestamp::from_millis(at), body: body("entries.body", &b)? })
        })
        .collect()
}
