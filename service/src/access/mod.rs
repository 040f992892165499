//! The one door into a record, for everyone: a patient, a carer, practice staff in any job, a
//! system client of the FHIR API, and Carry's own workers.
//!
//! [`gate`] loads, afresh for each request, the facts the policy needs (the record's owner and
//! date of birth, the caller's grants, the record's practice link), asks
//! `domain::access::permit`, and gives back an [`Access`] holding the [`Permit`]. Store
//! functions that read clinical data take a `&Permit`, and access log rows are made only from a
//! `Permit` or a `Refusal` ([`log`]), so nothing in Carry can read a record, or log a look at
//! one, that the policy did not decide. A source check in this module makes sure nothing outside
//! this module asks the policy itself (`tests.rs`).
//!
//! A refusal is written and committed at once (the caller's work never starts). A change's row
//! commits with the change. A read's row is committed, batched with other reads' rows, before
//! [`LoggedRead::commit`] lets the caller show anything (see `audit_queue`).

mod gate;
mod log;

pub(crate) use domain::audit::Touch;
pub use gate::RecordRef;

use crate::error::{ServiceError, ServiceResult};
use domain::access::{Permit, Role};
use domain::{PatientId, PrivacyLabel, UserId};

/// What the caller may do in a record, for one request: the policy's permit, and what the
/// pages need to name the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    /// `None` only when the caller asked for their own record to read and has not written
    /// anything yet: there is nothing to see.
    permit: Option<Permit>,
    /// The patient's name.
    pub patient_name: String,
    /// The account that owns the record, if any.
    pub owner: Option<UserId>,
    /// What else the caller may do there (decided by the same policy, not logged).
    pub also: Also,
}

/// What else a caller may do in a record they opened for something else: the pages offer only
/// what the policy would allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Also {
    /// Add entries.
    pub add: bool,
    /// Download the record and make health links.
    pub export: bool,
}

impl Access {
    /// A record in a list a member of staff opened, decided row by row by the gate
    /// ([`Services::open_listed`](crate::Services)).
    pub(crate) fn listed(permit: Permit, patient_name: String, owner: Option<UserId>) -> Self {
        Self { permit: Some(permit), patient_name, owner, also: Also::default() }
    }

    /// The policy's permit, or `NotFound` for an own record not yet written.
    pub(crate) fn permit(&self) -> ServiceResult<&Permit> {
        self.permit.as_ref().ok_or(ServiceError::NotFound)
    }

    /// The record, if it exists.
    pub(crate) fn patient(&self) -> Option<PatientId> {
        self.permit.as_ref().map(Permit::patient)
    }

    /// The labels the caller may see (every label in an own record not yet written).
    pub(crate) fn labels(&self) -> &[PrivacyLabel] {
        self.permit.as_ref().map_or(&PrivacyLabel::ALL, Permit::labels)
    }

    /// Whether the caller sees every label (so no version of an entry is hidden from them).
    pub(crate) fn sees_every_label(&self) -> bool {
        self.permit.as_ref().is_none_or(Permit::sees_every_label)
    }

    /// The part the caller plays.
    pub(crate) fn role(&self) -> Role {
        self.permit.as_ref().map_or(Role::Patient, Permit::role)
    }
}

#[cfg(test)]
mod tests;
