//! The only way into a patient's data: find the record, load what the policy needs (the
//! caller's grants, the patient's date of birth), ask `domain::access::decide`, and write the
//! access log row, all in the transaction the work then runs in. Nothing is cached between
//! requests, so a revoked or expired grant is refused on the very next one.
//!
//! A refusal is written and committed at once (the caller's work never starts), so it is in the
//! log even though the request fails. A change's row commits with the change: if the work
//! fails, neither is kept, and if it succeeds, both are. A read ([`Services::open_read`]) runs
//! in a read-only transaction and its row is committed, batched with other reads' rows, before
//! [`LoggedRead::commit`] lets the caller show anything (see `audit_queue`).

use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{decide, role, AccessRequest, Action, Actor, Basis, Decision, DenyReason, PracticeLink, Role};
use domain::audit::{AuditEvent, Category};
use domain::grants::BirthDate;
use domain::{PatientId, PrivacyLabel};
use std::ops::{Deref, DerefMut};
use store::patients::{self, PatientRow};
use store::{audit, grants, links, Tx};

/// Which record a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRef {
    /// The caller's own.
    Own,
    /// Someone else's, by id (a carer acting for them).
    Patient(PatientId),
}

impl RecordRef {
    /// The record named by a form or URL field: empty means the caller's own, anything else
    /// must be a record id (an unknown one is refused like one without access).
    pub fn parse(text: Option<&str>) -> ServiceResult<Self> {
        match text.map(str::trim) {
            None | Some("") => Ok(RecordRef::Own),
            Some(t) => t.parse().map(RecordRef::Patient).map_err(|_| ServiceError::Forbidden),
        }
    }
}

/// What the caller may do in the record, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    /// The record. `None` only when the caller asked for their own record to read and has not
    /// written anything yet: there is nothing to see.
    pub patient: Option<PatientId>,
    /// Labels the caller may see.
    pub labels: Vec<PrivacyLabel>,
    /// The part the caller plays.
    pub role: Role,
    /// The patient's name.
    pub patient_name: String,
    /// The account that owns the record, if any.
    pub owner: Option<domain::UserId>,
    /// Why it was allowed.
    pub basis: Basis,
    /// Whether the caller may also add entries (decided by the same policy, not logged).
    pub can_add: bool,
}

/// The record a request named, and the policy's answer.
struct Resolved {
    row: Option<PatientRow>,
    role: Role,
    outcome: Result<Access, DenyReason>,
}

/// What a request touches, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Touch {
    pub category: Category,
    pub item: Option<String>,
}

impl Touch {
    pub(crate) fn of(category: Category) -> Self {
        Self { category, item: None }
    }

    pub(crate) fn item(category: Category, item: impl ToString) -> Self {
        Self { category, item: Some(item.to_string()) }
    }
}

/// A read of a record: a read-only transaction, and the access log row that must be committed
/// before anything read is shown.
#[must_use = "nothing read may be shown before LoggedRead::commit has logged it"]
pub(crate) struct LoggedRead {
    tx: Tx,
    row: Option<AuditEvent>,
    services: Services,
}

impl LoggedRead {
    /// Ends the read and commits its log row. Only after this succeeds may the caller show what
    /// it read.
    pub(crate) async fn commit(self) -> ServiceResult<()> {
        self.tx.commit().await?;
        match self.row {
            Some(row) => self.services.log(row).await,
            None => Ok(()),
        }
    }
}

impl Deref for LoggedRead {
    type Target = store::Conn;
    fn deref(&self) -> &store::Conn {
        &self.tx
    }
}

impl DerefMut for LoggedRead {
    fn deref_mut(&mut self) -> &mut store::Conn {
        &mut self.tx
    }
}

impl Services {
    /// Opens a read of `record` for `who`, decided by the policy. A refusal is logged at once;
    /// an allowed read's row is committed by [`LoggedRead::commit`].
    pub(crate) async fn open_read(
        &self,
        who: &SignedIn,
        record: RecordRef,
        action: Action,
        what: Touch,
    ) -> ServiceResult<(LoggedRead, Access)> {
        debug_assert!(matches!(action, Action::ReadEntries | Action::ReadAccessLog | Action::ReadShared), "open_read is for reads");
        let mut tx = self.db().begin_read().await?;
        let resolved = self.resolve(&mut tx, who, record, action).await?;
        match resolved.outcome {
            Ok(access) => {
                let row = resolved.row.as_ref().map(|row| self.event(who, Some(row.id), resolved.role, action, &what, None));
                Ok((LoggedRead { tx, row, services: self.clone() }, access))
            }
            Err(reason) => {
                drop(tx);
                self.refuse(who, record, resolved.row.as_ref(), resolved.role, action, what, reason).await
            }
        }
    }

    /// Opens a transaction for `who` to do `action` with `record`, touching `what`: decided by
    /// the policy and logged. For the caller's own record, an `AddEntries` or `ManageAccess`
    /// makes the record if it does not exist yet; a read of a record never written gives an
    /// empty `Access` (nothing to see, nothing logged).
    pub(crate) async fn open(&self, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<(Tx, Access)> {
        let mut tx = self.db().begin().await?;
        let resolved = self.resolve(&mut tx, who, record, action).await?;
        match resolved.outcome {
            Ok(access) => {
                if let Some(row) = &resolved.row {
                    audit::append(&mut tx, &self.event(who, Some(row.id), resolved.role, action, &what, None)).await?;
                }
                Ok((tx, access))
            }
            Err(reason) => {
                drop(tx);
                self.refuse(who, record, resolved.row.as_ref(), resolved.role, action, what, reason).await
            }
        }
    }

    /// Decides like [`Services::open`] without a write transaction, for a look that needs
    /// logging only when refused (the "acting for" banner shows the caller nothing but the
    /// patient's name and their own access).
    pub(crate) async fn peek(&self, who: &SignedIn, record: RecordRef, what: Touch) -> ServiceResult<Access> {
        let resolved = {
            let mut conn = self.db().conn().await?;
            self.resolve(&mut conn, who, record, Action::ReadEntries).await?
        };
        match resolved.outcome {
            Ok(access) => Ok(access),
            Err(reason) => self.refuse(who, record, resolved.row.as_ref(), resolved.role, Action::ReadEntries, what, reason).await,
        }
    }

    /// Finds the record and asks the policy, loading the caller's grants and the patient's date
    /// of birth afresh. Writes only to make the caller's own record for `AddEntries` or
    /// `ManageAccess` (which come through [`Services::open`]'s transaction).
    async fn resolve(&self, conn: &mut store::Conn, who: &SignedIn, record: RecordRef, action: Action) -> ServiceResult<Resolved> {
        let row = match record {
            RecordRef::Own => match patients::find_patient_by_user(conn, who.user_id).await? {
                Some(row) => Some(row),
                None if matches!(action, Action::AddEntries | Action::ManageAccess) => Some(self.make_own_record(conn, who).await?),
                None => None,
            },
            RecordRef::Patient(id) => patients::find_patient(conn, id).await?,
        };
        let Some(row) = row else {
            let outcome = match record {
                RecordRef::Own => Ok(Access {
                    patient: None,
                    labels: PrivacyLabel::ALL.to_vec(),
                    role: Role::Patient,
                    patient_name: who.display_name.clone(),
                    owner: Some(who.user_id),
                    basis: Basis::OwnRecord,
                    can_add: true,
                }),
                // No such record and no access look the same from outside.
                RecordRef::Patient(_) => Err(DenyReason::NoRelationship),
            };
            return Ok(Resolved { row: None, role: Role::Nobody, outcome });
        };
        // A member of staff does the practice's work as staff, and anything else (their own
        // record, someone they care for) as the person they are.
        let staff = who.staff.as_ref().filter(|_| action.is_practice_work());
        let actor = match staff {
            Some(job) => Actor::Staff { user: who.user_id, practice: job.practice, job: job.job, passkey: who.passkey },
            None => Actor::Person(who.user_id),
        };
        let held = if row.user_id == Some(who.user_id) || staff.is_some() {
            Vec::new()
        } else {
            grants::held_on_record(conn, row.id, who.user_id).await?
        };
        let link = match staff {
            Some(_) => links::find_link(conn, row.id).await?.map(|l| PracticeLink { practice: l.practice.id, status: l.status }),
            None => None,
        };
        let facts: Vec<_> = held.iter().map(|g| g.facts()).collect();
        let req = AccessRequest {
            actor,
            record_owner: row.user_id,
            born_on: row.born_on.as_deref().and_then(BirthDate::from_text),
            link,
            grants: &facts,
            action,
            now: self.now(),
            age_rules: self.config().age_rules,
        };
        let role = role(&req);
        let outcome = match decide(&req) {
            Decision::Allow { labels, basis } => {
                let can_add = decide(&AccessRequest { action: Action::AddEntries, ..req.clone() }).allowed();
                Ok(Access { patient: Some(row.id), labels, role, patient_name: row.name.clone(), owner: row.user_id, basis, can_add })
            }
            Decision::Deny { reason } => Err(reason),
        };
        Ok(Resolved { row: Some(row), role, outcome })
    }

    /// Logs, in a transaction of its own, that a request allowed into someone else's record
    /// asked for an item it may not see (it was answered "not found"). Call it only after the
    /// request's own transaction has ended.
    pub(crate) async fn log_hidden_item(&self, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<()> {
        let RecordRef::Patient(id) = record else { return Ok(()) };
        let row = {
            let mut conn = self.db().conn().await?;
            patients::find_patient(&mut conn, id).await?
        };
        let role = if row.as_ref().and_then(|r| r.user_id) == Some(who.user_id) { Role::Patient } else { Role::Carer };
        self.log(self.event(who, row.map(|r| r.id), role, action, &what, Some(DenyReason::ItemNotVisible))).await
    }

    /// Logs that a request the policy let into a record then asked for something its access
    /// does not include (a label it may not use, "about me" of an adult's record). The
    /// request's own transaction must have ended: the row is committed on its own.
    pub(crate) async fn log_refused(
        &self,
        who: &SignedIn,
        access: &Access,
        action: Action,
        what: Touch,
        reason: DenyReason,
    ) -> ServiceResult<()> {
        tracing::info!(reason = reason.slug(), ?action, "access refused");
        self.log(self.event(who, access.patient, access.role, action, &what, Some(reason))).await
    }

    /// Logs a refusal in a transaction of its own, commits it, and refuses. The caller's own
    /// transaction must have ended. A refusal that named no existing record goes on the chain
    /// of such refusals, with the id it named.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refuse<T>(
        &self,
        who: &SignedIn,
        record: RecordRef,
        row: Option<&PatientRow>,
        role: Role,
        action: Action,
        what: Touch,
        reason: DenyReason,
    ) -> ServiceResult<T> {
        let what = match (record, row) {
            (RecordRef::Patient(id), None) => Touch { item: Some(format!("patient {id}")), ..what },
            _ => what,
        };
        tracing::info!(reason = reason.slug(), ?action, "access refused");
        self.log(self.event(who, row.map(|r| r.id), role, action, &what, Some(reason))).await?;
        Err(ServiceError::Forbidden)
    }

    pub(crate) fn event(
        &self,
        who: &SignedIn,
        patient: Option<PatientId>,
        role: Role,
        action: Action,
        what: &Touch,
        refused: Option<DenyReason>,
    ) -> AuditEvent {
        let actor_name = match (&who.staff, role) {
            (Some(job), Role::PracticeClinician | Role::PracticeAdmin | Role::SocialCareWorker) => {
                format!("{} at {}", who.display_name, job.practice_name)
            }
            _ => who.display_name.clone(),
        };
        AuditEvent {
            at: self.now(),
            actor: Some(who.user_id),
            actor_name,
            role,
            on_behalf_of: patient.filter(|_| role == Role::Carer),
            patient,
            category: what.category,
            item: what.item.clone(),
            action,
            door: who.request.door,
            refused,
            request_id: who.request.id.clone(),
        }
    }

    async fn make_own_record(&self, conn: &mut store::Conn, who: &SignedIn) -> ServiceResult<PatientRow> {
        Ok(patients::ensure_patient_for_user(conn, PatientId::from_uuid(uuid::Uuid::new_v4()), who.user_id, self.now()).await?)
    }
}
