//! A person's name as they want it shown.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most characters a display name may have.
pub const MAX_NAME_CHARS: usize = 100;

/// A name of 1 to 100 characters with no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name; errors name the `name` field.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValidationError::field("name", "Enter your name."));
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(ValidationError::field("name", "Your name must be 100 characters or fewer."));
        }
        if s.chars().any(char::is_control) {
            return Err(ValidationError::field("name", "Your name cannot contain control characters."));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PersonName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_unicode_names() {
        assert_eq!(PersonName::parse("  Zoë Ó Briain ").unwrap().as_str(), "Zoë Ó Briain");
    }

    #[test]
    fn refuses_empty_long_and_control_character_names() {
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0007}b").is_err());
        assert!(PersonName::parse(&"x".repeat(100)).is_ok());
    }
}
