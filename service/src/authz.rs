//! The only way into a patient's data: find the record, ask `domain::access::decide`, and get
//! back what the caller may see. Nothing is cached between requests, so a change of access
//! bites on the very next one.

use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{decide, AccessRequest, Action, Decision};
use domain::{PatientId, PrivacyLabel};
use store::patients::{self, PatientRow};

/// Which record a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRef {
    /// The caller's own.
    Own,
    /// Someone else's, by id (a carer or practice acting for them; refused until a grant allows).
    Patient(PatientId),
}

/// What the caller may do in the record, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    /// The record. `None` only when the caller asked for their own record to read and has not
    /// written anything yet: there is nothing to see.
    pub patient: Option<PatientId>,
    /// Labels the caller may see.
    pub labels: Vec<PrivacyLabel>,
}

impl Services {
    /// Decides whether `who` may do `action` with `record`. For the caller's own record, a
    /// write makes the record if it does not exist yet (in `conn`'s transaction); a read of a
    /// record never written gives an empty `Access`.
    pub(crate) async fn require(&self, conn: &mut store::Conn, who: &SignedIn, record: RecordRef, action: Action) -> ServiceResult<Access> {
        let row = match record {
            RecordRef::Own => match patients::find_patient_by_user(conn, who.user_id).await? {
                Some(row) => Some(row),
                None if action == Action::AddEntries => Some(self.make_own_record(conn, who).await?),
                None => None,
            },
            RecordRef::Patient(id) => patients::find_patient(conn, id).await?,
        };
        let Some(row) = row else {
            return match record {
                RecordRef::Own => Ok(Access { patient: None, labels: PrivacyLabel::ALL.to_vec() }),
                // No such record and no access look the same from outside.
                RecordRef::Patient(_) => Err(ServiceError::Forbidden),
            };
        };
        match decide(&AccessRequest { actor: who.user_id, record_owner: row.user_id, action }) {
            Decision::Allow { labels, .. } => Ok(Access { patient: Some(row.id), labels }),
            Decision::Deny { reason } => {
                tracing::info!(?reason, ?action, "access denied");
                Err(ServiceError::Forbidden)
            }
        }
    }

    async fn make_own_record(&self, conn: &mut store::Conn, who: &SignedIn) -> ServiceResult<PatientRow> {
        Ok(patients::ensure_patient_for_user(conn, PatientId::from_uuid(uuid::Uuid::new_v4()), who.user_id, self.now()).await?)
    }
}
