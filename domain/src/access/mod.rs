//! The access policy as a pure function: who may do what with a patient's record.
//!
//! [`decide`] denies by default and always gives its reason. It sees everything it needs as
//! plain values (the record's owner and date of birth, the asker's grants, the time), so the
//! whole table of cases is tested here without a database, and nothing is cached: the service
//! loads the facts afresh for every request.
//!
//! [`permit`] is [`decide`] made usable: an allowed request gets a [`Permit`], the only key the
//! store's reads of clinical data accept and the only thing an allowed access log row is made
//! from; a refused one gets a [`Refusal`], the only thing a refused row is made from. Neither
//! can be made any other way, so nothing reads a record or logs a look that the policy did not
//! decide.

use crate::care_record::Confidentiality;
use crate::grants::{AgeRules, BirthDate, GrantBasis, GrantStatus};
use crate::practices::{LinkStatus, StaffRole};
use crate::{GrantId, PatientId, PracticeId, PrivacyLabel, Timestamp, UserId};
use serde::{Deserialize, Serialize};

mod permit;

pub use permit::{permit, Permit, Refusal};

/// What the caller wants to do with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Read entries (the timeline, an entry, a chart, "about me").
    ReadEntries,
    /// Add a reading, a note or "about me".
    AddEntries,
    /// Edit, relabel, share, delete or restore an existing entry.
    ChangeEntries,
    /// Read the record's access log.
    ReadAccessLog,
    /// Invite carers, change or end their access.
    ManageAccess,
    /// See what the patient shared with their practice (practice staff).
    ReadShared,
    /// Accept, note, reject or ask about a shared entry (a practice clinician).
    Review,
    /// Add a social care note the patient can see (a social care worker).
    AddCareNote,
    /// See and decide the patient's request to link their record to the practice (a practice
    /// administrator; no clinical content).
    VerifyLink,
    /// Offer a child's record to the young person to hold themselves (a parent holding it on
    /// the basis of parental responsibility; no clinical content).
    OfferRecord,
    /// Write "about me": the patient's own voice, so only the patient, or a carer who may add
    /// entries to a record with no account of its own (a young child's).
    WriteAboutMe,
    /// Take the record out of Carry: download it, or make a health link to its summary for
    /// someone outside Carry. The patient, or a carer whose grant says so.
    Export,
}

impl Action {
    /// Every action, for tables of cases.
    pub const ALL: [Action; 12] = [
        Action::ReadEntries,
        Action::AddEntries,
        Action::ChangeEntries,
        Action::ReadAccessLog,
        Action::ManageAccess,
        Action::ReadShared,
        Action::Review,
        Action::AddCareNote,
        Action::VerifyLink,
        Action::OfferRecord,
        Action::WriteAboutMe,
        Action::Export,
    ];

    /// Whether only practice staff ever do this (a patient or carer never does).
    pub fn is_practice_work(self) -> bool {
        matches!(self, Action::ReadShared | Action::Review | Action::AddCareNote | Action::VerifyLink)
    }
}

/// The part someone plays towards a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// The record is theirs.
    Patient,
    /// They hold (or held, or were invited to) a carer's grant for the record.
    Carer,
    /// A GP or nurse at a practice.
    PracticeClinician,
    /// A practice administrator.
    PracticeAdmin,
    /// A social care worker.
    SocialCareWorker,
    /// The shared care record or another system, through the FHIR API.
    SystemClient,
    /// No link to the record at all.
    Nobody,
}

impl Role {
    /// Every role, for tables of cases.
    pub const ALL: [Role; 7] = [
        Role::Patient,
        Role::Carer,
        Role::PracticeClinician,
        Role::PracticeAdmin,
        Role::SocialCareWorker,
        Role::SystemClient,
        Role::Nobody,
    ];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Carer => "carer",
            Role::PracticeClinician => "practice-clinician",
            Role::PracticeAdmin => "practice-admin",
            Role::SocialCareWorker => "social-care-worker",
            Role::SystemClient => "system-client",
            Role::Nobody => "nobody",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.slug() == s)
    }
}

/// Who is asking, as the doors establish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in with their own account (a patient or a carer).
    Person(UserId),
    /// Practice or council staff, in the job their organisation gave them.
    Staff {
        /// Who.
        user: UserId,
        /// Their organisation.
        practice: PracticeId,
        /// Their job there.
        job: StaffRole,
        /// Whether this session was started with a passkey (clinical jobs need one).
        passkey: bool,
    },
    /// A system client of the FHIR API.
    System,
}

impl Actor {
    /// Their account (none for a system client).
    pub fn user(self) -> Option<UserId> {
        match self {
            Actor::Person(user) | Actor::Staff { user, .. } => Some(user),
            Actor::System => None,
        }
    }
}

/// A grant as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFacts {
    /// Which grant.
    pub id: GrantId,
    /// The carer's account (none until the invitation is accepted).
    pub carer: Option<UserId>,
    /// Where it stands.
    pub status: GrantStatus,
    /// On what authority.
    pub basis: GrantBasis,
    /// The labels it covers.
    pub labels: Vec<PrivacyLabel>,
    /// Whether the carer may add entries (viewing is always part of a grant).
    pub can_add: bool,
    /// Whether the carer may download the record and make health links to its summary.
    pub can_export: bool,
    /// In force from.
    pub starts_at: Timestamp,
    /// In force until (exclusive).
    pub ends_at: Timestamp,
    /// For a parental grant: the young person confirmed it at or after the suspension age.
    pub young_person_confirmed: bool,
}

/// What a request is, in the terms the policy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest<'a> {
    /// The record asked about.
    pub patient: PatientId,
    /// Who is asking.
    pub actor: Actor,
    /// The account that owns the record, if it has one (a young child's record may not).
    pub record_owner: Option<UserId>,
    /// The patient's date of birth, if known (the age rules need it for parental grants).
    pub born_on: Option<BirthDate>,
    /// The practice the record is linked to (or asked to be), if any.
    pub link: Option<PracticeLink>,
    /// Grants on this record (those not held by the actor are ignored).
    pub grants: &'a [GrantFacts],
    /// What they want.
    pub action: Action,
    /// Now.
    pub now: Timestamp,
    /// The age rules in force.
    pub age_rules: AgeRules,
}

/// A record's link to a GP practice, as the policy needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PracticeLink {
    /// Which practice.
    pub practice: PracticeId,
    /// Whether the practice has verified it.
    pub status: LinkStatus,
}

/// Why access was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// It is the caller's own record.
    OwnRecord,
    /// A grant in force (the first of the caller's that allows it).
    Grant(GrantId),
    /// The record is linked to (or asked to be linked to) the caller's practice.
    Practice(PracticeId),
}

/// Why access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DenyReason {
    /// The caller has no relationship with this record.
    NoRelationship,
    /// The invitation has not been accepted (or was declined or withdrawn).
    GrantNotAccepted,
    /// The grant starts later.
    GrantNotStarted,
    /// The grant's end date has passed.
    GrantEnded,
    /// The grant was revoked.
    GrantRevoked,
    /// The young person has reached the age at which a parent's access stops until they confirm it.
    SuspendedAtAge,
    /// The grant does not include this action.
    ActionNotGranted,
    /// The grant covers no label any more (a parental grant without `general` after age 11).
    NoLabelsLeft,
    /// This role has no access to records yet.
    RoleNotEnabled,
    /// The item asked for is not one the caller may see (or does not exist).
    ItemNotVisible,
    /// The record's link to the caller's practice has not been verified (or was declined).
    NotLinked,
    /// A clinical job needs a session started with a passkey.
    PasskeyRequired,
    /// A health link was used with a wrong passcode (or none).
    WrongPasscode,
    /// A health link was used after it ended, expired or locked.
    LinkNotActive,
    /// A health link was used after the person who made it lost the access it needs.
    LinkMakerLostAccess,
}

impl DenyReason {
    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            DenyReason::NoRelationship => "no-relationship",
            DenyReason::GrantNotAccepted => "grant-not-accepted",
            DenyReason::GrantNotStarted => "grant-not-started",
            DenyReason::GrantEnded => "grant-ended",
            DenyReason::GrantRevoked => "grant-revoked",
            DenyReason::SuspendedAtAge => "suspended-at-age",
            DenyReason::ActionNotGranted => "action-not-granted",
            DenyReason::NoLabelsLeft => "no-labels-left",
            DenyReason::RoleNotEnabled => "role-not-enabled",
            DenyReason::ItemNotVisible => "item-not-visible",
            DenyReason::NotLinked => "not-linked",
            DenyReason::PasskeyRequired => "passkey-required",
            DenyReason::WrongPasscode => "wrong-passcode",
            DenyReason::LinkNotActive => "link-not-active",
            DenyReason::LinkMakerLostAccess => "link-maker-lost-access",
        }
    }

    /// In plain words, for the access log.
    pub fn words(self) -> &'static str {
        match self {
            DenyReason::NoRelationship => "they have no access to your record",
            DenyReason::GrantNotAccepted => "their invitation had not been accepted",
            DenyReason::GrantNotStarted => "their access had not started yet",
            DenyReason::GrantEnded => "their access had ended",
            DenyReason::GrantRevoked => "their access had been stopped",
            DenyReason::SuspendedAtAge => "their access is paused until you confirm it",
            DenyReason::ActionNotGranted => "their access does not include that",
            DenyReason::NoLabelsLeft => "their access no longer covers anything",
            DenyReason::RoleNotEnabled => "their role has no access to records",
            DenyReason::ItemNotVisible => "it is not one they may see",
            DenyReason::NotLinked => "your record is not linked to their practice",
            DenyReason::PasskeyRequired => "they had not signed in with a passkey",
            DenyReason::WrongPasscode => "the passcode was wrong",
            DenyReason::LinkNotActive => "the link had ended, expired or locked",
            DenyReason::LinkMakerLostAccess => "the person who made the link no longer has the access it needs",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        [
            DenyReason::NoRelationship,
            DenyReason::GrantNotAccepted,
            DenyReason::GrantNotStarted,
            DenyReason::GrantEnded,
            DenyReason::GrantRevoked,
            DenyReason::SuspendedAtAge,
            DenyReason::ActionNotGranted,
            DenyReason::NoLabelsLeft,
            DenyReason::RoleNotEnabled,
            DenyReason::ItemNotVisible,
            DenyReason::NotLinked,
            DenyReason::PasskeyRequired,
            DenyReason::WrongPasscode,
            DenyReason::LinkNotActive,
            DenyReason::LinkMakerLostAccess,
        ]
        .into_iter()
        .find(|r| r.slug() == s)
    }

    /// Which reason to give when several grants are refused for different reasons: the one
    /// closest to being allowed.
    fn rank(self) -> u8 {
        match self {
            DenyReason::ActionNotGranted => 8,
            DenyReason::NoLabelsLeft => 7,
            DenyReason::SuspendedAtAge => 6,
            DenyReason::GrantNotStarted => 5,
            DenyReason::GrantEnded => 4,
            DenyReason::GrantRevoked => 3,
            DenyReason::GrantNotAccepted => 2,
            DenyReason::RoleNotEnabled
            | DenyReason::ItemNotVisible
            | DenyReason::NotLinked
            | DenyReason::PasskeyRequired
            | DenyReason::WrongPasscode
            | DenyReason::LinkNotActive
            | DenyReason::LinkMakerLostAccess => 1,
            DenyReason::NoRelationship => 0,
        }
    }
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

    /// Whether it allows.
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// The part the actor plays towards the record.
pub fn role(req: &AccessRequest<'_>) -> Role {
    match req.actor {
        Actor::Person(user) if req.record_owner == Some(user) => Role::Patient,
        Actor::Person(user) if req.grants.iter().any(|g| g.carer == Some(user)) => Role::Carer,
        Actor::Person(_) => Role::Nobody,
        Actor::Staff { job, .. } => job.access_role(),
        Actor::System => Role::SystemClient,
    }
}

/// What a grant allows at `now`: the labels it covers, or why it allows nothing. Used by the
/// policy and by the pages that show a grant's state.
pub fn grant_in_force(
    grant: &GrantFacts,
    born_on: Option<BirthDate>,
    now: Timestamp,
    rules: &AgeRules,
) -> Result<Vec<PrivacyLabel>, DenyReason> {
    match grant.status {
        GrantStatus::Active => {}
        GrantStatus::Revoked => return Err(DenyReason::GrantRevoked),
        GrantStatus::Invited | GrantStatus::Declined | GrantStatus::Cancelled => return Err(DenyReason::GrantNotAccepted),
    }
    if now < grant.starts_at {
        return Err(DenyReason::GrantNotStarted);
    }
    if now >= grant.ends_at {
        return Err(DenyReason::GrantEnded);
    }
    let mut labels: Vec<PrivacyLabel> = grant.labels.clone();
    if let (GrantBasis::ParentalResponsibility, Some(born)) = (grant.basis, born_on) {
        let age = born.age_at(now);
        if age >= rules.suspend_at && !grant.young_person_confirmed {
            return Err(DenyReason::SuspendedAtAge);
        }
        if age >= rules.general_only_at {
            labels.retain(|l| *l == PrivacyLabel::General);
        }
    }
    if labels.is_empty() {
        return Err(DenyReason::NoLabelsLeft);
    }
    Ok(labels)
}

/// Decides a request. Deny by default. The owner may do everything with every label (except
/// the practice's own work); a carer what their grants in force allow (the union of their
/// labels); practice staff what their job allows on records linked to their practice; system
/// clients (the shared care record, through Carry's FHIR API) only what the patient shared with
/// the practice their record is linked to.
pub fn decide(req: &AccessRequest<'_>) -> Decision {
    let user = match req.actor {
        Actor::Person(user) => user,
        Actor::Staff { practice, job, passkey, .. } => return decide_for_staff(req, practice, job, passkey),
        Actor::System => return decide_for_system(req),
    };
    if req.record_owner == Some(user) {
        if req.action.is_practice_work() || req.action == Action::OfferRecord {
            return Decision::Deny { reason: DenyReason::ActionNotGranted };
        }
        return Decision::Allow { labels: PrivacyLabel::ALL.to_vec(), basis: Basis::OwnRecord };
    }
    let mut allowed: Vec<PrivacyLabel> = Vec::new();
    let mut basis = None;
    let mut refusal = DenyReason::NoRelationship;
    for grant in req.grants.iter().filter(|g| g.carer == Some(user)) {
        let in_force = grant_in_force(grant, req.born_on, req.now, &req.age_rules);
        let verdict = match req.action {
            // A parent may pass the record on while their grant stands, whatever the age rules
            // have narrowed or paused: the offer shows them nothing of it.
            Action::OfferRecord => match in_force {
                Ok(_) | Err(DenyReason::SuspendedAtAge | DenyReason::NoLabelsLeft) if grant.basis == GrantBasis::ParentalResponsibility => {
                    Ok(Vec::new())
                }
                Ok(_) | Err(DenyReason::SuspendedAtAge | DenyReason::NoLabelsLeft) => Err(DenyReason::ActionNotGranted),
                Err(reason) => Err(reason),
            },
            Action::ReadEntries => in_force,
            Action::AddEntries if grant.can_add => in_force,
            Action::Export if grant.can_export => in_force,
            // A carer never learns from this refusal whether a hidden "about me" exists: it
            // depends only on the record having an account.
            Action::WriteAboutMe if grant.can_add && req.record_owner.is_none() => in_force,
            _ => in_force.and(Err(DenyReason::ActionNotGranted)),
        };
        match verdict {
            Ok(labels) => {
                basis.get_or_insert(Basis::Grant(grant.id));
                allowed.extend(labels);
            }
            Err(reason) if reason.rank() > refusal.rank() => refusal = reason,
            Err(_) => {}
        }
    }
    match basis {
        Some(basis) => Decision::Allow { labels: PrivacyLabel::ALL.into_iter().filter(|l| allowed.contains(l)).collect(), basis },
        None => Decision::Deny { reason: refusal },
    }
}

/// A system client reads what the patient shared with their practice, once the practice has
/// verified the link (sharing with the practice is the patient's consent to the shared care
/// record having it), and does nothing else. Every label is allowed here; the service narrows
/// them to the labels the client is registered for (by default `general` only).
fn decide_for_system(req: &AccessRequest<'_>) -> Decision {
    let Some(link) = req.link else { return Decision::Deny { reason: DenyReason::NoRelationship } };
    if link.status != LinkStatus::Linked {
        return Decision::Deny { reason: DenyReason::NotLinked };
    }
    match req.action {
        Action::ReadShared => Decision::Allow { labels: PrivacyLabel::ALL.to_vec(), basis: Basis::Practice(link.practice) },
        _ => Decision::Deny { reason: DenyReason::ActionNotGranted },
    }
}

/// Practice staff: nothing unless the record is linked to their own practice. An administrator
/// may see and decide the link (no clinical content: no labels); a clinician, once it is
/// verified, sees everything the patient shared with the practice and reviews it; a social
/// care worker sees only what is labelled for social care and adds social care notes. Clinical
/// jobs need a passkey session. The service shows staff only entries the patient shared.
fn decide_for_staff(req: &AccessRequest<'_>, practice: PracticeId, job: StaffRole, passkey: bool) -> Decision {
    let deny = |reason| Decision::Deny { reason };
    let Some(link) = req.link.filter(|l| l.practice == practice) else { return deny(DenyReason::NoRelationship) };
    let basis = Basis::Practice(practice);
    if job == StaffRole::Admin {
        return match req.action {
            Action::VerifyLink => Decision::Allow { labels: Vec::new(), basis },
            _ => deny(DenyReason::ActionNotGranted),
        };
    }
    if link.status != LinkStatus::Linked {
        return deny(DenyReason::NotLinked);
    }
    if job.needs_passkey() && !passkey {
        return deny(DenyReason::PasskeyRequired);
    }
    match (job, req.action) {
        (StaffRole::Gp | StaffRole::Nurse, Action::ReadShared | Action::Review) => {
            Decision::Allow { labels: PrivacyLabel::ALL.to_vec(), basis }
        }
        (StaffRole::SocialCare, Action::ReadShared | Action::AddCareNote) => {
            Decision::Allow { labels: vec![PrivacyLabel::SocialCare], basis }
        }
        _ => deny(DenyReason::ActionNotGranted),
    }
}

/// The most private synced items a role may see, beyond their labels (`access-rules.md`,
/// "Labels of synced items"): the patient sees restricted items of their own record but not
/// those marked not for the patient; carers never see restricted items, whatever labels they
/// hold; clinicians of a linked practice see everything. Roles that see no synced item at all
/// (administrators, system clients, nobody) are refused before this by [`decide`]; for them it
/// answers the narrowest level.
pub fn synced_ceiling(role: Role) -> Confidentiality {
    match role {
        Role::Patient => Confidentiality::Restricted,
        Role::PracticeClinician => Confidentiality::NoPatient,
        Role::Carer | Role::PracticeAdmin | Role::SocialCareWorker | Role::SystemClient | Role::Nobody => Confidentiality::Normal,
    }
}

/// The confidentiality levels of synced items a role may see (every level up to its
/// [`synced_ceiling`]).
pub fn synced_levels(role: Role) -> Vec<Confidentiality> {
    let ceiling = synced_ceiling(role);
    Confidentiality::ALL.into_iter().filter(|c| *c <= ceiling).collect()
}

#[cfg(test)]
mod matrix;
#[cfg(test)]
mod tests;
