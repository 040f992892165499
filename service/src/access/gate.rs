//! The gate: find the record, load what the policy needs afresh, ask it, and hand back the
//! permit with the access log row to commit. Nothing is cached between requests, so a revoked
//! or expired grant is refused on the very next one.

use super::{Access, Also};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{permit, AccessRequest, Action, Actor, Permit, PracticeLink, Refusal};
use domain::audit::{AuditEvent, Touch};
use domain::grants::BirthDate;
use domain::{PatientId, UserId};
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

/// The part a signed-in person plays for `action`: a member of staff does the practice's work
/// as staff, and anything else (their own record, someone they care for) as the person they are.
fn actor_for(who: &SignedIn, action: Action) -> Actor {
    match who.staff.as_ref().filter(|_| action.is_practice_work()) {
        Some(job) => Actor::Staff { user: who.user_id, practice: job.practice, job: job.job, passkey: who.passkey },
        None => Actor::Person(who.user_id),
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
        match self.resolve(&mut tx, who, record, action).await? {
            Ok(access) => {
                let row = access.permit.as_ref().map(|p| self.allowed_event(who, p, &what));
                Ok((LoggedRead { tx, row, services: self.clone() }, access))
            }
            Err(refusal) => {
                drop(tx);
                self.refuse(who, record, &refusal, what).await
            }
        }
    }

    /// Opens a transaction for `who` to do `action` with `record`, touching `what`: decided by
    /// the policy and logged in the transaction. For the caller's own record, an `AddEntries`,
    /// `WriteAboutMe` or `ManageAccess` makes the record if it does not exist yet; a read of a record never
    /// written gives an `Access` without a permit (nothing to see, nothing logged).
    pub(crate) async fn open(&self, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<(Tx, Access)> {
        let mut tx = self.db().begin().await?;
        match self.resolve(&mut tx, who, record, action).await? {
            Ok(access) => {
                if let Some(p) = &access.permit {
                    audit::append(&mut tx, &self.allowed_event(who, p, &what)).await?;
                }
                Ok((tx, access))
            }
            Err(refusal) => {
                drop(tx);
                self.refuse(who, record, &refusal, what).await
            }
        }
    }

    /// Decides inside the caller's transaction, after a change in it gave the caller their
    /// access (a young person taking their record), and appends the allowed row to it. A
    /// refusal here means the change did not do what it should: the caller's work is refused
    /// and its transaction must be dropped.
    pub(crate) async fn admit(&self, tx: &mut Tx, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<Access> {
        match self.resolve(tx, who, record, action).await? {
            Ok(access) => {
                if let Some(p) = &access.permit {
                    audit::append(tx, &self.allowed_event(who, p, &what)).await?;
                }
                Ok(access)
            }
            Err(refusal) => {
                tracing::warn!(reason = refusal.reason().slug(), ?action, "a change did not give the access it should have");
                Err(ServiceError::Forbidden)
            }
        }
    }

    /// Decides like [`Services::open`] without a write transaction, for a look that needs
    /// logging only when refused (the "acting for" banner shows the caller nothing but the
    /// patient's name and their own access).
    pub(crate) async fn peek(&self, who: &SignedIn, record: RecordRef, what: Touch) -> ServiceResult<Access> {
        self.peek_at(who, record, Action::ReadEntries, what).await
    }

    /// [`Services::peek`] for another action: whether the caller may do it, before they do
    /// (a form that offers it).
    pub(crate) async fn peek_at(&self, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<Access> {
        let outcome = {
            let mut conn = self.db().conn().await?;
            self.resolve(&mut conn, who, record, action).await?
        };
        match outcome {
            Ok(access) => Ok(access),
            Err(refusal) => self.refuse(who, record, &refusal, what).await,
        }
    }

    /// Logs, in a transaction of its own, an attempt that failed before it could change
    /// anything (a link to take a record that was not for this person), as the policy sees the
    /// caller's access: a refusal is logged with its reason; an access the caller does hold
    /// needs no row, since nothing was done.
    pub(crate) async fn log_attempt(&self, who: &SignedIn, record: RecordRef, action: Action, what: Touch) -> ServiceResult<()> {
        let outcome = {
            let mut conn = self.db().conn().await?;
            self.resolve(&mut conn, who, record, action).await?
        };
        match outcome {
            Ok(_) => Ok(()),
            Err(refusal) => self.log_refusal(who, record, &refusal, what).await,
        }
    }

    /// Finds the record and asks the policy, loading the caller's grants, the record's link
    /// and the patient's date of birth afresh. Writes only to make the caller's own record for
    /// `AddEntries`, `WriteAboutMe` or `ManageAccess` (through [`Services::open`]'s transaction).
    pub(super) async fn resolve(
        &self,
        conn: &mut store::Conn,
        who: &SignedIn,
        record: RecordRef,
        action: Action,
    ) -> ServiceResult<Result<Access, Refusal>> {
        let actor = actor_for(who, action);
        let row = match record {
            RecordRef::Own => match patients::find_patient_by_user(conn, who.user_id).await? {
                Some(row) => Some(row),
                None if matches!(action, Action::AddEntries | Action::WriteAboutMe | Action::ManageAccess) => {
                    Some(self.make_own_record(conn, who).await?)
                }
                None => None,
            },
            RecordRef::Patient(id) => patients::find_patient(conn, id).await?,
        };
        let Some(row) = row else {
            return Ok(match record {
                RecordRef::Own => Ok(Access {
                    permit: None,
                    patient_name: who.display_name.clone(),
                    owner: Some(who.user_id),
                    also: Also { add: true, export: true },
                }),
                // No such record and no access look the same from outside.
                RecordRef::Patient(_) => Err(Refusal::unknown_record(actor, action)),
            });
        };
        let outcome = self.decide_loaded(conn, actor, &row, action).await?;
        Ok(match outcome {
            Ok((permit, also)) => Ok(Access { permit: Some(permit), patient_name: row.name.clone(), owner: row.user_id, also }),
            Err(refusal) => Err(refusal),
        })
    }

    /// Loads the facts the policy needs about `row` for `actor` and asks it; with the permit,
    /// what else the same actor may do there.
    async fn decide_loaded(
        &self,
        conn: &mut store::Conn,
        actor: Actor,
        row: &PatientRow,
        action: Action,
    ) -> ServiceResult<Result<(Permit, Also), Refusal>> {
        let held = match actor {
            Actor::Person(user) if row.user_id != Some(user) => grants::held_on_record(conn, row.id, user).await?,
            _ => Vec::new(),
        };
        let link = match actor {
            Actor::Staff { .. } | Actor::System => {
                links::find_link(conn, row.id).await?.map(|l| PracticeLink { practice: l.practice.id, status: l.status })
            }
            Actor::Person(_) => None,
        };
        let facts: Vec<_> = held.iter().map(|g| g.facts()).collect();
        let req = AccessRequest {
            patient: row.id,
            actor,
            record_owner: row.user_id,
            born_on: row.born_on.as_deref().and_then(BirthDate::from_text),
            link,
            grants: &facts,
            action,
            now: self.now(),
            age_rules: self.config().age_rules,
        };
        Ok(permit(&req).map(|p| {
            let may = |action| permit(&AccessRequest { action, ..req.clone() }).is_ok();
            (p, Also { add: may(Action::AddEntries), export: may(Action::Export) })
        }))
    }

    /// Opens a record for the shared care record (Carry's FHIR API, or the worker that sends
    /// accepted entries), by the same policy, with the record's link read afresh.
    pub(crate) async fn open_for_system(&self, conn: &mut store::Conn, patient: PatientId) -> ServiceResult<Result<Permit, Refusal>> {
        let Some(row) = patients::find_patient(conn, patient).await? else {
            return Ok(Err(Refusal::unknown_record(Actor::System, Action::ReadShared)));
        };
        Ok(self.decide_loaded(conn, Actor::System, &row, Action::ReadShared).await?.map(|(p, _)| p))
    }

    /// Opens a record for work a person asked for and Carry does later (preparing a copy to
    /// download), by the same policy, decided afresh when the work runs: access that ended in
    /// between is refused, and the refusal logged under the person's name.
    pub(crate) async fn open_for_job(
        &self,
        conn: &mut store::Conn,
        patient: PatientId,
        user: UserId,
        action: Action,
        what: Touch,
    ) -> ServiceResult<Result<Permit, Refusal>> {
        let outcome = match patients::find_patient(conn, patient).await? {
            Some(row) => self.decide_loaded(conn, Actor::Person(user), &row, action).await?.map(|(p, _)| p),
            None => Err(Refusal::unknown_record(Actor::Person(user), action)),
        };
        if let Err(refusal) = &outcome {
            let name = store::users::find_user(conn, user).await?.map(|u| u.display_name).unwrap_or_default();
            self.log(self.job_refused_event(&name, refusal, &what)).await?;
        }
        Ok(outcome)
    }

    /// Opens a record for a use of a health link, on the authority of the person who made it,
    /// decided afresh by the same policy: a link works only while its maker may still take
    /// the record out. The caller logs the use either way ([`Services::link_event`]).
    pub(crate) async fn open_for_link(
        &self,
        conn: &mut store::Conn,
        patient: PatientId,
        maker: UserId,
    ) -> ServiceResult<Result<Permit, Refusal>> {
        Ok(match patients::find_patient(conn, patient).await? {
            Some(row) => self.decide_loaded(conn, Actor::Person(maker), &row, Action::Export).await?.map(|(p, _)| p),
            None => Err(Refusal::unknown_record(Actor::Person(maker), Action::Export)),
        }
        .map_err(Refusal::of_link_maker))
    }

    /// Decides a look by staff at a record their practice's own list named (the inbox, the
    /// requests to link, the dead-letter list), from the facts that list read from the store in
    /// the same transaction: the record's owner and its link. Lists of many records decide
    /// each row here rather than loading every record again.
    pub(crate) fn open_listed(
        &self,
        who: &SignedIn,
        action: Action,
        patient: PatientId,
        owner: Option<UserId>,
        link: Option<PracticeLink>,
    ) -> Result<Permit, Refusal> {
        permit(&AccessRequest {
            patient,
            actor: actor_for(who, action),
            record_owner: owner,
            born_on: None,
            link,
            grants: &[],
            action,
            now: self.now(),
            age_rules: self.config().age_rules,
        })
    }

    /// A look by staff at one row of their practice's own list that shows no clinical content
    /// (requests to link, held matches, the dead-letter list, the social care list), decided
    /// like [`Services::open_listed`] from the record's link as the list read it. Adds the row
    /// to log (allowed or refused) to `log`, and says whether the row may be shown.
    pub(crate) fn look_listed(
        &self,
        who: &SignedIn,
        action: Action,
        patient: PatientId,
        link: Option<PracticeLink>,
        what: &Touch,
        log: &mut Vec<AuditEvent>,
    ) -> bool {
        match self.open_listed(who, action, patient, None, link) {
            Ok(permit) => {
                log.push(self.allowed_event(who, &permit, what));
                true
            }
            Err(refusal) => {
                log.push(self.refused_event(who, &refusal, what));
                false
            }
        }
    }

    async fn make_own_record(&self, conn: &mut store::Conn, who: &SignedIn) -> ServiceResult<PatientRow> {
        Ok(patients::ensure_patient_for_user(conn, PatientId::from_uuid(uuid::Uuid::new_v4()), who.user_id, self.now()).await?)
    }
}
