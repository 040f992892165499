//! The shared care record: each record's match there, and the outbox of accepted entries.
//!
//! The outbox works like the mail outbox: rows are claimed with a lease, so two servers never
//! send one row at once, and a worker that dies mid-send leaves its row to be claimed again
//! when the lease ends. Versions of one entry go in order: a row waits while an earlier
//! version of its entry is still waiting.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::practices::LinkStatus;
use domain::{EntryId, PatientId, PracticeId, Timestamp, UserId};

/// Where a record stands with the shared care record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareRecordPatientRow {
    /// The record.
    pub patient_id: PatientId,
    /// The NHS number the match was made on.
    pub nhs_number: String,
    /// The date of birth (`YYYY-MM-DD`) it was checked against; None for a match made before
    /// Carry kept one (made again before it is used).
    pub born_on: Option<String>,
    /// The Patient's id there, when matched.
    pub remote_id: Option<String>,
    /// Why it is held for a person, when quarantined.
    pub quarantine_reason: Option<String>,
    /// When it was last checked.
    pub checked_at: Timestamp,
}

type RawMatch = (String, String, Option<String>, String, Option<String>, Option<String>, i64);

/// The record's match.
pub async fn find_care_record_patient(conn: &mut Conn, patient: PatientId) -> StoreResult<Option<CareRecordPatientRow>> {
    let row: Option<RawMatch> = sqlx::query_as(
        "select patient_id, nhs_number, born_on, status, remote_id, reason, checked_at from care_record_patients \
         where patient_id = $1",
    )
    .bind(patient.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|(id, nhs_number, born_on, status, remote_id, reason, checked_at)| {
        let quarantined = match status.as_str() {
            "matched" => false,
            "quarantined" => true,
            _ => return Err(StoreError::Corrupt { column: "care_record_patients.status" }),
        };
        Ok(CareRecordPatientRow {
            patient_id: parse_id("care_record_patients.patient_id", &id)?,
            nhs_number,
            born_on,
            remote_id: if quarantined { None } else { remote_id },
            quarantine_reason: if quarantined { Some(reason.unwrap_or_default()) } else { None },
            checked_at: Timestamp::from_millis(checked_at),
        })
    })
    .transpose()
}

/// Records a match (`remote_id`) or a quarantine (`quarantine_reason`), replacing what was there.
pub async fn upsert_care_record_patient(conn: &mut Conn, row: &CareRecordPatientRow, now: Timestamp) -> StoreResult<()> {
    let status = if row.quarantine_reason.is_some() { "quarantined" } else { "matched" };
    sqlx::query(
        "insert into care_record_patients (patient_id, nhs_number, born_on, status, remote_id, reason, checked_at, created_at, \
         updated_at) values ($1, $2, $8, $3, $4, $5, $6, $7, $7) on conflict (patient_id) do update set \
         nhs_number = excluded.nhs_number, born_on = excluded.born_on, status = excluded.status, remote_id = excluded.remote_id, reason = excluded.reason, checked_at = excluded.checked_at, \
         updated_at = excluded.updated_at",
    )
    .bind(row.patient_id.to_string())
    .bind(&row.nhs_number)
    .bind(status)
    .bind(&row.remote_id)
    .bind(&row.quarantine_reason)
    .bind(row.checked_at.as_millis())
    .bind(now.as_millis())
    .bind(&row.born_on)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a record's match, so the next send looks it up again (after a person resolved a
/// quarantine, or the record moved practice).
pub async fn delete_care_record_patient(conn: &mut Conn, patient: PatientId) -> StoreResult<()> {
    sqlx::query("delete from care_record_patients where patient_id = $1").bind(patient.to_string()).execute(conn).await?;
    Ok(())
}

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Not sent yet (it may be waiting for its next try).
    Waiting,
    /// The shared care record has it.
    Sent,
    /// Given up on: in the dead-letter list until someone retries it.
    Failed,
}

impl OutboxStatus {
    fn slug(self) -> &'static str {
        match self {
            OutboxStatus::Waiting => "waiting",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "waiting" => Ok(OutboxStatus::Waiting),
            "sent" => Ok(OutboxStatus::Sent),
            "failed" => Ok(OutboxStatus::Failed),
            _ => Err(StoreError::Corrupt { column: "care_record_outbox.status" }),
        }
    }
}

/// An accepted entry version to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxRow {
    /// Random id.
    pub id: String,
    /// The entry.
    pub entry_id: EntryId,
    /// The version the clinician accepted (what is sent, whatever the entry holds later).
    pub entry_version: i64,
    /// Whose record.
    pub patient_id: PatientId,
    /// The practice that accepted it.
    pub practice_id: PracticeId,
    /// The clinician.
    pub accepted_by: UserId,
    /// Their name, for the Provenance.
    pub accepted_by_name: String,
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Random id.
    pub id: String,
    /// The entry.
    pub entry_id: EntryId,
    /// The accepted version.
    pub entry_version: i64,
    /// Whose record.
    pub patient_id: PatientId,
    /// The practice that accepted it.
    pub practice_id: PracticeId,
    /// The clinician's name.
    pub accepted_by_name: String,
    /// When it was accepted.
    pub accepted_at: Timestamp,
    /// Where it stands.
    pub status: OutboxStatus,
    /// How many sends were tried.
    pub attempts: i64,
    /// The last failure, in words (no clinical content).
    pub last_error: Option<String>,
    /// `Observation/id` on the shared care record, once sent.
    pub remote_ref: Option<String>,
    /// When it was sent.
    pub sent_at: Option<Timestamp>,
    /// When the next try is due (waiting rows).
    pub next_attempt_at: Timestamp,
    /// Whether an earlier version of the entry was already sent (then this one amends it).
    pub earlier_sent: bool,
}

type RawOutbox = (String, String, i64, String, String, String, i64, String, i64, Option<String>, Option<String>, Option<i64>, i64, i64);

macro_rules! OUTBOX_SELECT {
    () => {
        "select o.id, o.entry_id, o.entry_version, o.patient_id, o.practice_id, o.accepted_by_name, o.accepted_at, o.status, \
         o.attempts, o.last_error, o.remote_ref, o.sent_at, o.next_attempt_at, \
         (select count(*) from care_record_outbox e where e.entry_id = o.entry_id and e.entry_version < o.entry_version \
          and e.status = 'sent') as earlier_sent \
         from care_record_outbox o "
    };
}

fn outbox_row(r: RawOutbox) -> StoreResult<OutboxRow> {
    let (id, entry, version, patient, practice, name, accepted_at, status, attempts, error, remote, sent_at, next, earlier) = r;
    Ok(OutboxRow {
        id,
        entry_id: parse_id("care_record_outbox.entry_id", &entry)?,
        entry_version: version,
        patient_id: parse_id("care_record_outbox.patient_id", &patient)?,
        practice_id: parse_id("care_record_outbox.practice_id", &practice)?,
        accepted_by_name: name,
        accepted_at: Timestamp::from_millis(accepted_at),
        status: OutboxStatus::parse(&status)?,
        attempts,
        last_error: error,
        remote_ref: remote,
        sent_at: sent_at.map(Timestamp::from_millis),
        next_attempt_at: Timestamp::from_millis(next),
        earlier_sent: earlier > 0,
    })
}

/// Queues an accepted version (in the acceptance's transaction). Accepting the same version
/// twice queues it once.
pub async fn insert_outbox(conn: &mut Conn, row: &NewOutboxRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into care_record_outbox (id, entry_id, entry_version, patient_id, practice_id, accepted_by, accepted_by_name, \
         accepted_at, status, attempts, next_attempt_at, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', 0, $8, $8, $8) on conflict (entry_id, entry_version) do nothing",
    )
    .bind(&row.id)
    .bind(row.entry_id.to_string())
    .bind(row.entry_version)
    .bind(row.patient_id.to_string())
    .bind(row.practice_id.to_string())
    .bind(row.accepted_by.to_string())
    .bind(&row.accepted_by_name)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims the oldest due, unleased row until `lease_until`, counting the attempt. None when
/// nothing is due or another worker won the race.
pub async fn claim_due_outbox(conn: &mut Conn, now: Timestamp, lease_until: Timestamp) -> StoreResult<Option<OutboxRow>> {
    let candidate: Option<String> = sqlx::query_scalar(
        "select o.id from care_record_outbox o where o.status = 'waiting' and o.next_attempt_at <= $1 \
         and (o.lease_until is null or o.lease_until <= $1) \
         and not exists (select 1 from care_record_outbox e where e.entry_id = o.entry_id and e.entry_version < o.entry_version \
                         and e.status = 'waiting') \
         order by o.next_attempt_at, o.id limit 1",
    )
    .bind(now.as_millis())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = candidate else { return Ok(None) };
    let claimed = sqlx::query(
        "update care_record_outbox set lease_until = $1, attempts = attempts + 1, updated_at = $2 \
         where id = $3 and status = 'waiting' and (lease_until is null or lease_until <= $2)",
    )
    .bind(lease_until.as_millis())
    .bind(now.as_millis())
    .bind(&id)
    .execute(&mut *conn)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(None);
    }
    find_outbox(conn, &id).await
}

/// One row by id.
pub async fn find_outbox(conn: &mut Conn, id: &str) -> StoreResult<Option<OutboxRow>> {
    let row: Option<RawOutbox> = sqlx::query_as(concat!(OUTBOX_SELECT!(), "where o.id = $1")).bind(id).fetch_optional(conn).await?;
    row.map(outbox_row).transpose()
}

/// Marks a row sent, with where the shared care record keeps it.
pub async fn update_outbox_sent(conn: &mut Conn, id: &str, remote_ref: Option<&str>, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "update care_record_outbox set status = 'sent', remote_ref = $1, sent_at = $2, lease_until = null, last_error = null, \
         updated_at = $2 where id = $3",
    )
    .bind(remote_ref)
    .bind(now.as_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed try and when to try again.
pub async fn update_outbox_retry(conn: &mut Conn, id: &str, error: &str, next_attempt_at: Timestamp, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update care_record_outbox set lease_until = null, last_error = $1, next_attempt_at = $2, updated_at = $3 where id = $4")
        .bind(error)
        .bind(next_attempt_at.as_millis())
        .bind(now.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives up on a row: it goes to the dead-letter list.
pub async fn update_outbox_failed(conn: &mut Conn, id: &str, error: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("update care_record_outbox set status = 'failed', lease_until = null, last_error = $1, updated_at = $2 where id = $3")
        .bind(error)
        .bind(now.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts a failed row of this practice back in the queue, due now, with its count reset.
/// False when there is no such failed row.
pub async fn update_outbox_retry_now(conn: &mut Conn, practice: PracticeId, id: &str, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query(
        "update care_record_outbox set status = 'waiting', attempts = 0, next_attempt_at = $1, lease_until = null, updated_at = $1 \
         where id = $2 and practice_id = $3 and status = 'failed'",
    )
    .bind(now.as_millis())
    .bind(id)
    .bind(practice.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts every row of a record that Carry stopped trying back in the queue, due now (after a
/// person resolved its held match). Returns how many.
pub async fn update_outbox_retry_patient(conn: &mut Conn, practice: PracticeId, patient: PatientId, now: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query(
        "update care_record_outbox set status = 'waiting', attempts = 0, next_attempt_at = $1, lease_until = null, updated_at = $1 \
         where patient_id = $2 and practice_id = $3 and status = 'failed'",
    )
    .bind(now.as_millis())
    .bind(patient.to_string())
    .bind(practice.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A record linked to a practice whose match in the shared care record is held for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMatchRow {
    /// The record.
    pub patient_id: PatientId,
    /// The patient's name in Carry.
    pub patient_name: String,
    /// Why the match is in doubt.
    pub reason: String,
    /// When it was last looked up.
    pub checked_at: Timestamp,
    /// Where the record's link to the practice stands (for the policy).
    pub link_status: LinkStatus,
}

/// The practice's linked records whose match is held, longest held first, at most `limit`.
pub async fn list_held_matches(conn: &mut Conn, practice: PracticeId, limit: i64) -> StoreResult<Vec<HeldMatchRow>> {
    // The record, the name, the reason, when it was checked, and the link's status.
    type Raw = (String, Option<String>, Option<String>, i64, String);
    let rows: Vec<Raw> = sqlx::query_as(
        "select c.patient_id, coalesce(u.display_name, pt.display_name), c.reason, c.checked_at, l.status from care_record_patients c \
         join practice_links l on l.patient_id = c.patient_id join patients pt on pt.id = c.patient_id \
         left join users u on u.id = pt.user_id \
         where l.practice_id = $1 and l.status = 'linked' and c.status = 'quarantined' order by c.checked_at, c.patient_id limit $2",
    )
    .bind(practice.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(patient, name, reason, checked, status)| {
            Ok(HeldMatchRow {
                link_status: LinkStatus::from_slug(&status).ok_or(StoreError::Corrupt { column: "practice_links.status" })?,
                patient_id: crate::error::parse_id("care_record_patients.patient_id", &patient)?,
                patient_name: name.unwrap_or_default(),
                reason: reason.unwrap_or_default(),
                checked_at: Timestamp::from_millis(checked),
            })
        })
        .collect()
}

/// A practice's rows that are not sent (failed first, then waiting), oldest first, at most `limit`.
pub async fn list_unsent_outbox(conn: &mut Conn, practice: PracticeId, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    let rows: Vec<RawOutbox> = sqlx::query_as(concat!(
        OUTBOX_SELECT!(),
        "where o.practice_id = $1 and o.status <> 'sent' order by o.status, o.created_at, o.id limit $2"
    ))
    .bind(practice.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(outbox_row).collect()
}

/// An entry's rows of this record, oldest version first (what the patient reads on the entry).
pub async fn list_outbox_for_entry(conn: &mut Conn, patient: PatientId, entry: EntryId) -> StoreResult<Vec<OutboxRow>> {
    let rows: Vec<RawOutbox> =
        sqlx::query_as(concat!(OUTBOX_SELECT!(), "where o.patient_id = $1 and o.entry_id = $2 order by o.entry_version"))
            .bind(patient.to_string())
            .bind(entry.to_string())
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(outbox_row).collect()
}

/// How many rows are in each state: (waiting, sent, failed).
pub async fn count_outbox(conn: &mut Conn) -> StoreResult<(i64, i64, i64)> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("select status, count(*) from care_record_outbox group by status").fetch_all(conn).await?;
    let get = |s: OutboxStatus| rows.iter().find(|(k, _)| k == s.slug()).map_or(0, |(_, n)| *n);
    Ok((get(OutboxStatus::Waiting), get(OutboxStatus::Sent), get(OutboxStatus::Failed)))
}
