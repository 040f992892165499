//! How a grant reads to the people on either side of it, and what may be done with it now.

use domain::access::grant_in_force;
use domain::grants::{scope_words, BirthDate, GrantBasis, GrantStatus};
use domain::{Span, Timestamp};
use store::grants::GrantRow;

/// The last day of a grant, as people say it (the end is exclusive, at midnight).
pub(super) fn last_day(ends_at: Timestamp) -> String {
    ends_at.minus(Span::millis(1)).to_uk_date()
}

pub(super) fn state_words(g: &GrantRow, born_on: Option<BirthDate>, now: Timestamp, rules: &domain::grants::AgeRules) -> (String, bool) {
    match g.status {
        GrantStatus::Invited if g.invite_expires_at.is_some_and(|t| t <= now) => ("Invitation expired, not accepted".to_owned(), false),
        GrantStatus::Invited => ("Invited: not accepted yet".to_owned(), false),
        GrantStatus::Declined => ("Declined".to_owned(), false),
        GrantStatus::Cancelled => ("Invitation withdrawn".to_owned(), false),
        GrantStatus::Revoked => (format!("Stopped on {}", g.ended_at.unwrap_or(now).to_uk_date()), false),
        GrantStatus::Active => match grant_in_force(&g.facts(), born_on, now, rules) {
            Ok(labels) if labels != g.labels => (
                format!("Active until {}, narrowed by age to {}", last_day(g.ends_at), scope_words(&labels, g.can_add, g.can_export)),
                true,
            ),
            Ok(_) => (format!("Active until {}", last_day(g.ends_at)), true),
            Err(domain::access::DenyReason::GrantNotStarted) => (format!("Starts on {}", g.starts_at.to_uk_date()), false),
            Err(domain::access::DenyReason::GrantEnded) => (format!("Ended on {}", last_day(g.ends_at)), false),
            Err(domain::access::DenyReason::SuspendedAtAge) => ("Paused: the young person must confirm it".to_owned(), false),
            Err(reason) => (format!("Not in force: {}", reason.words()), false),
        },
    }
}

/// Whether the young person may now confirm a parent's access, so that it continues past the
/// suspension age: from the warning before that age (access-rules.md: the young person, "now
/// an adult in law for consent", confirms it), while the grant is active and unconfirmed.
pub(super) fn confirmable(g: &GrantRow, born_on: Option<BirthDate>, now: Timestamp, rules: &domain::grants::AgeRules) -> bool {
    g.basis == GrantBasis::ParentalResponsibility
        && g.status == GrantStatus::Active
        && g.ends_at > now
        && g.young_person_confirmed_at.is_none()
        && born_on.is_some_and(|b| rules.warning_at(b, rules.suspend_at) <= now)
}
