//! GP practices, their staff and the patients linked to them: the NHS number and ODS code a
//! person types, the roles a practice gives its staff, and what a review of a shared entry says.

use crate::access::Role;
use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A valid NHS number: ten digits whose last is the modulus-11 check digit of the first nine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber([u8; 10]);

impl NhsNumber {
    /// Reads an NHS number as a person types it (spaces and hyphens are allowed between digits).
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let digits: Vec<u8> =
            text.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_digit(10).map(|d| d as u8).unwrap_or(255)).collect();
        if text.trim().is_empty() {
            return Err(ValidationError::field(field, "Enter your NHS number. It is 10 digits, for example 943 476 5919."));
        }
        if digits.iter().any(|d| *d > 9) {
            return Err(ValidationError::field(field, "An NHS number has only digits (spaces are fine), for example 943 476 5919."));
        }
        let Ok(digits) = <[u8; 10]>::try_from(digits.as_slice()) else {
            return Err(ValidationError::field(
                field,
                format!("An NHS number is 10 digits; this has {}. It is on letters from your GP or the NHS App.", digits.len()),
            ));
        };
        match check_digit(&digits) {
            Some(check) if check == digits[9] => Ok(Self(digits)),
            _ => Err(ValidationError::field(
                field,
                "That is not a valid NHS number: its last digit does not match the others. Please check each digit.",
            )),
        }
    }

    /// The ten digits without spaces, as stored and exchanged.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

/// The modulus-11 check digit of an NHS number's first nine digits, or `None` where none exists
/// (a remainder giving 10 means no valid number starts with those digits).
fn check_digit(d: &[u8; 10]) -> Option<u8> {
    let sum: u32 = d.iter().take(9).zip((2..=10u32).rev()).map(|(digit, weight)| u32::from(*digit) * weight).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

impl fmt::Display for NhsNumber {
    /// As the NHS writes it: 3 3 4 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.digits();
        write!(f, "{} {} {}", &s[..3], &s[3..6], &s[6..])
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("nhs_number", &s)
    }
}

impl From<NhsNumber> for String {
    fn from(n: NhsNumber) -> String {
        n.digits()
    }
}

/// An organisation's code in the NHS Organisation Data Service (a GP practice's is a letter and
/// five digits, such as A81001).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OdsCode(String);

impl OdsCode {
    /// Reads an ODS code: 3 to 10 letters and digits, upper-cased.
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let code = text.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(ValidationError::field(field, "Enter the practice's ODS code, for example A81001."));
        }
        if !(3..=10).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ValidationError::field(field, "An ODS code is 3 to 10 letters and digits, for example A81001."));
        }
        Ok(Self(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The job a practice gives one of its staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StaffRole {
    /// A general practitioner.
    Gp,
    /// A practice nurse.
    Nurse,
    /// A practice administrator: manages staff and verifies patients; no clinical content.
    Admin,
    /// A social care worker: sees only what is labelled for social care.
    SocialCare,
}

impl StaffRole {
    /// Every role, in the order forms offer them.
    pub const ALL: [StaffRole; 4] = [StaffRole::Gp, StaffRole::Nurse, StaffRole::Admin, StaffRole::SocialCare];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            StaffRole::Gp => "gp",
            StaffRole::Nurse => "nurse",
            StaffRole::Admin => "admin",
            StaffRole::SocialCare => "social-care",
        }
    }

    /// Reads a stored or submitted value.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.slug() == s)
    }

    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            StaffRole::Gp => "GP",
            StaffRole::Nurse => "Nurse",
            StaffRole::Admin => "Practice administrator",
            StaffRole::SocialCare => "Social care worker",
        }
    }

    /// The part this job plays towards a patient's record, for the policy.
    pub fn access_role(self) -> Role {
        match self {
            StaffRole::Gp | StaffRole::Nurse => Role::PracticeClinician,
            StaffRole::Admin => Role::PracticeAdmin,
            StaffRole::SocialCare => Role::SocialCareWorker,
        }
    }

    /// Whether the job sees anything of a patient's health, and so must sign in with a passkey
    /// (a password alone is not enough).
    pub fn needs_passkey(self) -> bool {
        !matches!(self, StaffRole::Admin)
    }
}

/// Where a patient's request to link their record to a practice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkStatus {
    /// Waiting for a practice administrator.
    Requested,
    /// Verified: the practice sees what the patient shares with it.
    Linked,
    /// The practice could not verify it.
    Declined,
}

impl LinkStatus {
    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            LinkStatus::Requested => "requested",
            LinkStatus::Linked => "linked",
            LinkStatus::Declined => "declined",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        [LinkStatus::Requested, LinkStatus::Linked, LinkStatus::Declined].into_iter().find(|r| r.slug() == s)
    }
}

/// What happened to a shared entry at the practice: a clinician's decision or the patient's
/// answer to their question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewStep {
    /// Filed for the shared care record.
    Accepted,
    /// Seen; no further action.
    Noted,
    /// Not accepted, with a reason for the patient.
    Rejected,
    /// The clinician asked the patient a question.
    Asked,
    /// The patient answered the question.
    Answered,
}

impl ReviewStep {
    /// The steps a clinician may take.
    pub const DECISIONS: [ReviewStep; 4] = [ReviewStep::Accepted, ReviewStep::Noted, ReviewStep::Rejected, ReviewStep::Asked];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            ReviewStep::Accepted => "accepted",
            ReviewStep::Noted => "noted",
            ReviewStep::Rejected => "rejected",
            ReviewStep::Asked => "asked",
            ReviewStep::Answered => "answered",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        [ReviewStep::Accepted, ReviewStep::Noted, ReviewStep::Rejected, ReviewStep::Asked, ReviewStep::Answered]
            .into_iter()
            .find(|r| r.slug() == s)
    }

    /// Reads a clinician's choice from a form (`accept`, `note`, `reject`, `ask`).
    pub fn parse_decision(field: &str, s: &str) -> Result<Self, ValidationError> {
        match s {
            "accept" => Ok(ReviewStep::Accepted),
            "note" => Ok(ReviewStep::Noted),
            "reject" => Ok(ReviewStep::Rejected),
            "ask" => Ok(ReviewStep::Asked),
            _ => Err(ValidationError::field(field, "Choose accept, note only, reject or ask the patient.")),
        }
    }

    /// Whether the step needs words with it (a reason or a question or an answer).
    pub fn needs_message(self) -> bool {
        matches!(self, ReviewStep::Rejected | ReviewStep::Asked | ReviewStep::Answered)
    }

    /// Where the entry stands in the inbox after this step.
    pub fn inbox_state(self) -> InboxState {
        match self {
            ReviewStep::Accepted | ReviewStep::Noted | ReviewStep::Rejected => InboxState::Done,
            ReviewStep::Asked => InboxState::WaitingForPatient,
            ReviewStep::Answered => InboxState::Waiting,
        }
    }

    /// The outcome as the patient reads it, after "Reviewed by Dr X on 4 Nov: ".
    pub fn patient_words(self) -> &'static str {
        match self {
            ReviewStep::Accepted => "accepted into your record",
            ReviewStep::Noted => "noted, no further action needed",
            ReviewStep::Rejected => "not accepted",
            ReviewStep::Asked => "they asked you a question",
            ReviewStep::Answered => "you answered",
        }
    }
}

/// Where a shared entry stands in its practice's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InboxState {
    /// Waiting for a clinician (new, changed since its review, or answered).
    Waiting,
    /// Waiting for the patient to answer a question.
    WaitingForPatient,
    /// Decided.
    Done,
}

impl InboxState {
    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            InboxState::Waiting => "waiting",
            InboxState::WaitingForPatient => "waiting-for-patient",
            InboxState::Done => "done",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        [InboxState::Waiting, InboxState::WaitingForPatient, InboxState::Done].into_iter().find(|r| r.slug() == s)
    }
}

/// The longest reason, question or answer, in characters.
pub const REVIEW_MESSAGE_MAX: usize = 2000;

/// Checks the words that go with a review step: required where the step needs them, trimmed,
/// and not too long.
pub fn review_message(field: &str, step: ReviewStep, text: &str) -> Result<Option<String>, ValidationError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars > REVIEW_MESSAGE_MAX {
        return Err(ValidationError::field(field, format!("Keep it to {REVIEW_MESSAGE_MAX} characters; this is {chars}.")));
    }
    match (step.needs_message(), text.is_empty()) {
        (true, true) => Err(ValidationError::field(
            field,
            match step {
                ReviewStep::Rejected => "Give a reason the patient will read.",
                ReviewStep::Asked => "Write the question for the patient.",
                _ => "Write your answer.",
            },
        )),
        (_, true) => Ok(None),
        (_, false) => Ok(Some(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_nhs_numbers_are_accepted_however_they_are_spaced() {
        for text in ["9434765919", "943 476 5919", "943-476-5919", " 9434765870 ", "4010232137"] {
            let n = NhsNumber::parse("nhs", text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(n.digits().len(), 10);
        }
        assert_eq!(NhsNumber::parse("nhs", "9434765919").unwrap().to_string(), "943 476 5919");
    }

    #[test]
    fn a_wrong_check_digit_is_refused_naming_the_field() {
        let e = NhsNumber::parse("nhs_number", "9434765918").unwrap_err();
        assert_eq!(e.0[0].field, "nhs_number");
        assert!(e.0[0].message.contains("last digit"));
        // Every single-digit slip in a valid number is caught.
        let good = b"9434765919";
        for i in 0..10 {
            for d in b'0'..=b'9' {
                if d == good[i] {
                    continue;
                }
                let mut bad = *good;
                bad[i] = d;
                assert!(NhsNumber::parse("n", std::str::from_utf8(&bad).unwrap()).is_err(), "{:?}", std::str::from_utf8(&bad));
            }
        }
    }

    #[test]
    fn a_number_whose_check_would_be_ten_is_never_valid() {
        // 000000006x: sum 6*2 = 12, remainder 1, check 10: no valid number starts 000000006.
        for last in 0..=9 {
            assert!(NhsNumber::parse("n", &format!("000000006{last}")).is_err());
        }
        // Remainder 0 gives check digit 0.
        assert!(NhsNumber::parse("n", "0000000000").is_ok());
    }

    #[test]
    fn other_mistakes_are_named() {
        assert!(NhsNumber::parse("n", "").unwrap_err().0[0].message.contains("Enter"));
        assert!(NhsNumber::parse("n", "943 476 591").unwrap_err().0[0].message.contains("this has 9"));
        assert!(NhsNumber::parse("n", "943476591X").unwrap_err().0[0].message.contains("only digits"));
        assert!(serde_json::from_str::<NhsNumber>("\"9434765918\"").is_err());
        assert_eq!(serde_json::to_string(&NhsNumber::parse("n", "943 476 5919").unwrap()).unwrap(), "\"9434765919\"");
    }

    #[test]
    fn ods_codes_are_letters_and_digits() {
        assert_eq!(OdsCode::parse("ods", " a81001 ").unwrap().as_str(), "A81001");
        assert!(OdsCode::parse("ods", "").is_err());
        assert!(OdsCode::parse("ods", "A8").is_err());
        assert!(OdsCode::parse("ods", "A81 001").is_err());
    }

    #[test]
    fn roles_and_steps_round_trip_their_slugs() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::from_slug(r.slug()), Some(r));
        }
        assert!(StaffRole::Gp.needs_passkey() && StaffRole::SocialCare.needs_passkey() && !StaffRole::Admin.needs_passkey());
        for s in ReviewStep::DECISIONS.into_iter().chain([ReviewStep::Answered]) {
            assert_eq!(ReviewStep::from_slug(s.slug()), Some(s));
        }
        for s in [InboxState::Waiting, InboxState::WaitingForPatient, InboxState::Done] {
            assert_eq!(InboxState::from_slug(s.slug()), Some(s));
        }
        assert_eq!(ReviewStep::parse_decision("d", "ask").unwrap(), ReviewStep::Asked);
        assert!(ReviewStep::parse_decision("d", "answered").is_err());
    }

    #[test]
    fn a_rejection_needs_a_reason_and_a_question_its_words() {
        assert!(review_message("m", ReviewStep::Rejected, "  ").is_err());
        assert!(review_message("m", ReviewStep::Asked, "").is_err());
        assert_eq!(review_message("m", ReviewStep::Accepted, " ").unwrap(), None);
        assert_eq!(review_message("m", ReviewStep::Asked, " When? ").unwrap().as_deref(), Some("When?"));
        assert!(review_message("m", ReviewStep::Noted, &"x".repeat(2001)).unwrap_err().0[0].message.contains("2001"));
    }
}
