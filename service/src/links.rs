//! A patient's link to their GP practice: asked for by the patient with their NHS number,
//! checked and accepted or declined by a practice administrator. Until it is accepted the
//! practice sees nothing.

use crate::authz::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, Role};
use domain::audit::Category;
use domain::practice_views::{MyLinkView, MyPracticeView, PracticeChoice};
use domain::practices::{LinkStatus, NhsNumber, StaffRole};
use domain::{PatientId, PracticeId, ValidationError};
use store::{links, practices, reviews};

/// The longest reason for declining, in characters.
const REASON_MAX: usize = 500;

impl Services {
    /// The patient's "My GP practice" page: their link, and the practices they may choose.
    pub async fn my_practice(&self, who: &SignedIn) -> ServiceResult<MyPracticeView> {
        let (mut read, access) = self.open_read(who, RecordRef::Own, Action::ReadEntries, Touch::of(Category::PracticeLink)).await?;
        let link = match access.patient {
            Some(patient) => links::find_link(&mut read, patient).await?,
            None => None,
        };
        let practices = practices::list_practices(&mut read).await?;
        read.commit().await?;
        Ok(MyPracticeView {
            link: link.map(|l| MyLinkView {
                practice: PracticeChoice { id: l.practice.id, name: l.practice.name, ods_code: l.practice.ods_code },
                nhs_number: NhsNumber::parse("nhs_number", &l.nhs_number).map(|n| n.to_string()).unwrap_or(l.nhs_number),
                status: l.status,
                requested_at: l.requested_at,
                decided_at: l.decided_at,
                decline_reason: l.decline_reason,
            }),
            practices: practices.into_iter().map(|p| PracticeChoice { id: p.id, name: p.name, ods_code: p.ods_code }).collect(),
        })
    }

    /// Asks to link the caller's own record to a practice. Replaces an earlier request or link:
    /// until the practice accepts, it sees nothing. Errors name `practice` or `nhs_number`.
    pub async fn request_link(&self, who: &SignedIn, practice: &str, nhs_number: &str) -> ServiceResult<()> {
        let nhs = NhsNumber::parse("nhs_number", nhs_number);
        let practice_id =
            practice.trim().parse::<PracticeId>().map_err(|_| ValidationError::field("practice", "Choose your GP practice from the list."));
        let (nhs, practice_id) = match (nhs, practice_id) {
            (Ok(n), Ok(p)) => (n, p),
            (n, p) => return Err(ValidationError(n.err().into_iter().chain(p.err()).flat_map(|e| e.0).collect()).into()),
        };
        let now = self.now();
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::of(Category::PracticeLink)).await?;
        let patient = access.patient.ok_or(ServiceError::NotFound)?;
        let practice = practices::find_practice(&mut tx, practice_id)
            .await?
            .ok_or_else(|| ValidationError::field("practice", "Choose your GP practice from the list."))?;
        if let Some(l) = links::find_link(&mut tx, patient).await? {
            if l.status == LinkStatus::Linked && l.practice.id == practice.id && l.nhs_number == nhs.digits() {
                return Err(ValidationError::field("practice", format!("Your record is already linked to {}.", practice.name)).into());
            }
        }
        links::upsert_link_request(&mut tx, patient, practice.id, &nhs.digits(), who.user_id, now).await?;
        // Nothing waits for any practice until the new link is verified.
        reviews::delete_inbox_for_patient(&mut tx, patient).await?;
        for admin in practices::list_staff(&mut tx, practice.id).await?.into_iter().filter(|s| s.job == StaffRole::Admin) {
            self.notify_about(
                &mut tx,
                admin.user_id,
                "A patient asked to link their record to the practice.",
                "/practice",
                "at your practice ",
            )
            .await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// The patient ends their practice's access, or withdraws their request: at once the
    /// practice sees nothing and nothing of theirs waits in its inbox. What the practice
    /// already decided stays in each entry's history.
    pub async fn unlink_practice(&self, who: &SignedIn) -> ServiceResult<()> {
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::of(Category::PracticeLink)).await?;
        let patient = access.patient.ok_or(ServiceError::NotFound)?;
        if !links::delete_link(&mut tx, patient).await? {
            return Err(ServiceError::NotFound);
        }
        reviews::delete_inbox_for_patient(&mut tx, patient).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An administrator accepts or declines a patient's request to link to their practice. A
    /// decline needs a reason, which the patient reads. On acceptance, what the patient already
    /// shared arrives in the practice's inbox. Errors name `reason`.
    pub async fn decide_link(&self, who: &SignedIn, patient: PatientId, accept: bool, reason: &str) -> ServiceResult<()> {
        let reason = reason.trim();
        if !accept && reason.is_empty() {
            return Err(
                ValidationError::field("reason", "Say why, so the patient knows what to do (for example, check the NHS number).").into()
            );
        }
        if reason.chars().count() > REASON_MAX {
            return Err(ValidationError::field("reason", format!("Keep the reason to {REASON_MAX} characters.")).into());
        }
        let now = self.now();
        let touch = Touch::of(Category::PracticeLink);
        let (mut tx, access) = self.open(who, RecordRef::Patient(patient), Action::VerifyLink, touch).await?;
        let patient = access.patient.ok_or(ServiceError::NotFound)?;
        // The policy allowed, so the caller is an administrator of the practice asked.
        let job = who.staff.clone().ok_or(ServiceError::Forbidden)?;
        let status = if accept { LinkStatus::Linked } else { LinkStatus::Declined };
        let decided = links::update_link_decision(&mut tx, patient, job.practice, status, who.user_id, (!accept).then_some(reason), now)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => ServiceError::from(ValidationError::field(
                    "reason",
                    "Another record at this practice is already linked with this NHS number. Decline this one and say why.",
                )),
                e => e.into(),
            })?;
        if !decided {
            return Err(ServiceError::Stale);
        }
        if accept {
            for entry in store::shared::list_shared_ids(&mut tx, patient).await? {
                self.refile(&mut tx, patient, entry).await?;
            }
            // Now that the practice vouches for the NHS number, the record the NHS holds can be
            // found and pulled (in the same transaction: a link is never without its pull).
            store::synced::request_sync(&mut tx, patient, now).await?;
        }
        if let Some(owner) = access.owner {
            let text = if accept {
                format!("{} linked your record. They now see what you share with them.", job.practice_name)
            } else {
                format!("{} could not link your record: {reason}", job.practice_name)
            };
            self.notify_about(&mut tx, owner, &text, "/record/practice", "").await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        if accept {
            self.wake_care_record();
        }
        Ok(())
    }

    /// The access log row for a member of staff's look at one record.
    pub(crate) fn staff_event(&self, who: &SignedIn, patient: PatientId, action: Action, touch: &Touch) -> domain::audit::AuditEvent {
        let role = who.staff.as_ref().map_or(Role::Nobody, |j| j.job.access_role());
        self.event(who, Some(patient), role, action, touch, None)
    }
}
