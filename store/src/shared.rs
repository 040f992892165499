//! What a patient shared with their GP practice, as the practice (and, through the FHIR API,
//! the shared care record) reads it. The rule lives here once, as [`shared_with_practice`]:
//! the entries of the permit's record that the patient shared with the practice and has not
//! deleted, with a label the permit may see. Whether the record is linked to the practice is
//! the policy's to decide, before a permit exists.

use crate::entries::{entry_select, label_slots, EntryRow, RawEntry};
use crate::{Conn, StoreResult};
use domain::access::Permit;
use domain::practices::LinkStatus;
use domain::{EntryId, PatientId, PracticeId, ReadingKind, Timestamp};

/// The one condition for "what this practice may see of this patient", over `entries e`, with
/// parameters `$1` (the record) and `$2` to `$5` (the labels), bound by [`bind_shared`].
macro_rules! shared_with_practice {
    () => {
        "e.patient_id = $1 and e.shared_with_practice = 1 and e.deleted_at is null and e.label in ($2, $3, $4, $5)"
    };
}
pub(crate) use shared_with_practice;

pub(crate) type AnyQuery<'q, O> = sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>;

/// Binds the parameters of [`shared_with_practice`] from the permit.
pub(crate) fn bind_shared<'q, O>(query: AnyQuery<'q, O>, permit: &Permit) -> AnyQuery<'q, O> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    query.bind(permit.patient().to_string()).bind(l1).bind(l2).bind(l3).bind(l4)
}

/// The shared entries the permit may see, newest first, at most `limit`.
pub async fn list_shared(conn: &mut Conn, permit: &Permit, limit: i64) -> StoreResult<Vec<EntryRow>> {
    let query = sqlx::query_as(entry_select!("where ", shared_with_practice!(), " order by e.occurred_at desc, e.id desc limit $6"));
    let rows: Vec<RawEntry> = bind_shared(query, permit).bind(limit).fetch_all(conn).await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// The shared blood pressure readings the permit may see since `since`, oldest first: the home
/// blood pressure series.
pub async fn list_shared_bp(conn: &mut Conn, permit: &Permit, since: Timestamp) -> StoreResult<Vec<EntryRow>> {
    let query = sqlx::query_as(entry_select!(
        "where ",
        shared_with_practice!(),
        " and e.reading_kind = 'blood-pressure' and e.occurred_at >= $6 order by e.occurred_at, e.id"
    ));
    let rows: Vec<RawEntry> = bind_shared(query, permit).bind(since.as_millis()).fetch_all(conn).await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// The newest `limit` shared readings of one kind the permit may see, newest first.
pub async fn list_shared_readings(conn: &mut Conn, permit: &Permit, kind: ReadingKind, limit: i64) -> StoreResult<Vec<EntryRow>> {
    let query = sqlx::query_as(entry_select!(
        "where ",
        shared_with_practice!(),
        " and e.reading_kind = $6 order by e.occurred_at desc, e.id desc limit $7"
    ));
    let rows: Vec<RawEntry> = bind_shared(query, permit).bind(kind.slug()).bind(limit).fetch_all(conn).await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// The record's "about me", if the patient shared it and the permit may see it.
pub async fn find_shared_about_me(conn: &mut Conn, permit: &Permit) -> StoreResult<Option<EntryRow>> {
    let query = sqlx::query_as(entry_select!("where ", shared_with_practice!(), " and e.kind = 'about-me'"));
    let row: Option<RawEntry> = bind_shared(query, permit).fetch_optional(conn).await?;
    row.map(EntryRow::try_from).transpose()
}

/// The ids of a record's shared, undeleted entries, whatever their label: for the service to
/// file them in the practice's inbox when the record is linked (no content is read).
pub async fn list_shared_ids(conn: &mut Conn, patient: PatientId) -> StoreResult<Vec<EntryId>> {
    let ids: Vec<(String,)> =
        sqlx::query_as("select id from entries where patient_id = $1 and deleted_at is null and shared_with_practice = 1 order by id")
            .bind(patient.to_string())
            .fetch_all(conn)
            .await?;
    ids.iter().map(|(id,)| crate::error::parse_id("entries.id", id)).collect()
}

/// Patients linked to a practice who shared something labelled for social care, by name, with
/// where their link stands: the social care worker's list (names only; the policy decides each
/// row from its link).
pub async fn list_care_patients(conn: &mut Conn, practice: PracticeId, limit: i64) -> StoreResult<Vec<(PatientId, String, LinkStatus)>> {
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "select l.patient_id, coalesce(u.display_name, p.display_name) as name, l.status from practice_links l \
         join patients p on p.id = l.patient_id left join users u on u.id = p.user_id \
         where l.practice_id = $1 and l.status = 'linked' and exists (select 1 from entries e where e.patient_id = l.patient_id \
         and e.shared_with_practice = 1 and e.label = 'social-care' and e.deleted_at is null) \
         order by name, l.patient_id limit $2",
    )
    .bind(practice.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, name, status)| {
            let status = LinkStatus::from_slug(&status).ok_or(crate::StoreError::Corrupt { column: "practice_links.status" })?;
            Ok((crate::error::parse_id("practice_links.patient_id", &id)?, name.unwrap_or_default(), status))
        })
        .collect()
}
