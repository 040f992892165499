//! SMART Health Links to the patient's summary: what a person chooses when they make one, and
//! how the links page shows them. The link itself (its keys, its files) is the service's.

use crate::{PrivacyLabel, Span, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};

/// The longest a link's label may be (the specification's limit).
pub const LABEL_MAX: usize = 80;
/// How many wrong passcodes lock a link.
pub const PASSCODE_ATTEMPTS: i64 = 5;
/// The shortest passcode Carry accepts.
pub const PASSCODE_MIN: usize = 6;
/// How many links one person may make for one record in a day.
pub const MOST_A_DAY: usize = 20;

/// How long a link lasts, as the person chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lasts {
    /// A day (the default).
    Day,
    /// A week.
    Week,
    /// A month (30 days).
    Month,
    /// Three months (90 days).
    ThreeMonths,
    /// A year (the longest).
    Year,
}

impl Lasts {
    /// Every choice, shortest first.
    pub const ALL: [Lasts; 5] = [Lasts::Day, Lasts::Week, Lasts::Month, Lasts::ThreeMonths, Lasts::Year];

    /// The form's value.
    pub fn slug(self) -> &'static str {
        match self {
            Lasts::Day => "day",
            Lasts::Week => "week",
            Lasts::Month => "month",
            Lasts::ThreeMonths => "three-months",
            Lasts::Year => "year",
        }
    }

    /// In words ("24 hours").
    pub fn words(self) -> &'static str {
        match self {
            Lasts::Day => "24 hours",
            Lasts::Week => "7 days",
            Lasts::Month => "30 days",
            Lasts::ThreeMonths => "90 days",
            Lasts::Year => "1 year",
        }
    }

    /// How long.
    pub fn span(self) -> Span {
        match self {
            Lasts::Day => Span::hours(24),
            Lasts::Week => Span::days(7),
            Lasts::Month => Span::days(30),
            Lasts::ThreeMonths => Span::days(90),
            Lasts::Year => Span::days(365),
        }
    }

    /// Reads the form's value (empty: the default, a day). Errors name `expires`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text.trim() {
            "" => Ok(Lasts::Day),
            t => Self::ALL.into_iter().find(|l| l.slug() == t).ok_or_else(|| {
                ValidationError::field("expires", "Choose how long the link lasts: 24 hours, 7 days, 30 days, 90 days or 1 year.")
            }),
        }
    }
}

/// A link's label, checked: what the person calls it ("A&E card"), 1 to [`LABEL_MAX`]
/// characters on one line. Errors name `label`.
pub fn link_label(text: &str) -> Result<String, ValidationError> {
    let label = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if label.is_empty() {
        return Err(ValidationError::field("label", "Give the link a name you will recognise, such as \u{201c}A&E card\u{201d}."));
    }
    if label.chars().count() > LABEL_MAX {
        return Err(ValidationError::field("label", format!("Keep the name to {LABEL_MAX} characters or fewer.")));
    }
    if label.chars().any(char::is_control) {
        return Err(ValidationError::field("label", "Use letters, numbers and punctuation only."));
    }
    Ok(label)
}

/// A passcode, checked: none, or at least [`PASSCODE_MIN`] characters. Errors name `passcode`.
pub fn passcode(text: &str) -> Result<Option<String>, ValidationError> {
    match text.trim() {
        "" => Ok(None),
        p if p.chars().count() < PASSCODE_MIN => {
            Err(ValidationError::field("passcode", format!("Use at least {PASSCODE_MIN} characters, or leave it empty for no passcode.")))
        }
        p if p.chars().count() > 64 => Err(ValidationError::field("passcode", "Keep the passcode to 64 characters or fewer.")),
        p => Ok(Some(p.to_owned())),
    }
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// It can be used.
    Active,
    /// Its time is up.
    Expired,
    /// Someone ended it.
    Ended,
    /// Too many wrong passcodes.
    Locked,
}

impl LinkState {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            LinkState::Active => "Working",
            LinkState::Expired => "Expired",
            LinkState::Ended => "Ended",
            LinkState::Locked => "Locked: too many wrong passcodes",
        }
    }
}

/// One use of a link, as the links page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUse {
    /// When.
    pub at: Timestamp,
    /// What happened, in words ("Dr Jones viewed your summary").
    pub words: String,
}

/// A link, as the links page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthLinkView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub label: String,
    /// The labels its summary holds.
    pub labels: Vec<PrivacyLabel>,
    /// Who made it.
    pub made_by: String,
    /// Whether the viewer made it.
    pub mine: bool,
    /// When.
    pub made_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Whether it needs a passcode.
    pub passcode: bool,
    /// Whether it always shows the current summary (`L`).
    pub long_term: bool,
    /// Where it stands.
    pub state: LinkState,
    /// Wrong passcodes still allowed.
    pub attempts_left: i64,
    /// Its uses, newest first.
    pub uses: Vec<LinkUse>,
}

/// The links page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthLinksView {
    /// Whose record.
    pub patient_name: String,
    /// Whether the viewer is the patient.
    pub own: bool,
    /// The labels the viewer may put in a link.
    pub labels: Vec<PrivacyLabel>,
    /// Whether long-term links can be made here (the operator set the server's key).
    pub long_term_offered: bool,
    /// The links: every one for the patient, a carer's own for a carer.
    pub links: Vec<HealthLinkView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_named_briefly_lasts_a_day_unless_chosen_and_a_passcode_is_long_enough() {
        assert_eq!(link_label("  A&E   card ").unwrap(), "A&E card");
        assert_eq!(link_label("").unwrap_err().0[0].field, "label");
        assert!(link_label(&"x".repeat(81)).is_err());
        assert!(link_label(&"x".repeat(80)).is_ok());
        assert_eq!(Lasts::parse("").unwrap(), Lasts::Day);
        assert_eq!(Lasts::parse("year").unwrap().span(), Span::days(365));
        assert_eq!(Lasts::parse("forever").unwrap_err().0[0].field, "expires");
        assert_eq!(passcode(" ").unwrap(), None);
        assert_eq!(passcode("12345").unwrap_err().0[0].field, "passcode");
        assert_eq!(passcode("kettle-22").unwrap().as_deref(), Some("kettle-22"));
    }
}
