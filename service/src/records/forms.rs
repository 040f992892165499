//! What the record's forms send, and how they are read: each error names its field.

use crate::error::ServiceResult;
use domain::{FieldError, PrivacyLabel, ReadingInput, ValidationError};

/// A reading as typed on the form.
#[derive(Debug, Clone, Default)]
pub struct ReadingForm {
    /// The kind's slug (ignored on edit: a reading keeps its kind).
    pub kind: String,
    /// The value (systolic for blood pressure).
    pub value: String,
    /// Diastolic, for blood pressure.
    pub diastolic: Option<String>,
    /// Pulse, optional with blood pressure.
    pub pulse: Option<String>,
    /// When it was taken, as a `datetime-local` value in UK time.
    pub occurred_at: String,
}

/// A note as typed on the form.
#[derive(Debug, Clone, Default)]
pub struct NoteForm {
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Comma-separated tags.
    pub tags: String,
    /// The note's date and time, as a `datetime-local` value in UK time.
    pub occurred_at: String,
}

/// Who may see a new entry: its label and whether the practice may.
#[derive(Debug, Clone, Default)]
pub struct PrivacyForm {
    /// The label's slug (empty means general).
    pub label: String,
    /// Share with the GP practice.
    pub share: bool,
}

/// Gathers the errors of several checks into one, so a form shows every problem at once.
pub(super) fn all_ok<A, B, C>(
    a: Result<A, ValidationError>,
    b: Result<B, ValidationError>,
    c: Result<C, ValidationError>,
) -> ServiceResult<(A, B, C)> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => {
            let errors: Vec<FieldError> = a.err().into_iter().chain(b.err()).chain(c.err()).flat_map(|e| e.0).collect();
            Err(ValidationError(errors).into())
        }
    }
}

pub(super) fn parse_label(text: &str) -> Result<PrivacyLabel, ValidationError> {
    if text.trim().is_empty() {
        Ok(PrivacyLabel::General)
    } else {
        PrivacyLabel::parse("label", text)
    }
}

pub(super) fn input_of(form: &ReadingForm) -> ReadingInput {
    ReadingInput { value: form.value.clone(), diastolic: form.diastolic.clone(), pulse: form.pulse.clone() }
}
