//! The practice's review of what patients share with it: the inbox, one patient's shared
//! entries with the home blood pressure summary, a clinician's decisions, the patient's
//! answers, and social care notes. Every look and every decision is decided by the policy and
//! written to the patient's access log.

mod decisions;

use crate::access::{Access, RecordRef, Touch};
use crate::entry_views::{home_bp_of, step_views, summary_view};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, Permit, PracticeLink};
use domain::audit::Category;
use domain::entries::EntryBody;
use domain::home_bp;
use domain::practice_views::{InboxPatientView, InboxView, SharedEntryView};
use domain::practices::{InboxState, LinkStatus, NhsNumber, StaffRole};
use domain::{EntryId, PatientId, Span, Timestamp, ValidationError};
use store::entries;
use store::reviews::{self, InboxCursor, InboxRow};
use store::{links, shared};

/// Patients on one page of the inbox.
pub const INBOX_PATIENTS: i64 = 25;
/// Shared entries shown on a patient's page, newest first.
const SHARED_SHOWN: i64 = 200;
/// How far back the home blood pressure series is looked for.
const BP_LOOKBACK: Span = Span::days(home_bp::MAX_DAYS as i64 + 1);
/// The most entries one decision may cover.
pub const MAX_BATCH: usize = 100;

/// A clinician's decision on one or more entries of one patient.
#[derive(Debug, Clone, Default)]
pub struct ReviewForm {
    /// The entries, each as `<id>:<version seen>`.
    pub entries: Vec<String>,
    /// `accept`, `note`, `reject` or `ask`.
    pub decision: String,
    /// The reason (reject) or question (ask); optional otherwise.
    pub message: String,
}

fn concerning(body: &EntryBody) -> bool {
    matches!(body, EntryBody::Reading(r) if r.concern().is_some())
}

fn spaced(nhs: &str) -> String {
    NhsNumber::parse("nhs_number", nhs).map(|n| n.to_string()).unwrap_or_else(|_| nhs.to_owned())
}

fn detail(body: &EntryBody) -> String {
    match body {
        EntryBody::Reading(r) => r.display(),
        EntryBody::Note(n) => n.text.clone(),
        EntryBody::AboutMe(a) => a.answers().iter().map(|(q, a)| format!("{q}: {a}")).collect::<Vec<_>>().join("\n"),
    }
}

fn decode_cursor(text: &str) -> ServiceResult<Option<InboxCursor>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || ValidationError::field("after", "That page link is not valid. Go back to the first page.");
    let mut parts = text.splitn(3, '.');
    let flagged = match parts.next() {
        Some("1") => true,
        Some("0") => false,
        _ => return Err(bad().into()),
    };
    let oldest = parts.next().and_then(|t| t.parse::<i64>().ok()).ok_or_else(bad)?;
    let patient_id = parts.next().and_then(|t| t.parse::<PatientId>().ok()).ok_or_else(bad)?;
    Ok(Some(InboxCursor { flagged, oldest: Timestamp::from_millis(oldest), patient_id }))
}

fn encode_cursor(c: &InboxCursor) -> String {
    format!("{}.{}.{}", u8::from(c.flagged), c.oldest.as_millis(), c.patient_id)
}

impl Services {
    /// Keeps an entry's place in its practice's inbox in step with the entry, in the entry's
    /// own transaction: a shared, undeleted entry of a linked record, written by the patient or
    /// a carer (not by the practice's own staff), waits for a clinician, unless the practice
    /// already decided on this version of it; anything else leaves the inbox.
    ///
    /// Every caller runs in a transaction that has appended to the patient's access log chain,
    /// which locks the chain's head: two changes to one patient's inbox never interleave, on
    /// PostgreSQL as on SQLite.
    pub(crate) async fn refile(&self, conn: &mut store::Conn, patient: PatientId, entry: EntryId) -> ServiceResult<()> {
        let now = self.now();
        let link = links::find_link(conn, patient).await?.filter(|l| l.status == LinkStatus::Linked);
        let row = entries::find_for_filing(conn, patient, entry).await?;
        let current = reviews::find_inbox(conn, entry).await?;
        let by_staff = match (&link, &row) {
            (Some(l), Some(r)) => store::practices::find_staff(conn, r.entered_by).await?.is_some_and(|s| s.practice.id == l.practice.id),
            _ => false,
        };
        match (link, row) {
            (Some(link), Some(row)) if row.current.shared_with_practice && row.deleted_at.is_none() && !by_staff => {
                let practice = link.practice.id;
                let concerning = concerning(&row.current.body);
                let (state, waiting_since) = match current {
                    Some(c) if c.practice_id == practice && c.state != InboxState::Done => (c.state, c.waiting_since),
                    _ => {
                        // New to this practice's inbox, or decided: it waits again unless this
                        // practice's last step was about this very version.
                        match reviews::find_last_step(conn, entry, practice).await? {
                            Some((version, step, at)) if version >= row.version && step.inbox_state() != InboxState::Waiting => {
                                (step.inbox_state(), at)
                            }
                            _ => (InboxState::Waiting, now),
                        }
                    }
                };
                reviews::upsert_inbox(conn, entry, patient, &InboxRow { practice_id: practice, state, concerning, waiting_since }, now)
                    .await?;
                reviews::refresh_inbox_patient(conn, patient, practice).await?;
            }
            _ => {
                if let Some(c) = current {
                    reviews::delete_inbox(conn, entry).await?;
                    reviews::refresh_inbox_patient(conn, patient, c.practice_id).await?;
                }
            }
        }
        Ok(())
    }

    /// A page of the practice's review inbox (clinicians): patients with entries waiting,
    /// those with a concerning value first, then the longest waiting; each with the home blood
    /// pressure summary when they shared blood pressure readings. Errors name `after`.
    pub async fn inbox(&self, who: &SignedIn, after: &str) -> ServiceResult<InboxView> {
        let job = self.staff_job(who, &[StaffRole::Gp, StaffRole::Nurse])?.clone();
        let cursor = decode_cursor(after)?;
        let mut tx = self.db().begin_read().await?;
        let items = reviews::inbox_page(&mut tx, job.practice, cursor.as_ref(), INBOX_PATIENTS).await?;
        let (waiting_patients, waiting_entries) = reviews::inbox_counts(&mut tx, job.practice).await?;
        let mut patients: Vec<(InboxPatientView, Access)> = Vec::new();
        let mut last_line = None;
        let mut events = Vec::new();
        let mut refused: Option<PatientId> = None;
        for item in items {
            last_line = Some(item.line.clone());
            let patient = item.entry.patient_id;
            if refused == Some(patient) {
                continue;
            }
            if patients.last().is_none_or(|(p, _)| p.patient_id != patient) {
                // Each patient on the page is decided by the policy, from the link the inbox
                // query read in this transaction, and the look is in their log.
                let link = PracticeLink { practice: item.link_practice, status: item.link_status };
                let touch = Touch::of(Category::Shared);
                let permit = match self.open_listed(who, Action::ReadShared, patient, item.owner, Some(link)) {
                    Ok(permit) => permit,
                    Err(refusal) => {
                        events.push(self.refused_event(who, &refusal, &touch));
                        refused = Some(patient);
                        continue;
                    }
                };
                events.push(self.allowed_event(who, &permit, &touch));
                let view = InboxPatientView {
                    patient_id: patient,
                    name: item.patient_name.clone(),
                    born_on: item.born_on.as_deref().and_then(Timestamp::parse_uk_date).map(Timestamp::to_uk_date),
                    nhs_number: spaced(&item.nhs_number),
                    flagged: item.line.flagged,
                    entries: Vec::new(),
                    home_bp: None,
                    may_review: true,
                    may_add_care_note: false,
                    nhs_items_not_shown: None,
                };
                patients.push((view, Access::listed(permit, item.patient_name.clone(), item.owner)));
            }
            if let Some((p, access)) = patients.last_mut() {
                if !access.labels().contains(&item.entry.current.label) {
                    continue;
                }
                p.entries.push(SharedEntryView {
                    entry: summary_view(who.user_id, access, &item.entry),
                    detail: detail(&item.entry.current.body),
                    steps: Vec::new(),
                    waiting: true,
                });
            }
        }
        for (p, access) in &mut patients {
            if p.entries.iter().any(|e| e.entry.reading_kind == Some(domain::ReadingKind::BloodPressure)) {
                p.home_bp = self.home_bp(&mut tx, access.permit()?).await?;
            }
        }
        let patients: Vec<InboxPatientView> = patients.into_iter().map(|(p, _)| p).collect();
        tx.commit().await?;
        self.log_all(events).await?;
        let next = last_line.filter(|_| patients.len() as i64 == INBOX_PATIENTS).map(|l| encode_cursor(&l));
        Ok(InboxView { patients, next, waiting_patients, waiting_entries })
    }

    async fn home_bp(&self, conn: &mut store::Conn, permit: &Permit) -> ServiceResult<Option<home_bp::HomeBpSummary>> {
        let rows = shared::list_shared_bp(conn, permit, self.now().minus(BP_LOOKBACK)).await?;
        Ok(home_bp_of(&rows))
    }

    /// Everything a patient shared with the caller's practice that the caller may see (a
    /// clinician: all of it; a social care worker: what is labelled for social care), newest
    /// first, with each entry's review and the home blood pressure summary.
    pub async fn shared_record(&self, who: &SignedIn, patient: PatientId) -> ServiceResult<InboxPatientView> {
        let (mut read, access) = self
            .open_read(who, RecordRef::Patient(patient), Action::ReadShared, Touch::of(Category::Shared))
            .await
            .map_err(|e| self.passkey_hint(who, e))?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let link = links::find_link(&mut read, patient).await?.ok_or(ServiceError::NotFound)?;
        let rows = shared::list_shared(&mut read, access.permit()?, SHARED_SHOWN).await?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut flagged = false;
        for row in &rows {
            let inbox = reviews::find_inbox(&mut read, row.id).await?;
            let waiting = inbox.is_some_and(|i| i.state == InboxState::Waiting);
            flagged |= waiting && concerning(&row.current.body);
            // Only steps about versions the viewer may see (a social care worker does not see
            // a question on a version labelled otherwise).
            let steps = reviews::list_for_entry(&mut read, access.permit()?, row.id).await?;
            entries.push(SharedEntryView {
                entry: summary_view(who.user_id, &access, row),
                detail: detail(&row.current.body),
                steps: step_views(steps),
                waiting,
            });
        }
        let home_bp = self.home_bp(&mut read, access.permit()?).await?;
        let nhs_items_not_shown = if access.role() == domain::access::Role::PracticeClinician {
            Some(u32::try_from(store::synced::count_quarantined(&mut read, access.permit()?).await?).unwrap_or(u32::MAX))
        } else {
            None
        };
        read.commit().await?;
        Ok(InboxPatientView {
            patient_id: patient,
            name: link.patient_name,
            born_on: link.born_on.as_deref().and_then(Timestamp::parse_uk_date).map(Timestamp::to_uk_date),
            nhs_number: spaced(&link.nhs_number),
            flagged,
            entries,
            home_bp,
            may_review: matches!(who.staff.as_ref().map(|j| j.job), Some(StaffRole::Gp | StaffRole::Nurse)),
            may_add_care_note: who.staff.as_ref().is_some_and(|j| j.job == StaffRole::SocialCare),
            nhs_items_not_shown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_cursors_round_trip_and_bad_ones_are_named() {
        let c = InboxCursor {
            flagged: true,
            oldest: Timestamp::from_millis(1_790_000_000_000),
            patient_id: PatientId::from_uuid(uuid::Uuid::from_u128(7)),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), Some(c));
        assert_eq!(decode_cursor(" ").unwrap(), None);
        for bad in ["2.1.x", "1.x.00000000-0000-0000-0000-000000000007", "1.5"] {
            assert!(matches!(decode_cursor(bad), Err(ServiceError::Validation(v)) if v.0[0].field == "after"));
        }
    }
}
