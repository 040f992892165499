//! Password length rules (NIST SP 800-63B-4): long enough to stand alone, no composition rules,
//! Unicode-normalised, never truncated. The common-password check needs a word list and lives in
//! the service layer.

use crate::ValidationError;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Length limits for a password, counted in Unicode scalar values after NFKC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRules {
    /// Fewest characters accepted (15 when the password is the only factor).
    pub min_chars: usize,
    /// Most characters accepted: at least 64; the bound keeps hashing cost predictable.
    pub max_chars: usize,
}

impl Default for PasswordRules {
    fn default() -> Self {
        Self { min_chars: 15, max_chars: 256 }
    }
}

/// A password that meets the length rules, NFKC-normalised. Never printed, never serialised.
#[derive(Clone)]
pub struct PasswordText(String);

impl PasswordText {
    /// Normalises and checks `input`; errors name the `password` field.
    pub fn parse(input: &str, rules: PasswordRules) -> Result<Self, ValidationError> {
        let normalised: String = input.nfkc().collect();
        let n = normalised.chars().count();
        if n < rules.min_chars {
            return Err(ValidationError::field(
                "password",
                format!(
                    "Use at least {} characters. A few unrelated words make a strong password that is easy to remember.",
                    rules.min_chars
                ),
            ));
        }
        if n > rules.max_chars {
            return Err(ValidationError::field("password", format!("Use {} characters or fewer.", rules.max_chars)));
        }
        Ok(Self(normalised))
    }

    /// Normalises a password typed at sign-in without judging it, so an old password that no
    /// longer meets today's rules still signs its owner in.
    pub fn for_sign_in(input: &str) -> Self {
        Self(input.nfkc().collect())
    }

    /// The normalised text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordText(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_characters_are_refused_fifteen_accepted() {
        let r = PasswordRules::default();
        assert!(PasswordText::parse("abcdefghijklmn", r).is_err());
        assert!(PasswordText::parse("abcdefghijklmno", r).is_ok());
    }

    #[test]
    fn no_composition_rules_apply() {
        assert!(PasswordText::parse("all lower case words here", PasswordRules::default()).is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 15 two-byte characters are 15 characters.
        assert!(PasswordText::parse(&"é".repeat(15), PasswordRules::default()).is_ok());
    }

    #[test]
    fn sixty_four_and_more_are_accepted_and_never_truncated() {
        let long = "correct horse battery staple ".repeat(8); // 232 characters
        let p = PasswordText::parse(&long, PasswordRules::default()).unwrap();
        assert_eq!(p.expose(), long);
        assert!(PasswordText::parse(&"x".repeat(257), PasswordRules::default()).is_err());
    }

    #[test]
    fn compatibility_forms_normalise_to_the_same_text() {
        // U+FB01 (the "fi" ligature) and "fi" must hash alike.
        let a = PasswordText::parse("\u{FB01}sh and chips and peas", PasswordRules::default()).unwrap();
        let b = PasswordText::parse("fish and chips and peas", PasswordRules::default()).unwrap();
        assert_eq!(a.expose(), b.expose());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = PasswordText::for_sign_in("secret words here");
        assert!(!format!("{p:?}").contains("secret"));
    }
}
