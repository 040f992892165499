//! The patient's own entries: readings, notes and "about me". Every function goes through
//! [`Services::open`]; every change is a new version written in one transaction with the
//! entry's current state, guarded by the version the person saw.
//!
//! One use case per file: `add` (a reading or a note), `about_me`, `change` (edit, relabel,
//! share, delete, restore), `read` (the timeline, an entry, a chart, deleted entries) and
//! `summary` (the printable summary); `forms` reads what the forms send.

mod about_me;
mod add;
mod change;
mod forms;
mod read;
mod summary;

pub use forms::{NoteForm, PrivacyForm, ReadingForm};
pub use read::{TimelineQuery, MAX_CHART_POINTS};
