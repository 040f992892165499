//! The review of what patients share with their practice: each step taken on an entry, and the
//! practice's inbox of entries waiting for a clinician, kept per entry and per patient so its
//! first page is one indexed read however large the practice.

use crate::entries::{label_slots, EntryRow, RawEntry};
use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::access::Permit;
use domain::practices::{InboxState, LinkStatus, ReviewStep};
use domain::{EntryId, PatientId, PracticeId, Timestamp, UserId};

/// One step of an entry's review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    /// Which step.
    pub id: String,
    /// The entry.
    pub entry_id: EntryId,
    /// The entry's version it was about.
    pub entry_version: i64,
    /// The practice.
    pub practice_id: PracticeId,
    /// What was done.
    pub step: ReviewStep,
    /// The reason, question or answer.
    pub message: Option<String>,
    /// Who did it.
    pub actor: UserId,
    /// Their name.
    pub actor_name: String,
    /// When.
    pub at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawReview {
    id: String,
    entry_id: String,
    entry_version: i64,
    practice_id: String,
    step: String,
    message: Option<String>,
    actor: String,
    actor_name: String,
    created_at: i64,
}

impl TryFrom<RawReview> for ReviewRow {
    type Error = StoreError;
    fn try_from(r: RawReview) -> Result<Self, Self::Error> {
        Ok(ReviewRow {
            id: r.id,
            entry_id: parse_id("entry_reviews.entry_id", &r.entry_id)?,
            entry_version: r.entry_version,
            practice_id: parse_id("entry_reviews.practice_id", &r.practice_id)?,
            step: ReviewStep::from_slug(&r.step).ok_or(StoreError::Corrupt { column: "entry_reviews.step" })?,
            message: r.message,
            actor: parse_id("entry_reviews.actor", &r.actor)?,
            actor_name: r.actor_name,
            at: Timestamp::from_millis(r.created_at),
        })
    }
}

/// Records a step.
pub async fn insert_review(conn: &mut Conn, r: &ReviewRow) -> StoreResult<()> {
    sqlx::query(
        "insert into entry_reviews (id, entry_id, entry_version, practice_id, step, message, actor, actor_name, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&r.id)
    .bind(r.entry_id.to_string())
    .bind(r.entry_version)
    .bind(r.practice_id.to_string())
    .bind(r.step.slug())
    .bind(r.message.as_deref())
    .bind(r.actor.to_string())
    .bind(&r.actor_name)
    .bind(r.at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

macro_rules! REVIEW_SELECT {
    () => {
        "select r.id, r.entry_id, r.entry_version, r.practice_id, r.step, r.message, r.actor, r.actor_name, r.created_at \
         from entry_reviews r "
    };
}

/// The steps on an entry of the permit's record that the permit may see, oldest first: a step
/// about a version with a label outside the permit's (a question on it, and the answer) is
/// absent, like the version itself. Step ids are UUIDv7, so steps taken in the same
/// millisecond keep their order.
pub async fn list_for_entry(conn: &mut Conn, permit: &Permit, entry: EntryId) -> StoreResult<Vec<ReviewRow>> {
    let [l1, l2, l3, l4] = label_slots(permit.labels());
    let raw: Vec<RawReview> = sqlx::query_as(concat!(
        REVIEW_SELECT!(),
        "join entries e on e.id = r.entry_id \
         join entry_versions v on v.entry_id = r.entry_id and v.version = r.entry_version \
         where r.entry_id = $1 and e.patient_id = $2 and v.label in ($3, $4, $5, $6) order by r.created_at, r.id"
    ))
    .bind(entry.to_string())
    .bind(permit.patient().to_string())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .fetch_all(conn)
    .await?;
    raw.into_iter().map(ReviewRow::try_from).collect()
}

/// A practice's last step on an entry, for the service's own bookkeeping (whether the entry
/// waits in the inbox again): the version it was about, what it was and when. No message.
pub async fn find_last_step(conn: &mut Conn, entry: EntryId, practice: PracticeId) -> StoreResult<Option<(i64, ReviewStep, Timestamp)>> {
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "select entry_version, step, created_at from entry_reviews where entry_id = $1 and practice_id = $2 \
         order by created_at desc, id desc limit 1",
    )
    .bind(entry.to_string())
    .bind(practice.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|(version, step, at)| {
        Ok((version, ReviewStep::from_slug(&step).ok_or(StoreError::Corrupt { column: "entry_reviews.step" })?, Timestamp::from_millis(at)))
    })
    .transpose()
}

/// Where an entry stands in its practice's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxRow {
    /// The practice.
    pub practice_id: PracticeId,
    /// Where it stands.
    pub state: InboxState,
    /// Whether its value is concerning.
    pub concerning: bool,
    /// Since when it has waited for a clinician.
    pub waiting_since: Timestamp,
}

/// An entry's place in the inbox, if it has one.
pub async fn find_inbox(conn: &mut Conn, entry: EntryId) -> StoreResult<Option<InboxRow>> {
    let raw: Option<(String, String, i64, i64)> =
        sqlx::query_as("select practice_id, state, concerning, waiting_since from practice_inbox where entry_id = $1")
            .bind(entry.to_string())
            .fetch_optional(conn)
            .await?;
    raw.map(|(practice, state, concerning, since)| {
        Ok(InboxRow {
            practice_id: parse_id("practice_inbox.practice_id", &practice)?,
            state: InboxState::from_slug(&state).ok_or(StoreError::Corrupt { column: "practice_inbox.state" })?,
            concerning: concerning != 0,
            waiting_since: Timestamp::from_millis(since),
        })
    })
    .transpose()
}

/// Puts an entry in its practice's inbox, or moves it there.
pub async fn upsert_inbox(conn: &mut Conn, entry: EntryId, patient: PatientId, row: &InboxRow, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into practice_inbox (entry_id, practice_id, patient_id, state, concerning, waiting_since, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (entry_id) do update set practice_id = excluded.practice_id, \
         state = excluded.state, concerning = excluded.concerning, waiting_since = excluded.waiting_since, updated_at = excluded.updated_at",
    )
    .bind(entry.to_string())
    .bind(row.practice_id.to_string())
    .bind(patient.to_string())
    .bind(row.state.slug())
    .bind(i64::from(row.concerning))
    .bind(row.waiting_since.as_millis())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes an entry out of the inbox (no longer shared, deleted).
pub async fn delete_inbox(conn: &mut Conn, entry: EntryId) -> StoreResult<()> {
    sqlx::query("delete from practice_inbox where entry_id = $1").bind(entry.to_string()).execute(conn).await?;
    Ok(())
}

/// Takes all of a record's entries out of every inbox (the record left its practice).
pub async fn delete_inbox_for_patient(conn: &mut Conn, patient: PatientId) -> StoreResult<()> {
    sqlx::query("delete from practice_inbox where patient_id = $1").bind(patient.to_string()).execute(&mut *conn).await?;
    sqlx::query("delete from practice_inbox_patients where patient_id = $1").bind(patient.to_string()).execute(conn).await?;
    Ok(())
}

/// Brings a patient's line in their practice's inbox up to date with their entries' rows.
pub async fn refresh_inbox_patient(conn: &mut Conn, patient: PatientId, practice: PracticeId) -> StoreResult<()> {
    let (waiting, flagged, oldest): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "select count(*), max(concerning), min(waiting_since) from practice_inbox \
         where practice_id = $1 and state = 'waiting' and patient_id = $2",
    )
    .bind(practice.to_string())
    .bind(patient.to_string())
    .fetch_one(&mut *conn)
    .await?;
    match oldest {
        Some(oldest) if waiting > 0 => {
            sqlx::query(
                "insert into practice_inbox_patients (patient_id, practice_id, waiting, flagged, oldest) values ($1, $2, $3, $4, $5) \
                 on conflict (patient_id) do update set practice_id = excluded.practice_id, waiting = excluded.waiting, \
                 flagged = excluded.flagged, oldest = excluded.oldest",
            )
            .bind(patient.to_string())
            .bind(practice.to_string())
            .bind(waiting)
            .bind(flagged.unwrap_or(0))
            .bind(oldest)
            .execute(conn)
            .await?;
        }
        _ => {
            sqlx::query("delete from practice_inbox_patients where patient_id = $1").bind(patient.to_string()).execute(conn).await?;
        }
    }
    Ok(())
}

/// Where a page of the inbox starts: after this patient's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxCursor {
    /// The line's flag.
    pub flagged: bool,
    /// Its oldest wait.
    pub oldest: Timestamp,
    /// Its patient.
    pub patient_id: PatientId,
}

/// One entry on a page of the inbox, with its patient's line.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    /// The entry.
    pub entry: EntryRow,
    /// The patient's name.
    pub patient_name: String,
    /// The account that owns the record, if any.
    pub owner: Option<UserId>,
    /// The patient's date of birth, if known.
    pub born_on: Option<String>,
    /// The NHS number the practice verified.
    pub nhs_number: String,
    /// The practice the record is linked to, and where the link stands (for the policy).
    pub link_practice: PracticeId,
    /// Where the record's link to the practice stands.
    pub link_status: LinkStatus,
    /// The patient's line, for the next page's cursor.
    pub line: InboxCursor,
    /// Whether this entry is concerning.
    pub concerning: bool,
    /// Since when it has waited.
    pub waiting_since: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RawItem {
    #[sqlx(flatten)]
    entry: RawEntry,
    patient_name: Option<String>,
    owner: Option<String>,
    born_on: Option<String>,
    nhs_number: String,
    link_practice: String,
    link_status: String,
    line_flagged: i64,
    line_oldest: i64,
    concerning: i64,
    waiting_since: i64,
}

/// A page of the inbox: the waiting entries of up to `patients` patients, those with a
/// concerning value first, then by their longest wait; each patient's entries concerning
/// first, then oldest first. Only records still linked to the practice appear.
pub async fn inbox_page(conn: &mut Conn, practice: PracticeId, after: Option<&InboxCursor>, patients: i64) -> StoreResult<Vec<InboxItem>> {
    // With no cursor, start before every line: flagged lines have 1, so 2 comes first.
    let (flag, oldest, id) = match after {
        Some(c) => (i64::from(c.flagged), c.oldest.as_millis(), c.patient_id.to_string()),
        None => (2, i64::MIN, String::new()),
    };
    let raw: Vec<RawItem> = sqlx::query_as(
        "select e.id, e.patient_id, e.version, e.body, e.label, e.shared_with_practice, e.occurred_at, e.entered_by, \
         u.display_name as entered_by_name, e.source, e.deleted_at, e.created_at, e.updated_at, \
         coalesce(pu.display_name, pt.display_name) as patient_name, pt.user_id as owner, pt.born_on, l.nhs_number, \
         l.practice_id as link_practice, l.status as link_status, \
         g.flagged as line_flagged, g.oldest as line_oldest, i.concerning, i.waiting_since \
         from (select patient_id, flagged, oldest from practice_inbox_patients where practice_id = $1 \
               and (flagged < $2 or (flagged = $2 and (oldest > $3 or (oldest = $3 and patient_id > $4)))) \
               order by flagged desc, oldest, patient_id limit $5) g \
         join practice_links l on l.patient_id = g.patient_id and l.practice_id = $1 and l.status = 'linked' \
         join patients pt on pt.id = g.patient_id left join users pu on pu.id = pt.user_id \
         join practice_inbox i on i.practice_id = $1 and i.state = 'waiting' and i.patient_id = g.patient_id \
         join entries e on e.id = i.entry_id join users u on u.id = e.entered_by \
         order by g.flagged desc, g.oldest, g.patient_id, i.concerning desc, i.waiting_since, e.id",
    )
    .bind(practice.to_string())
    .bind(flag)
    .bind(oldest)
    .bind(id)
    .bind(patients)
    .fetch_all(conn)
    .await?;
    raw.into_iter()
        .map(|r| {
            let entry = EntryRow::try_from(r.entry)?;
            Ok(InboxItem {
                line: InboxCursor {
                    flagged: r.line_flagged != 0,
                    oldest: Timestamp::from_millis(r.line_oldest),
                    patient_id: entry.patient_id,
                },
                entry,
                patient_name: r.patient_name.unwrap_or_default(),
                owner: r.owner.as_deref().map(|u| parse_id("patients.user_id", u)).transpose()?,
                born_on: r.born_on,
                nhs_number: r.nhs_number,
                link_practice: parse_id("practice_links.practice_id", &r.link_practice)?,
                link_status: LinkStatus::from_slug(&r.link_status).ok_or(StoreError::Corrupt { column: "practice_links.status" })?,
                concerning: r.concerning != 0,
                waiting_since: Timestamp::from_millis(r.waiting_since),
            })
        })
        .collect()
}

/// How many patients and entries wait at a practice.
pub async fn inbox_counts(conn: &mut Conn, practice: PracticeId) -> StoreResult<(i64, i64)> {
    let (patients, entries): (i64, Option<i64>) =
        sqlx::query_as("select count(*), cast(sum(waiting) as bigint) from practice_inbox_patients where practice_id = $1")
            .bind(practice.to_string())
            .fetch_one(conn)
            .await?;
    Ok((patients, entries.unwrap_or(0)))
}
