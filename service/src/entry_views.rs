//! How entries, their reviews and home blood pressure read to the person looking, shared by
//! the use cases that show them (the record, the practice's review, the summary).

use crate::access::Access;
use domain::entries::EntryBody;
use domain::home_bp::{self, BpReading};
use domain::practice_views::ReviewStepView;
use domain::views::EntrySummaryView;
use domain::{Reading, UserId};
use store::entries::EntryRow;
use store::reviews::ReviewRow;

/// Who entered or changed something, as the viewer should read it: "you", "Sam Patel", or for
/// someone acting for the patient, "Alex Smith for Sam Patel" ("you for Sam Patel", "Alex
/// Smith for you").
pub(crate) fn who_name(viewer: UserId, access: &Access, user: UserId, name: &str) -> String {
    let person = |id: UserId, name: &str| if id == viewer { "you".to_owned() } else { name.to_owned() };
    match access.owner {
        Some(owner) if owner == user => person(user, name),
        Some(owner) => format!("{} for {}", person(user, name), person(owner, &access.patient_name)),
        None => format!("{} for {}", person(user, name), access.patient_name),
    }
}

/// An entry in a list (the timeline, an entry's page, the practice's review), as the viewer may
/// read it.
pub(crate) fn summary_view(viewer: UserId, access: &Access, row: &EntryRow) -> EntrySummaryView {
    let body = &row.current.body;
    // A version number counts every version: from a gap, someone who may not see every label
    // would learn that a hidden version exists.
    let sees_every_version = access.sees_every_label();
    EntrySummaryView {
        id: row.id,
        version: if sees_every_version { row.version } else { 0 },
        kind: body.kind(),
        reading_kind: body.reading_kind(),
        title: body.title(),
        summary: body.summary(),
        occurred_at: row.current.occurred_at,
        label: row.current.label,
        shared_with_practice: row.current.shared_with_practice,
        concern: match body {
            EntryBody::Reading(r) => r.concern(),
            _ => None,
        },
        entered_by: who_name(viewer, access, row.entered_by, &row.entered_by_name),
        source: row.source,
        deleted_at: row.deleted_at,
    }
}

/// A review's steps as staff and the patient read them.
pub(crate) fn step_views(rows: Vec<ReviewRow>) -> Vec<ReviewStepView> {
    rows.into_iter().map(|r| ReviewStepView { step: r.step, message: r.message, by: r.actor_name, at: r.at }).collect()
}

/// The home blood pressure summary of these entries (others are passed over).
pub(crate) fn home_bp_of(rows: &[EntryRow]) -> Option<home_bp::HomeBpSummary> {
    let readings: Vec<BpReading> = rows
        .iter()
        .filter_map(|r| match r.current.body {
            EntryBody::Reading(Reading::BloodPressure { systolic, diastolic, .. }) => {
                Some(BpReading { at: r.current.occurred_at, systolic, diastolic })
            }
            _ => None,
        })
        .collect();
    home_bp::summarise(&readings)
}
