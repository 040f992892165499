//! Carers' grants, their history, and the reminders already sent for them.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::access::GrantFacts;
use domain::grants::{labels_from_text, labels_to_text, CarerRelationship, GrantBasis, GrantStatus};
use domain::{GrantId, PatientId, PrivacyLabel, Timestamp, UserId};

/// A grant as stored, with the names the pages show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// The grant.
    pub id: GrantId,
    /// Whose record.
    pub patient_id: PatientId,
    /// The patient's name (their account's, or the record's own for a child without one).
    pub patient_name: String,
    /// The carer's account, once they accepted.
    pub carer: Option<UserId>,
    /// The carer's account name, once they accepted.
    pub carer_account_name: Option<String>,
    /// Where the invitation went.
    pub invited_email: String,
    /// The name the patient gave the carer.
    pub invited_name: String,
    /// How they are related.
    pub relationship: CarerRelationship,
    /// On what authority.
    pub basis: GrantBasis,
    /// Labels covered.
    pub labels: Vec<PrivacyLabel>,
    /// May add entries.
    pub can_add: bool,
    /// May download the record and make health links to its summary.
    pub can_export: bool,
    /// From.
    pub starts_at: Timestamp,
    /// Until (exclusive).
    pub ends_at: Timestamp,
    /// Where it stands.
    pub status: GrantStatus,
    /// SHA-256 of the invitation token while it can be used.
    pub invite_token_hash: Option<String>,
    /// When the invitation link stops working.
    pub invite_expires_at: Option<Timestamp>,
    /// Who decided to give it.
    pub decided_by: UserId,
    /// For a parental grant: when the young person confirmed it.
    pub young_person_confirmed_at: Option<Timestamp>,
    /// When it was revoked, cancelled or declined.
    pub ended_at: Option<Timestamp>,
    /// By whom.
    pub ended_by: Option<UserId>,
    /// Bumped by every change; a change must name the version it saw.
    pub version: i64,
    /// Made.
    pub created_at: Timestamp,
}

impl GrantRow {
    /// What the policy needs.
    pub fn facts(&self) -> GrantFacts {
        GrantFacts {
            id: self.id,
            carer: self.carer,
            status: self.status,
            basis: self.basis,
            labels: self.labels.clone(),
            can_add: self.can_add,
            can_export: self.can_export,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            young_person_confirmed: self.young_person_confirmed_at.is_some(),
        }
    }

    /// The carer's name as the patient should see it: their account's once accepted.
    pub fn carer_name(&self) -> &str {
        self.carer_account_name.as_deref().unwrap_or(&self.invited_name)
    }
}

#[derive(sqlx::FromRow)]
struct RawGrant {
    id: String,
    patient_id: String,
    patient_name: Option<String>,
    carer_user_id: Option<String>,
    carer_account_name: Option<String>,
    invited_email: String,
    invited_name: String,
    relationship: String,
    basis: String,
    labels: String,
    can_add: i64,
    can_export: i64,
    starts_at: i64,
    ends_at: i64,
    status: String,
    invite_token_hash: Option<String>,
    invite_expires_at: Option<i64>,
    decided_by: String,
    young_person_confirmed_at: Option<i64>,
    ended_at: Option<i64>,
    ended_by: Option<String>,
    version: i64,
    created_at: i64,
}

impl TryFrom<RawGrant> for GrantRow {
    type Error = StoreError;
    fn try_from(r: RawGrant) -> Result<Self, StoreError> {
        Ok(GrantRow {
            id: parse_id("grants.id", &r.id)?,
            patient_id: parse_id("grants.patient_id", &r.patient_id)?,
            patient_name: r.patient_name.unwrap_or_default(),
            carer: r.carer_user_id.as_deref().map(|u| parse_id("grants.carer_user_id", u)).transpose()?,
            carer_account_name: r.carer_account_name,
            invited_email: r.invited_email,
            invited_name: r.invited_name,
            relationship: CarerRelationship::parse("relationship", &r.relationship)
                .map_err(|_| StoreError::Corrupt { column: "grants.relationship" })?,
            basis: GrantBasis::from_slug(&r.basis).ok_or(StoreError::Corrupt { column: "grants.basis" })?,
            labels: labels_from_text(&r.labels).ok_or(StoreError::Corrupt { column: "grants.labels" })?,
            can_add: r.can_add != 0,
            can_export: r.can_export != 0,
            starts_at: Timestamp::from_millis(r.starts_at),
            ends_at: Timestamp::from_millis(r.ends_at),
            status: GrantStatus::from_slug(&r.status).ok_or(StoreError::Corrupt { column: "grants.status" })?,
            invite_token_hash: r.invite_token_hash,
            invite_expires_at: r.invite_expires_at.map(Timestamp::from_millis),
            decided_by: parse_id("grants.decided_by", &r.decided_by)?,
            young_person_confirmed_at: r.young_person_confirmed_at.map(Timestamp::from_millis),
            ended_at: r.ended_at.map(Timestamp::from_millis),
            ended_by: r.ended_by.as_deref().map(|u| parse_id("grants.ended_by", u)).transpose()?,
            version: r.version,
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

macro_rules! grant_select {
    ($($rest:literal),*) => {
        concat!(
            "select g.id, g.patient_id, coalesce(pu.display_name, p.display_name) as patient_name, g.carer_user_id, \
             cu.display_name as carer_account_name, g.invited_email, g.invited_name, g.relationship, g.basis, g.labels, g.can_add, \
             g.can_export, g.starts_at, g.ends_at, g.status, g.invite_token_hash, g.invite_expires_at, g.decided_by, g.young_person_confirmed_at, \
             g.ended_at, g.ended_by, g.version, g.created_at \
             from grants g join patients p on p.id = g.patient_id left join users pu on pu.id = p.user_id \
             left join users cu on cu.id = g.carer_user_id ",
            $($rest),*
        )
    };
}

fn rows(raw: Vec<RawGrant>) -> StoreResult<Vec<GrantRow>> {
    raw.into_iter().map(GrantRow::try_from).collect()
}

/// Stores a new grant (version 1).
pub async fn insert_grant(conn: &mut Conn, g: &GrantRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into grants (id, patient_id, carer_user_id, invited_email, invited_name, relationship, basis, labels, can_add, \
         starts_at, ends_at, status, invite_token_hash, invite_expires_at, decided_by, young_person_confirmed_at, ended_at, ended_by, \
         version, created_at, updated_at, can_export) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $19, $20)",
    )
    .bind(g.id.to_string())
    .bind(g.patient_id.to_string())
    .bind(g.carer.map(|u| u.to_string()))
    .bind(&g.invited_email)
    .bind(&g.invited_name)
    .bind(g.relationship.code())
    .bind(g.basis.slug())
    .bind(labels_to_text(&g.labels))
    .bind(i64::from(g.can_add))
    .bind(g.starts_at.as_millis())
    .bind(g.ends_at.as_millis())
    .bind(g.status.slug())
    .bind(g.invite_token_hash.as_deref())
    .bind(g.invite_expires_at.map(Timestamp::as_millis))
    .bind(g.decided_by.to_string())
    .bind(g.young_person_confirmed_at.map(Timestamp::as_millis))
    .bind(g.ended_at.map(Timestamp::as_millis))
    .bind(g.ended_by.map(|u| u.to_string()))
    .bind(now.as_millis())
    .bind(i64::from(g.can_export))
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a grant's changed fields if it is still at `g.version`; the stored version becomes
/// `g.version + 1`. Returns false when someone changed it first. The patient and the decider
/// never change.
pub async fn update_grant(conn: &mut Conn, g: &GrantRow, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query(
        "update grants set carer_user_id = $3, labels = $4, can_add = $5, starts_at = $6, ends_at = $7, status = $8, \
         invite_token_hash = $9, invite_expires_at = $10, young_person_confirmed_at = $11, ended_at = $12, ended_by = $13, \
         relationship = $14, can_export = $16, version = version + 1, updated_at = $15 \
         where id = $1 and version = $2",
    )
    .bind(g.id.to_string())
    .bind(g.version)
    .bind(g.carer.map(|u| u.to_string()))
    .bind(labels_to_text(&g.labels))
    .bind(i64::from(g.can_add))
    .bind(g.starts_at.as_millis())
    .bind(g.ends_at.as_millis())
    .bind(g.status.slug())
    .bind(g.invite_token_hash.as_deref())
    .bind(g.invite_expires_at.map(Timestamp::as_millis))
    .bind(g.young_person_confirmed_at.map(Timestamp::as_millis))
    .bind(g.ended_at.map(Timestamp::as_millis))
    .bind(g.ended_by.map(|u| u.to_string()))
    .bind(g.relationship.code())
    .bind(now.as_millis())
    .bind(i64::from(g.can_export))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// A grant by id.
pub async fn find_grant(conn: &mut Conn, id: GrantId) -> StoreResult<Option<GrantRow>> {
    let raw: Option<RawGrant> = sqlx::query_as(grant_select!("where g.id = $1")).bind(id.to_string()).fetch_optional(conn).await?;
    raw.map(GrantRow::try_from).transpose()
}

/// The grant an invitation token (its hash) belongs to.
pub async fn find_by_invite(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<GrantRow>> {
    let raw: Option<RawGrant> =
        sqlx::query_as(grant_select!("where g.invite_token_hash = $1")).bind(token_hash).fetch_optional(conn).await?;
    raw.map(GrantRow::try_from).transpose()
}

/// Every grant and invitation on a record, newest first.
pub async fn list_for_patient(conn: &mut Conn, patient: PatientId) -> StoreResult<Vec<GrantRow>> {
    rows(
        sqlx::query_as(grant_select!("where g.patient_id = $1 order by g.created_at desc, g.id desc"))
            .bind(patient.to_string())
            .fetch_all(conn)
            .await?,
    )
}

/// The grants a person holds or held on one record (what the policy weighs).
pub async fn held_on_record(conn: &mut Conn, patient: PatientId, carer: UserId) -> StoreResult<Vec<GrantRow>> {
    rows(
        sqlx::query_as(grant_select!("where g.patient_id = $1 and g.carer_user_id = $2 order by g.created_at"))
            .bind(patient.to_string())
            .bind(carer.to_string())
            .fetch_all(conn)
            .await?,
    )
}

/// The accepted grants a person holds, on every record (their dashboard; the policy still
/// decides which are in force).
pub async fn held_by(conn: &mut Conn, carer: UserId) -> StoreResult<Vec<GrantRow>> {
    rows(
        sqlx::query_as(grant_select!("where g.carer_user_id = $1 and g.status = 'active' order by patient_name, g.created_at"))
            .bind(carer.to_string())
            .fetch_all(conn)
            .await?,
    )
}

/// Accepted grants whose end falls before `before` (for review reminders and expiry notices).
pub async fn active_ending_before(conn: &mut Conn, before: Timestamp) -> StoreResult<Vec<GrantRow>> {
    rows(sqlx::query_as(grant_select!("where g.status = 'active' and g.ends_at < $1")).bind(before.as_millis()).fetch_all(conn).await?)
}

/// Accepted parental grants (for the age reminders).
pub async fn active_parental(conn: &mut Conn) -> StoreResult<Vec<GrantRow>> {
    rows(sqlx::query_as(grant_select!("where g.status = 'active' and g.basis = 'parental-responsibility'")).fetch_all(conn).await?)
}

/// One change to a grant.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantChangeRow {
    /// The grant's version after the change.
    pub version: i64,
    /// Who.
    pub changed_by_name: String,
    /// What kind of change (`invited`, `accepted`, `changed`, `revoked`...).
    pub change: String,
    /// What changed, in words.
    pub details: String,
    /// The basis at the time.
    pub basis: String,
    /// When (ms).
    pub at: i64,
}

/// Records a change (in the same transaction as the change itself).
#[allow(clippy::too_many_arguments)]
pub async fn insert_change(
    conn: &mut Conn,
    grant: GrantId,
    version: i64,
    by: UserId,
    change: &str,
    details: &str,
    basis: GrantBasis,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "insert into grant_changes (grant_id, version, changed_by, change, details, basis, at) values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(grant.to_string())
    .bind(version)
    .bind(by.to_string())
    .bind(change)
    .bind(details)
    .bind(basis.slug())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// A grant's changes, oldest first.
pub async fn list_changes(conn: &mut Conn, grant: GrantId) -> StoreResult<Vec<GrantChangeRow>> {
    Ok(sqlx::query_as(
        "select c.version, u.display_name as changed_by_name, c.change, c.details, c.basis, c.at from grant_changes c \
         join users u on u.id = c.changed_by where c.grant_id = $1 order by c.version",
    )
    .bind(grant.to_string())
    .fetch_all(conn)
    .await?)
}

/// Notes that a reminder went; false if it had already gone (so each goes once).
pub async fn mark_reminded(conn: &mut Conn, grant: GrantId, kind: &str, now: Timestamp) -> StoreResult<bool> {
    let n = sqlx::query("insert into grant_reminders (grant_id, kind, sent_at) values ($1, $2, $3) on conflict do nothing")
        .bind(grant.to_string())
        .bind(kind)
        .bind(now.as_millis())
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}
