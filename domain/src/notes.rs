//! Journal notes: a title, free text up to 64 KiB (always shown as text, never as HTML), and
//! a few tags.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// The most bytes a note's text may hold.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// The most characters in a title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most tags on one note.
pub const MAX_TAGS: usize = 10;
/// The most characters in one tag.
pub const MAX_TAG_CHARS: usize = 40;

/// A checked note. Deserialising checks it exactly as [`Note::parse`] does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedNote")]
pub struct Note {
    /// 1 to 200 characters.
    pub title: String,
    /// 1 byte to 64 KiB of text.
    pub text: String,
    /// Up to 10 tags, lower case, no duplicates, in the order given.
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncheckedNote {
    title: String,
    text: String,
    tags: Vec<String>,
}

impl TryFrom<UncheckedNote> for Note {
    type Error = ValidationError;
    fn try_from(n: UncheckedNote) -> Result<Self, Self::Error> {
        if n.tags.iter().any(|t| t.contains(',')) {
            return Err(ValidationError::field("tags", "A tag cannot contain a comma."));
        }
        Note::parse(&n.title, &n.text, &n.tags.join(","))
    }
}

impl Note {
    /// Checks a note as typed; errors name `title`, `text` or `tags`. Tags are comma-separated.
    pub fn parse(title: &str, text: &str, tags: &str) -> Result<Self, ValidationError> {
        let title_r = {
            let t = title.trim();
            if t.is_empty() {
                Err(ValidationError::field("title", "Give the note a title."))
            } else if t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) {
                Err(ValidationError::field("title", "Use a title of 200 characters or fewer, on one line."))
            } else {
                Ok(t.to_owned())
            }
        };
        let text_r = {
            let normalised = text.replace("\r\n", "\n");
            if normalised.trim().is_empty() {
                Err(ValidationError::field("text", "Write something in the note."))
            } else if normalised.len() > MAX_NOTE_BYTES {
                Err(ValidationError::field("text", "This note is too long: split it into notes of up to 64 KB each (about 10,000 words)."))
            } else if normalised.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                Err(ValidationError::field("text", "The note contains characters that cannot be shown. Remove them and try again."))
            } else {
                Ok(normalised)
            }
        };
        let tags_r = {
            let mut out: Vec<String> = Vec::new();
            let mut problem = None;
            for raw in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let tag = raw.to_lowercase();
                if tag.chars().count() > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
                    problem = Some("Each tag must be 40 characters or fewer.");
                } else if !out.contains(&tag) {
                    out.push(tag);
                }
            }
            match problem {
                Some(p) => Err(ValidationError::field("tags", p)),
                None if out.len() > MAX_TAGS => Err(ValidationError::field("tags", "Use up to 10 tags.")),
                None => Ok(out),
            }
        };
        match (title_r, text_r, tags_r) {
            (Ok(title), Ok(text), Ok(tags)) => Ok(Note { title, text, tags }),
            (a, b, c) => Err(ValidationError(a.err().into_iter().chain(b.err()).chain(c.err()).flat_map(|e| e.0).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_keeps_its_text_exactly_including_markup() {
        let n = Note::parse(" Bad night ", "<script>alert(1)</script>\nSlept 3 hours.", "Sleep, sleep, mood").unwrap();
        assert_eq!(n.title, "Bad night");
        assert_eq!(n.text, "<script>alert(1)</script>\nSlept 3 hours.");
        assert_eq!(n.tags, ["sleep", "mood"]);
    }

    #[test]
    fn sixty_four_kib_is_the_limit() {
        assert!(Note::parse("t", &"a".repeat(MAX_NOTE_BYTES), "").is_ok());
        let e = Note::parse("t", &"a".repeat(MAX_NOTE_BYTES + 1), "").unwrap_err();
        assert!(e.message_for("text").unwrap().contains("64 KB"));
    }

    #[test]
    fn every_field_at_fault_is_named() {
        let e = Note::parse("", "   ", &"x".repeat(41)).unwrap_err();
        for f in ["title", "text", "tags"] {
            assert!(e.message_for(f).is_some(), "{f}");
        }
        assert!(Note::parse("t", "x", "a,b,c,d,e,f,g,h,i,j,k").unwrap_err().message_for("tags").is_some());
        assert!(Note::parse("t", "bell \u{7}", "").unwrap_err().message_for("text").is_some());
    }
}
