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
