//! The access policy as a pure function: who may do what with a patient's record.
//!
//! [`decide`] denies by default and always gives its reason. It sees everything it needs as
//! plain values, so the table of cases is tested here without a database. Carer grants and
//! practice registrations (issues 4 and 5) arrive as further [`Relationship`]s; today the
//! only one is the patient's own record.

use crate::{PrivacyLabel, UserId};
use serde::{Deserialize, Serialize};

/// What the caller wants to do with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Read entries (the timeline, an entry, a chart, "about me").
    ReadEntries,
    /// Add a reading, a note or "about me".
    AddEntries,
    /// Edit, relabel, share, delete or restore an existing entry.
    ChangeEntries,
}

/// How the caller stands to the record, as the service found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relationship {
    /// The record's own account.
    Owner,
    /// No link at all.
    None,
}

/// What a request is, in the terms the policy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// Who is asking.
    pub actor: UserId,
    /// The account that owns the record, if it has one (a young child's record may not).
    pub record_owner: Option<UserId>,
    /// What they want.
    pub action: Action,
}

/// Why access was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// It is the caller's own record.
    OwnRecord,
}

/// Why access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DenyReason {
    /// The caller has no relationship with this record.
    NoRelationship,
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Go ahead, seeing only items with these labels.
    Allow {
        /// Labels the caller may see; items with any other label are absent.
        labels: Vec<PrivacyLabel>,
        /// Why.
        basis: Basis,
    },
    /// Refused.
    Deny {
        /// Why.
        reason: DenyReason,
    },
}

impl Decision {
    /// The labels the caller may see (none when denied).
    pub fn labels(&self) -> &[PrivacyLabel] {
        match self {
            Decision::Allow { labels, .. } => labels,
            Decision::Deny { .. } => &[],
        }
    }
}

/// How `req.actor` stands to the record.
pub fn relationship(req: &AccessRequest) -> Relationship {
    if req.record_owner == Some(req.actor) {
        Relationship::Owner
    } else {
        Relationship::None
    }
}

/// Decides a request. Deny by default; the owner may do everything with every label.
pub fn decide(req: &AccessRequest) -> Decision {
    match relationship(req) {
        Relationship::Owner => Decision::Allow { labels: PrivacyLabel::ALL.to_vec(), basis: Basis::OwnRecord },
        Relationship::None => Decision::Deny { reason: DenyReason::NoRelationship },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn the_owner_may_do_everything_and_nobody_else_anything() {
        let me = UserId::from_uuid(Uuid::from_u128(1));
        let other = UserId::from_uuid(Uuid::from_u128(2));
        let cases = [
            (Some(me), me, true),
            (Some(me), other, false),
            // A record with no account of its own (a young child's) is nobody's by default.
            (None, me, false),
        ];
        for (owner, actor, allowed) in cases {
            for action in [Action::ReadEntries, Action::AddEntries, Action::ChangeEntries] {
                let d = decide(&AccessRequest { actor, record_owner: owner, action });
                match (allowed, &d) {
                    (true, Decision::Allow { labels, basis: Basis::OwnRecord }) => assert_eq!(labels, &PrivacyLabel::ALL.to_vec()),
                    (false, Decision::Deny { reason: DenyReason::NoRelationship }) => assert!(d.labels().is_empty()),
                    _ => panic!("{owner:?} {actor:?} {action:?} gave {d:?}"),
                }
            }
        }
    }
}
