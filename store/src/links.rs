//! Patients' links to their GP practice: asked for by the patient, decided by an administrator.

use crate::error::parse_id;
use crate::practices::PracticeRow;
use crate::{Conn, StoreError, StoreResult};
use domain::practices::LinkStatus;
use domain::{PatientId, PracticeId, Timestamp, UserId};

/// A record's link to a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    /// The record.
    pub patient_id: PatientId,
    /// The patient's name.
    pub patient_name: String,
    /// The date of birth (`YYYY-MM-DD`) the patient gave with their request. None only for
    /// links verified before Carry asked for one.
    pub born_on: Option<String>,
    /// The practice.
    pub practice: PracticeRow,
    /// The NHS number the patient gave (ten digits).
    pub nhs_number: String,
    /// Where it stands.
    pub status: LinkStatus,
    /// When the patient asked.
    pub requested_at: Timestamp,
    /// Who decided, and when.
    pub decided_at: Option<Timestamp>,
    /// The administrator's reason for declining, for the patient.
    pub decline_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RawLink {
    patient_id: String,
    patient_name: Option<String>,
    born_on: Option<String>,
    practice_id: String,
    practice_name: String,
    ods_code: String,
    nhs_number: String,
    status: String,
    requested_at: i64,
    decided_at: Option<i64>,
    decline_reason: Option<String>,
}

impl TryFrom<RawLink> for LinkRow {
    type Error = StoreError;
    fn try_from(r: RawLink) -> Result<Self, Self::Error> {
        Ok(LinkRow {
            patient_id: parse_id("practice_links.patient_id", &r.patient_id)?,
            patient_name: r.patient_name.unwrap_or_default(),
            born_on: r.born_on,
            practice: PracticeRow {
                id: parse_id("practice_links.practice_id", &r.practice_id)?,
                name: r.practice_name,
                ods_code: r.ods_code,
            },
            nhs_number: r.nhs_number,
            status: LinkStatus::from_slug(&r.status).ok_or(StoreError::Corrupt { column: "practice_links.status" })?,
            requested_at: Timestamp::from_millis(r.requested_at),
            decided_at: r.decided_at.map(Timestamp::from_millis),
            decline_reason: r.decline_reason,
        })
    }
}

macro_rules! LINK_SELECT {
    () => {
        "select l.patient_id, coalesce(u.display_name, pt.display_name) as patient_name, l.born_on, l.practice_id, \
         p.name as practice_name, p.ods_code, l.nhs_number, l.status, l.requested_at, l.decided_at, l.decline_reason \
         from practice_links l join practices p on p.id = l.practice_id join patients pt on pt.id = l.patient_id \
         left join users u on u.id = pt.user_id "
    };
}

/// A record's link, whatever its state.
pub async fn find_link(conn: &mut Conn, patient: PatientId) -> StoreResult<Option<LinkRow>> {
    let raw: Option<RawLink> =
        sqlx::query_as(concat!(LINK_SELECT!(), "where l.patient_id = $1")).bind(patient.to_string()).fetch_optional(conn).await?;
    raw.map(LinkRow::try_from).transpose()
}

/// A practice's links in one state, oldest request first.
pub async fn list_links(conn: &mut Conn, practice: PracticeId, status: LinkStatus, limit: i64) -> StoreResult<Vec<LinkRow>> {
    let raw: Vec<RawLink> = sqlx::query_as(concat!(
        LINK_SELECT!(),
        "where l.practice_id = $1 and l.status = $2 order by l.requested_at, l.patient_id limit $3"
    ))
    .bind(practice.to_string())
    .bind(status.slug())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    raw.into_iter().map(LinkRow::try_from).collect()
}

/// What a patient gives when asking to link.
#[derive(Debug, Clone, Copy)]
pub struct LinkRequest<'a> {
    /// The practice asked.
    pub practice: PracticeId,
    /// The NHS number (ten digits).
    pub nhs_number: &'a str,
    /// The date of birth (`YYYY-MM-DD`).
    pub born_on: &'a str,
}

/// Asks (again) to link a record to a practice, replacing any earlier request or link: it is a
/// new request, which an administrator must look at afresh.
pub async fn upsert_link_request(conn: &mut Conn, patient: PatientId, ask: LinkRequest<'_>, by: UserId, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into practice_links (patient_id, practice_id, nhs_number, born_on, status, requested_by, requested_at, created_at, \
         updated_at) values ($1, $2, $3, $4, 'requested', $5, $6, $6, $6) \
         on conflict (patient_id) do update set practice_id = excluded.practice_id, nhs_number = excluded.nhs_number, \
         born_on = excluded.born_on, status = 'requested', requested_by = excluded.requested_by, \
         requested_at = excluded.requested_at, decided_by = null, decided_at = null, decline_reason = null, \
         updated_at = excluded.updated_at",
    )
    .bind(patient.to_string())
    .bind(ask.practice.to_string())
    .bind(ask.nhs_number)
    .bind(ask.born_on)
    .bind(by.to_string())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an administrator's decision on the request they were shown (`seen`), if it is still
/// waiting at their practice with exactly those details. Returns false if it is not (decided
/// already, withdrawn, another practice's, or asked again with other details since).
/// Fails with `Conflict("practice_links_practice_id_unique")` when another record at the
/// practice is already linked with the same NHS number.
pub async fn update_link_decision(
    conn: &mut Conn,
    seen: &LinkRow,
    status: LinkStatus,
    by: UserId,
    reason: Option<&str>,
    now: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "update practice_links set status = $3, decided_by = $4, decided_at = $5, decline_reason = $6, updated_at = $5 \
         where patient_id = $1 and practice_id = $2 and status = 'requested' and nhs_number = $7 \
         and coalesce(born_on, '') = $8 and requested_at = $9",
    )
    .bind(seen.patient_id.to_string())
    .bind(seen.practice.id.to_string())
    .bind(status.slug())
    .bind(by.to_string())
    .bind(now.as_millis())
    .bind(reason)
    .bind(&seen.nhs_number)
    .bind(seen.born_on.as_deref().unwrap_or(""))
    .bind(seen.requested_at.as_millis())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Records the date of birth of a record whose link was verified before Carry asked for one.
/// The link stays as it is; returns false if there is no link or it already has a date of birth.
pub async fn update_link_birth_date(conn: &mut Conn, patient: PatientId, born_on: &str, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query("update practice_links set born_on = $2, updated_at = $3 where patient_id = $1 and born_on is null")
        .bind(patient.to_string())
        .bind(born_on)
        .bind(now.as_millis())
        .execute(conn)
        .await?
        .rows_affected();
    Ok(done == 1)
}

/// Ends a record's link (or withdraws its request). Returns whether there was one.
pub async fn delete_link(conn: &mut Conn, patient: PatientId) -> StoreResult<bool> {
    let done =
        sqlx::query("delete from practice_links where patient_id = $1").bind(patient.to_string()).execute(conn).await?.rows_affected();
    Ok(done == 1)
}
