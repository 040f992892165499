//! Entries in a patient's record: what each holds, how it changed, and how the timeline is
//! filtered and paged.
//!
//! An entry is never overwritten: every change adds a version, and a deletion is a tombstone the
//! patient can undo for [`RESTORE_WINDOW`].

use crate::about_me::AboutMe;
use crate::{EntryId, Note, PrivacyLabel, Reading, ReadingKind, Span, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};

/// How long after deleting an entry the patient can restore it.
pub const RESTORE_WINDOW: Span = Span::days(30);
/// Entries on one page of the timeline.
pub const PAGE_SIZE: u32 = 25;
/// How far ahead of the server's clock a reading's time may be (a device clock a little fast).
pub const FUTURE_TOLERANCE: Span = Span::minutes(5);

/// What an entry holds. Stored as JSON; deserialising re-checks readings and notes, so a
/// corrupt row cannot become a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "kebab-case")]
pub enum EntryBody {
    /// A home reading.
    Reading(Reading),
    /// A journal note.
    Note(Note),
    /// "About me / what matters to me".
    AboutMe(AboutMe),
}

/// The three kinds of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A home reading.
    Reading,
    /// A journal note.
    Note,
    /// "About me".
    AboutMe,
}

impl EntryKind {
    /// The stable text form (database).
    pub fn slug(self) -> &'static str {
        match self {
            EntryKind::Reading => "reading",
            EntryKind::Note => "note",
            EntryKind::AboutMe => "about-me",
        }
    }

    /// Parses [`EntryKind::slug`].
    pub fn from_slug(s: &str) -> Option<Self> {
        [EntryKind::Reading, EntryKind::Note, EntryKind::AboutMe].into_iter().find(|k| k.slug() == s)
    }
}

impl EntryBody {
    /// Which kind of entry this is.
    pub fn kind(&self) -> EntryKind {
        match self {
            EntryBody::Reading(_) => EntryKind::Reading,
            EntryBody::Note(_) => EntryKind::Note,
            EntryBody::AboutMe(_) => EntryKind::AboutMe,
        }
    }

    /// The reading's kind, for readings.
    pub fn reading_kind(&self) -> Option<ReadingKind> {
        match self {
            EntryBody::Reading(r) => Some(r.kind()),
            _ => None,
        }
    }

    /// A heading for lists: the reading's name, the note's title, or "About me".
    pub fn title(&self) -> String {
        match self {
            EntryBody::Reading(r) => r.kind().label().to_owned(),
            EntryBody::Note(n) => n.title.clone(),
            EntryBody::AboutMe(_) => "About me".to_owned(),
        }
    }

    /// One line for lists: the value, or the start of the note.
    pub fn summary(&self) -> String {
        match self {
            EntryBody::Reading(r) => r.display(),
            EntryBody::Note(n) => {
                let first: String = n.text.lines().next().unwrap_or("").chars().take(160).collect();
                if first.len() < n.text.len() {
                    format!("{first}\u{2026}")
                } else {
                    first
                }
            }
            EntryBody::AboutMe(a) => a.answers().first().map(|(q, a)| format!("{q}: {a}")).unwrap_or_default(),
        }
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Typed in Carry.
    Carry,
    /// Synced from the shared care record.
    Sync,
}

impl Source {
    /// The stable text form (database).
    pub fn slug(self) -> &'static str {
        match self {
            Source::Carry => "carry",
            Source::Sync => "sync",
        }
    }

    /// Parses [`Source::slug`].
    pub fn from_slug(s: &str) -> Option<Self> {
        [Source::Carry, Source::Sync].into_iter().find(|k| k.slug() == s)
    }
}

/// What one version of an entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// The first version.
    Created,
    /// The content or its time changed.
    Edited,
    /// The privacy label or the sharing choice changed.
    PrivacyChanged,
    /// Hidden behind a tombstone.
    Deleted,
    /// Brought back from its tombstone.
    Restored,
}

impl Change {
    /// The stable text form (database).
    pub fn slug(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Edited => "edited",
            Change::PrivacyChanged => "privacy-changed",
            Change::Deleted => "deleted",
            Change::Restored => "restored",
        }
    }

    /// Parses [`Change::slug`].
    pub fn from_slug(s: &str) -> Option<Self> {
        [Change::Created, Change::Edited, Change::PrivacyChanged, Change::Deleted, Change::Restored].into_iter().find(|k| k.slug() == s)
    }
}

/// The state an entry is in after one version: what the history compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The content.
    pub body: EntryBody,
    /// Its privacy label.
    pub label: PrivacyLabel,
    /// Whether the GP practice may see it.
    pub shared_with_practice: bool,
    /// When the reading was taken or the note is dated.
    pub occurred_at: Timestamp,
}

/// In plain words, what `change` did to get from `before` (absent for the first version) to
/// `after`: "Value changed from 150/95 mmHg to 140/90 mmHg".
pub fn describe_change(change: Change, before: Option<&Snapshot>, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    match change {
        Change::Created => out.push("Added".to_owned()),
        Change::Deleted => out.push("Deleted".to_owned()),
        Change::Restored => out.push("Restored".to_owned()),
        Change::Edited | Change::PrivacyChanged => {}
    }
    let Some(b) = before else { return out };
    if b.body != after.body {
        match (&b.body, &after.body) {
            (EntryBody::Reading(x), EntryBody::Reading(y)) => out.push(format!("Value changed from {} to {}", x.display(), y.display())),
            (EntryBody::Note(x), EntryBody::Note(y)) => {
                if x.title != y.title {
                    out.push(format!("Title changed from \u{201c}{}\u{201d} to \u{201c}{}\u{201d}", x.title, y.title));
                }
                if x.text != y.text {
                    out.push("Text changed".to_owned());
                }
                if x.tags != y.tags {
                    out.push(format!("Tags changed to \u{201c}{}\u{201d}", y.tags.join(", ")));
                }
            }
            (EntryBody::AboutMe(x), EntryBody::AboutMe(y)) => {
                let before = x.answers();
                for (q, a) in y.answers() {
                    if !before.iter().any(|(bq, ba)| *bq == q && *ba == a) {
                        out.push(format!("{q} changed"));
                    }
                }
                for (q, _) in before {
                    if !y.answers().iter().any(|(aq, _)| *aq == q) {
                        out.push(format!("{q} removed"));
                    }
                }
            }
            _ => out.push("Content changed".to_owned()),
        }
    }
    // "About me" is dated by its last change, which says nothing of its own.
    if b.occurred_at != after.occurred_at && !matches!(after.body, EntryBody::AboutMe(_)) {
        out.push(format!("Date changed from {} to {}", b.occurred_at.to_uk_string(), after.occurred_at.to_uk_string()));
    }
    if b.label != after.label {
        out.push(format!("Label changed from {} to {}", b.label.label().to_lowercase(), after.label.label().to_lowercase()));
    }
    if b.shared_with_practice != after.shared_with_practice {
        out.push(
            if after.shared_with_practice { "Shared with the GP practice" } else { "No longer shared with the GP practice" }.to_owned(),
        );
    }
    if out.is_empty() {
        out.push("Saved with no changes".to_owned());
    }
    out
}

/// Checks the time an entry is dated: a real UK date and time, not in the future and not
/// before 1900. The error names `field`.
pub fn parse_occurred_at(field: &str, text: &str, now: Timestamp) -> Result<Timestamp, ValidationError> {
    let t = Timestamp::parse_uk_input(text)
        .ok_or_else(|| ValidationError::field(field, "Enter a real date and time, for example 3 November 2026 at 14:30."))?;
    if t > now.plus(FUTURE_TOLERANCE) {
        return Err(ValidationError::field(field, "The date and time cannot be in the future."));
    }
    if t < Timestamp::parse_uk_date("1900-01-01").unwrap_or(t) {
        return Err(ValidationError::field(field, "The date must be after 1900."));
    }
    Ok(t)
}

/// Which entries the timeline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TypeFilter {
    /// Everything.
    #[default]
    All,
    /// Every reading.
    Readings,
    /// One kind of reading.
    Reading(ReadingKind),
    /// Notes.
    Notes,
    /// "About me".
    AboutMe,
}

impl TypeFilter {
    /// The stable text form used in URLs ("" for all).
    pub fn slug(self) -> &'static str {
        match self {
            TypeFilter::All => "",
            TypeFilter::Readings => "readings",
            TypeFilter::Reading(k) => k.slug(),
            TypeFilter::Notes => "notes",
            TypeFilter::AboutMe => "about-me",
        }
    }

    /// Every choice, with its name, in the order the filter lists them.
    pub fn choices() -> Vec<(TypeFilter, &'static str)> {
        let mut v = vec![(TypeFilter::All, "Everything"), (TypeFilter::Readings, "All readings")];
        v.extend(ReadingKind::ALL.into_iter().map(|k| (TypeFilter::Reading(k), k.label())));
        v.push((TypeFilter::Notes, "Notes"));
        v.push((TypeFilter::AboutMe, "About me"));
        v
    }

    /// Parses [`TypeFilter::slug`]; the error names `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::choices()
            .into_iter()
            .find(|(f, _)| f.slug() == s.trim())
            .map(|(f, _)| f)
            .ok_or_else(|| ValidationError::field(field, "Choose a type of entry from the list."))
    }
}

/// Where the next page of the timeline starts: the last entry shown, in the timeline's order
/// (newest first, then by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The last entry's time.
    pub occurred_at: Timestamp,
    /// The last entry's id.
    pub id: EntryId,
}

impl Cursor {
    /// The text form used in links: "<millis>.<uuid>".
    pub fn encode(&self) -> String {
        format!("{}.{}", self.occurred_at.as_millis(), self.id)
    }

    /// Parses [`Cursor::encode`].
    pub fn decode(s: &str) -> Option<Self> {
        let (ms, id) = s.split_once('.')?;
        Some(Cursor { occurred_at: Timestamp::from_millis(ms.parse().ok()?), id: id.parse().ok()? })
    }
}

/// A checked timeline query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimelineFilter {
    /// Which types.
    pub types: TypeFilter,
    /// Only this label.
    pub label: Option<PrivacyLabel>,
    /// From the start of this UK day.
    pub from: Option<Timestamp>,
    /// Before the start of the UK day after the chosen "to" date.
    pub until: Option<Timestamp>,
    /// Continue after this entry.
    pub after: Option<Cursor>,
}

impl TimelineFilter {
    /// Checks the filter form (all fields may be empty). Errors name `type`, `label`, `from`,
    /// `to` or `after`.
    pub fn parse(types: &str, label: &str, from: &str, to: &str, after: &str) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let types = TypeFilter::parse("type", types).unwrap_or_else(|e| {
            errors.extend(e.0);
            TypeFilter::All
        });
        let label = match label.trim() {
            "" => None,
            l => PrivacyLabel::parse("label", l).map_err(|e| errors.extend(e.0)).ok(),
        };
        let date = |field: &str, s: &str, errors: &mut Vec<crate::FieldError>| match s.trim() {
            "" => None,
            d => {
                let t = Timestamp::parse_uk_date(d);
                if t.is_none() {
                    errors.extend(ValidationError::field(field, "Enter a real date, for example 3 November 2026.").0);
                }
                t
            }
        };
        let from_t = date("from", from, &mut errors);
        // The end date is inclusive: show entries up to the end of that day.
        let until = date("to", to, &mut errors).map(|t| Timestamp::parse_uk_date(&t.plus(Span::hours(30)).to_uk_date_input()).unwrap_or(t));
        if let (Some(f), Some(u)) = (from_t, until) {
            if u <= f {
                errors.extend(
                    ValidationError::field("to", "The \u{201c}to\u{201d} date must be the same as or after the \u{201c}from\u{201d} date.")
                        .0,
                );
            }
        }
        let after = match after.trim() {
            "" => None,
            a => {
                let c = Cursor::decode(a);
                if c.is_none() {
                    errors.extend(ValidationError::field("after", "This page link is broken. Go back to the first page.").0);
                }
                c
            }
        };
        if errors.is_empty() {
            Ok(TimelineFilter { types, label, from: from_t, until, after })
        } else {
            Err(ValidationError(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReadingInput;

    fn reading(v: &str) -> EntryBody {
        EntryBody::Reading(Reading::parse(ReadingKind::HeartRate, &ReadingInput { value: v.into(), ..Default::default() }).unwrap())
    }

    fn snap(body: EntryBody) -> Snapshot {
        Snapshot { body, label: PrivacyLabel::General, shared_with_practice: false, occurred_at: Timestamp::from_millis(1_790_000_000_000) }
    }

    #[test]
    fn bodies_round_trip_through_json_and_invalid_ones_are_refused() {
        let b = reading("72");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, r#"{"type":"reading","data":{"kind":"heart-rate","bpm":72}}"#);
        assert_eq!(serde_json::from_str::<EntryBody>(&json).unwrap(), b);
        assert!(serde_json::from_str::<EntryBody>(r#"{"type":"reading","data":{"kind":"heart-rate","bpm":7000}}"#).is_err());
    }

    #[test]
    fn history_says_what_changed_in_plain_words() {
        let a = snap(reading("72"));
        assert_eq!(describe_change(Change::Created, None, &a), ["Added"]);
        let mut b = snap(reading("80"));
        b.label = PrivacyLabel::MentalHealth;
        b.shared_with_practice = true;
        assert_eq!(
            describe_change(Change::Edited, Some(&a), &b),
            [
                "Value changed from 72 beats a minute to 80 beats a minute",
                "Label changed from general to mental health",
                "Shared with the GP practice"
            ]
        );
        assert_eq!(describe_change(Change::Deleted, Some(&b), &b), ["Deleted"]);
        assert_eq!(describe_change(Change::Edited, Some(&b), &b), ["Saved with no changes"]);
    }

    #[test]
    fn a_time_in_the_future_or_unreadable_is_refused() {
        let now = Timestamp::parse_uk_input("2026-11-22T10:00").unwrap();
        assert_eq!(parse_occurred_at("occurred_at", "2026-11-22T10:04", now).unwrap(), now.plus(Span::minutes(4)));
        assert!(parse_occurred_at("occurred_at", "2026-11-22T10:06", now)
            .unwrap_err()
            .message_for("occurred_at")
            .unwrap()
            .contains("future"));
        assert!(parse_occurred_at("occurred_at", "22/11/2026", now).unwrap_err().message_for("occurred_at").is_some());
        assert!(parse_occurred_at("occurred_at", "1899-12-31T10:00", now).is_err());
    }

    #[test]
    fn the_timeline_filter_checks_every_field() {
        let f = TimelineFilter::parse("blood-pressure", "general", "2026-11-01", "2026-11-01", "").unwrap();
        assert_eq!(f.types, TypeFilter::Reading(ReadingKind::BloodPressure));
        assert_eq!(f.until.unwrap().since(f.from.unwrap()), Span::days(1));
        let e = TimelineFilter::parse("gossip", "secret", "yesterday", "2026-02-30", "nonsense").unwrap_err();
        for field in ["type", "label", "from", "to", "after"] {
            assert!(e.message_for(field).is_some(), "{field}");
        }
        assert!(TimelineFilter::parse("", "", "2026-11-02", "2026-11-01", "").unwrap_err().message_for("to").is_some());
        assert_eq!(TimelineFilter::parse("", "", "", "", "").unwrap(), TimelineFilter::default());
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor { occurred_at: Timestamp::from_millis(5), id: "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap() };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("5"), None);
    }
}
