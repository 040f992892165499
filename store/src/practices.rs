//! GP practices, their staff and staff invitations, and patients' links to a practice.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::practices::StaffRole;
use domain::{PracticeId, Timestamp, UserId};

/// A practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRow {
    /// Which.
    pub id: PracticeId,
    /// Its name.
    pub name: String,
    /// Its ODS code.
    pub ods_code: String,
}

#[derive(sqlx::FromRow)]
struct RawPractice {
    id: String,
    name: String,
    ods_code: String,
}

impl TryFrom<RawPractice> for PracticeRow {
    type Error = StoreError;
    fn try_from(r: RawPractice) -> Result<Self, Self::Error> {
        Ok(PracticeRow { id: parse_id("practices.id", &r.id)?, name: r.name, ods_code: r.ods_code })
    }
}

/// Adds a practice. Fails with `Conflict("practices_ods_code_unique")` when the code is taken.
pub async fn insert_practice(conn: &mut Conn, p: &PracticeRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query("insert into practices (id, name, ods_code, created_at, updated_at) values ($1, $2, $3, $4, $4)")
        .bind(p.id.to_string())
        .bind(&p.name)
        .bind(&p.ods_code)
        .bind(now.as_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// A practice by id.
pub async fn find_practice(conn: &mut Conn, id: PracticeId) -> StoreResult<Option<PracticeRow>> {
    let raw: Option<RawPractice> =
        sqlx::query_as("select id, name, ods_code from practices where id = $1").bind(id.to_string()).fetch_optional(conn).await?;
    raw.map(PracticeRow::try_from).transpose()
}

/// A practice by ODS code.
pub async fn find_practice_by_ods(conn: &mut Conn, ods_code: &str) -> StoreResult<Option<PracticeRow>> {
    let raw: Option<RawPractice> =
        sqlx::query_as("select id, name, ods_code from practices where ods_code = $1").bind(ods_code).fetch_optional(conn).await?;
    raw.map(PracticeRow::try_from).transpose()
}

/// Every practice, by name (the list a patient chooses from).
pub async fn list_practices(conn: &mut Conn) -> StoreResult<Vec<PracticeRow>> {
    let raw: Vec<RawPractice> = sqlx::query_as("select id, name, ods_code from practices order by name, ods_code").fetch_all(conn).await?;
    raw.into_iter().map(PracticeRow::try_from).collect()
}

/// Someone's job at a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// Their account.
    pub user_id: UserId,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// The practice.
    pub practice: PracticeRow,
    /// Their job there.
    pub job: StaffRole,
}

#[derive(sqlx::FromRow)]
struct RawStaff {
    user_id: String,
    name: String,
    email: String,
    practice_id: String,
    practice_name: String,
    ods_code: String,
    job: String,
}

impl TryFrom<RawStaff> for StaffRow {
    type Error = StoreError;
    fn try_from(r: RawStaff) -> Result<Self, Self::Error> {
        Ok(StaffRow {
            user_id: parse_id("practice_staff.user_id", &r.user_id)?,
            name: r.name,
            email: r.email,
            practice: PracticeRow {
                id: parse_id("practice_staff.practice_id", &r.practice_id)?,
                name: r.practice_name,
                ods_code: r.ods_code,
            },
            job: StaffRole::from_slug(&r.job).ok_or(StoreError::Corrupt { column: "practice_staff.job" })?,
        })
    }
}

macro_rules! STAFF_SELECT {
    () => {
        "select s.user_id, u.display_name as name, u.email, s.practice_id, p.name as practice_name, p.ods_code, s.job \
         from practice_staff s join users u on u.id = s.user_id join practices p on p.id = s.practice_id "
    };
}

/// The job an account holds, if any.
pub async fn find_staff(conn: &mut Conn, user: UserId) -> StoreResult<Option<StaffRow>> {
    let raw: Option<RawStaff> =
        sqlx::query_as(concat!(STAFF_SELECT!(), "where s.user_id = $1")).bind(user.to_string()).fetch_optional(conn).await?;
    raw.map(StaffRow::try_from).transpose()
}

/// An account's name and its job at a practice, if it has one: what every signed-in request
/// needs about its person, in one read. `None` when the account does not exist.
pub async fn find_person(conn: &mut Conn, user: UserId) -> StoreResult<Option<(String, Option<StaffRow>)>> {
    type Raw = (String, String, Option<String>, Option<String>, Option<String>, Option<String>);
    let raw: Option<Raw> = sqlx::query_as(
        "select u.display_name, u.email, s.practice_id, p.name, p.ods_code, s.job from users u \
         left join practice_staff s on s.user_id = u.id left join practices p on p.id = s.practice_id where u.id = $1",
    )
    .bind(user.to_string())
    .fetch_optional(conn)
    .await?;
    let Some((name, email, practice_id, practice_name, ods_code, job)) = raw else { return Ok(None) };
    let staff = match (practice_id, practice_name, ods_code, job) {
        (Some(practice_id), Some(practice_name), Some(ods_code), Some(job)) => Some(StaffRow::try_from(RawStaff {
            user_id: user.to_string(),
            name: name.clone(),
            email,
            practice_id,
            practice_name,
            ods_code,
            job,
        })?),
        _ => None,
    };
    Ok(Some((name, staff)))
}

/// A practice's staff, by name.
pub async fn list_staff(conn: &mut Conn, practice: PracticeId) -> StoreResult<Vec<StaffRow>> {
    let raw: Vec<RawStaff> = sqlx::query_as(concat!(STAFF_SELECT!(), "where s.practice_id = $1 order by u.display_name, s.user_id"))
        .bind(practice.to_string())
        .fetch_all(conn)
        .await?;
    raw.into_iter().map(StaffRow::try_from).collect()
}

/// Gives an account a job at a practice, or changes it. Returns false (and changes nothing)
/// when the account already works at another practice.
pub async fn upsert_staff(
    conn: &mut Conn,
    user: UserId,
    practice: PracticeId,
    job: StaffRole,
    added_by: Option<UserId>,
    now: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "insert into practice_staff (user_id, practice_id, job, added_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) \
         on conflict (user_id) do update set job = excluded.job, updated_at = excluded.updated_at \
         where practice_staff.practice_id = excluded.practice_id",
    )
    .bind(user.to_string())
    .bind(practice.to_string())
    .bind(job.slug())
    .bind(added_by.map(|u| u.to_string()))
    .bind(now.as_millis())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Ends someone's job at a practice. Returns whether they had one there.
pub async fn delete_staff(conn: &mut Conn, practice: PracticeId, user: UserId) -> StoreResult<bool> {
    let done = sqlx::query("delete from practice_staff where practice_id = $1 and user_id = $2")
        .bind(practice.to_string())
        .bind(user.to_string())
        .execute(conn)
        .await?
        .rows_affected();
    Ok(done == 1)
}

/// An invitation to join a practice's staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffInvitationRow {
    /// Which.
    pub id: String,
    /// The practice.
    pub practice: PracticeRow,
    /// Where it was sent.
    pub email: String,
    /// Whom it names.
    pub name: String,
    /// The job offered.
    pub job: StaffRole,
    /// Until when the link works.
    pub expires_at: Timestamp,
    /// When it was taken up, if it was.
    pub accepted_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct RawInvitation {
    id: String,
    practice_id: String,
    practice_name: String,
    ods_code: String,
    email: String,
    name: String,
    job: String,
    expires_at: i64,
    accepted_at: Option<i64>,
}

impl TryFrom<RawInvitation> for StaffInvitationRow {
    type Error = StoreError;
    fn try_from(r: RawInvitation) -> Result<Self, Self::Error> {
        Ok(StaffInvitationRow {
            id: r.id,
            practice: PracticeRow {
                id: parse_id("staff_invitations.practice_id", &r.practice_id)?,
                name: r.practice_name,
                ods_code: r.ods_code,
            },
            email: r.email,
            name: r.name,
            job: StaffRole::from_slug(&r.job).ok_or(StoreError::Corrupt { column: "staff_invitations.job" })?,
            expires_at: Timestamp::from_millis(r.expires_at),
            accepted_at: r.accepted_at.map(Timestamp::from_millis),
        })
    }
}

macro_rules! INVITATION_SELECT {
    () => {
        "select i.id, i.practice_id, p.name as practice_name, p.ods_code, i.email, i.name, i.job, i.expires_at, i.accepted_at \
         from staff_invitations i join practices p on p.id = i.practice_id "
    };
}

/// Stores an invitation with the hash of its emailed token.
pub async fn insert_invitation(
    conn: &mut Conn,
    inv: &StaffInvitationRow,
    token_hash: &str,
    invited_by: Option<UserId>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "insert into staff_invitations (id, practice_id, email, name, job, token_hash, invited_by, expires_at, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&inv.id)
    .bind(inv.practice.id.to_string())
    .bind(&inv.email)
    .bind(&inv.name)
    .bind(inv.job.slug())
    .bind(token_hash)
    .bind(invited_by.map(|u| u.to_string()))
    .bind(inv.expires_at.as_millis())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The invitation an emailed token (its hash) belongs to.
pub async fn find_invitation_by_token(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<StaffInvitationRow>> {
    let raw: Option<RawInvitation> =
        sqlx::query_as(concat!(INVITATION_SELECT!(), "where i.token_hash = $1")).bind(token_hash).fetch_optional(conn).await?;
    raw.map(StaffInvitationRow::try_from).transpose()
}

/// A practice's invitations not yet taken up, newest first.
pub async fn list_open_invitations(conn: &mut Conn, practice: PracticeId, now: Timestamp) -> StoreResult<Vec<StaffInvitationRow>> {
    let raw: Vec<RawInvitation> = sqlx::query_as(concat!(
        INVITATION_SELECT!(),
        "where i.practice_id = $1 and i.accepted_at is null and i.expires_at > $2 order by i.created_at desc, i.id"
    ))
    .bind(practice.to_string())
    .bind(now.as_millis())
    .fetch_all(conn)
    .await?;
    raw.into_iter().map(StaffInvitationRow::try_from).collect()
}

/// Marks an invitation taken up, once. Returns false if it already was.
pub async fn update_invitation_accepted(conn: &mut Conn, id: &str, by: UserId, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query(
        "update staff_invitations set accepted_at = $2, accepted_by = $3, updated_at = $2 where id = $1 and accepted_at is null",
    )
    .bind(id)
    .bind(now.as_millis())
    .bind(by.to_string())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}
