//! Email addresses, checked for shape and normalised so one address is one account.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest address SMTP allows (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// A syntactically plausible email address, trimmed, with its domain lower-cased.
///
/// The local part keeps its case (RFC 5321 says it may matter), but lookups compare the whole
/// address case-insensitively through [`Email::lookup_key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses what a person typed; the error names the `email` field.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let err = |m: &str| Err(ValidationError::field("email", m));
        let s = input.trim();
        if s.is_empty() {
            return err("Enter your email address.");
        }
        if s.chars().count() > MAX_EMAIL_LEN {
            return err("That email address is too long (254 characters at most).");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("An email address cannot contain spaces.");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return err("Enter an email address like name@example.com.");
        };
        if local.is_empty() || local.contains('@') || local.len() > 64 {
            return err("Enter an email address like name@example.com.");
        }
        let labels_ok = !domain.is_empty()
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !labels_ok {
            return err("The part after @ is not a valid domain.");
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as typed (trimmed, domain lower-cased).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to find an account: the whole address lower-cased.
    pub fn lookup_key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        let e = Email::parse("  Sam.Jones@Example.NHS.uk ").unwrap();
        assert_eq!(e.as_str(), "Sam.Jones@example.nhs.uk");
        assert_eq!(e.lookup_key(), "sam.jones@example.nhs.uk");
    }

    #[test]
    fn rejects_malformed_addresses_naming_the_email_field() {
        for bad in
            ["", "sam", "sam@", "@example.com", "sam @example.com", "sam@exa mple.com", "sam@-x.com", "a@b@c.com", "sam@example..com"]
        {
            let e = Email::parse(bad).unwrap_err();
            assert!(e.message_for("email").is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
