//! Patients' records.

use crate::error::parse_id;
use crate::{Conn, StoreResult};
use domain::{PatientId, Timestamp, UserId};

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRow {
    /// The record.
    pub id: PatientId,
    /// The account that owns it, if any.
    pub user_id: Option<UserId>,
    /// The patient's name: their account's, or the record's own (a child's without an account).
    pub name: String,
    /// Date of birth (`YYYY-MM-DD`), when known.
    pub born_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RawPatient {
    id: String,
    user_id: Option<String>,
    name: Option<String>,
    born_on: Option<String>,
}

impl TryFrom<RawPatient> for PatientRow {
    type Error = crate::StoreError;
    fn try_from(r: RawPatient) -> Result<Self, Self::Error> {
        Ok(PatientRow {
            id: parse_id("patients.id", &r.id)?,
            user_id: r.user_id.as_deref().map(|u| parse_id("patients.user_id", u)).transpose()?,
            name: r.name.unwrap_or_default(),
            born_on: r.born_on,
        })
    }
}

macro_rules! PATIENT_SELECT {
    () => {
        "select p.id, p.user_id, coalesce(u.display_name, p.display_name) as name, p.born_on from patients p \
         left join users u on u.id = p.user_id "
    };
}

/// The record an account owns.
pub async fn find_patient_by_user(conn: &mut Conn, user: UserId) -> StoreResult<Option<PatientRow>> {
    let row: Option<RawPatient> =
        sqlx::query_as(concat!(PATIENT_SELECT!(), "where p.user_id = $1")).bind(user.to_string()).fetch_optional(conn).await?;
    row.map(PatientRow::try_from).transpose()
}

/// A record by id.
pub async fn find_patient(conn: &mut Conn, id: PatientId) -> StoreResult<Option<PatientRow>> {
    let row: Option<RawPatient> =
        sqlx::query_as(concat!(PATIENT_SELECT!(), "where p.id = $1")).bind(id.to_string()).fetch_optional(conn).await?;
    row.map(PatientRow::try_from).transpose()
}

/// Adds a record. Fails with `Conflict("patients_user_id_unique")` if the account has one.
pub async fn insert_patient(conn: &mut Conn, row: &PatientRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query("insert into patients (id, user_id, display_name, born_on, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
        .bind(row.id.to_string())
        .bind(row.user_id.map(|u| u.to_string()))
        // A record with an account takes the account's name; only one without keeps its own.
        .bind(if row.user_id.is_some() { None } else { Some(row.name.as_str()) })
        .bind(row.born_on.as_deref())
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the account's own record unless it has one, and returns the record either way. Safe
/// when two requests race: the loser's insert does nothing.
pub async fn ensure_patient_for_user(conn: &mut Conn, new_id: PatientId, user: UserId, now: Timestamp) -> StoreResult<PatientRow> {
    sqlx::query("insert into patients (id, user_id, created_at, updated_at) values ($1, $2, $3, $3) on conflict do nothing")
        .bind(new_id.to_string())
        .bind(user.to_string())
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
    find_patient_by_user(conn, user).await?.ok_or(crate::StoreError::Corrupt { column: "patients.user_id" })
}

/// A parent's offer of a child's record to the young person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverRow {
    /// The record offered.
    pub patient_id: PatientId,
    /// The young person's address, as the parent gave it.
    pub email: String,
    /// When the link stops working.
    pub expires_at: Timestamp,
    /// The parent who offered it.
    pub offered_by: UserId,
}

#[derive(sqlx::FromRow)]
struct RawHandover {
    patient_id: String,
    email: String,
    expires_at: i64,
    offered_by: String,
}

impl TryFrom<RawHandover> for HandoverRow {
    type Error = crate::StoreError;
    fn try_from(r: RawHandover) -> Result<Self, Self::Error> {
        Ok(HandoverRow {
            patient_id: parse_id("record_handovers.patient_id", &r.patient_id)?,
            email: r.email,
            expires_at: Timestamp::from_millis(r.expires_at),
            offered_by: parse_id("record_handovers.offered_by", &r.offered_by)?,
        })
    }
}

/// Records an offer, replacing any earlier one for the same record (its link stops working).
pub async fn upsert_handover(conn: &mut Conn, offer: &HandoverRow, token_hash: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into record_handovers (patient_id, email, token_hash, expires_at, offered_by, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $6) \
         on conflict (patient_id) do update set email = excluded.email, token_hash = excluded.token_hash, \
         expires_at = excluded.expires_at, offered_by = excluded.offered_by, updated_at = excluded.updated_at",
    )
    .bind(offer.patient_id.to_string())
    .bind(&offer.email)
    .bind(token_hash)
    .bind(offer.expires_at.as_millis())
    .bind(offer.offered_by.to_string())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The offer behind a link's token hash (expired ones too: the caller checks).
pub async fn find_handover_by_token(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<HandoverRow>> {
    let row: Option<RawHandover> =
        sqlx::query_as("select patient_id, email, expires_at, offered_by from record_handovers where token_hash = $1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await?;
    row.map(HandoverRow::try_from).transpose()
}

/// The pending offer for a record, if any.
pub async fn find_handover_for_patient(conn: &mut Conn, patient: PatientId) -> StoreResult<Option<HandoverRow>> {
    let row: Option<RawHandover> =
        sqlx::query_as("select patient_id, email, expires_at, offered_by from record_handovers where patient_id = $1")
            .bind(patient.to_string())
            .fetch_optional(conn)
            .await?;
    row.map(HandoverRow::try_from).transpose()
}

/// Gives a record with no account to an account, and ends its offer. False if the record has
/// an account already (someone took it first). Fails with `Conflict("patients_user_id_unique")`
/// if the account holds a record of its own.
pub async fn update_owner_from_handover(conn: &mut Conn, patient: PatientId, user: UserId, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query("update patients set user_id = $2, updated_at = $3 where id = $1 and user_id is null")
        .bind(patient.to_string())
        .bind(user.to_string())
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if done {
        sqlx::query("delete from record_handovers where patient_id = $1").bind(patient.to_string()).execute(&mut *conn).await?;
    }
    Ok(done)
}
