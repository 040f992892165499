//! What a patient shared with their GP practice, as the practice reads it.

use crate::entries::{entry_select, label_slots, EntryRow, RawEntry};
use crate::{Conn, StoreResult};
use domain::{EntryId, PatientId, PracticeId, PrivacyLabel, Timestamp};

/// A record's shared, undeleted entries with a visible label, newest first, at most `limit`.
pub async fn list_shared(conn: &mut Conn, patient: PatientId, labels: &[PrivacyLabel], limit: i64) -> StoreResult<Vec<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(labels);
    let rows: Vec<RawEntry> = sqlx::query_as(entry_select!(
        "where e.patient_id = $1 and e.deleted_at is null and e.shared_with_practice = 1 and e.label in ($2, $3, $4, $5) \
         order by e.occurred_at desc, e.id desc limit $6"
    ))
    .bind(patient.to_string())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// The ids of a record's shared, undeleted entries (to file them when the record is linked).
pub async fn list_shared_ids(conn: &mut Conn, patient: PatientId) -> StoreResult<Vec<EntryId>> {
    let ids: Vec<(String,)> =
        sqlx::query_as("select id from entries where patient_id = $1 and deleted_at is null and shared_with_practice = 1 order by id")
            .bind(patient.to_string())
            .fetch_all(conn)
            .await?;
    ids.iter().map(|(id,)| crate::error::parse_id("entries.id", id)).collect()
}

/// A record's shared blood pressure readings since `since` with a visible label, oldest first:
/// the home blood pressure series.
pub async fn list_shared_bp(conn: &mut Conn, patient: PatientId, labels: &[PrivacyLabel], since: Timestamp) -> StoreResult<Vec<EntryRow>> {
    let [l1, l2, l3, l4] = label_slots(labels);
    let rows: Vec<RawEntry> = sqlx::query_as(entry_select!(
        "where e.patient_id = $1 and e.reading_kind = 'blood-pressure' and e.deleted_at is null and e.shared_with_practice = 1 \
         and e.label in ($2, $3, $4, $5) and e.occurred_at >= $6 order by e.occurred_at, e.id"
    ))
    .bind(patient.to_string())
    .bind(l1)
    .bind(l2)
    .bind(l3)
    .bind(l4)
    .bind(since.as_millis())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// Patients linked to a practice who shared something labelled for social care, by name.
pub async fn list_care_patients(conn: &mut Conn, practice: PracticeId, limit: i64) -> StoreResult<Vec<(PatientId, String)>> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "select l.patient_id, coalesce(u.display_name, p.display_name) as name from practice_links l \
         join patients p on p.id = l.patient_id left join users u on u.id = p.user_id \
         where l.practice_id = $1 and l.status = 'linked' and exists (select 1 from entries e where e.patient_id = l.patient_id \
         and e.shared_with_practice = 1 and e.label = 'social-care' and e.deleted_at is null) \
         order by name, l.patient_id limit $2",
    )
    .bind(practice.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|(id, name)| Ok((crate::error::parse_id("practice_links.patient_id", &id)?, name.unwrap_or_default()))).collect()
}
