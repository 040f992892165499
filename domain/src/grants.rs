//! Carers' access to a patient's record ("grants"), and the age rules for a parent's access to
//! a child's record (access-rules.md). Pure values: the service stores them and the policy in
//! [`crate::access`] reads them.

use crate::{PrivacyLabel, Span, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};

/// How the carer is related to the patient (a subset of the FHIR v3 RoleCode system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CarerRelationship {
    /// Parent.
    Parent,
    /// Mother.
    Mother,
    /// Father.
    Father,
    /// Guardian.
    Guardian,
    /// Spouse or partner.
    Spouse,
    /// Child (a son or daughter caring for a parent).
    Child,
    /// Another family member.
    FamilyMember,
    /// Next of kin.
    NextOfKin,
    /// Friend.
    Friend,
    /// Holds a health and welfare power of attorney.
    PowerOfAttorney,
}

impl CarerRelationship {
    /// Every relationship, in the order forms list them.
    pub const ALL: [CarerRelationship; 10] = [
        CarerRelationship::Spouse,
        CarerRelationship::Parent,
        CarerRelationship::Mother,
        CarerRelationship::Father,
        CarerRelationship::Child,
        CarerRelationship::FamilyMember,
        CarerRelationship::Friend,
        CarerRelationship::NextOfKin,
        CarerRelationship::Guardian,
        CarerRelationship::PowerOfAttorney,
    ];

    /// The FHIR v3 RoleCode code, which is also the form value and the stored value.
    pub fn code(self) -> &'static str {
        match self {
            CarerRelationship::Parent => "PRN",
            CarerRelationship::Mother => "MTH",
            CarerRelationship::Father => "FTH",
            CarerRelationship::Guardian => "GUARD",
            CarerRelationship::Spouse => "SPS",
            CarerRelationship::Child => "CHILD",
            CarerRelationship::FamilyMember => "FAMMEMB",
            CarerRelationship::NextOfKin => "NOK",
            CarerRelationship::Friend => "FRND",
            CarerRelationship::PowerOfAttorney => "HPOWATT",
        }
    }

    /// In words, as the patient would say it ("my partner").
    pub fn label(self) -> &'static str {
        match self {
            CarerRelationship::Parent => "Parent",
            CarerRelationship::Mother => "Mother",
            CarerRelationship::Father => "Father",
            CarerRelationship::Guardian => "Guardian",
            CarerRelationship::Spouse => "Husband, wife or partner",
            CarerRelationship::Child => "Son or daughter",
            CarerRelationship::FamilyMember => "Other family member",
            CarerRelationship::NextOfKin => "Next of kin",
            CarerRelationship::Friend => "Friend",
            CarerRelationship::PowerOfAttorney => "Holds my health and welfare power of attorney",
        }
    }

    /// Reads a code; the error names `field`.
    pub fn parse(field: &str, code: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code.trim())
            .ok_or_else(|| ValidationError::field(field, "Choose how they are related to you from the list."))
    }
}

/// On what authority a carer holds access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantBasis {
    /// The patient chose to give it.
    PatientConsent,
    /// A parent's responsibility for a child.
    ParentalResponsibility,
    /// A lasting power of attorney for health and welfare.
    LastingPowerOfAttorney,
    /// A deputy appointed by the Court of Protection.
    CourtAppointedDeputy,
    /// A decision in the patient's best interests.
    BestInterests,
}

impl GrantBasis {
    /// Every basis.
    pub const ALL: [GrantBasis; 5] = [
        GrantBasis::PatientConsent,
        GrantBasis::ParentalResponsibility,
        GrantBasis::LastingPowerOfAttorney,
        GrantBasis::CourtAppointedDeputy,
        GrantBasis::BestInterests,
    ];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            GrantBasis::PatientConsent => "patient-consent",
            GrantBasis::ParentalResponsibility => "parental-responsibility",
            GrantBasis::LastingPowerOfAttorney => "lasting-power-of-attorney",
            GrantBasis::CourtAppointedDeputy => "court-appointed-deputy",
            GrantBasis::BestInterests => "best-interests",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            GrantBasis::PatientConsent => "You agreed to it",
            GrantBasis::ParentalResponsibility => "Parental responsibility",
            GrantBasis::LastingPowerOfAttorney => "Lasting power of attorney for health and welfare",
            GrantBasis::CourtAppointedDeputy => "Deputy appointed by the Court of Protection",
            GrantBasis::BestInterests => "A best-interests decision",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.slug() == s)
    }
}

/// Where a grant stands, as stored. Whether an active grant is in force also depends on the
/// time and, for a child's record, the child's age: see [`crate::access::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantStatus {
    /// Invited; the carer has not accepted yet.
    Invited,
    /// Accepted.
    Active,
    /// The carer declined the invitation.
    Declined,
    /// The patient (or whoever decided it) ended it.
    Revoked,
    /// The patient withdrew the invitation before it was accepted.
    Cancelled,
}

impl GrantStatus {
    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            GrantStatus::Invited => "invited",
            GrantStatus::Active => "active",
            GrantStatus::Declined => "declined",
            GrantStatus::Revoked => "revoked",
            GrantStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        [GrantStatus::Invited, GrantStatus::Active, GrantStatus::Declined, GrantStatus::Revoked, GrantStatus::Cancelled]
            .into_iter()
            .find(|g| g.slug() == s)
    }
}

/// What a grant lets a carer do, in the words the grant's history and the pages use:
/// "General, Social care; view and add entries".
pub fn scope_words(labels: &[PrivacyLabel], can_add: bool, can_export: bool) -> String {
    let names: Vec<&str> = PrivacyLabel::ALL.iter().filter(|l| labels.contains(l)).map(|l| l.label()).collect();
    let rights = match (can_add, can_export) {
        (false, false) => "view only",
        (true, false) => "view and add entries",
        (false, true) => "view, download and make health links",
        (true, true) => "view and add entries, download and make health links",
    };
    format!("{}; {rights}", names.join(", "))
}

/// The labels a grant covers, as stored: slugs joined by commas.
pub fn labels_to_text(labels: &[PrivacyLabel]) -> String {
    PrivacyLabel::ALL.iter().filter(|l| labels.contains(l)).map(|l| l.slug()).collect::<Vec<_>>().join(",")
}

/// Reads stored labels; `None` if any is unknown.
pub fn labels_from_text(text: &str) -> Option<Vec<PrivacyLabel>> {
    text.split(',').filter(|s| !s.is_empty()).map(|s| PrivacyLabel::ALL.into_iter().find(|l| l.slug() == s)).collect()
}

/// How long an invitation link stays valid.
pub const INVITATION_VALID: Span = Span::days(7);
/// The default length of a grant, from its start.
pub const DEFAULT_GRANT_DAYS: i64 = 365;
/// How long before a grant's end both sides are reminded to review it.
pub const REVIEW_REMINDER: Span = Span::days(30);

/// A date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthDate {
    /// Year.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: i64,
    /// Day of the month.
    pub day: i64,
}

impl BirthDate {
    /// Reads a `date` input's value; refuses a date in the future. The error names `field`.
    pub fn parse(field: &str, text: &str, now: Timestamp) -> Result<Self, ValidationError> {
        let (year, month, day) =
            Timestamp::parse_ymd(text).ok_or_else(|| ValidationError::field(field, "Enter the date of birth as a real date."))?;
        let born = BirthDate { year, month, day };
        if born.birthday(0) > now {
            return Err(ValidationError::field(field, "The date of birth cannot be in the future."));
        }
        Ok(born)
    }

    /// As stored and as a `date` input shows it.
    pub fn to_text(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Reads a stored value.
    pub fn from_text(text: &str) -> Option<Self> {
        Timestamp::parse_ymd(text).map(|(year, month, day)| BirthDate { year, month, day })
    }

    /// The start (UK time) of the day this person turns `years`. Someone born on 29 February
    /// has their birthday on 1 March in a common year, as in English law.
    pub fn birthday(self, years: i64) -> Timestamp {
        Timestamp::uk_day_start(self.year + years, self.month, self.day)
    }

    /// Whole years of age at `at`.
    pub fn age_at(self, at: Timestamp) -> i64 {
        let (y, ..) = at.uk_ymd();
        let years = y - self.year;
        if self.birthday(years) <= at {
            years
        } else {
            years - 1
        }
    }
}

/// The ages at which a parent's access to a child's record changes (England's defaults in
/// access-rules.md; configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRules {
    /// From this age a parental grant covers `general` only.
    pub general_only_at: i64,
    /// The review point.
    pub review_at: i64,
    /// From this age a parental grant is suspended unless the young person confirms it.
    pub suspend_at: i64,
    /// How many months before a threshold the people concerned are warned.
    pub warn_months: i64,
}

impl Default for AgeRules {
    fn default() -> Self {
        Self { general_only_at: 11, review_at: 13, suspend_at: 16, warn_months: 3 }
    }
}

impl AgeRules {
    /// The moment `months` before a birthday (same day of the month, rolling over as
    /// [`BirthDate::birthday`] does).
    pub fn warning_at(&self, born: BirthDate, years: i64) -> Timestamp {
        let months = (born.year + years) * 12 + (born.month - 1) - self.warn_months;
        Timestamp::uk_day_start(months.div_euclid(12), months.rem_euclid(12) + 1, born.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_uk_input(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn a_scope_reads_in_words_in_the_labels_order() {
        use PrivacyLabel::{General, SocialCare};
        assert_eq!(scope_words(&[SocialCare, General], true, false), "General, Social care; view and add entries");
        assert_eq!(scope_words(&[General], false, false), "General; view only");
        assert_eq!(scope_words(&[General], false, true), "General; view, download and make health links");
        assert_eq!(scope_words(&[General], true, true), "General; view and add entries, download and make health links");
    }

    #[test]
    fn ages_turn_at_the_start_of_the_birthday_in_uk_time() {
        let born = BirthDate { year: 2015, month: 6, day: 15 };
        assert_eq!(born.age_at(at("2026-06-14T23:59")), 10);
        assert_eq!(born.age_at(at("2026-06-15T00:00")), 11);
        let leap = BirthDate { year: 2012, month: 2, day: 29 };
        assert_eq!(leap.age_at(at("2023-02-28T12:00")), 10);
        assert_eq!(leap.age_at(at("2023-03-01T00:00")), 11);
        assert_eq!(leap.age_at(at("2024-02-29T00:00")), 12);
    }

    #[test]
    fn warnings_come_three_months_before() {
        let rules = AgeRules::default();
        let born = BirthDate { year: 2015, month: 11, day: 30 };
        assert_eq!(rules.warning_at(born, 11), Timestamp::uk_day_start(2026, 8, 30));
        let january = BirthDate { year: 2010, month: 1, day: 10 };
        assert_eq!(rules.warning_at(january, 16), Timestamp::uk_day_start(2025, 10, 10));
    }

    #[test]
    fn a_birth_date_must_be_real_and_past() {
        let now = at("2026-11-29T12:00");
        assert!(BirthDate::parse("born_on", "2015-02-30", now).is_err());
        assert!(BirthDate::parse("born_on", "2027-01-01", now).is_err());
        assert!(BirthDate::parse("born_on", "", now).is_err());
        assert_eq!(BirthDate::parse("born_on", "2015-02-28", now).map(BirthDate::to_text).ok().as_deref(), Some("2015-02-28"));
    }

    #[test]
    fn labels_round_trip_and_unknown_ones_are_refused() {
        let labels = vec![PrivacyLabel::SocialCare, PrivacyLabel::General];
        assert_eq!(labels_to_text(&labels), "general,social-care");
        assert_eq!(labels_from_text("general,social-care"), Some(vec![PrivacyLabel::General, PrivacyLabel::SocialCare]));
        assert_eq!(labels_from_text("general,secret"), None);
        for r in CarerRelationship::ALL {
            assert_eq!(CarerRelationship::parse("relationship", r.code()).ok(), Some(r));
        }
    }
}
