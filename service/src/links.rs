//! A patient's link to their GP practice: asked for by the patient with their NHS number,
//! checked and accepted or declined by a practice administrator. Until it is accepted the
//! practice sees nothing.

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::grants::BirthDate;
use domain::practice_views::{MyLinkView, MyPracticeView, PracticeChoice};
use domain::practices::{LinkStatus, NhsNumber, StaffRole};
use domain::{PatientId, PracticeId, ValidationError};
use sha2::{Digest, Sha256};
use store::links::LinkRow;
use store::{links, practices, reviews};

/// The longest reason for declining, in characters.
const REASON_MAX: usize = 500;

impl Services {
    /// The patient's "My GP practice" page: their link, and the practices they may choose.
    pub async fn my_practice(&self, who: &SignedIn) -> ServiceResult<MyPracticeView> {
        let (mut read, access) = self.open_read(who, RecordRef::Own, Action::ReadEntries, Touch::of(Category::PracticeLink)).await?;
        let link = match access.patient() {
            Some(patient) => links::find_link(&mut read, patient).await?,
            None => None,
        };
        let practices = practices::list_practices(&mut read).await?;
        read.commit().await?;
        Ok(MyPracticeView {
            link: link.map(|l| MyLinkView {
                practice: PracticeChoice { id: l.practice.id, name: l.practice.name, ods_code: l.practice.ods_code },
                nhs_number: NhsNumber::parse("nhs_number", &l.nhs_number).map(|n| n.to_string()).unwrap_or(l.nhs_number),
                born_on: l.born_on.as_deref().and_then(domain::Timestamp::parse_uk_date).map(domain::Timestamp::to_uk_date),
                status: l.status,
                requested_at: l.requested_at,
                decided_at: l.decided_at,
                decline_reason: l.decline_reason,
            }),
            practices: practices.into_iter().map(|p| PracticeChoice { id: p.id, name: p.name, ods_code: p.ods_code }).collect(),
        })
    }

    /// Asks to link the caller's own record to a practice, giving their NHS number and date of
    /// birth (the administrator checks both, and the shared care record match needs both).
    /// Replaces an earlier request or link: until the practice accepts, it sees nothing. Errors
    /// name `practice`, `nhs_number` or `born_on`.
    pub async fn request_link(&self, who: &SignedIn, practice: &str, nhs_number: &str, born_on: &str) -> ServiceResult<()> {
        let nhs = NhsNumber::parse("nhs_number", nhs_number);
        let practice_id =
            practice.trim().parse::<PracticeId>().map_err(|_| ValidationError::field("practice", "Choose your GP practice from the list."));
        let born = BirthDate::parse("born_on", born_on, self.now());
        let (nhs, practice_id, born) = match (nhs, practice_id, born) {
            (Ok(n), Ok(p), Ok(b)) => (n, p, b),
            (n, p, b) => return Err(ValidationError(n.err().into_iter().chain(p.err()).chain(b.err()).flat_map(|e| e.0).collect()).into()),
        };
        let now = self.now();
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::of(Category::PracticeLink)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let practice = practices::find_practice(&mut tx, practice_id)
            .await?
            .ok_or_else(|| ValidationError::field("practice", "Choose your GP practice from the list."))?;
        if let Some(l) = links::find_link(&mut tx, patient).await? {
            if l.status == LinkStatus::Linked
                && l.practice.id == practice.id
                && l.nhs_number == nhs.digits()
                && l.born_on.as_deref() == Some(&born.to_text())
            {
                return Err(ValidationError::field("practice", format!("Your record is already linked to {}.", practice.name)).into());
            }
        }
        let ask = links::LinkRequest { practice: practice.id, nhs_number: &nhs.digits(), born_on: &born.to_text() };
        links::upsert_link_request(&mut tx, patient, ask, who.user_id, now).await?;
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
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        if !links::delete_link(&mut tx, patient).await? {
            return Err(ServiceError::NotFound);
        }
        reviews::delete_inbox_for_patient(&mut tx, patient).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The date of birth of a record whose link was verified before Carry asked for one. The
    /// link stays verified; its match with the shared care record is made again with the date
    /// of birth, and what waited to be sent or pulled goes ahead. Errors name `birth_date`.
    pub async fn give_birth_date(&self, who: &SignedIn, born_on: &str) -> ServiceResult<()> {
        let now = self.now();
        let born = BirthDate::parse("birth_date", born_on, now)?;
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::of(Category::PracticeLink)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let link = links::find_link(&mut tx, patient).await?.ok_or(ServiceError::NotFound)?;
        if !links::update_link_birth_date(&mut tx, patient, &born.to_text(), now).await? {
            return Err(ValidationError::field(
                "birth_date",
                "Your practice already has your date of birth. To change it, ask to link again.",
            )
            .into());
        }
        if link.status == LinkStatus::Linked {
            store::care_record::delete_care_record_patient(&mut tx, patient).await?;
            store::synced::request_sync(&mut tx, patient, now).await?;
            store::care_record::update_outbox_retry_patient(&mut tx, link.practice.id, patient, now).await?;
        }
        tx.commit().await?;
        self.wake_care_record();
        Ok(())
    }

    /// An administrator accepts or declines a patient's request to link to their practice,
    /// as it was shown to them: `seen` is the request's [`link_fingerprint`]. If the patient
    /// asked again since (another NHS number, date of birth or name), nothing is decided
    /// ([`ServiceError::Stale`]): the new request needs a new look. A decline needs a reason,
    /// which the patient reads. On acceptance, what the patient already shared arrives in the
    /// practice's inbox. Errors name `reason`.
    pub async fn decide_link(&self, who: &SignedIn, patient: PatientId, seen: &str, accept: bool, reason: &str) -> ServiceResult<()> {
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
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        // The policy allowed, so the caller is an administrator of the practice asked.
        let job = who.staff.clone().ok_or(ServiceError::Forbidden)?;
        let shown = links::find_link(&mut tx, patient)
            .await?
            .filter(|l| l.practice.id == job.practice && l.status == LinkStatus::Requested)
            .ok_or(ServiceError::Stale)?;
        if link_fingerprint(&shown) != seen.trim() {
            return Err(ServiceError::Stale);
        }
        let status = if accept { LinkStatus::Linked } else { LinkStatus::Declined };
        // The update checks the details again, so a request made again between this read and
        // the write is not decided either.
        let decided = links::update_link_decision(&mut tx, &shown, status, who.user_id, (!accept).then_some(reason), now).await.map_err(
            |e| match e {
                store::StoreError::Conflict(_) => ServiceError::from(ValidationError::field(
                    "reason",
                    "Another record at this practice is already linked with this NHS number. Decline this one and say why.",
                )),
                e => e.into(),
            },
        )?;
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
}

/// A fingerprint of exactly what an administrator is shown of a request to link: the record,
/// the practice, the name, the NHS number, the date of birth and when it was asked. The accept
/// and decline forms carry it back, so a decision applies only to the details that were seen.
pub fn link_fingerprint(l: &LinkRow) -> String {
    let shown = serde_json::json!([
        l.patient_id.to_string(),
        l.practice.id.to_string(),
        l.patient_name,
        l.nhs_number,
        l.born_on,
        l.requested_at.as_millis(),
    ]);
    hex::encode(Sha256::digest(shown.to_string().as_bytes()))
}
