//! The shared care record: the client that signs in there, the outbox worker that sends what
//! practices accepted, and the dead-letter list practice administrators see and retry.

mod client;
mod clock;
pub mod pull;
pub mod push;
mod views;

pub(crate) use views::sections;

pub(crate) use client::CareRecordClient;

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, PracticeLink};
use domain::audit::Category;
use domain::practice_views::{CareRecordSendView, CareRecordSendsView, HeldMatchView, IncompletePullView, QuarantinedItemView};
use domain::practices::StaffRole;
use store::care_record::{self as outbox, OutboxStatus};
use store::patients;

/// Rows shown on an administrator's list.
const UNSENT_SHOWN: i64 = 50;

/// Checks that the configured key suits its algorithm (for a start-up error naming the setting).
pub fn check_key(config: &crate::CareRecordConfig) -> Result<(), String> {
    client::signing_key(config).map(|_| ())
}

impl Services {
    pub(crate) fn care_record_client(&self) -> Option<&CareRecordClient> {
        self.inner.care_record.as_ref()
    }

    /// How long Carry has spent waiting for the shared care record's answers since it started
    /// (zero without one): a pull's own cost is its duration less this.
    pub fn care_record_remote_time(&self) -> std::time::Duration {
        self.care_record_client().map(|c| c.remote_time()).unwrap_or_default()
    }

    pub(crate) fn inner_care_record_wakeup(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.inner.care_record_wakeup.clone()
    }

    /// Tells the outbox worker that an entry was accepted.
    pub(crate) fn wake_care_record(&self) {
        self.inner.care_record_wakeup.notify_one();
    }

    /// Whether a shared care record is configured.
    pub fn care_record_connected(&self) -> bool {
        self.care_record_client().is_some()
    }

    /// What the caller's practice has accepted but not yet got into the shared care record
    /// (administrators): the dead-letter list first, then what waits; and what did not come
    /// from it whole: records held for a person, pulls left incomplete, items that could not be
    /// shown. No clinical content: the patient, who accepted it and when, and why it has not
    /// gone; an item that could not be shown by type, id and reason only. Each row naming a
    /// patient is in that patient's access log.
    pub async fn care_record_sends(&self, who: &SignedIn) -> ServiceResult<CareRecordSendsView> {
        let job = self.staff_job(who, &[StaffRole::Admin])?.clone();
        let mut conn = self.db().conn().await?;
        let rows = outbox::list_unsent_outbox(&mut conn, job.practice, UNSENT_SHOWN).await?;
        let held = outbox::list_held_matches(&mut conn, job.practice, UNSENT_SHOWN).await?;
        let incomplete = store::synced::list_incomplete_for_practice(&mut conn, job.practice, UNSENT_SHOWN).await?;
        let quarantined = store::synced::list_quarantined_for_practice(&mut conn, job.practice, UNSENT_SHOWN).await?;
        let mut view = CareRecordSendsView {
            connected: self.care_record_connected(),
            rows: Vec::with_capacity(rows.len()),
            held: Vec::new(),
            incomplete: Vec::new(),
            quarantined: quarantined
                .into_iter()
                .map(|q| QuarantinedItemView { resource_type: q.resource_type, remote_id: q.remote_id, reason: q.reason })
                .collect(),
        };
        let mut events = Vec::new();
        for h in held {
            let link = PracticeLink { practice: job.practice, status: h.link_status };
            if !self.look_listed(who, Action::VerifyLink, h.patient_id, Some(link), &Touch::of(Category::NhsRecord), &mut events) {
                continue;
            }
            view.held.push(HeldMatchView {
                patient_id: h.patient_id,
                patient_name: h.patient_name,
                reason: h.reason,
                checked_at: h.checked_at,
            });
        }
        for (patient, missing, since) in incomplete {
            let link = PracticeLink { practice: job.practice, status: domain::practices::LinkStatus::Linked };
            if !self.look_listed(who, Action::VerifyLink, patient, Some(link), &Touch::of(Category::NhsRecord), &mut events) {
                continue;
            }
            let patient_name = patients::find_patient(&mut conn, patient).await?.map(|p| p.name).unwrap_or_default();
            view.incomplete.push(IncompletePullView { patient_name, missing, since });
        }
        // Several rows are often one patient's: each name and link is read once.
        let mut known = std::collections::HashMap::new();
        for r in rows {
            let (name, link) = match known.get(&r.patient_id) {
                Some(k) => Clone::clone(k),
                None => {
                    let n = patients::find_patient(&mut conn, r.patient_id).await?.map(|p| p.name).unwrap_or_default();
                    let l = store::links::find_link(&mut conn, r.patient_id)
                        .await?
                        .map(|l| PracticeLink { practice: l.practice.id, status: l.status });
                    known.insert(r.patient_id, (n.clone(), l));
                    (n, l)
                }
            };
            if !self.look_listed(who, Action::VerifyLink, r.patient_id, link, &Touch::item(Category::Entry, r.entry_id), &mut events) {
                continue;
            }
            view.rows.push(CareRecordSendView {
                id: r.id,
                patient_name: name,
                accepted_by: r.accepted_by_name,
                accepted_at: r.accepted_at,
                failed: r.status == OutboxStatus::Failed,
                attempts: r.attempts,
                next_attempt_at: (r.status == OutboxStatus::Waiting).then_some(r.next_attempt_at),
                reason: r.last_error,
            });
        }
        drop(conn);
        self.log_all(events).await?;
        Ok(view)
    }

    /// Looks a held match up afresh (administrators), once someone has checked the patient's
    /// details here and in the shared care record: the match is forgotten, the record's pull is
    /// due now, and what Carry stopped trying to send for it goes back in the queue. If the
    /// details still differ, the match is held again.
    pub async fn recheck_care_record_match(&self, who: &SignedIn, patient: &str) -> ServiceResult<()> {
        let job = self.staff_job(who, &[StaffRole::Admin])?.clone();
        let patient: domain::PatientId = patient.trim().parse().map_err(|_| ServiceError::NotFound)?;
        let now = self.now();
        let (mut tx, _) =
            self.open(who, RecordRef::Patient(patient), Action::VerifyLink, Touch::of(Category::NhsRecord)).await.map_err(not_found)?;
        let linked = store::links::find_link(&mut tx, patient)
            .await?
            .is_some_and(|l| l.practice.id == job.practice && l.status == domain::practices::LinkStatus::Linked);
        let held = outbox::find_care_record_patient(&mut tx, patient).await?.is_some_and(|p| p.quarantine_reason.is_some());
        if !linked || !held {
            return Err(ServiceError::NotFound);
        }
        outbox::delete_care_record_patient(&mut tx, patient).await?;
        store::synced::request_sync(&mut tx, patient, now).await?;
        outbox::update_outbox_retry_patient(&mut tx, job.practice, patient, now).await?;
        tx.commit().await?;
        self.wake_care_record();
        Ok(())
    }

    /// Puts a row of the dead-letter list back in the queue, due now (administrators). When
    /// it was held over the patient's match, the match is looked up afresh.
    pub async fn retry_care_record_send(&self, who: &SignedIn, id: &str) -> ServiceResult<()> {
        let job = self.staff_job(who, &[StaffRole::Admin])?.clone();
        let row = {
            let mut conn = self.db().conn().await?;
            outbox::find_outbox(&mut conn, id).await?.filter(|r| r.practice_id == job.practice).ok_or(ServiceError::NotFound)?
        };
        let touch = Touch::item(Category::Entry, row.entry_id);
        let (mut tx, _) = self.open(who, RecordRef::Patient(row.patient_id), Action::VerifyLink, touch).await.map_err(not_found)?;
        if !outbox::update_outbox_retry_now(&mut tx, job.practice, id, self.now()).await? {
            return Err(domain::ValidationError::field("send", "This one is already waiting to be sent.").into());
        }
        if outbox::find_care_record_patient(&mut tx, row.patient_id).await?.is_some_and(|p| p.quarantine_reason.is_some()) {
            outbox::delete_care_record_patient(&mut tx, row.patient_id).await?;
        }
        tx.commit().await?;
        self.wake_care_record();
        Ok(())
    }
}

/// Another practice's record is not found here, like one that does not exist (the refusal is
/// in that patient's log).
fn not_found(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Forbidden => ServiceError::NotFound,
        other => other,
    }
}
