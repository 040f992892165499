//! What the carers' forms send, and how their scope is read: labels, rights and dates, with
//! each error naming its field.

use domain::grants::{GrantBasis, DEFAULT_GRANT_DAYS};
use domain::{PrivacyLabel, Span, Timestamp, ValidationError};

/// The scope of a grant as a form sends it.
#[derive(Debug, Clone, Default)]
pub struct ScopeForm {
    /// Label slugs ticked.
    pub labels: Vec<String>,
    /// "Add entries for me" ticked.
    pub can_add: bool,
    /// "Download my record and make health links" ticked.
    pub can_export: bool,
    /// First day (`YYYY-MM-DD`); empty means today.
    pub starts_on: String,
    /// Last day (`YYYY-MM-DD`), inclusive; empty means 12 months from the start.
    pub ends_on: String,
}

/// An invitation as the patient's form sends it.
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    /// The carer's name.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// A RoleCode from the list.
    pub relationship: String,
    /// A basis slug; empty means the patient's own consent.
    pub basis: String,
    /// What it covers and when.
    pub scope: ScopeForm,
}

/// The bases a patient may give when inviting someone (a parent's and a court's come another way).
pub(super) const PATIENT_BASES: [GrantBasis; 3] =
    [GrantBasis::PatientConsent, GrantBasis::LastingPowerOfAttorney, GrantBasis::CourtAppointedDeputy];

/// The labels, times and rights a scope form asks for.
pub(super) struct Scope {
    pub(super) labels: Vec<PrivacyLabel>,
    pub(super) can_add: bool,
    pub(super) can_export: bool,
    pub(super) starts_at: Timestamp,
    pub(super) ends_at: Timestamp,
}

pub(super) fn parse_scope(form: &ScopeForm, now: Timestamp, keep_start: Option<Timestamp>) -> Result<Scope, ValidationError> {
    let mut errors = Vec::new();
    let mut labels = Vec::new();
    for slug in &form.labels {
        match PrivacyLabel::parse("labels", slug) {
            Ok(l) if !labels.contains(&l) => labels.push(l),
            Ok(_) => {}
            Err(e) => errors.extend(e.0),
        }
    }
    if labels.is_empty() && errors.is_empty() {
        errors.extend(ValidationError::field("labels", "Choose at least one kind of entry they may see.").0);
    }
    let starts_at = match (form.starts_on.trim(), keep_start) {
        ("", Some(start)) => Some(start),
        ("", None) => Some(now),
        (text, _) => match Timestamp::parse_uk_date(text) {
            Some(day) if keep_start.is_none() && day.plus(Span::days(1)) <= now => {
                errors.extend(ValidationError::field("starts_on", "The start cannot be in the past.").0);
                None
            }
            // Starting today means from now, not from midnight.
            Some(day) => Some(if day <= now { now.max(day) } else { day }),
            None => {
                errors.extend(ValidationError::field("starts_on", "Enter the start as a real date.").0);
                None
            }
        },
    };
    let ends_at = match (form.ends_on.trim(), starts_at) {
        (_, None) => None,
        ("", Some(start)) => Some(start.plus(Span::days(DEFAULT_GRANT_DAYS))),
        (text, Some(start)) => match Timestamp::parse_ymd(text) {
            // The last day is included: access ends at the start of the day after.
            Some((y, m, d)) => {
                let end = Timestamp::uk_day_start(y, m, d + 1);
                if end <= start || end <= now {
                    errors.extend(ValidationError::field("ends_on", "The end must be after the start and in the future.").0);
                    None
                } else if end > start.plus(Span::days(5 * 366)) {
                    errors.extend(ValidationError::field("ends_on", "Access can last at most 5 years; it can be renewed.").0);
                    None
                } else {
                    Some(end)
                }
            }
            None => {
                errors.extend(ValidationError::field("ends_on", "Enter the end as a real date.").0);
                None
            }
        },
    };
    match (errors.is_empty(), starts_at, ends_at) {
        (true, Some(starts_at), Some(ends_at)) => {
            Ok(Scope { labels, can_add: form.can_add, can_export: form.can_export, starts_at, ends_at })
        }
        _ => Err(ValidationError(errors)),
    }
}
