//! Privacy labels: every item carries exactly one, and a grant to a carer or an organisation
//! names the labels it covers (access-rules.md).

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// Who may see an item depends on its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PrivacyLabel {
    /// Everyday health information (the default).
    #[default]
    General,
    /// Mental health.
    MentalHealth,
    /// Sexual health.
    SexualHealth,
    /// Information for social care.
    SocialCare,
}

impl PrivacyLabel {
    /// Every label, in the order pages list them.
    pub const ALL: [PrivacyLabel; 4] =
        [PrivacyLabel::General, PrivacyLabel::MentalHealth, PrivacyLabel::SexualHealth, PrivacyLabel::SocialCare];

    /// The stable text form (database, URLs, forms).
    pub fn slug(self) -> &'static str {
        match self {
            PrivacyLabel::General => "general",
            PrivacyLabel::MentalHealth => "mental-health",
            PrivacyLabel::SexualHealth => "sexual-health",
            PrivacyLabel::SocialCare => "social-care",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            PrivacyLabel::General => "General",
            PrivacyLabel::MentalHealth => "Mental health",
            PrivacyLabel::SexualHealth => "Sexual health",
            PrivacyLabel::SocialCare => "Social care",
        }
    }

    /// Parses a slug from a form; the error names `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|l| l.slug() == s.trim())
            .ok_or_else(|| ValidationError::field(field, "Choose general, mental health, sexual health or social care."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_unknown_ones_are_refused() {
        for l in PrivacyLabel::ALL {
            assert_eq!(PrivacyLabel::parse("label", l.slug()).unwrap(), l);
        }
        assert_eq!(PrivacyLabel::default(), PrivacyLabel::General);
        assert!(PrivacyLabel::parse("label", "secret").unwrap_err().message_for("label").is_some());
    }
}
