//! The access log's events: who touched which part of a record, through which door, and what
//! came of it, and how each reads in plain words on the patient's "Who has looked at my
//! record" page. The hash chain that makes the log tamper-evident is the store's.

use crate::access::{Action, Actor, DenyReason, Permit, Refusal, Role};
use crate::{GrantId, PatientId, ReadingKind, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Which part of the record a request touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Category {
    /// The timeline of entries.
    Timeline,
    /// One entry (the item id says which).
    Entry,
    /// The readings of one kind (a chart and its table).
    Readings(ReadingKind),
    /// Journal notes.
    Notes,
    /// Recently deleted entries.
    DeletedEntries,
    /// "About me".
    AboutMe,
    /// The access log itself.
    AccessLog,
    /// Who has access: carers' grants and invitations (the item id names the grant).
    Access,
    /// The record's name and what the caller may do in it (the "acting for" banner).
    Record,
    /// What the patient shared with their GP practice (the practice's view of it).
    Shared,
    /// The record's link to a GP practice.
    PracticeLink,
    /// The record the NHS holds (synced from the shared care record).
    NhsRecord,
    /// Readings of every kind (a system client's search of Observations).
    AllReadings,
    /// Who entered and changed the entries, and when (Provenance).
    EntryHistory,
    /// The printable summary of the record.
    Summary,
    /// A copy of the record prepared to download (the item id names the export).
    ExportPrepared,
    /// A copy of the record downloaded (the item id names the export).
    ExportDownloaded,
    /// The health summary for other clinicians' systems (the International Patient Summary).
    SummaryDocument,
    /// A health link to the summary made (the item id names the link).
    HealthLink,
    /// A health link to the summary ended (the item id names the link).
    HealthLinkEnded,
}

impl Category {
    /// The stored value.
    pub fn slug(self) -> String {
        match self {
            Category::Timeline => "timeline".to_owned(),
            Category::Entry => "entry".to_owned(),
            Category::Readings(kind) => format!("readings:{}", kind.slug()),
            Category::Notes => "notes".to_owned(),
            Category::DeletedEntries => "deleted-entries".to_owned(),
            Category::AboutMe => "about-me".to_owned(),
            Category::AccessLog => "access-log".to_owned(),
            Category::Access => "access".to_owned(),
            Category::Record => "record".to_owned(),
            Category::Shared => "shared".to_owned(),
            Category::PracticeLink => "practice-link".to_owned(),
            Category::NhsRecord => "nhs-record".to_owned(),
            Category::AllReadings => "all-readings".to_owned(),
            Category::EntryHistory => "entry-history".to_owned(),
            Category::Summary => "summary".to_owned(),
            Category::ExportPrepared => "export-prepared".to_owned(),
            Category::ExportDownloaded => "export-downloaded".to_owned(),
            Category::SummaryDocument => "summary-document".to_owned(),
            Category::HealthLink => "health-link".to_owned(),
            Category::HealthLinkEnded => "health-link-ended".to_owned(),
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        Some(match s {
            "timeline" => Category::Timeline,
            "entry" => Category::Entry,
            "notes" => Category::Notes,
            "deleted-entries" => Category::DeletedEntries,
            "about-me" => Category::AboutMe,
            "access-log" => Category::AccessLog,
            "access" => Category::Access,
            "record" => Category::Record,
            "shared" => Category::Shared,
            "practice-link" => Category::PracticeLink,
            "nhs-record" => Category::NhsRecord,
            "all-readings" => Category::AllReadings,
            "entry-history" => Category::EntryHistory,
            "summary" => Category::Summary,
            "export-prepared" => Category::ExportPrepared,
            "export-downloaded" => Category::ExportDownloaded,
            "summary-document" => Category::SummaryDocument,
            "health-link" => Category::HealthLink,
            "health-link-ended" => Category::HealthLinkEnded,
            other => Category::Readings(ReadingKind::from_slug(other.strip_prefix("readings:")?)?),
        })
    }

    /// What it is, in words addressed to the patient ("your blood pressure readings").
    pub fn words(self) -> String {
        match self {
            Category::Timeline => "your record".to_owned(),
            Category::Entry => "an entry in your record".to_owned(),
            Category::Readings(kind) => format!("your {} readings", kind.label().to_lowercase()),
            Category::Notes => "your journal notes".to_owned(),
            Category::DeletedEntries => "your recently deleted entries".to_owned(),
            Category::AboutMe => "your \u{201c}About me\u{201d}".to_owned(),
            Category::AccessLog => "who has looked at your record".to_owned(),
            Category::Access => "who can see your record".to_owned(),
            Category::Record => "your name and their access to your record".to_owned(),
            Category::Shared => "what you shared with your GP practice".to_owned(),
            Category::PracticeLink => "your request to link your record to the practice".to_owned(),
            Category::NhsRecord => "your NHS record".to_owned(),
            Category::AllReadings => "your readings".to_owned(),
            Category::EntryHistory => "who entered your entries and when".to_owned(),
            Category::Summary => "the summary of your record".to_owned(),
            Category::ExportPrepared => "a copy of your record to download".to_owned(),
            Category::ExportDownloaded => "a copy of your record".to_owned(),
            Category::SummaryDocument => "your health summary (International Patient Summary)".to_owned(),
            Category::HealthLink | Category::HealthLinkEnded => "a health link to your summary".to_owned(),
        }
    }
}

/// Which way a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Door {
    /// A page served to a browser.
    Page,
    /// A server function called by the page's script or a form.
    ServerFunction,
    /// Carry's FHIR API.
    Fhir,
    /// The sync with the shared care record.
    Sync,
    /// A command run on the server.
    Command,
    /// A SMART Health Link, used by whoever holds it.
    HealthLink,
}

impl Door {
    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Door::Page => "page",
            Door::ServerFunction => "server-function",
            Door::Fhir => "fhir",
            Door::Sync => "sync",
            Door::Command => "command",
            Door::HealthLink => "health-link",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        [Door::Page, Door::ServerFunction, Door::Fhir, Door::Sync, Door::Command, Door::HealthLink].into_iter().find(|d| d.slug() == s)
    }
}

/// The stored slug of an action.
pub fn action_slug(action: Action) -> &'static str {
    match action {
        Action::ReadEntries => "read",
        Action::AddEntries => "add",
        Action::ChangeEntries => "change",
        Action::ReadAccessLog => "read-access-log",
        Action::ManageAccess => "manage-access",
        Action::ReadShared => "read-shared",
        Action::Review => "review",
        Action::AddCareNote => "add-care-note",
        Action::VerifyLink => "verify-link",
        Action::OfferRecord => "offer-record",
        Action::WriteAboutMe => "write-about-me",
        Action::Export => "export",
    }
}

/// Reads a stored action.
pub fn action_from_slug(s: &str) -> Option<Action> {
    Action::ALL.into_iter().find(|a| action_slug(*a) == s)
}

/// What a request touched, for the log: a part of the record and, where one, the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    /// Which part.
    pub category: Category,
    /// Which item, if one.
    pub item: Option<String>,
}

impl Touch {
    /// A part of the record as a whole.
    pub fn of(category: Category) -> Self {
        Self { category, item: None }
    }

    /// One item.
    pub fn item(category: Category, item: impl ToString) -> Self {
        Self { category, item: Some(item.to_string()) }
    }
}

/// The circumstances of a request, which the policy does not decide: when, the name the actor
/// is logged under ("Dr Priya Shah at Riverside Practice"), the door and the request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occasion {
    /// When (UTC).
    pub at: Timestamp,
    /// The actor's name at the time.
    pub actor_name: String,
    /// Which door.
    pub door: Door,
    /// The request's id.
    pub request_id: String,
}

/// Work Carry does to a record by itself, which nobody asked to see: logged so the patient
/// knows, under fixed words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarryJob {
    /// A pull from the shared care record changed the NHS record held in Carry.
    CareRecordPull,
    /// The demo set-up gave a carer access.
    DemoSetUp,
}

/// One event, as the log holds it (and as it reads back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// When (UTC).
    pub at: Timestamp,
    /// The account that asked (none for a system client).
    pub actor: Option<UserId>,
    /// Their name at the time.
    pub actor_name: String,
    /// Their part towards the record.
    pub role: Role,
    /// For someone acting for the patient (a carer), the patient.
    pub on_behalf_of: Option<PatientId>,
    /// The record (none when the request named a record that does not exist).
    pub patient: Option<PatientId>,
    /// What.
    pub category: Category,
    /// Which item, if one.
    pub item: Option<String>,
    /// Doing what.
    pub action: Action,
    /// Which door.
    pub door: Door,
    /// `None` when allowed; the reason when refused.
    pub refused: Option<DenyReason>,
    /// The request's id (the `x-request-id` the server gave it).
    pub request_id: String,
}

/// An event to append to the log. Only the policy's answers make one: a [`Permit`] (allowed),
/// a [`Refusal`] (refused), or a [`CarryJob`] (Carry's own work), so a row can never claim an
/// access the policy did not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent(LoggedEvent);

impl AuditEvent {
    /// An allowed request, as the permit it was given.
    pub fn allowed(permit: &Permit, touch: &Touch, occasion: Occasion) -> Self {
        Self::made(Some(permit.patient()), permit.actor(), permit.role(), permit.action(), touch, None, occasion)
    }

    /// A refused request.
    pub fn refused(refusal: &Refusal, touch: &Touch, occasion: Occasion) -> Self {
        Self::made(refusal.patient(), refusal.actor(), refusal.role(), refusal.action(), touch, Some(refusal.reason()), occasion)
    }

    /// A carer's own act on their grant: accepting or declining an invitation (authorised by
    /// the invitation's link), or a parent making a child's record with their grant on it. It
    /// changes who can see the record and shows the carer nothing of it, so it is logged as
    /// theirs, on the grant, without a look at the record to decide.
    pub fn grant_response(patient: PatientId, carer: UserId, grant: GrantId, occasion: Occasion) -> Self {
        Self::made(
            Some(patient),
            Actor::Person(carer),
            Role::Carer,
            Action::ManageAccess,
            &Touch::item(Category::Access, grant),
            None,
            occasion,
        )
    }

    /// A use of a health link: by whoever holds it, under the name they gave (in the
    /// occasion), on the authority of the person who made it, which the gate decided afresh:
    /// the permit or refusal is that decision's. A view, whatever the maker's action was.
    pub fn link_use(answer: Result<&Permit, &Refusal>, touch: &Touch, occasion: Occasion) -> Self {
        let (patient, refused) = match answer {
            Ok(permit) => (Some(permit.patient()), None),
            Err(refusal) => (refusal.patient(), Some(refusal.reason())),
        };
        Self::made(patient, Actor::System, Role::Nobody, Action::ReadEntries, touch, refused, occasion)
    }

    /// Carry's own work on a record.
    pub fn carry_job(patient: PatientId, job: CarryJob, touch: &Touch, at: Timestamp, request_id: String) -> Self {
        let (name, role, action, door) = match job {
            CarryJob::CareRecordPull => (CARE_RECORD_NAME, Role::SystemClient, Action::AddEntries, Door::Sync),
            CarryJob::DemoSetUp => ("Carry\u{2019}s demo set-up", Role::Nobody, Action::ManageAccess, Door::Command),
        };
        AuditEvent(LoggedEvent {
            at,
            actor: None,
            actor_name: name.to_owned(),
            role,
            on_behalf_of: None,
            patient: Some(patient),
            category: touch.category,
            item: touch.item.clone(),
            action,
            door,
            refused: None,
            request_id,
        })
    }

    fn made(
        patient: Option<PatientId>,
        actor: Actor,
        role: Role,
        action: Action,
        touch: &Touch,
        refused: Option<DenyReason>,
        occasion: Occasion,
    ) -> Self {
        AuditEvent(LoggedEvent {
            at: occasion.at,
            actor: actor.user(),
            actor_name: occasion.actor_name,
            role,
            on_behalf_of: patient.filter(|_| role == Role::Carer),
            patient,
            category: touch.category,
            item: touch.item.clone(),
            action,
            door: occasion.door,
            refused,
            request_id: occasion.request_id,
        })
    }

    /// What it says, for the store to write.
    pub fn logged(&self) -> &LoggedEvent {
        &self.0
    }
}

/// The name the shared care record's sync is logged under.
pub const CARE_RECORD_NAME: &str = "The regional care record system";

/// How an event reads to the patient, without the time: "Alex Smith (your carer) viewed your
/// blood pressure readings". `viewer` is the patient reading their log.
pub fn describe(
    viewer: Option<UserId>,
    actor: Option<UserId>,
    actor_name: &str,
    role: Role,
    category: Category,
    action: Action,
    refused: Option<DenyReason>,
) -> String {
    let who = match (actor, role) {
        (Some(a), _) if Some(a) == viewer => "You".to_owned(),
        (_, Role::Carer) => format!("{actor_name} (your carer)"),
        // Staff names are logged with their practice ("Dr Priya Shah at Riverside Practice").
        (_, Role::PracticeClinician) => actor_name.to_owned(),
        (_, Role::PracticeAdmin) => format!("{actor_name} (practice administrator)"),
        (_, Role::SocialCareWorker) => format!("{actor_name} (social care)"),
        // A system client's registered name ("The regional care record system").
        (_, Role::SystemClient) => actor_name.to_owned(),
        (_, Role::Patient | Role::Nobody) => actor_name.to_owned(),
    };
    let what = category.words();
    let (verb, done) = match (action, category) {
        (Action::ReadEntries | Action::ReadAccessLog | Action::ReadShared, _) => ("view", "viewed"),
        (Action::AddEntries, Category::AboutMe) | (Action::WriteAboutMe, _) => ("update", "updated"),
        (Action::AddEntries | Action::AddCareNote, _) => ("add to", "added to"),
        (Action::ChangeEntries | Action::ManageAccess | Action::OfferRecord, _) => ("change", "changed"),
        (Action::Review, _) => ("review", "reviewed"),
        (Action::VerifyLink, _) => ("check", "checked"),
        (_, Category::HealthLinkEnded) => ("end", "ended"),
        (Action::Export, Category::HealthLink) => ("make", "made"),
        (Action::Export, Category::ExportDownloaded | Category::SummaryDocument) => ("download", "downloaded"),
        (Action::Export, _) => ("prepare", "prepared"),
    };
    match refused {
        None => format!("{who} {done} {what}"),
        Some(reason) => format!("{who} tried to {verb} {what} and was refused: {}", reason.words()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn events_read_as_plain_words() {
        let me = UserId::from_uuid(Uuid::from_u128(1));
        let alex = UserId::from_uuid(Uuid::from_u128(2));
        let bp = Category::Readings(ReadingKind::BloodPressure);
        assert_eq!(
            describe(Some(me), Some(alex), "Alex Smith", Role::Carer, bp, Action::ReadEntries, None),
            "Alex Smith (your carer) viewed your blood pressure readings"
        );
        assert_eq!(
            describe(
                Some(me),
                Some(alex),
                "Alex Smith",
                Role::Carer,
                Category::Timeline,
                Action::ReadEntries,
                Some(DenyReason::GrantRevoked)
            ),
            "Alex Smith (your carer) tried to view your record and was refused: their access had been stopped"
        );
        assert_eq!(
            describe(Some(me), Some(me), "Sam", Role::Patient, Category::Access, Action::ManageAccess, None),
            "You changed who can see your record"
        );
        let gp = "Dr Priya Shah at Riverside Practice";
        assert_eq!(
            describe(
                Some(me),
                Some(alex),
                gp,
                Role::PracticeClinician,
                Category::Readings(ReadingKind::BloodPressure),
                Action::ReadShared,
                None
            ),
            "Dr Priya Shah at Riverside Practice viewed your blood pressure readings"
        );
        assert_eq!(
            describe(Some(me), Some(alex), gp, Role::PracticeClinician, Category::Entry, Action::Review, None),
            "Dr Priya Shah at Riverside Practice reviewed an entry in your record"
        );
        assert_eq!(
            describe(
                Some(me),
                Some(alex),
                "Jo Lee at Riverside Practice",
                Role::PracticeAdmin,
                Category::PracticeLink,
                Action::VerifyLink,
                None
            ),
            "Jo Lee at Riverside Practice (practice administrator) checked your request to link your record to the practice"
        );
    }

    #[test]
    fn a_system_client_is_named_as_registered() {
        let name = "The regional care record system";
        assert_eq!(
            describe(None, None, name, Role::SystemClient, Category::AllReadings, Action::ReadShared, None),
            "The regional care record system viewed your readings"
        );
        assert_eq!(
            describe(None, None, name, Role::SystemClient, Category::Notes, Action::ReadShared, Some(DenyReason::NotLinked)),
            format!("The regional care record system tried to view your journal notes and was refused: {}", DenyReason::NotLinked.words())
        );
    }

    #[test]
    fn slugs_round_trip() {
        for c in [
            Category::Timeline,
            Category::Entry,
            Category::Readings(ReadingKind::PeakFlow),
            Category::Notes,
            Category::AboutMe,
            Category::Access,
            Category::Record,
            Category::AccessLog,
            Category::DeletedEntries,
            Category::Shared,
            Category::PracticeLink,
            Category::NhsRecord,
            Category::AllReadings,
            Category::EntryHistory,
            Category::Summary,
            Category::ExportPrepared,
            Category::ExportDownloaded,
            Category::SummaryDocument,
            Category::HealthLink,
            Category::HealthLinkEnded,
        ] {
            assert_eq!(Category::from_slug(&c.slug()), Some(c));
        }
        for a in Action::ALL {
            assert_eq!(action_from_slug(action_slug(a)), Some(a));
        }
        assert_eq!(Category::from_slug("readings:nonsense"), None);
    }
}
