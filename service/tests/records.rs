//! The patient's entries through the service layer, on both databases: validation, history,
//! stale edits, tombstones and the restore window, and refusal of other people's records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::about_me::AboutMeInput;
use domain::entries::{Change, EntryKind};
use domain::{PatientId, SessionId, Span, Timestamp, UserId};
use service::{
    MailTransportConfig, ManualClock, NoteForm, PrivacyForm, ReadingForm, RecordRef, ServiceConfig, ServiceError, Services, SignedIn,
    TimelineQuery,
};
use std::sync::Arc;
use store::{conformance, users};
use uuid::Uuid;

// 2026-11-22 10:00 UTC.
const NOW: Timestamp = Timestamp::from_millis(1_795_341_600_000);

fn services(db: &store::Db) -> (Services, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    let dir = std::env::temp_dir().join(format!("carry-mail-{}", Uuid::new_v4().simple()));
    let s = Services::new(db.clone(), clock.clone(), ServiceConfig::for_tests(MailTransportConfig::Folder { path: dir })).unwrap();
    (s, clock)
}

async fn person(db: &store::Db, name: &str) -> SignedIn {
    let id = UserId::from_uuid(Uuid::new_v4());
    let mut conn = db.conn().await.unwrap();
    let email = format!("{}@example.com", id.as_uuid().simple());
    users::insert_user(&mut conn, id, &email, &email, name, NOW).await.unwrap();
    SignedIn {
        user_id: id,
        display_name: name.to_owned(),
        session_id: SessionId::from_uuid(Uuid::new_v4()),
        authenticated_at: NOW,
        passkey: false,
        staff: None,
        request: Default::default(),
    }
}

fn bp(s: &str, d: &str, at: &str) -> ReadingForm {
    ReadingForm { kind: "blood-pressure".into(), value: s.into(), diastolic: Some(d.into()), pulse: None, occurred_at: at.into() }
}

fn general() -> PrivacyForm {
    PrivacyForm::default()
}

fn fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Validation(v) => v.0.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

conformance! {
    async fn a_reading_is_added_and_shown_first_on_the_timeline(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        let empty = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert!(empty.entries.is_empty(), "reading a record never written is empty, not an error");
        s.add_reading(&sam, RecordRef::Own, &bp("128", "82", "2026-11-21T08:00"), &general()).await.unwrap();
        let id = s.add_reading(&sam, RecordRef::Own, &bp("182", "95", "2026-11-22T09:30"), &general()).await.unwrap();
        let t = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.entries[0].id, id);
        assert_eq!(t.entries[0].summary, "182/95 mmHg");
        assert_eq!(t.entries[0].entered_by, "you");
        assert!(t.entries[0].concern.as_ref().unwrap().advice.contains("NHS 111"), "very high BP is kept and flagged");
        assert!(t.entries[1].concern.is_none());
    }
}

conformance! {
    async fn impossible_values_and_times_are_refused_naming_every_field(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        let e = s.add_reading(&sam, RecordRef::Own, &bp("400", "90", "2026-11-23T09:00"), &PrivacyForm { label: "secret".into(), share: false })
            .await
            .unwrap_err();
        assert_eq!(fields(e), ["value", "occurred_at", "label"]);
        let e = s.add_note(&sam, RecordRef::Own, &NoteForm { occurred_at: "2026-11-22T09:00".into(), ..Default::default() }, &general())
            .await
            .unwrap_err();
        assert_eq!(fields(e), ["title", "text"]);
        assert!(s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap().entries.is_empty(), "nothing half-saved");
    }
}

conformance! {
    async fn editing_keeps_every_version_and_a_stale_form_is_refused(db) {
        let (s, clock) = services(db);
        let sam = person(db, "Sam").await;
        let note = NoteForm { title: "Bad night".into(), text: "Slept 3 hours.".into(), tags: "sleep".into(), occurred_at: "2026-11-22T07:00".into() };
        let id = s.add_note(&sam, RecordRef::Own, &note, &general()).await.unwrap();
        clock.advance(Span::minutes(10));
        let better = NoteForm { text: "Slept 4 hours, in the end.".into(), ..note.clone() };
        s.edit_note(&sam, RecordRef::Own, id, 1, &better).await.unwrap();
        let stale = s.edit_note(&sam, RecordRef::Own, id, 1, &note).await.unwrap_err();
        assert!(matches!(stale, ServiceError::Stale), "{stale:?}");
        s.set_entry_privacy(&sam, RecordRef::Own, id, 2, &PrivacyForm { label: "mental-health".into(), share: true }).await.unwrap();
        let v = s.entry(&sam, RecordRef::Own, id).await.unwrap();
        assert_eq!(v.summary.version, 3);
        assert!(v.summary.shared_with_practice);
        let changes: Vec<_> = v.history.iter().map(|h| (h.change, h.details.clone())).collect();
        assert_eq!(changes[0], (Change::PrivacyChanged, vec!["Label changed from general to mental health".to_owned(), "Shared with the GP practice".to_owned()]));
        assert_eq!(changes[1], (Change::Edited, vec!["Text changed".to_owned()]));
        assert_eq!(changes[2], (Change::Created, vec!["Added".to_owned()]));
        assert_eq!(v.history[1].changed_by, "you");
    }
}

conformance! {
    async fn a_deleted_entry_can_be_restored_for_thirty_days_and_not_after(db) {
        let (s, clock) = services(db);
        let sam = person(db, "Sam").await;
        let w = ReadingForm { kind: "weight".into(), value: "72.4".into(), occurred_at: "2026-11-22T07:00".into(), ..Default::default() };
        let a = s.add_reading(&sam, RecordRef::Own, &w, &general()).await.unwrap();
        let b = s.add_reading(&sam, RecordRef::Own, &w, &general()).await.unwrap();
        s.delete_entry(&sam, RecordRef::Own, a, 1).await.unwrap();
        s.delete_entry(&sam, RecordRef::Own, b, 1).await.unwrap();
        assert!(s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap().entries.is_empty());
        assert_eq!(s.deleted_entries(&sam, RecordRef::Own).await.unwrap().len(), 2);
        assert!(matches!(s.edit_reading(&sam, RecordRef::Own, a, 2, &w).await.unwrap_err(), ServiceError::Deleted));
        clock.advance(Span::days(29));
        s.restore_entry(&sam, RecordRef::Own, a, 2).await.unwrap();
        assert_eq!(s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap().entries.len(), 1);
        clock.advance(Span::days(2));
        assert!(matches!(s.restore_entry(&sam, RecordRef::Own, b, 2).await.unwrap_err(), ServiceError::NotRestorable));
        assert!(s.deleted_entries(&sam, RecordRef::Own).await.unwrap().is_empty());
        // Past the window the entry is still kept, with its history, but no longer offered.
        let kept = s.entry(&sam, RecordRef::Own, b).await.unwrap();
        assert!(kept.summary.deleted_at.is_some() && kept.restorable_until.is_none());
        assert!(matches!(s.restore_entry(&sam, RecordRef::Own, a, 3).await.unwrap_err(), ServiceError::NotRestorable), "not deleted");
    }
}

conformance! {
    async fn nobody_else_can_read_or_change_a_record(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        let alex = person(db, "Alex").await;
        let id = s.add_reading(&sam, RecordRef::Own, &bp("120", "80", "2026-11-22T07:00"), &general()).await.unwrap();
        // Alex has a record of his own, so every lookup below really runs against it.
        let alexs = s.add_reading(&alex, RecordRef::Own, &bp("130", "85", "2026-11-22T07:00"), &general()).await.unwrap();
        let t = s.timeline(&alex, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert_eq!(t.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [alexs]);
        assert!(matches!(s.entry(&alex, RecordRef::Own, id).await.unwrap_err(), ServiceError::NotFound));
        assert!(matches!(s.delete_entry(&alex, RecordRef::Own, id, 1).await.unwrap_err(), ServiceError::NotFound));
        assert!(matches!(s.edit_reading(&alex, RecordRef::Own, id, 1, &bp("99", "60", "2026-11-22T07:00")).await.unwrap_err(), ServiceError::NotFound));
        let share = PrivacyForm { label: "general".into(), share: true };
        assert!(matches!(s.set_entry_privacy(&alex, RecordRef::Own, id, 1, &share).await.unwrap_err(), ServiceError::NotFound));
        assert!(matches!(s.restore_entry(&alex, RecordRef::Own, id, 1).await.unwrap_err(), ServiceError::NotFound));
        let sams_entry = s.entry(&sam, RecordRef::Own, id).await.unwrap();
        assert_eq!((sams_entry.summary.version, sams_entry.summary.summary.as_str(), sams_entry.summary.shared_with_practice), (1, "120/80 mmHg", false));
        let mut conn = db.conn().await.unwrap();
        let sams = store::patients::find_patient_by_user(&mut conn, sam.user_id).await.unwrap().unwrap().id;
        drop(conn);
        for r in [RecordRef::Patient(sams), RecordRef::Patient(PatientId::from_uuid(Uuid::new_v4()))] {
            assert!(matches!(s.timeline(&alex, r, &TimelineQuery::default()).await.unwrap_err(), ServiceError::Forbidden));
            assert!(matches!(s.entry(&alex, r, id).await.unwrap_err(), ServiceError::Forbidden));
            let add = s.add_reading(&alex, r, &bp("120", "80", "2026-11-22T07:00"), &general()).await.unwrap_err();
            assert!(matches!(add, ServiceError::Forbidden));
        }
        assert_eq!(s.timeline(&sam, RecordRef::Patient(sams), &TimelineQuery::default()).await.unwrap().entries.len(), 1);
    }
}

conformance! {
    async fn about_me_is_made_once_then_versioned(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        assert!(s.about_me(&sam, RecordRef::Own).await.unwrap().is_none());
        let input = AboutMeInput { preferred_name: "Sam".into(), goals: "Walk the dog".into(), ..Default::default() };
        let id = s.save_about_me(&sam, RecordRef::Own, &input, &general(), None).await.unwrap();
        let again = s.save_about_me(&sam, RecordRef::Own, &input, &general(), None).await.unwrap_err();
        assert!(matches!(again, ServiceError::Stale), "a second 'new' form must not overwrite");
        let more = AboutMeInput { pronouns: "he/him".into(), ..input.clone() };
        assert_eq!(s.save_about_me(&sam, RecordRef::Own, &more, &general(), Some(1)).await.unwrap(), id);
        let view = s.about_me(&sam, RecordRef::Own).await.unwrap().unwrap();
        assert_eq!((view.version, view.about.pronouns.as_str()), (2, "he/him"));
        let t = s.timeline(&sam, RecordRef::Own, &TimelineQuery { types: "about-me".into(), ..Default::default() }).await.unwrap();
        assert_eq!(t.entries[0].kind, EntryKind::AboutMe);
        // Changing only who may see it keeps its date and says so.
        let shared = PrivacyForm { label: "general".into(), share: true };
        s.save_about_me(&sam, RecordRef::Own, &more, &shared, Some(2)).await.unwrap();
        let e = s.entry(&sam, RecordRef::Own, id).await.unwrap();
        assert_eq!((e.history[0].change, e.history[0].details.clone()), (Change::PrivacyChanged, vec!["Shared with the GP practice".to_owned()]));
        assert!(matches!(s.delete_entry(&sam, RecordRef::Own, id, 3).await.unwrap_err(), ServiceError::NotDeletable));
        assert!(fields(s.save_about_me(&sam, RecordRef::Own, &AboutMeInput::default(), &general(), Some(3)).await.unwrap_err()).contains(&"preferred_name".to_owned()));
    }
}

conformance! {
    async fn the_timeline_pages_and_a_chart_draws_the_period(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        for day in 1..=30 {
            let at = format!("2026-10-{day:02}T08:00");
            s.add_reading(&sam, RecordRef::Own, &ReadingForm { kind: "heart-rate".into(), value: "70".into(), occurred_at: at, ..Default::default() }, &general())
                .await
                .unwrap();
        }
        let first = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert_eq!(first.entries.len(), 25);
        let second = s.timeline(&sam, RecordRef::Own, &TimelineQuery { after: first.next.clone().unwrap(), ..Default::default() }).await.unwrap();
        assert_eq!((second.entries.len(), second.next.as_deref()), (5, None));
        assert!(second.entries[0].occurred_at < first.entries[24].occurred_at);
        let chart = s.chart(&sam, RecordRef::Own, "heart-rate", "30d").await.unwrap();
        // 30 days back from 22 Nov 10:00 is 23 Oct 10:00, after that day's reading: 24 to 30 Oct.
        assert_eq!(chart.readings.len(), 7);
        assert!(chart.readings.windows(2).all(|w| w[0].occurred_at < w[1].occurred_at), "oldest first");
        assert_eq!(chart.plot.series[0].dots.len(), 7);
        assert_eq!(s.chart(&sam, RecordRef::Own, "heart-rate", "all").await.unwrap().readings.len(), 30);
        assert!(matches!(s.chart(&sam, RecordRef::Own, "mood", "all").await.unwrap_err(), ServiceError::NotFound));
        assert!(fields(s.chart(&sam, RecordRef::Own, "heart-rate", "forever").await.unwrap_err()).contains(&"period".to_owned()));
    }
}

conformance! {
    async fn entries_dated_the_same_minute_show_the_latest_added_first(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        let mut ids = Vec::new();
        for v in ["60", "61", "62", "63", "64"] {
            let form = ReadingForm { kind: "heart-rate".into(), value: v.into(), occurred_at: "2026-11-22T09:00".into(), ..Default::default() };
            ids.push(s.add_reading(&sam, RecordRef::Own, &form, &general()).await.unwrap());
        }
        ids.reverse();
        let shown: Vec<_> = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap().entries.iter().map(|e| e.id).collect();
        assert_eq!(shown, ids);
    }
}

conformance! {
    async fn an_edit_that_leaves_the_time_alone_keeps_it_exactly(db) {
        let (s, _) = services(db);
        let sam = person(db, "Sam").await;
        // Stored with seconds; the form shows minutes and sends back "07:00".
        let note = NoteForm { title: "Walk".into(), text: "Round the park.".into(), tags: String::new(), occurred_at: "2026-11-22T07:00:30".into() };
        let id = s.add_note(&sam, RecordRef::Own, &note, &general()).await.unwrap();
        let before = s.entry(&sam, RecordRef::Own, id).await.unwrap().summary.occurred_at;
        let edited = NoteForm { text: "Round the park twice.".into(), occurred_at: before.to_uk_input(), ..note };
        s.edit_note(&sam, RecordRef::Own, id, 1, &edited).await.unwrap();
        let after = s.entry(&sam, RecordRef::Own, id).await.unwrap();
        assert_eq!(after.summary.occurred_at, before);
        assert_eq!(after.history[0].details, ["Text changed"]);
    }
}
