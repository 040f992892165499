//! The policy's answer as values that cannot be forged: a [`Permit`] for what was allowed, a
//! [`Refusal`] for what was not. Their fields are private and only [`permit`] (and the
//! narrowing methods here, which can only take away) make them.

use super::{decide, role, AccessRequest, Action, Actor, Basis, Decision, DenyReason, Role};
use crate::{PatientId, PrivacyLabel, UserId};

/// What the policy allowed one request to do with one record. Store functions that read
/// clinical data take one and read only its record, within its labels; an allowed access log
/// row is made from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    patient: PatientId,
    actor: Actor,
    role: Role,
    action: Action,
    labels: Vec<PrivacyLabel>,
    basis: Basis,
}

/// What the policy refused, with everything the access log row needs. Refused rows are made
/// from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    patient: Option<PatientId>,
    actor: Actor,
    role: Role,
    action: Action,
    reason: DenyReason,
}

/// Asks the policy ([`decide`]) and answers with a [`Permit`] or a [`Refusal`]. The facts in
/// `req` must be loaded afresh from the store for this request: the service's access gate is
/// the only caller outside tests.
pub fn permit(req: &AccessRequest<'_>) -> Result<Permit, Refusal> {
    let role = role(req);
    match decide(req) {
        Decision::Allow { labels, basis } => Ok(Permit { patient: req.patient, actor: req.actor, role, action: req.action, labels, basis }),
        Decision::Deny { reason } => Err(Refusal { patient: Some(req.patient), actor: req.actor, role, action: req.action, reason }),
    }
}

impl Permit {
    /// The record it opens.
    pub fn patient(&self) -> PatientId {
        self.patient
    }

    /// Who it was given to.
    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// The account it was given to (none for a system client).
    pub fn user(&self) -> Option<UserId> {
        self.actor.user()
    }

    /// The part they play towards the record.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What it allows.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The labels whose items it may read; items with any other label are absent.
    pub fn labels(&self) -> &[PrivacyLabel] {
        &self.labels
    }

    /// Whether it sees items with every label (so nothing in the record is hidden from it).
    pub fn sees_every_label(&self) -> bool {
        PrivacyLabel::ALL.iter().all(|l| self.labels.contains(l))
    }

    /// Why it was given.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The same permit within `labels` only (a system client registered for fewer labels than
    /// the policy allows). Refused, as having no labels left, when none remain.
    pub fn narrowed(self, labels: &[PrivacyLabel]) -> Result<Permit, Refusal> {
        let kept: Vec<PrivacyLabel> = self.labels.iter().copied().filter(|l| labels.contains(l)).collect();
        if kept.is_empty() {
            return Err(self.refuse(DenyReason::NoLabelsLeft));
        }
        Ok(Permit { labels: kept, ..self })
    }

    /// A refusal of something inside the record this permit opened: an item it may not see, a
    /// label it may not use.
    pub fn refuse(&self, reason: DenyReason) -> Refusal {
        Refusal { patient: Some(self.patient), actor: self.actor, role: self.role, action: self.action, reason }
    }
}

impl Refusal {
    /// The same refusal, as the answer to a health link the refused person made: the link
    /// works only while its maker holds the access it needs.
    pub fn of_link_maker(self) -> Refusal {
        Refusal { reason: DenyReason::LinkMakerLostAccess, ..self }
    }

    /// A request that named a record Carry does not hold: refused as having no relationship,
    /// exactly like a record the caller has nothing to do with.
    pub fn unknown_record(actor: Actor, action: Action) -> Refusal {
        Refusal { patient: None, actor, role: Role::Nobody, action, reason: DenyReason::NoRelationship }
    }

    /// The record, when it exists.
    pub fn patient(&self) -> Option<PatientId> {
        self.patient
    }

    /// Who was refused.
    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// The part they play towards the record.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What they asked to do.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Why not.
    pub fn reason(&self) -> DenyReason {
        self.reason
    }
}
