//! Password hashing (argon2id, off the async runtime, a bounded number at once) and the check
//! against common passwords.

use crate::config::Argon2Params;
use crate::error::{ServiceError, ServiceResult};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::{PasswordText, ValidationError};
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Hashes and verifies passwords. Cloning shares the concurrency bound.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so both cases take the same time.
    dummy_phc: Arc<String>,
}

impl PasswordHasher {
    /// Sets up hashing with these costs and at most `max_concurrent` hashes at once.
    pub fn new(p: Argon2Params, max_concurrent: usize) -> ServiceResult<Self> {
        let params = Params::new(p.m_kib, p.t, p.p, None).map_err(|e| ServiceError::internal(&e))?;
        let dummy = hash_blocking(&params, "carry dummy password for equal timing")?;
        Ok(Self { params, permits: Arc::new(Semaphore::new(max_concurrent.max(1))), dummy_phc: Arc::new(dummy) })
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: &PasswordText) -> ServiceResult<String> {
        // The permit moves into the blocking task: a client that goes away cannot free it while
        // its hash still runs.
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| ServiceError::internal(&e))?;
        let params = self.params.clone();
        let text = password.expose().to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_blocking(&params, &text)
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is none.
    /// Returns false for `None` whatever the password.
    pub async fn verify(&self, stored: Option<&str>, password: &PasswordText) -> ServiceResult<bool> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| ServiceError::internal(&e))?;
        let real = stored.is_some();
        let phc = stored.map_or_else(|| self.dummy_phc.as_str().to_owned(), str::to_owned);
        let text = password.expose().to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let parsed = PasswordHash::new(&phc).map_err(|e| ServiceError::internal(&e))?;
            Ok::<bool, ServiceError>(Argon2::default().verify_password(text.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|e| ServiceError::internal(&e))??;
        Ok(real && ok)
    }
}

fn hash_blocking(params: &Params, text: &str) -> ServiceResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(text.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal(&e))
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| include_str!("../../data/common-passwords.txt").lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect())
}

const SEQUENCES: &[&str] = &[
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "q1w2e3r4t5y6u7i8o9p0",
];

/// Refuses passwords that an attacker would try early, whatever their length: a common
/// password (padded with digits or symbols, or repeated), a keyboard or digit run, very few
/// distinct characters, or little more than the person's own name or address.
pub fn check_not_common(password: &PasswordText, context: &[&str]) -> Result<(), ValidationError> {
    let refuse = || Err(ValidationError::field("password", "That password is too easy to guess. Try a few unrelated words."));
    let lower = password.expose().to_lowercase();
    let letters: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let list = common_passwords();

    if list.contains(lower.as_str()) || list.contains(letters.as_str()) {
        return refuse();
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if core.is_empty() || list.contains(core) {
        return refuse();
    }
    if is_repetition(&letters) || is_repetition(core) {
        return refuse();
    }
    let distinct: HashSet<char> = lower.chars().collect();
    if distinct.len() < 5 {
        return refuse();
    }
    let rev: String = letters.chars().rev().collect();
    if SEQUENCES.iter().any(|s| s.contains(letters.as_str()) || s.contains(rev.as_str())) {
        return refuse();
    }
    let mut rest = letters.clone();
    for word in context.iter().flat_map(|c| c.split(|ch: char| !ch.is_alphanumeric())) {
        let w = word.to_lowercase();
        if w.len() >= 3 {
            rest = rest.replace(&w, "");
        }
    }
    if rest.chars().count() < 8 {
        return refuse();
    }
    Ok(())
}

/// True when `s` is one shorter string repeated, or a common password repeated.
fn is_repetition(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    (1..=n / 2).any(|len| n.is_multiple_of(len) && chars.chunks(len).all(|c| c == &chars[..len]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::PasswordRules;

    fn pw(s: &str) -> PasswordText {
        PasswordText::parse(s, PasswordRules::default()).unwrap()
    }

    #[test]
    fn common_passwords_padded_repeated_or_sequential_are_refused() {
        for bad in [
            "passwordpassword",
            "password12345678",
            "!!!iloveyou2024!!!",
            "123456789012345",
            "qwertyuiopasdfgh",
            "1qaz2wsx3edc4rfv",
            "aaaaaaaaaaaaaaaaab",
            "abcabcabcabcabcabc",
            "zyxwvutsrqponmlkj",
        ] {
            assert!(check_not_common(&pw(bad), &[]).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passphrases_of_unrelated_words_are_accepted() {
        for good in ["correct horse battery staple", "kettle lantern orbit meadow", "my tortoise eats 3 figs daily"] {
            assert!(check_not_common(&pw(good), &[]).is_ok(), "{good} should be accepted");
        }
    }

    #[test]
    fn the_persons_own_name_and_address_do_not_count_as_strength() {
        let ctx = ["Samantha Jones", "samantha.jones@example.com"];
        assert!(check_not_common(&pw("samanthajones1986"), &ctx).is_err());
        assert!(check_not_common(&pw("samantha loves quiet violet harbours"), &ctx).is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = PasswordHasher::new(Argon2Params::OWASP, 2).unwrap();
        let phc = h.hash(&pw("kettle lantern orbit meadow")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify(Some(&phc), &pw("kettle lantern orbit meadow")).await.unwrap());
        assert!(!h.verify(Some(&phc), &pw("kettle lantern orbit meadoW")).await.unwrap());
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        let h = PasswordHasher::new(Argon2Params::OWASP, 1).unwrap();
        assert!(!h.verify(None, &pw("carry dummy password for equal timing")).await.unwrap());
    }

    #[tokio::test]
    async fn the_same_password_gets_a_different_salt_each_time() {
        let h = PasswordHasher::new(Argon2Params::OWASP, 2).unwrap();
        let a = h.hash(&pw("kettle lantern orbit meadow")).await.unwrap();
        let b = h.hash(&pw("kettle lantern orbit meadow")).await.unwrap();
        assert_ne!(a, b);
    }
}
