//! The access log rows the gate's answers make: an allowed row from a permit, a refused one
//! from a refusal. The names they are logged under ("Dr Priya Shah at Riverside Practice",
//! a system client's registered name) are chosen here.

use super::{Access, RecordRef};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, DenyReason, Permit, Refusal, Role};
use domain::audit::{AuditEvent, Door, Occasion, Touch};

impl Services {
    /// The circumstances of a signed-in person's request, for their role.
    fn occasion(&self, who: &SignedIn, role: Role) -> Occasion {
        let actor_name = match (&who.staff, role) {
            (Some(job), Role::PracticeClinician | Role::PracticeAdmin | Role::SocialCareWorker) => {
                format!("{} at {}", who.display_name, job.practice_name)
            }
            _ => who.display_name.clone(),
        };
        Occasion { at: self.now(), actor_name, door: who.request.door, request_id: who.request.id.clone() }
    }

    /// The row for something a signed-in person was allowed to do.
    pub(crate) fn allowed_event(&self, who: &SignedIn, permit: &Permit, what: &Touch) -> AuditEvent {
        AuditEvent::allowed(permit, what, self.occasion(who, permit.role()))
    }

    /// The row for work a person asked for that Carry was refused when it came to do it (a copy
    /// to download, once their access had ended), under their name.
    pub(crate) fn job_refused_event(&self, actor_name: &str, refusal: &Refusal, what: &Touch) -> AuditEvent {
        let occasion = Occasion { at: self.now(), actor_name: actor_name.to_owned(), door: Door::Page, request_id: "job".to_owned() };
        AuditEvent::refused(refusal, what, occasion)
    }

    /// The row for a carer's own act on their grant (see [`AuditEvent::grant_response`]).
    pub(crate) fn grant_event(&self, who: &SignedIn, patient: domain::PatientId, grant: domain::GrantId) -> AuditEvent {
        AuditEvent::grant_response(patient, who.user_id, grant, self.occasion(who, Role::Carer))
    }

    /// The row for a system's look (a FHIR API client, or the shared care record receiving an
    /// entry), under its registered name.
    pub(crate) fn system_event(
        &self,
        name: &str,
        door: Door,
        request_id: String,
        answer: Result<&Permit, &Refusal>,
        what: &Touch,
    ) -> AuditEvent {
        let occasion = Occasion { at: self.now(), actor_name: name.to_owned(), door, request_id };
        match answer {
            Ok(permit) => AuditEvent::allowed(permit, what, occasion),
            Err(refusal) => AuditEvent::refused(refusal, what, occasion),
        }
    }

    /// The row for a use of a health link, under the words that name whoever used it ("Someone
    /// with your health link “A&E card”, who gave the name Dr Jones").
    pub(crate) fn link_event(
        &self,
        link_label: &str,
        recipient: &str,
        request_id: &str,
        answer: Result<&Permit, &Refusal>,
        what: &Touch,
    ) -> AuditEvent {
        let actor_name = format!("Someone with your health link \u{201c}{link_label}\u{201d}, who gave the name {recipient},");
        let occasion = Occasion { at: self.now(), actor_name, door: Door::HealthLink, request_id: request_id.to_owned() };
        AuditEvent::link_use(answer, what, occasion)
    }

    /// Logs, in a transaction of its own, that a request allowed into someone else's record
    /// asked for an item it may not see (it was answered "not found"), as the gate decides the
    /// caller's access afresh. Call it only after the request's own transaction has ended.
    pub(crate) async fn log_hidden_item(&self, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<()> {
        let RecordRef::Patient(_) = record else { return Ok(()) };
        let outcome = {
            let mut conn = self.db().conn().await?;
            self.resolve(&mut conn, who, record, action).await?
        };
        match outcome {
            Ok(access) => self.log_refused(who, &access, what, DenyReason::ItemNotVisible).await,
            // Refused outright: the look was logged as a refusal already.
            Err(_) => Ok(()),
        }
    }

    /// Logs that a request the policy let into a record then asked for something its access
    /// does not include (a label it may not use, an item it may not see). The request's own
    /// transaction must have ended: the row is committed on its own.
    pub(crate) async fn log_refused(&self, who: &SignedIn, access: &Access, what: Touch, reason: DenyReason) -> ServiceResult<()> {
        let Ok(permit) = access.permit() else { return Ok(()) };
        let refusal = permit.refuse(reason);
        tracing::info!(reason = reason.slug(), action = ?permit.action(), "access refused");
        self.log(AuditEvent::refused(&refusal, &what, self.occasion(who, refusal.role()))).await
    }

    /// Logs a refusal in a transaction of its own, commits it, and refuses. The caller's own
    /// transaction must have ended.
    pub(crate) async fn refuse<T>(&self, who: &SignedIn, record: RecordRef, refusal: &Refusal, what: Touch) -> ServiceResult<T> {
        self.log_refusal(who, record, refusal, what).await?;
        Err(ServiceError::Forbidden)
    }

    /// Logs a refusal in a transaction of its own and commits it. A refusal that named no
    /// existing record goes on the chain of such refusals, with the id it named.
    pub(crate) async fn log_refusal(&self, who: &SignedIn, record: RecordRef, refusal: &Refusal, what: Touch) -> ServiceResult<()> {
        let what = match (record, refusal.patient()) {
            (RecordRef::Patient(id), None) => Touch { item: Some(format!("patient {id}")), ..what },
            _ => what,
        };
        tracing::info!(reason = refusal.reason().slug(), action = ?refusal.action(), "access refused");
        self.log(AuditEvent::refused(refusal, &what, self.occasion(who, refusal.role()))).await
    }

    /// Logs a refusal of a look at a record in a list, for the lists that refuse a row by
    /// leaving it out (the inbox, when a link changed under it).
    pub(crate) fn refused_event(&self, who: &SignedIn, refusal: &Refusal, what: &Touch) -> AuditEvent {
        AuditEvent::refused(refusal, what, self.occasion(who, refusal.role()))
    }
}
