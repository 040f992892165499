//! The store conformance suite for patients' entries: every test runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::about_me::{AboutMe, AboutMeInput};
use domain::access::Action;
use domain::entries::{Change, EntryBody, Snapshot, Source, TimelineFilter, TypeFilter};
use domain::{EntryId, Note, PatientId, PrivacyLabel, Reading, ReadingInput, ReadingKind, Span, Timestamp, UserId};
use store::entries::{self, NewEntry};
use store::patients::{self, PatientRow};
use store::testing::answers::{carer_permit, permit, writer};
use store::{conformance, users, StoreError, StoreResult};
use uuid::Uuid;

const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);
const ALL: [PrivacyLabel; 4] = PrivacyLabel::ALL;

async fn add_patient(db: &store::Db, name: &str) -> (UserId, PatientId) {
    let user = UserId::from_uuid(Uuid::new_v4());
    let patient = PatientId::from_uuid(Uuid::new_v4());
    let mut conn = db.conn().await.unwrap();
    let email = format!("{}@example.com", user.as_uuid().simple());
    users::insert_user(&mut conn, user, &email, &email, name, T0).await.unwrap();
    patients::insert_patient(&mut conn, &PatientRow { id: patient, user_id: Some(user), name: String::new(), born_on: None }, T0)
        .await
        .unwrap();
    (user, patient)
}

fn heart(bpm: &str) -> EntryBody {
    EntryBody::Reading(Reading::parse(ReadingKind::HeartRate, &ReadingInput { value: bpm.into(), ..Default::default() }).unwrap())
}

fn note(title: &str) -> EntryBody {
    EntryBody::Note(Note::parse(title, "Slept badly.", "sleep").unwrap())
}

fn state(body: EntryBody, label: PrivacyLabel, at: Timestamp) -> Snapshot {
    Snapshot { body, label, shared_with_practice: false, occurred_at: at }
}

async fn add(db: &store::Db, user: UserId, patient: PatientId, s: Snapshot) -> EntryId {
    let id = EntryId::from_uuid(Uuid::new_v4());
    let mut tx = db.begin().await.unwrap();
    entries::insert_entry(
        &mut tx,
        &writer(patient, user, Action::AddEntries),
        &NewEntry { id, patient_id: patient, state: s, entered_by: user, source: Source::Carry },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn timeline(db: &store::Db, patient: PatientId, labels: &[PrivacyLabel], f: &TimelineFilter) -> Vec<EntryId> {
    let mut conn = db.conn().await.unwrap();
    entries::list_timeline(&mut conn, &permit(patient, labels), f, 100).await.unwrap().into_iter().map(|e| e.id).collect()
}

conformance! {
    async fn an_entry_round_trips_with_its_first_version(db) {
        let (user, patient) = add_patient(db, "Sam Jones").await;
        let s = state(heart("72"), PrivacyLabel::General, T0);
        let id = add(db, user, patient, s.clone()).await;
        let mut conn = db.conn().await.unwrap();
        let e = entries::find_entry(&mut conn, &permit(patient, &ALL), id).await.unwrap().unwrap();
        assert_eq!((e.version, &e.current, e.entered_by, e.entered_by_name.as_str(), e.source), (1, &s, user, "Sam Jones", Source::Carry));
        assert_eq!(e.deleted_at, None);
        let v = entries::list_versions(&mut conn, &permit(patient, &ALL), id).await.unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].version, v[0].change, &v[0].state, v[0].changed_by), (1, Change::Created, &s, user));
    }
}

conformance! {
    async fn an_edit_adds_a_version_and_a_stale_edit_changes_nothing(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let id = add(db, user, patient, state(heart("72"), PrivacyLabel::General, T0)).await;
        let edited = state(heart("80"), PrivacyLabel::MentalHealth, T0.plus(Span::minutes(5)));
        let mut tx = db.begin().await.unwrap();
        assert!(entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Edited, &edited, T0.plus(Span::hours(1))).await.unwrap());
        // A second form opened at version 1 is refused: it would overwrite the edit.
        let stale = state(heart("90"), PrivacyLabel::General, T0);
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Edited, &stale, T0.plus(Span::hours(2))).await.unwrap());
        tx.commit().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        let e = entries::find_entry(&mut conn, &permit(patient, &ALL), id).await.unwrap().unwrap();
        assert_eq!((e.version, &e.current), (2, &edited));
        let v = entries::list_versions(&mut conn, &permit(patient, &ALL), id).await.unwrap();
        assert_eq!(v.iter().map(|v| (v.version, v.change)).collect::<Vec<_>>(), [(1, Change::Created), (2, Change::Edited)]);
        assert_eq!(v[0].state.body, heart("72"), "the first version is kept as it was");
    }
}

conformance! {
    async fn an_entry_cannot_change_kind_or_be_changed_through_another_record(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let (_, other) = add_patient(db, "Alex").await;
        let id = add(db, user, patient, state(heart("72"), PrivacyLabel::General, T0)).await;
        let mut tx = db.begin().await.unwrap();
        let as_note = state(note("x"), PrivacyLabel::General, T0);
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Edited, &as_note, T0).await.unwrap());
        let s = state(heart("99"), PrivacyLabel::General, T0);
        assert!(!entries::update_entry(&mut tx, &writer(other, user, Action::ChangeEntries), id, 1, Change::Edited, &s, T0).await.unwrap());
        tx.commit().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        assert!(entries::find_entry(&mut conn, &permit(other, &ALL), id).await.unwrap().is_none());
        assert!(entries::list_versions(&mut conn, &permit(other, &ALL), id).await.unwrap().is_empty());
        assert_eq!(entries::find_entry(&mut conn, &permit(patient, &ALL), id).await.unwrap().unwrap().version, 1);
    }
}

conformance! {
    async fn the_timeline_is_newest_first_and_pages_exactly_through_equal_times(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let mut ids = Vec::new();
        for i in 0..7 {
            // Pairs share a time, so the id must break ties for paging to be exact.
            ids.push(add(db, user, patient, state(heart("70"), PrivacyLabel::General, T0.plus(Span::minutes(i / 2)))).await);
        }
        let all = timeline(db, patient, &ALL, &TimelineFilter::default()).await;
        assert_eq!(all.len(), 7);
        let mut seen = Vec::new();
        let mut filter = TimelineFilter::default();
        let mut conn = db.conn().await.unwrap();
        loop {
            let page = entries::list_timeline(&mut conn, &permit(patient, &ALL), &filter, 3).await.unwrap();
            let Some(last) = page.last() else { break };
            filter.after = Some(domain::entries::Cursor { occurred_at: last.current.occurred_at, id: last.id });
            seen.extend(page.iter().map(|e| e.id));
        }
        assert_eq!(seen, all, "pages join up with nothing repeated or missed");
        let times: Vec<_> = entries::list_timeline(&mut conn, &permit(patient, &ALL), &TimelineFilter::default(), 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.current.occurred_at)
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
    }
}

conformance! {
    async fn the_timeline_filters_by_type_label_and_date(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let hr = add(db, user, patient, state(heart("70"), PrivacyLabel::General, T0)).await;
        let n = add(db, user, patient, state(note("Mood"), PrivacyLabel::MentalHealth, T0.plus(Span::days(2)))).await;
        let f = |t: TypeFilter| TimelineFilter { types: t, ..Default::default() };
        assert_eq!(timeline(db, patient, &ALL, &f(TypeFilter::Notes)).await, [n]);
        assert_eq!(timeline(db, patient, &ALL, &f(TypeFilter::Readings)).await, [hr]);
        assert_eq!(timeline(db, patient, &ALL, &f(TypeFilter::Reading(ReadingKind::HeartRate))).await, [hr]);
        assert!(timeline(db, patient, &ALL, &f(TypeFilter::Reading(ReadingKind::Weight))).await.is_empty());
        let by_label = TimelineFilter { label: Some(PrivacyLabel::MentalHealth), ..Default::default() };
        assert_eq!(timeline(db, patient, &ALL, &by_label).await, [n]);
        let by_date = TimelineFilter { from: Some(T0.plus(Span::days(1))), ..Default::default() };
        assert_eq!(timeline(db, patient, &ALL, &by_date).await, [n]);
        let until = TimelineFilter { until: Some(T0.plus(Span::days(1))), ..Default::default() };
        assert_eq!(timeline(db, patient, &ALL, &until).await, [hr]);
    }
}

conformance! {
    async fn an_entry_outside_the_visible_labels_is_absent_everywhere(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let hidden = add(db, user, patient, state(note("Private"), PrivacyLabel::SexualHealth, T0)).await;
        let shown = add(db, user, patient, state(heart("70"), PrivacyLabel::General, T0)).await;
        let about = AboutMe::parse(&AboutMeInput { preferred_name: "Sam".into(), ..Default::default() }).unwrap();
        add(db, user, patient, state(EntryBody::AboutMe(about), PrivacyLabel::SexualHealth, T0)).await;
        let general = [PrivacyLabel::General];
        assert_eq!(timeline(db, patient, &general, &TimelineFilter::default()).await, [shown]);
        let mut conn = db.conn().await.unwrap();
        assert!(entries::find_entry(&mut conn, &permit(patient, &general), hidden).await.unwrap().is_none());
        assert!(entries::find_about_me(&mut conn, &permit(patient, &general)).await.unwrap().is_none());
        assert!(entries::find_about_me(&mut conn, &permit(patient, &ALL)).await.unwrap().is_some());
        assert!(entries::list_readings(&mut conn, &permit(patient, &[]), ReadingKind::HeartRate, None, 10).await.unwrap().is_empty());
        assert!(timeline(db, patient, &[], &TimelineFilter::default()).await.is_empty(), "no labels, nothing at all");
    }
}

conformance! {
    async fn a_deleted_entry_leaves_the_timeline_and_can_be_restored(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let s = state(heart("70"), PrivacyLabel::General, T0);
        let id = add(db, user, patient, s.clone()).await;
        let t1 = T0.plus(Span::days(1));
        let mut tx = db.begin().await.unwrap();
        assert!(entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Deleted, &s, t1).await.unwrap());
        tx.commit().await.unwrap();
        assert!(timeline(db, patient, &ALL, &TimelineFilter::default()).await.is_empty());
        let mut conn = db.conn().await.unwrap();
        assert!(entries::list_readings(&mut conn, &permit(patient, &ALL), ReadingKind::HeartRate, None, 10).await.unwrap().is_empty());
        let deleted = entries::list_deleted(&mut conn, &permit(patient, &ALL), T0).await.unwrap();
        assert_eq!((deleted.len(), deleted[0].deleted_at), (1, Some(t1)));
        assert!(entries::list_deleted(&mut conn, &permit(patient, &ALL), t1.plus(Span::millis(1))).await.unwrap().is_empty());
        let mut tx = db.begin().await.unwrap();
        assert!(entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 2, Change::Restored, &s, t1).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(timeline(db, patient, &ALL, &TimelineFilter::default()).await, [id]);
        let v = entries::list_versions(&mut conn, &permit(patient, &ALL), id).await.unwrap();
        assert_eq!(v.iter().map(|v| v.change).collect::<Vec<_>>(), [Change::Created, Change::Deleted, Change::Restored]);
    }
}

conformance! {
    async fn a_record_has_one_about_me_and_an_account_one_record(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let about = AboutMe::parse(&AboutMeInput { goals: "Keep walking".into(), ..Default::default() }).unwrap();
        let first = add(db, user, patient, state(EntryBody::AboutMe(about.clone()), PrivacyLabel::General, T0)).await;
        let mut tx = db.begin().await.unwrap();
        let second = NewEntry {
            id: EntryId::from_uuid(Uuid::new_v4()),
            patient_id: patient,
            state: state(EntryBody::AboutMe(about), PrivacyLabel::General, T0),
            entered_by: user,
            source: Source::Carry,
        };
        let err = entries::insert_entry(&mut tx, &writer(patient, user, Action::WriteAboutMe), &second, T0).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(ref c) if c == "entries_patient_id_unique"), "{err:?}");
        drop(tx);
        let mut conn = db.conn().await.unwrap();
        assert_eq!(entries::find_about_me_id(&mut conn, patient).await.unwrap(), Some(first));
        let again = PatientRow { id: PatientId::from_uuid(Uuid::new_v4()), user_id: Some(user), name: String::new(), born_on: None };
        let err = patients::insert_patient(&mut conn, &again, T0).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(ref c) if c == "patients_user_id_unique"), "{err:?}");
        assert_eq!(patients::find_patient_by_user(&mut conn, user).await.unwrap().unwrap().id, patient);
    }
}

conformance! {
    async fn readings_for_a_chart_are_one_kind_since_a_time_newest_first(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        for i in 0..5 {
            add(db, user, patient, state(heart(&(60 + i).to_string()), PrivacyLabel::General, T0.plus(Span::days(i)))).await;
        }
        add(db, user, patient, state(note("x"), PrivacyLabel::General, T0)).await;
        let mut conn = db.conn().await.unwrap();
        let r = entries::list_readings(&mut conn, &permit(patient, &ALL), ReadingKind::HeartRate, Some(T0.plus(Span::days(2))), 2).await.unwrap();
        assert_eq!(r.iter().map(|e| e.current.body.clone()).collect::<Vec<_>>(), [heart("64"), heart("63")]);
    }
}

conformance! {
    async fn hidden_labels_are_absent_from_charts_deleted_lists_and_history(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let general = [PrivacyLabel::General];
        let hidden_reading = add(db, user, patient, state(heart("70"), PrivacyLabel::SexualHealth, T0)).await;
        let shown_reading = add(db, user, patient, state(heart("71"), PrivacyLabel::General, T0)).await;
        let hidden_note = state(note("Private"), PrivacyLabel::MentalHealth, T0);
        let gone = add(db, user, patient, hidden_note.clone()).await;
        let mut tx = db.begin().await.unwrap();
        assert!(entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), gone, 1, Change::Deleted, &hidden_note, T0).await.unwrap());
        tx.commit().await.unwrap();
        // An entry that was mental health and is now general: its past stays hidden.
        let relabelled = add(db, user, patient, state(note("Was private"), PrivacyLabel::MentalHealth, T0)).await;
        let mut tx = db.begin().await.unwrap();
        let now_general = state(note("Was private"), PrivacyLabel::General, T0);
        assert!(entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), relabelled, 1, Change::PrivacyChanged, &now_general, T0).await.unwrap());
        tx.commit().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        let points = entries::list_reading_points(&mut conn, &permit(patient, &general), ReadingKind::HeartRate, None, 10).await.unwrap();
        assert_eq!(points.iter().map(|p| p.id).collect::<Vec<_>>(), [shown_reading]);
        let readings = entries::list_readings(&mut conn, &permit(patient, &general), ReadingKind::HeartRate, None, 10).await.unwrap();
        assert_eq!(readings.iter().map(|r| r.id).collect::<Vec<_>>(), [shown_reading]);
        assert!(entries::list_deleted(&mut conn, &permit(patient, &general), T0).await.unwrap().is_empty());
        assert_eq!(entries::list_deleted(&mut conn, &permit(patient, &ALL), T0).await.unwrap().len(), 1);
        let history = entries::list_versions(&mut conn, &permit(patient, &general), relabelled).await.unwrap();
        assert_eq!(history.iter().map(|v| v.version).collect::<Vec<_>>(), [2], "the mental-health version is absent");
        assert!(entries::list_versions(&mut conn, &permit(patient, &general), hidden_reading).await.unwrap().is_empty());
    }
}

conformance! {
    async fn only_delete_and_restore_move_the_tombstone_and_a_reading_keeps_its_kind(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let s = state(heart("70"), PrivacyLabel::General, T0);
        let id = add(db, user, patient, s.clone()).await;
        let mut tx = db.begin().await.unwrap();
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Restored, &s, T0).await.unwrap(), "not deleted");
        let weight = EntryBody::Reading(Reading::parse(ReadingKind::Weight, &ReadingInput { value: "70".into(), ..Default::default() }).unwrap());
        let as_weight = state(weight, PrivacyLabel::General, T0);
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Edited, &as_weight, T0).await.unwrap(), "kind kept");
        assert!(entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 1, Change::Deleted, &s, T0).await.unwrap());
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 2, Change::Deleted, &s, T0).await.unwrap(), "deleted once");
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 2, Change::Edited, &s, T0).await.unwrap(), "no edits while deleted");
        assert!(!entries::update_entry(&mut tx, &writer(patient, user, Action::ChangeEntries), id, 2, Change::PrivacyChanged, &s, T0).await.unwrap());
        tx.commit().await.unwrap();
        let mut conn = db.conn().await.unwrap();
        let e = entries::find_entry(&mut conn, &permit(patient, &ALL), id).await.unwrap().unwrap();
        assert_eq!((e.version, e.deleted_at.is_some()), (2, true));
    }
}

conformance! {
    async fn a_write_outside_its_permit_is_refused_before_any_sql(db) {
        let (user, patient) = add_patient(db, "Sam").await;
        let (_, other) = add_patient(db, "Kim").await;
        let id = add(db, user, patient, state(heart("70"), PrivacyLabel::General, T0)).await;
        let new = |label| NewEntry {
            id: EntryId::from_uuid(Uuid::new_v4()),
            patient_id: patient,
            state: state(heart("71"), label, T0),
            entered_by: user,
            source: Source::Carry,
        };
        let general = carer_permit(patient, user, &[PrivacyLabel::General]);
        let refused: Vec<(&str, StoreResult<()>)> = {
            let mut tx = db.begin().await.unwrap();
            let mut out = Vec::new();
            out.push(("another record", entries::insert_entry(&mut tx, &writer(other, user, Action::AddEntries), &new(PrivacyLabel::General), T0).await));
            out.push(("a read permit", entries::insert_entry(&mut tx, &general, &new(PrivacyLabel::General), T0).await));
            out.push(("another name", entries::insert_entry(&mut tx, &writer(patient, UserId::from_uuid(Uuid::new_v4()), Action::AddEntries), &new(PrivacyLabel::General), T0).await));
            let change = |label| state(heart("72"), label, T0);
            out.push(("a change under an add permit", entries::update_entry(&mut tx, &writer(patient, user, Action::AddEntries), id, 1, Change::Edited, &change(PrivacyLabel::General), T0).await.map(|_| ())));
            out
        };
        for (what, result) in refused {
            assert!(matches!(result, Err(StoreError::NotPermitted(_))), "{what}: {result:?}");
        }
        let mut conn = db.conn().await.unwrap();
        let all = entries::list_timeline(&mut conn, &permit(patient, &ALL), &TimelineFilter::default(), 100).await.unwrap();
        assert_eq!(all.len(), 1, "nothing was written");
    }
}
