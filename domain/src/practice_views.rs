//! Wire views of GP practices: the staff's pages and the patient's view of their practice and
//! of each shared entry's review.

use crate::home_bp::HomeBpSummary;
use crate::practices::{LinkStatus, ReviewStep, StaffRole};
use crate::views::EntrySummaryView;
use crate::{PatientId, PracticeId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// A practice, as a patient chooses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeChoice {
    /// Which.
    pub id: PracticeId,
    /// Its name.
    pub name: String,
    /// Its ODS code.
    pub ods_code: String,
}

/// The patient's "My GP practice" page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyPracticeView {
    /// Their link, if they asked for one.
    pub link: Option<MyLinkView>,
    /// The practices they may choose from.
    pub practices: Vec<PracticeChoice>,
}

/// The patient's link as they see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyLinkView {
    /// The practice.
    pub practice: PracticeChoice,
    /// The NHS number they gave, spaced ("943 476 5919").
    pub nhs_number: String,
    /// The date of birth they gave ("2 Apr 1980"); None for a link verified before Carry asked
    /// for one (the page asks for it: nothing is pulled or sent until it is given).
    pub born_on: Option<String>,
    /// Where it stands.
    pub status: LinkStatus,
    /// When they asked.
    pub requested_at: Timestamp,
    /// When the practice decided.
    pub decided_at: Option<Timestamp>,
    /// Why the practice declined.
    pub decline_reason: Option<String>,
}

/// The staff's home: who they are and what waits for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffHomeView {
    /// The practice.
    pub practice: PracticeChoice,
    /// Their job.
    pub job: StaffRole,
    /// Whether this session was started with a passkey (clinical work needs one).
    pub passkey: bool,
    /// Requests to link waiting (administrators).
    pub link_requests: Vec<LinkRequestView>,
    /// The practice's staff (administrators).
    pub staff: Vec<StaffMemberView>,
    /// Invitations not yet taken up (administrators).
    pub invitations: Vec<StaffInvitationView>,
    /// Linked patients who shared something labelled for social care (social care workers).
    pub care_patients: Vec<CarePatientView>,
    /// What the practice accepted that has not reached the shared care record (administrators).
    pub care_record: Option<CareRecordSendsView>,
}

/// A patient a social care worker may open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePatientView {
    /// The record.
    pub patient_id: PatientId,
    /// The patient's name.
    pub name: String,
}

/// A patient's request to link, as an administrator checks it against the practice's system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequestView {
    /// The record.
    pub patient_id: PatientId,
    /// The patient's name.
    pub name: String,
    /// The date of birth they gave ("4 Mar 1961"); None only for a request made before Carry
    /// asked for one.
    pub born_on: Option<String>,
    /// The NHS number they gave, spaced.
    pub nhs_number: String,
    /// When they asked.
    pub requested_at: Timestamp,
    /// A fingerprint of exactly these details, which the accept and decline forms send back:
    /// if the patient asks again meanwhile, the decision is refused and the new request shown.
    pub seen: String,
}

/// One of a practice's staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMemberView {
    /// Their account.
    pub user_id: UserId,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their job.
    pub job: StaffRole,
}

/// An invitation to join the staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffInvitationView {
    /// Whom it names.
    pub name: String,
    /// Where it went.
    pub email: String,
    /// The job.
    pub job: StaffRole,
    /// Until when it works.
    pub expires_at: Timestamp,
}

/// What an emailed staff invitation offers, before it is taken up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPracticeView {
    /// The practice.
    pub practice_name: String,
    /// The job.
    pub job: StaffRole,
    /// Whom it names.
    pub name: String,
}

/// A page of the review inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxView {
    /// Patients with entries waiting, concerning first, then longest waiting.
    pub patients: Vec<InboxPatientView>,
    /// The `after` value for the next page, when there is one.
    pub next: Option<String>,
    /// Patients with anything waiting, in all.
    pub waiting_patients: i64,
    /// Entries waiting, in all.
    pub waiting_entries: i64,
}

/// One patient's entries in the inbox, or on their review page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxPatientView {
    /// The record.
    pub patient_id: PatientId,
    /// The patient's name.
    pub name: String,
    /// Their date of birth, when known.
    pub born_on: Option<String>,
    /// Their verified NHS number, spaced.
    pub nhs_number: String,
    /// Whether any entry waiting is concerning.
    pub flagged: bool,
    /// The entries, concerning first, then oldest first.
    pub entries: Vec<SharedEntryView>,
    /// The home blood pressure summary, when the patient shared blood pressure readings.
    pub home_bp: Option<HomeBpSummary>,
    /// Whether the viewer may decide on the waiting entries (a clinician).
    pub may_review: bool,
    /// Whether the viewer may add a social care note (a social care worker).
    pub may_add_care_note: bool,
    /// How many items from the shared care record Carry keeps for this patient but could not
    /// show (they did not conform, or carry what Carry does not understand): told to a
    /// clinician, `None` for anyone else.
    pub nhs_items_not_shown: Option<u32>,
}

/// A shared entry as the practice sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedEntryView {
    /// The entry.
    pub entry: EntrySummaryView,
    /// Its body's full text (a note's words, a reading's value).
    pub detail: String,
    /// Every review step so far, oldest first.
    pub steps: Vec<ReviewStepView>,
    /// Whether it waits for a clinician.
    pub waiting: bool,
}

/// One step of a review, as staff and the patient read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewStepView {
    /// What was done.
    pub step: ReviewStep,
    /// The reason, question or answer.
    pub message: Option<String>,
    /// Who ("Dr Priya Shah", or the patient's name for an answer).
    pub by: String,
    /// When.
    pub at: Timestamp,
}

impl ReviewStepView {
    /// The line the patient reads: "Reviewed by Dr Priya Shah on 4 Nov 2026: accepted into your record".
    pub fn patient_line(&self) -> String {
        match self.step {
            ReviewStep::Answered => format!("You answered on {}", self.at.to_uk_date()),
            ReviewStep::Asked => format!("{} asked you a question on {}", self.by, self.at.to_uk_date()),
            step => format!("Reviewed by {} on {}: {}", self.by, self.at.to_uk_date(), step.patient_words()),
        }
    }
}

/// What a practice accepted that has not yet reached the shared care record (administrators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareRecordSendsView {
    /// Whether a shared care record is configured at all (without one, everything waits).
    pub connected: bool,
    /// The dead-letter list first, then what waits, oldest first.
    pub rows: Vec<CareRecordSendView>,
    /// Linked records whose match in the shared care record is held for a person to check:
    /// nothing is pulled or sent for them until then.
    pub held: Vec<HeldMatchView>,
    /// Linked records whose pull could not fetch everything the shared care record holds.
    pub incomplete: Vec<IncompletePullView>,
    /// Items from the shared care record that could not be shown, by type, id and reason only:
    /// for the practice to ask the source to correct. No patient, no clinical content.
    pub quarantined: Vec<QuarantinedItemView>,
}

/// A linked record whose pull is incomplete. No clinical content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncompletePullView {
    /// The patient's name in Carry.
    pub patient_name: String,
    /// What could not be fetched, in words ("4,556 of 5,656 Observation (Test results)").
    pub missing: String,
    /// Since when.
    pub since: Timestamp,
}

/// An item of the shared care record Carry keeps but does not show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedItemView {
    /// The FHIR type.
    pub resource_type: String,
    /// Its id in the shared care record.
    pub remote_id: String,
    /// Why it is not shown.
    pub reason: String,
}

/// A linked record the shared care record could not match with certainty. No clinical content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldMatchView {
    /// The record (what "Check again" names).
    pub patient_id: PatientId,
    /// The patient's name in Carry.
    pub patient_name: String,
    /// Why the match is in doubt, in words.
    pub reason: String,
    /// When it was last looked up.
    pub checked_at: Timestamp,
}

/// One accepted entry not yet in the shared care record. No clinical content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareRecordSendView {
    /// The outbox row (what "Try again" names).
    pub id: String,
    /// The patient's name.
    pub patient_name: String,
    /// The clinician who accepted it.
    pub accepted_by: String,
    /// When.
    pub accepted_at: Timestamp,
    /// True when Carry has stopped trying (the dead-letter list).
    pub failed: bool,
    /// How many sends were tried.
    pub attempts: i64,
    /// When the next try is due, while it waits.
    pub next_attempt_at: Option<Timestamp>,
    /// Why it has not gone, in words.
    pub reason: Option<String>,
}
