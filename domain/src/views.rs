//! Wire views: what use cases return and the browser receives. Plain data, no secrets, no rows.

use crate::{PasskeyId, SessionId, Timestamp};
use serde::{Deserialize, Serialize};

/// The account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The person's name.
    pub display_name: String,
    /// Their address.
    pub email: String,
    /// Their passkeys, oldest first.
    pub passkeys: Vec<PasskeyView>,
    /// When their password was set, if they have one.
    pub password_set_at: Option<Timestamp>,
    /// Their sessions, most recent first.
    pub sessions: Vec<SessionView>,
    /// Whether the current session may make sensitive changes without signing in again.
    pub recently_authenticated: bool,
}

/// One passkey on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Its id (for rename and remove).
    pub id: PasskeyId,
    /// Its name.
    pub name: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
}

/// One session on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Its id (to end it).
    pub id: SessionId,
    /// Browser and system.
    pub device: String,
    /// How the person signed in.
    pub method: String,
    /// When.
    pub created_at: Timestamp,
    /// Last activity.
    pub last_seen_at: Timestamp,
    /// Whether this is the session asking.
    pub current: bool,
}

/// Options for the browser's WebAuthn call and the id that ties its answer to server state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    /// Send back with the answer.
    pub ceremony_id: String,
    /// webauthn-rs's JSON (`{"publicKey": {...}}`), for `PublicKeyCredential.parse*OptionsFromJSON`.
    pub options_json: String,
}

/// What an emailed link is for, shown on the page it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// The address the link was sent to.
    pub email: String,
    /// The name given at registration (registration links only).
    pub display_name: Option<String>,
}

/// The signed-in person, for the page header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeView {
    /// Their name.
    pub display_name: String,
    /// The practice they work at, if they are practice staff (the header links to it).
    pub practice: Option<String>,
}

/// One entry as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntrySummaryView {
    /// Its id.
    pub id: crate::EntryId,
    /// Its current version (sent back with a change, so a stale form cannot overwrite). Only
    /// someone who may see every version gets it (the patient, clinicians); for anyone else it
    /// is 0, since a number counts versions they may not see.
    pub version: i64,
    /// What kind of entry.
    pub kind: crate::entries::EntryKind,
    /// The reading's kind, for readings.
    pub reading_kind: Option<crate::ReadingKind>,
    /// Heading.
    pub title: String,
    /// One line.
    pub summary: String,
    /// When it was taken or is dated.
    pub occurred_at: Timestamp,
    /// Its privacy label.
    pub label: crate::PrivacyLabel,
    /// Whether the GP practice may see it.
    pub shared_with_practice: bool,
    /// Advice, when a reading is concerning.
    pub concern: Option<crate::Concern>,
    /// Who entered it, as the viewer should read it ("you", or a name).
    pub entered_by: String,
    /// Where it came from.
    pub source: crate::entries::Source,
    /// When it was deleted, if it is behind a tombstone.
    pub deleted_at: Option<Timestamp>,
}

/// One page of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineView {
    /// Newest first.
    pub entries: Vec<EntrySummaryView>,
    /// The `after` value for the next page, when there is one.
    pub next: Option<String>,
    /// "About me", shown above the timeline (on every page, so the page needs one request).
    pub about_me: Option<AboutMeView>,
}

/// One version in an entry's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionView {
    /// 1 for the first.
    pub version: i64,
    /// What it did.
    pub change: crate::entries::Change,
    /// Who made it, as the viewer should read it.
    pub changed_by: String,
    /// When.
    pub recorded_at: Timestamp,
    /// What changed, in plain words.
    pub details: Vec<String>,
}

/// One entry in full, with its history (newest change first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryView {
    /// The list view of it.
    pub summary: EntrySummaryView,
    /// Its content.
    pub body: crate::entries::EntryBody,
    /// Every version, newest first.
    pub history: Vec<VersionView>,
    /// Until when a deleted entry can be restored.
    pub restorable_until: Option<Timestamp>,
    /// For a weight or height: the BMI from it and the latest reading of the other, and what
    /// that other reading was.
    pub bmi: Option<(f64, String)>,
    /// What the GP practice did with it, oldest first (when it was shared with them).
    pub reviews: Vec<crate::practice_views::ReviewStepView>,
    /// Whether the practice asked a question that waits for the patient's answer.
    pub question_waiting: bool,
    /// What became of each accepted version on its way to the shared care record, oldest
    /// first ("Sent to the shared care record on 22 Nov 2026 at 10:05").
    pub care_record: Vec<String>,
}

/// A chart and its table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartView {
    /// The kind of reading.
    pub kind: crate::ReadingKind,
    /// The period.
    pub period: crate::charts::Period,
    /// The readings in the period, oldest first.
    pub readings: Vec<ChartRow>,
    /// The drawing.
    pub plot: crate::charts::Plot,
    /// Whether the period had more readings than one chart shows (the newest are shown).
    pub truncated: bool,
    /// For weight charts: the latest height in cm, to work out each reading's BMI.
    pub height_cm: Option<f64>,
}

/// One row of a chart's table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartRow {
    /// The entry.
    pub id: crate::EntryId,
    /// When.
    pub occurred_at: Timestamp,
    /// The value.
    pub reading: crate::Reading,
    /// Whether it is concerning.
    pub concerning: bool,
}

/// "About me", for the record page and its form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutMeView {
    /// The entry (to edit it and see its history).
    pub id: crate::EntryId,
    /// Its current version.
    pub version: i64,
    /// The answers.
    pub about: crate::about_me::AboutMe,
    /// Its privacy label.
    pub label: crate::PrivacyLabel,
    /// Whether the GP practice may see it.
    pub shared_with_practice: bool,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One carer's access as the patient sees it (on "Who can see my record").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantView {
    /// The grant.
    pub id: crate::GrantId,
    /// Its version (a change names it).
    pub version: i64,
    /// The carer's name.
    pub carer_name: String,
    /// Where the invitation went.
    pub email: String,
    /// How they are related (RoleCode).
    pub relationship: crate::grants::CarerRelationship,
    /// On what authority.
    pub basis: crate::grants::GrantBasis,
    /// Labels covered.
    pub labels: Vec<crate::PrivacyLabel>,
    /// May add entries.
    pub can_add: bool,
    /// May download the record and make health links.
    pub can_export: bool,
    /// From.
    pub starts_at: Timestamp,
    /// Until.
    pub ends_at: Timestamp,
    /// Its state in words ("Active", "Invited: not accepted yet", "Ended on 3 Nov 2026"...).
    pub state: String,
    /// Whether it still can be changed or ended (invited, or accepted and not ended).
    pub open: bool,
    /// Whether it is an invitation not yet accepted.
    pub invited: bool,
    /// A parent's access the young person, now holding their record, may confirm so that it
    /// continues after the suspension age.
    pub can_confirm: bool,
    /// Its history, oldest first: "3 Nov 2026, 14:02: invited by Sam Patel (general; view and add)".
    pub history: Vec<String>,
}

/// An invitation as its link shows it (to anyone holding the link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Whose record.
    pub patient_name: String,
    /// The name the patient gave the carer.
    pub invited_name: String,
    /// How they are related.
    pub relationship: crate::grants::CarerRelationship,
    /// Labels covered.
    pub labels: Vec<crate::PrivacyLabel>,
    /// May add entries.
    pub can_add: bool,
    /// May download the record and make health links.
    pub can_export: bool,
    /// From.
    pub starts_at: Timestamp,
    /// Until.
    pub ends_at: Timestamp,
}

/// One person a carer cares for (their dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaredForView {
    /// Their record.
    pub patient_id: crate::PatientId,
    /// Their name.
    pub name: String,
    /// What the carer may see now (empty when the access is not in force).
    pub labels: Vec<crate::PrivacyLabel>,
    /// May add entries now.
    pub can_add: bool,
    /// May download the record and make health links now.
    pub can_export: bool,
    /// Until.
    pub ends_at: Timestamp,
    /// The state in words.
    pub state: String,
    /// Whether the access is in force now.
    pub in_force: bool,
    /// A child's record held by the parent, which the parent may offer to the young person.
    pub can_hand_over: bool,
    /// The address a pending offer of the record went to.
    pub offered_to: Option<String>,
}

/// What a link offering a young person their own record says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOfferView {
    /// The record's name (the young person's).
    pub patient_name: String,
    /// The parent who offered it.
    pub offered_by: String,
    /// The address the offer went to.
    pub email: String,
    /// When the link stops working.
    pub expires_at: Timestamp,
}

/// Whose record a page is showing and what the viewer may do there (the "acting for" banner
/// and the forms' label lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordContext {
    /// The record, when someone else's (carers' links carry it).
    pub acting_for: Option<crate::PatientId>,
    /// The patient's name.
    pub name: String,
    /// Labels the viewer may see and use.
    pub labels: Vec<crate::PrivacyLabel>,
    /// May add entries.
    pub can_add: bool,
    /// May download the record and make health links.
    pub can_export: bool,
    /// May change entries.
    pub can_change: bool,
}

/// One line of "Who has looked at my record".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLogRow {
    /// When.
    pub at: Timestamp,
    /// What happened, in plain words.
    pub words: String,
    /// Whether it was refused.
    pub refused: bool,
}

/// A page of the access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLogView {
    /// Newest first.
    pub rows: Vec<AccessLogRow>,
    /// The cursor of the next page.
    pub next: Option<String>,
    /// The people who appear in the log, for the filter: (id, name), the patient excluded.
    pub people: Vec<(String, String)>,
}

/// A notice in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    /// What it says.
    pub text: String,
    /// Where it leads.
    pub link: String,
    /// When.
    pub at: Timestamp,
    /// Not read yet.
    pub unread: bool,
}
