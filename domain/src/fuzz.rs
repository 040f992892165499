//! The entry point for fuzzing every form parser (security.md T18): arbitrary bytes are split
//! into fields and given to each parser a person's form reaches. A parser may refuse, naming a
//! field, or accept; it never panics, and what it accepts reads back the same. The cargo-fuzz
//! target `forms` and the short pass in the test suite both call [`forms`].

use crate::about_me::{AboutMe, AboutMeInput};
use crate::email::Email;
use crate::entries::{parse_occurred_at, Cursor, TimelineFilter};
use crate::grants::BirthDate;
use crate::labels::PrivacyLabel;
use crate::name::PersonName;
use crate::notes::Note;
use crate::password::{PasswordRules, PasswordText};
use crate::practices::{NhsNumber, OdsCode};
use crate::readings::{Reading, ReadingInput, ReadingKind};
use crate::time::Timestamp;

/// 2026-11-22 10:00 UTC: a fixed "now", so a run is repeatable.
const NOW: Timestamp = Timestamp::from_millis(1_795_341_600_000);

/// Splits `data` at zero bytes into up to nine fields (lossy UTF-8, as a form decoder would
/// give them) and runs every form parser over them.
pub fn forms(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut fields: Vec<&str> = text.split('\0').collect();
    fields.resize(9, "");
    let f = |i: usize| fields[i];
    for field in &fields {
        check_field(field);
    }
    let kind = ReadingKind::ALL[usize::from(data.first().copied().unwrap_or(0)) % ReadingKind::ALL.len()];
    let input = ReadingInput { value: f(0).to_owned(), diastolic: Some(f(1).to_owned()), pulse: Some(f(2).to_owned()) };
    if let Ok(reading) = Reading::parse(kind, &input) {
        let _ = reading.concern();
        assert_eq!(reading.kind(), kind);
    }
    let _ = Reading::parse(kind, &ReadingInput { value: f(0).to_owned(), diastolic: None, pulse: None });
    let _ = Note::parse(f(0), f(1), f(2));
    let _ = TimelineFilter::parse(f(0), f(1), f(2), f(3), f(4));
    let about = AboutMeInput {
        preferred_name: f(0).to_owned(),
        pronouns: f(1).to_owned(),
        languages: f(2).to_owned(),
        contact_methods: f(3).split(',').map(str::to_owned).collect(),
        contact_times: f(4).to_owned(),
        accessibility: f(5).to_owned(),
        practice_contact: f(6).to_owned(),
        goals: f(7).to_owned(),
    };
    let _ = AboutMe::parse(&about);
}

/// Every parser that reads one field.
fn check_field(s: &str) {
    if let Ok(n) = NhsNumber::parse("nhs_number", s) {
        assert_eq!(NhsNumber::parse("nhs_number", &n.to_string()), Ok(n), "an accepted NHS number reads back");
    }
    if let Ok(b) = BirthDate::parse("born_on", s, NOW) {
        assert_eq!(BirthDate::from_text(&b.to_text()), Some(b), "an accepted date of birth reads back");
        let _ = b.age_at(NOW);
    }
    if let Ok(e) = Email::parse(s) {
        let _ = e.lookup_key();
    }
    let _ = PersonName::parse(s);
    let _ = OdsCode::parse("ods_code", s);
    let _ = PrivacyLabel::parse("label", s);
    let _ = PasswordText::parse(s, PasswordRules::default());
    let _ = parse_occurred_at("occurred_at", s, NOW);
    let _ = Timestamp::parse_uk_input(s);
    let _ = Timestamp::parse_uk_date(s);
    if let Some(c) = Cursor::decode(s) {
        assert_eq!(Cursor::decode(&c.encode()), Some(c), "a cursor reads back");
    }
}

/// The short pass of security.md T18: the saved corpus (with every crash found so far), then
/// generated inputs, through exactly what the `forms` fuzz target runs.
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/forms");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus in {}", dir.display());
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    }

    #[test]
    fn the_saved_corpus_runs_without_a_panic() {
        for case in corpus() {
            forms(&case);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            forms(&data);
        }

        #[test]
        fn arbitrary_text_fields_never_panic(fields in proptest::collection::vec("\\PC{0,24}|[0-9 .:/-]{0,20}", 0..9)) {
            forms(fields.join("\0").as_bytes());
        }
    }
}
