//! Carers through the service layer on both databases, with a test clock: invitation,
//! acceptance, labels that really hide (canaries), entries marked as the carer's, the access
//! log, change, revocation in an open session, expiry, reminders, and children's records
//! through the age thresholds (security.md T3, T4, T21).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::about_me::AboutMeInput;
use domain::grants::BirthDate;
use domain::{PatientId, SessionId, Span, Timestamp, UserId};
use service::{
    AccessLogQuery, InviteForm, MailTransportConfig, ManualClock, NoteForm, PrivacyForm, ReadingForm, RecordRef, ScopeForm, ServiceConfig,
    ServiceError, Services, SignedIn, TimelineQuery,
};
use std::sync::Arc;
use store::{conformance, users};
use uuid::Uuid;

// 2026-11-22 10:00 UTC.
const NOW: Timestamp = Timestamp::from_millis(1_795_341_600_000);
const CANARY: &str = "CANARY-7f3e-mental-health";

fn services(db: &store::Db) -> (Services, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    let dir = std::env::temp_dir().join(format!("carry-mail-{}", Uuid::new_v4().simple()));
    let s = Services::new(db.clone(), clock.clone(), ServiceConfig::for_tests(MailTransportConfig::Folder { path: dir })).unwrap();
    (s, clock)
}

async fn person(db: &store::Db, name: &str) -> (SignedIn, String) {
    let id = UserId::from_uuid(Uuid::new_v4());
    let mut conn = db.conn().await.unwrap();
    let email = format!("{}@example.com", id.as_uuid().simple());
    users::insert_user(&mut conn, id, &email, &email, name, NOW).await.unwrap();
    let who = SignedIn {
        user_id: id,
        display_name: name.to_owned(),
        session_id: SessionId::from_uuid(Uuid::new_v4()),
        authenticated_at: NOW,
        passkey: false,
        staff: None,
        request: Default::default(),
    };
    (who, email)
}

fn invite(name: &str, email: &str, labels: &[&str], can_add: bool) -> InviteForm {
    InviteForm {
        name: name.into(),
        email: email.into(),
        relationship: "SPS".into(),
        basis: String::new(),
        scope: ScopeForm { labels: labels.iter().map(|l| (*l).to_owned()).collect(), can_add, ..ScopeForm::default() },
    }
}

fn labelled(label: &str) -> PrivacyForm {
    PrivacyForm { label: label.into(), share: false }
}

fn weight(kg: &str) -> ReadingForm {
    ReadingForm { kind: "weight".into(), value: kg.into(), diastolic: None, pulse: None, occurred_at: "2026-11-22T09:00".into() }
}

/// The emailed invitation link's token, read from the queued mail.
async fn invitation_token(db: &store::Db, to: &str) -> String {
    let mut conn = db.conn().await.unwrap();
    let bodies: Vec<(String,)> =
        sqlx::query_as("select body_text from mail_outbox where to_address = $1").bind(to).fetch_all(&mut *conn).await.unwrap();
    let body = bodies.iter().map(|b| b.0.clone()).find(|b| b.contains("/invitations/")).expect("an invitation email");
    body.split("/invitations/").nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
}

async fn all_mail(db: &store::Db) -> String {
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("select subject, body_text from mail_outbox").fetch_all(&mut *conn).await.unwrap();
    rows.into_iter().map(|(s, b)| format!("{s}\n{b}\n")).collect()
}

/// Sam invites Alex (general and social care, may add); Alex accepts.
async fn sam_and_alex(db: &store::Db, s: &Services) -> (SignedIn, SignedIn, PatientId) {
    let (sam, _) = person(db, "Sam Patel").await;
    let (alex, alex_email) = person(db, "Alex Smith").await;
    s.invite_carer(&sam, &invite("Alex", &alex_email, &["general", "social-care"], true)).await.unwrap();
    let token = invitation_token(db, &alex_email).await;
    let patient = s.accept_invitation(&alex, &token).await.unwrap();
    (sam, alex, patient)
}

conformance! {
    async fn a_carer_sees_exactly_the_labels_granted_and_nothing_of_the_rest(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        let hidden = s
            .add_note(&sam, RecordRef::Own, &NoteForm { title: CANARY.into(), text: CANARY.into(), tags: String::new(), occurred_at: "2026-11-22T08:00".into() }, &labelled("mental-health"))
            .await
            .unwrap();
        s.add_reading(&sam, RecordRef::Own, &weight("71.0"), &labelled("sexual-health")).await.unwrap();

        let t = s.timeline(&alex, record, &TimelineQuery::default()).await.unwrap();
        assert_eq!(t.entries.len(), 1, "only the general reading");
        assert!(!format!("{t:?}").contains(CANARY));
        // Filtering by a hidden label shows nothing, and says nothing.
        let filtered = s.timeline(&alex, record, &TimelineQuery { label: "mental-health".into(), ..TimelineQuery::default() }).await.unwrap();
        assert!(filtered.entries.is_empty());
        // The hidden entry is "not found", exactly like an id that does not exist.
        let by_id = s.entry(&alex, record, hidden).await.unwrap_err();
        let unknown = s.entry(&alex, record, domain::EntryId::from_uuid(Uuid::new_v4())).await.unwrap_err();
        assert_eq!(format!("{by_id:?}"), format!("{unknown:?}"));
        let chart = s.chart(&alex, record, "weight", "all").await.unwrap();
        assert_eq!(chart.readings.len(), 1, "the sexual-health weight is not on the chart");
        assert!(chart.readings.iter().all(|r| r.reading.display() == "70.5 kg"), "{:?}", chart.readings);
        assert!(s.about_me(&alex, record).await.unwrap().is_none());
        assert!(!all_mail(db).await.contains(CANARY), "no email carries the canary");
        // The patient sees everything.
        assert_eq!(s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap().entries.len(), 3);
    }
}

conformance! {
    async fn what_a_carer_adds_is_theirs_everywhere_and_in_the_log(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        let id = s.add_reading(&alex, record, &weight("80.0"), &labelled("general")).await.unwrap();
        // A label outside the grant cannot be used, and the error names the field.
        let err = s.add_reading(&alex, record, &weight("80.0"), &labelled("mental-health")).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "label"), "{err:?}");
        let mine = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert_eq!(mine.entries[0].entered_by, "Alex Smith for you");
        let theirs = s.entry(&alex, record, id).await.unwrap();
        assert_eq!(theirs.summary.entered_by, "you for Sam Patel");
        assert_eq!(theirs.history[0].changed_by, "you for Sam Patel");
        // Carers add; they do not change, relabel, delete, manage access or read the log.
        assert!(matches!(s.delete_entry(&alex, record, id, 1).await, Err(ServiceError::Forbidden)));
        assert!(matches!(s.set_entry_privacy(&alex, record, id, 1, &labelled("general")).await, Err(ServiceError::Forbidden)));

        let log = s.access_log(&sam, &AccessLogQuery::default()).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.contains(&"Alex Smith (your carer) added to your weight readings"), "{words:?}");
        assert!(words.contains(&"Alex Smith (your carer) viewed an entry in your record"), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("Alex Smith (your carer) tried to change an entry in your record and was refused")), "{words:?}");
        // The patient's own actions are hidden by default and shown on request.
        assert!(!words.iter().any(|w| w.starts_with("You ")));
        let everyone = s.access_log(&sam, &AccessLogQuery { who: "all".into(), ..AccessLogQuery::default() }).await.unwrap();
        assert!(everyone.rows.iter().any(|r| r.words == "You viewed your record"));
        assert_eq!(log.people, vec![(alex.user_id.to_string(), "Alex Smith".to_owned())]);
        let mut conn = db.conn().await.unwrap();
        assert_eq!(store::audit::verify(&mut conn).await.unwrap().first_problem, None);
    }
}

conformance! {
    async fn revoking_bites_on_the_next_request_of_an_open_session(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        s.timeline(&alex, record, &TimelineQuery::default()).await.unwrap();
        let grant = s.grants(&sam).await.unwrap().remove(0);
        assert!(grant.open);
        s.revoke_grant(&sam, grant.id, grant.version).await.unwrap();
        // The same SignedIn: the session is still open, the decision is not cached.
        assert!(matches!(s.timeline(&alex, record, &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
        assert!(matches!(s.add_reading(&alex, record, &weight("80"), &labelled("")).await, Err(ServiceError::Forbidden)));
        let log = s.access_log(&sam, &AccessLogQuery { outcome: "refused".into(), ..AccessLogQuery::default() }).await.unwrap();
        assert_eq!(log.rows.len(), 2);
        assert!(log.rows[0].words.ends_with("their access had been stopped"), "{:?}", log.rows[0]);
        // Both sides were told.
        let alex_notices = s.notices(&alex).await.unwrap();
        assert!(alex_notices.iter().any(|n| n.text == "Sam Patel stopped your access to their record."));
        assert!(s.notices(&sam).await.unwrap().iter().any(|n| n.text == "You stopped Alex Smith's access to your record."));
        assert!(s.caring_for(&alex).await.unwrap().is_empty());
        assert!(s.grants(&sam).await.unwrap()[0].state.starts_with("Stopped on"));
    }
}

conformance! {
    async fn access_ends_at_its_end_date_after_a_review_reminder(db) {
        let (s, clock) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        assert_eq!(s.send_grant_reminders().await.unwrap(), 0);
        clock.advance(Span::days(366 - 30));
        assert_eq!(s.send_grant_reminders().await.unwrap(), 2, "carer and patient reminded");
        assert_eq!(s.send_grant_reminders().await.unwrap(), 0, "once");
        s.timeline(&alex, record, &TimelineQuery::default()).await.unwrap();
        clock.advance(Span::days(30));
        assert!(matches!(s.timeline(&alex, record, &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
        assert_eq!(s.send_grant_reminders().await.unwrap(), 2, "both told it ended");
        let texts: Vec<String> = s.notices(&sam).await.unwrap().into_iter().map(|n| n.text).collect();
        assert!(texts.iter().any(|t| t.contains("ends on")) && texts.iter().any(|t| t.contains("has ended")), "{texts:?}");
        assert!(!all_mail(db).await.contains("ends on"), "emails carry only a link");
    }
}

conformance! {
    async fn invitations_are_single_use_expire_and_need_another_account(db) {
        let (s, clock) = services(db);
        let (sam, sam_email) = person(db, "Sam Patel").await;
        let (alex, alex_email) = person(db, "Alex Smith").await;
        let (jo, _) = person(db, "Jo").await;
        // Inviting yourself is refused, naming the field.
        let err = s.invite_carer(&sam, &invite("Me", &sam_email, &["general"], false)).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "email"));
        // No labels, an end before the start, a made-up basis: each named.
        let mut bad = invite("Alex", &alex_email, &[], false);
        bad.scope.ends_on = "2020-01-01".into();
        bad.basis = "parental-responsibility".into();
        let err = s.invite_carer(&sam, &bad).await.unwrap_err();
        let mut named: Vec<String> = match err { ServiceError::Validation(v) => v.0.into_iter().map(|f| f.field).collect(), e => panic!("{e:?}") };
        named.sort();
        assert_eq!(named, vec!["basis", "ends_on", "labels"]);

        s.invite_carer(&sam, &invite("Alex", &alex_email, &["general"], false)).await.unwrap();
        let token = invitation_token(db, &alex_email).await;
        assert_eq!(s.invitation(&token).await.unwrap().patient_name, "Sam Patel");
        // Nobody but the account of the invited address can take it up.
        let err = s.accept_invitation(&jo, &token).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "token"), "{err:?}");
        // The patient cannot accept their own invitation.
        assert!(matches!(s.accept_invitation(&sam, &token).await, Err(ServiceError::Validation(_))));
        s.accept_invitation(&alex, &token).await.unwrap();
        assert!(matches!(s.accept_invitation(&jo, &token).await, Err(ServiceError::LinkInvalid)), "single use");

        s.invite_carer(&sam, &invite("Jo", "jo@example.com", &["general"], false)).await.unwrap();
        let late = invitation_token(db, "jo@example.com").await;
        clock.advance(Span::days(7));
        assert!(matches!(s.invitation(&late).await, Err(ServiceError::LinkInvalid)));
        assert!(matches!(s.accept_invitation(&jo, &late).await, Err(ServiceError::LinkInvalid)));
        let grants = s.grants(&sam).await.unwrap();
        let jos = grants.iter().find(|g| g.email == "jo@example.com").unwrap();
        assert_eq!(jos.state, "Invitation expired, not accepted");
        // A view-only carer cannot add.
        let patient = s.caring_for(&alex).await.unwrap()[0].patient_id;
        assert!(matches!(s.add_reading(&alex, RecordRef::Patient(patient), &weight("80"), &labelled("")).await, Err(ServiceError::Forbidden)));
    }
}

conformance! {
    async fn changing_the_scope_shows_and_hides_at_once(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        s.add_reading(&sam, RecordRef::Own, &weight("70"), &labelled("mental-health")).await.unwrap();
        assert!(s.timeline(&alex, record, &TimelineQuery::default()).await.unwrap().entries.is_empty());
        let g = s.grants(&sam).await.unwrap().remove(0);
        let scope = ScopeForm { labels: vec!["mental-health".into()], can_add: false, ends_on: "2027-03-01".into(), ..ScopeForm::default() };
        s.change_grant(&sam, g.id, g.version, &scope).await.unwrap();
        assert!(matches!(s.change_grant(&sam, g.id, g.version, &scope).await, Err(ServiceError::Stale)), "a stale form overwrites nothing");
        assert_eq!(s.timeline(&alex, record, &TimelineQuery::default()).await.unwrap().entries.len(), 1);
        assert!(matches!(s.add_reading(&alex, record, &weight("80"), &labelled("mental-health")).await, Err(ServiceError::Forbidden)));
        let after = s.grants(&sam).await.unwrap().remove(0);
        assert_eq!(after.state, "Active until 1 Mar 2027");
        assert!(after.history.iter().any(|h| h.contains("changed by Sam Patel")), "{:?}", after.history);
        // Another patient's grant cannot be touched.
        let (other, _) = person(db, "Other").await;
        assert!(s.revoke_grant(&other, g.id, after.version).await.is_err());
        assert!(s.grants(&sam).await.unwrap()[0].open);
    }
}

conformance! {
    async fn strangers_are_refused_and_the_refusal_is_in_the_patients_log(db) {
        let (s, _) = services(db);
        let (sam, _) = person(db, "Sam Patel").await;
        let (eve, _) = person(db, "Eve").await;
        s.add_reading(&sam, RecordRef::Own, &weight("70"), &labelled("")).await.unwrap();
        let patient = s.record_context(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(patient.name, "Sam Patel");
        let sams = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert_eq!(sams.entries.len(), 1);
        let mut conn = db.conn().await.unwrap();
        let (pid,): (String,) = sqlx::query_as("select id from patients").fetch_one(&mut *conn).await.unwrap();
        drop(conn);
        let record = RecordRef::Patient(pid.parse().unwrap());
        let unknown = RecordRef::Patient(PatientId::from_uuid(Uuid::new_v4()));
        for r in [record, unknown] {
            assert!(matches!(s.timeline(&eve, r, &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
            assert!(matches!(s.record_context(&eve, r).await, Err(ServiceError::Forbidden)));
        }
        let log = s.access_log(&sam, &AccessLogQuery::default()).await.unwrap();
        assert_eq!(log.rows.len(), 2);
        assert!(log.rows.iter().all(|r| r.refused && r.words.starts_with("Eve tried to view")), "{:?}", log.rows);
        let mut conn = db.conn().await.unwrap();
        let report = store::audit::verify(&mut conn).await.unwrap();
        assert_eq!((report.first_problem, report.chains), (None, 2), "the unknown record's refusals are on their own chain");
    }
}

conformance! {
    async fn only_the_patient_or_a_young_childs_parent_writes_about_me(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let about = AboutMeInput { preferred_name: "Sam".into(), ..Default::default() };
        // Alex may add entries to Sam's record, but "about me" is Sam's own voice.
        let refused = s.save_about_me(&alex, RecordRef::Patient(patient), &about, &labelled("general"), None).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden)), "{refused:?}");
        s.save_about_me(&sam, RecordRef::Own, &about, &labelled("general"), None).await.unwrap();
        let log = s.access_log(&sam, &AccessLogQuery::default()).await.unwrap();
        assert!(
            log.rows.iter().any(|r| r.refused && r.words.starts_with("Alex Smith (your carer) tried to update your \u{201c}About me\u{201d}")),
            "{:?}",
            log.rows
        );
        // A parent writes it for a young child, whose record has no account of its own.
        let (parent, _) = person(db, "Pat Parent").await;
        let child = s.add_child_record(&parent, "Kim", "2020-02-23").await.unwrap();
        let kim = AboutMeInput { preferred_name: "Kim".into(), ..Default::default() };
        s.save_about_me(&parent, RecordRef::Patient(child), &kim, &labelled("general"), None).await.unwrap();
    }
}

conformance! {
    async fn a_parents_access_narrows_at_11_and_pauses_at_16(db) {
        let (s, clock) = services(db);
        let (parent, _) = person(db, "Pat Parent").await;
        // Ten years and nine months old today.
        let err = s.add_child_record(&parent, "Kim", "2030-01-01").await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "born_on"));
        assert!(s.add_child_record(&parent, "Kim", "2009-01-01").await.is_err(), "16 and over hold their own record");
        let child = s.add_child_record(&parent, "Kim", "2016-02-23").await.unwrap();
        let record = RecordRef::Patient(child);
        s.add_reading(&parent, record, &weight("30"), &labelled("general")).await.unwrap();
        s.add_reading(&parent, record, &weight("31"), &labelled("sexual-health")).await.unwrap();
        assert_eq!(s.timeline(&parent, record, &TimelineQuery::default()).await.unwrap().entries.len(), 2);
        assert_eq!(s.timeline(&parent, record, &TimelineQuery::default()).await.unwrap().entries[0].entered_by, "you for Kim");
        assert_eq!(s.send_grant_reminders().await.unwrap(), 0, "the warning comes three months before");
        clock.advance(Span::days(1));
        assert_eq!(s.send_grant_reminders().await.unwrap(), 1, "warned: 3 months before 11");
        let born = BirthDate { year: 2016, month: 2, day: 23 };
        let eleven = born.birthday(11);
        clock.advance(eleven.since(clock_now(&s)));
        assert_eq!(s.timeline(&parent, record, &TimelineQuery::default()).await.unwrap().entries.len(), 1, "general only at 11");
        assert_eq!(s.send_grant_reminders().await.unwrap(), 1);
        assert!(s.caring_for(&parent).await.unwrap()[0].state.contains("narrowed by age"));
        let sixteen = born.birthday(16);
        clock.advance(sixteen.since(clock_now(&s)));
        assert!(matches!(s.timeline(&parent, record, &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
        let texts: Vec<String> = s.notices(&parent).await.unwrap().into_iter().map(|n| n.text).collect();
        assert!(s.send_grant_reminders().await.unwrap() >= 2, "review at 13, warning and pause at 16");
        let texts_after: Vec<String> = s.notices(&parent).await.unwrap().into_iter().map(|n| n.text).collect();
        assert!(texts_after.len() > texts.len());
        assert!(texts_after.iter().any(|t| t.contains("paused until they confirm")), "{texts_after:?}");
    }
}

fn clock_now(s: &Services) -> Timestamp {
    s.current_time()
}

conformance! {
    async fn review_fixes_hold(db) {
        let (s, clock) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        // A carer probing an entry they may not see is refused, and the patient is told.
        let hidden = s.add_reading(&sam, RecordRef::Own, &weight("70"), &labelled("mental-health")).await.unwrap();
        assert!(matches!(s.entry(&alex, record, hidden).await, Err(ServiceError::NotFound)));
        let log = s.access_log(&sam, &AccessLogQuery { outcome: "refused".into(), ..AccessLogQuery::default() }).await.unwrap();
        assert_eq!(log.rows[0].words, "Alex Smith (your carer) tried to view an entry in your record and was refused: it is not one they may see");
        // A deleted entry is gone for the carer; a relabelled one shows no gap in its history.
        let gone = s.add_reading(&sam, RecordRef::Own, &weight("71"), &labelled("general")).await.unwrap();
        s.delete_entry(&sam, RecordRef::Own, gone, 1).await.unwrap();
        assert!(matches!(s.entry(&alex, record, gone).await, Err(ServiceError::NotFound)));
        s.set_entry_privacy(&sam, RecordRef::Own, hidden, 1, &labelled("general")).await.unwrap();
        let shown = s.entry(&alex, record, hidden).await.unwrap();
        assert_eq!(shown.history.len(), 1);
        assert_eq!((shown.history[0].version, shown.history[0].change), (1, domain::entries::Change::Created));
        assert_eq!(shown.summary.version, 0, "no version number counts the hidden version");
        // A change keeps a future start where it was.
        let (jo, jo_email) = person(db, "Jo").await;
        let mut later = invite("Jo", &jo_email, &["general"], false);
        later.scope.starts_on = "2027-01-01".into();
        s.invite_carer(&sam, &later).await.unwrap();
        let token = invitation_token(db, &jo_email).await;
        s.accept_invitation(&jo, &token).await.unwrap();
        let g = s.grants(&sam).await.unwrap().into_iter().find(|g| g.email == jo_email).unwrap();
        let scope = ScopeForm { labels: vec!["general".into(), "social-care".into()], ..ScopeForm::default() };
        s.change_grant(&sam, g.id, g.version, &scope).await.unwrap();
        let g = s.grants(&sam).await.unwrap().into_iter().find(|g| g.email == jo_email).unwrap();
        assert_eq!(g.state, "Starts on 1 Jan 2027");
        assert!(matches!(s.timeline(&jo, record, &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
        // Giving or changing access needs a recent sign-in; stopping it never does.
        clock.advance(Span::minutes(11));
        assert!(matches!(s.invite_carer(&sam, &invite("Kit", "kit@example.com", &["general"], false)).await, Err(ServiceError::ReauthRequired)));
        assert!(matches!(s.change_grant(&sam, g.id, g.version, &scope).await, Err(ServiceError::ReauthRequired)));
        assert!(matches!(s.add_child_record(&sam, "Kim", "2020-01-01").await, Err(ServiceError::ReauthRequired)));
        s.revoke_grant(&sam, g.id, g.version).await.unwrap();
        let _ = alex;
    }
}

/// The token of the emailed offer of a record, read from the queued mail to `to`.
async fn offer_token(db: &store::Db, to: &str) -> String {
    let mut conn = db.conn().await.unwrap();
    let bodies: Vec<(String,)> = sqlx::query_as("select body_text from mail_outbox where to_address = $1 order by created_at")
        .bind(to)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let body = bodies.iter().rev().map(|b| b.0.clone()).find(|b| b.contains("/records/take/")).expect("an offer email");
    body.split("/records/take/").nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// The young person's view of Pat Parent's access.
async fn pats(s: &Services, who: &SignedIn) -> Vec<domain::views::GrantView> {
    s.grants(who).await.unwrap().into_iter().filter(|g| g.carer_name == "Pat Parent").collect()
}

conformance! {
    async fn a_young_person_takes_their_record_and_decides_on_the_parents_access(db) {
        let (s, clock) = services(db);
        let (parent, _) = person(db, "Pat Parent").await;
        let (mut stranger, _) = person(db, "Eve Other").await;
        let (mut kim, kim_email) = person(db, "Kim Parent").await;
        let (jo, jo_email) = person(db, "Jo Own").await;
        s.add_reading(&jo, RecordRef::Own, &weight("60"), &labelled("general")).await.unwrap();
        // Fourteen and a half today; a younger sibling is ten.
        let child = s.add_child_record(&parent, "Kim", "2012-06-01").await.unwrap();
        let younger = s.add_child_record(&parent, "Lou", "2016-06-01").await.unwrap();
        s.add_reading(&parent, RecordRef::Patient(child), &weight("50"), &labelled("general")).await.unwrap();
        let err = s.offer_record(&parent, younger, &kim_email).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "email" && v.0[0].message.contains("13")), "{err:?}");
        assert!(matches!(s.offer_record(&parent, child, "not an address").await, Err(ServiceError::Validation(_))));
        assert!(matches!(s.offer_record(&stranger, child, &kim_email).await, Err(ServiceError::Forbidden)), "only the parent offers");
        let cared = s.caring_for(&parent).await.unwrap();
        assert!(cared.iter().all(|c| c.can_hand_over == (c.patient_id == child)), "from 13 only: {cared:?}");

        // The parent cannot take the record as their own, even offered to their own address by
        // another parent; the attempt is refused and logged.
        let (other_parent, other_parent_email) = person(db, "Ola Parent").await;
        let mut conn = db.conn().await.unwrap();
        let pg = store::grants::held_by(&mut conn, parent.user_id).await.unwrap().into_iter().find(|g| g.patient_id == child).unwrap();
        let mut second = pg.clone();
        second.id = domain::GrantId::from_uuid(Uuid::new_v4());
        second.carer = Some(other_parent.user_id);
        store::grants::insert_grant(&mut conn, &second, NOW).await.unwrap();
        drop(conn);
        s.offer_record(&parent, child, &other_parent_email).await.unwrap();
        let token = offer_token(db, &other_parent_email).await;
        let err = s.take_record(&other_parent, &token).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].message.contains("parent or carer")), "{err:?}");
        // An account that holds a record already cannot take another.
        s.offer_record(&parent, child, &jo_email).await.unwrap();
        let jo_token = offer_token(db, &jo_email).await;
        let err = s.take_record(&jo, &jo_token).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "token"), "{err:?}");
        // A new offer replaces the old one, whose link stops working.
        s.offer_record(&parent, child, &kim_email).await.unwrap();
        assert!(matches!(s.record_offer(&jo_token).await, Err(ServiceError::LinkInvalid)));
        let token = offer_token(db, &kim_email).await;
        let mail = all_mail(db).await;
        assert!(!mail.contains("50 kg") && !mail.contains("50.0"), "the offer carries no clinical content");
        let offer = s.record_offer(&token).await.unwrap();
        assert_eq!((offer.patient_name.as_str(), offer.offered_by.as_str()), ("Kim", "Pat Parent"));
        assert_eq!(s.caring_for(&parent).await.unwrap().iter().find(|c| c.patient_id == child).unwrap().offered_to, Some(kim_email.clone()));
        let err = s.take_record(&stranger, &token).await.unwrap_err();
        assert!(matches!(err, ServiceError::Validation(ref v) if v.0[0].field == "token"), "only the invited address's account takes it");
        // The attempt is in the record's log as the policy saw it: no relationship.
        let mut conn = db.conn().await.unwrap();
        let (tried,): (i64,) = sqlx::query_as(
            "select count(*) from audit_log where chain = $1 and actor_user_id = $2 and action = 'manage-access' and outcome = 'refused' and reason = 'no-relationship'",
        )
        .bind(child.to_string())
        .bind(stranger.user_id.to_string())
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        drop(conn);
        assert_eq!(tried, 1);

        assert_eq!(s.take_record(&kim, &token).await.unwrap(), child);
        assert!(matches!(s.take_record(&kim, &token).await, Err(ServiceError::LinkInvalid)), "the link is single-use");
        let mine = s.timeline(&kim, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        assert_eq!(mine.entries.len(), 1);
        assert_eq!(mine.entries[0].entered_by, "Pat Parent for you");
        let grants = pats(&s, &kim).await;
        assert_eq!(grants.len(), 1);
        assert!(grants[0].history.iter().any(|h| h.contains("the young person took over")), "{grants:?}");
        // At fourteen it is too early to decide about sixteen: confirming opens 3 months before.
        assert!(!grants[0].can_confirm);
        assert!(matches!(s.confirm_grant(&kim, grants[0].id, grants[0].version).await, Err(ServiceError::NotFound)));
        // Nobody with access already can take a record as their own.
        assert!(matches!(s.take_record(&parent, &token).await, Err(ServiceError::LinkInvalid)), "taken already");
        assert!(s.caring_for(&parent).await.unwrap().iter().all(|c| c.patient_id != child || !c.can_hand_over));
        let log = s.access_log(&kim, &AccessLogQuery { who: "all".into(), ..Default::default() }).await.unwrap();
        assert!(log.rows.iter().any(|r| r.words == "You changed who can see your record"), "{:?}", log.rows);
        assert!(log.rows.iter().any(|r| r.words == "Pat Parent (your carer) changed who can see your record"), "{:?}", log.rows);

        // At 16 the parent's access pauses until Kim confirms it.
        let sixteen = BirthDate { year: 2012, month: 6, day: 1 }.birthday(16);
        clock.advance(sixteen.since(clock_now(&s)));
        assert!(matches!(s.timeline(&parent, RecordRef::Patient(child), &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
        let g = &pats(&s, &kim).await[0];
        assert!(g.can_confirm);
        assert!(matches!(s.confirm_grant(&kim, g.id, g.version).await, Err(ServiceError::ReauthRequired)));
        kim.authenticated_at = clock_now(&s);
        stranger.authenticated_at = clock_now(&s);
        assert!(matches!(s.confirm_grant(&stranger, g.id, g.version).await, Err(ServiceError::NotFound | ServiceError::Forbidden)));
        s.confirm_grant(&kim, g.id, g.version).await.unwrap();
        assert_eq!(s.timeline(&parent, RecordRef::Patient(child), &TimelineQuery::default()).await.unwrap().entries.len(), 1);
        let g = &pats(&s, &kim).await[0];
        assert!(!g.can_confirm && g.history.iter().any(|h| h.contains("confirmed by the young person")));
        // Reading notices changes nothing; marking them read does.
        let before = s.notices(&kim).await.unwrap();
        assert!(before.iter().any(|n| n.unread));
        assert_eq!(s.notices(&kim).await.unwrap(), before, "a look at the notices changes nothing");
        s.mark_notices_read(&kim).await.unwrap();
        assert!(s.notices(&kim).await.unwrap().iter().all(|n| !n.unread));
        // Kim can still stop it at once.
        s.revoke_grant(&kim, g.id, g.version).await.unwrap();
        assert!(matches!(s.timeline(&parent, RecordRef::Patient(child), &TimelineQuery::default()).await, Err(ServiceError::Forbidden)));
    }
}

conformance! {
    async fn reads_at_once_each_commit_their_row_before_answering(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        s.add_reading(&sam, RecordRef::Own, &weight("70"), &labelled("general")).await.unwrap();
        let mut reads = tokio::task::JoinSet::new();
        for i in 0..40 {
            let (s, mut who, record) =
                if i % 2 == 0 { (s.clone(), sam.clone(), RecordRef::Own) } else { (s.clone(), alex.clone(), RecordRef::Patient(patient)) };
            who.request.id = format!("read-{i}");
            let db = db.clone();
            reads.spawn(async move {
                let seen = s.timeline(&who, record, &TimelineQuery::default()).await.unwrap().entries.len();
                // By the time the read answers, its row is committed (seen from another connection).
                let mut conn = db.conn().await.unwrap();
                let rows: Vec<(String,)> = sqlx::query_as("select request_id from audit_log where request_id = $1")
                    .bind(&who.request.id)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
                (seen, rows.len())
            });
        }
        while let Some(done) = reads.join_next().await {
            assert_eq!(done.unwrap(), (1, 1), "each read saw the entry, and its one row was in the log as it answered");
        }
        // Every answer came after its row was committed: all 20 of Alex's views are there.
        let log = s.access_log(&sam, &AccessLogQuery::default()).await.unwrap();
        let views = log.rows.iter().filter(|r| r.words == "Alex Smith (your carer) viewed your record").count();
        assert_eq!(views, 20, "{:?}", log.rows);
        let report = s.verify_access_log().await.unwrap();
        assert!(report.first_problem.is_none(), "{:?}", report.first_problem);
    }
}

conformance! {
    async fn invitations_are_capped_a_day_and_quote_names_short_and_never_as_links(db) {
        let (s, clock) = services(db);
        // A sender's name chosen to make Carry send a link: quoted without it.
        let (spammer, _) = person(db, "Claim your prize at https://evil.example/win now").await;
        s.invite_carer(&spammer, &invite("Friend at www.evil.example", "target@example.org", &["general"], false)).await.unwrap();
        let mail = all_mail(db).await;
        assert!(!mail.contains("evil.example") && !mail.contains("https://evil"), "{mail}");
        assert!(mail.contains("Claim your prize at https evil exampl"), "{mail}");
        // At most 3 invitations reach one address in a day, whoever sends them.
        for n in 0..2 {
            let (other, _) = person(db, &format!("Patient {n}")).await;
            s.invite_carer(&other, &invite("Jo", "target@example.org", &["general"], false)).await.unwrap();
        }
        let (fourth, _) = person(db, "Patient 4").await;
        match s.invite_carer(&fourth, &invite("Jo", "TARGET@example.org", &["general"], false)).await {
            Err(ServiceError::Validation(v)) => assert_eq!(v.0[0].field, "email"),
            other => panic!("{other:?}"),
        }
        // At most 20 from one person in a day.
        for n in 0..19 {
            s.invite_carer(&spammer, &invite("Jo", &format!("friend{n}@example.org"), &["general"], false)).await.unwrap();
        }
        assert!(matches!(
            s.invite_carer(&spammer, &invite("Jo", "friend99@example.org", &["general"], false)).await,
            Err(ServiceError::Validation(v)) if v.0[0].field == "email"
        ));
        let sent: i64 = {
            let mut conn = db.conn().await.unwrap();
            sqlx::query_scalar("select count(*) from mail_outbox where subject = 'An invitation to Carry'").fetch_one(&mut *conn).await.unwrap()
        };
        assert_eq!(sent, 22, "a refused invitation sends nothing");
        // The next day the caps start again.
        clock.advance(Span::days(1));
        let spammer = SignedIn { authenticated_at: clock_now(&s), ..spammer };
        s.invite_carer(&spammer, &invite("Jo", "friend99@example.org", &["general"], false)).await.unwrap();
    }
}

conformance! {
    async fn the_summary_holds_what_its_reader_may_see_and_is_in_the_log(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let (eve, _) = person(db, "Eve").await;
        let about = AboutMeInput { preferred_name: "Sam".into(), goals: "Walk the dog every day.".into(), ..AboutMeInput::default() };
        s.save_about_me(&sam, RecordRef::Own, &about, &labelled("general"), None).await.unwrap();
        s.add_reading(&sam, RecordRef::Own, &weight("70.5"), &labelled("general")).await.unwrap();
        let newer = ReadingForm { occurred_at: "2026-11-22T09:30".into(), ..weight("99.0") };
        s.add_reading(&sam, RecordRef::Own, &newer, &labelled("mental-health")).await.unwrap();
        // A week of home blood pressure, morning and evening.
        for day in 15..=21 {
            for (hour, sys) in [("08", 150), ("20", 140)] {
                let form = ReadingForm {
                    kind: "blood-pressure".into(),
                    value: sys.to_string(),
                    diastolic: Some("90".into()),
                    pulse: None,
                    occurred_at: format!("2026-11-{day}T{hour}:00"),
                };
                s.add_reading(&sam, RecordRef::Own, &form, &labelled("general")).await.unwrap();
            }
        }

        let mine = s.record_summary(&sam, RecordRef::Own).await.unwrap();
        assert_eq!(mine.patient_name, "Sam Patel");
        assert_eq!(mine.about_me.as_ref().map(|a| a.goals.as_str()), Some("Walk the dog every day."));
        let latest = |v: &domain::summary::SummaryView, kind: &str| v.readings.iter().find(|r| r.kind == kind).map(|r| r.value.clone());
        assert_eq!(latest(&mine, "Weight").as_deref(), Some("99.0 kg"), "the patient's latest, of any label");
        assert_eq!(latest(&mine, "Blood pressure").as_deref(), Some("140/90 mmHg"));
        let bp = mine.home_bp.as_ref().expect("a week of home readings is averaged");
        assert_eq!((bp.days, bp.used, bp.mean_systolic), (7, 12, 145.0));
        assert_eq!(mine.contacts.len(), 1);
        assert_eq!((mine.contacts[0].name.as_str(), mine.contacts[0].role.as_str()), ("Alex Smith", "Carer (husband, wife or partner)"));
        // No shared care record: the NHS parts are there, and empty, and the status says why.
        assert_eq!(mine.nhs, domain::care_record::SyncStatus::Off);
        assert_eq!(mine.sections.len(), 4);
        assert!(mine.sections.iter().all(|s| s.items.is_empty()));

        // Alex sees general and social care only: the mental health weight is not the latest.
        let theirs = s.record_summary(&alex, RecordRef::Patient(patient)).await.unwrap();
        assert_eq!(latest(&theirs, "Weight").as_deref(), Some("70.5 kg"));
        assert!(!format!("{theirs:?}").contains("99.0"), "{theirs:?}");
        assert_eq!(theirs.labels, [domain::PrivacyLabel::General, domain::PrivacyLabel::SocialCare]);
        assert_eq!(theirs.contacts.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Alex Smith"]);
        // Someone with no access is refused, as for any other page.
        assert!(matches!(s.record_summary(&eve, RecordRef::Patient(patient)).await, Err(ServiceError::Forbidden)));

        let log = s.access_log(&sam, &AccessLogQuery::default()).await.unwrap();
        let words: Vec<&str> = log.rows.iter().map(|r| r.words.as_str()).collect();
        assert!(words.contains(&"Alex Smith (your carer) viewed the summary of your record"), "{words:?}");
        assert!(words.iter().any(|w| w.starts_with("Eve tried to view the summary of your record and was refused")), "{words:?}");
    }
}

conformance! {
    async fn taking_the_record_out_is_a_grant_action_off_unless_the_patient_ticks_it(db) {
        let (s, _) = services(db);
        let (sam, alex, patient) = sam_and_alex(db, &s).await;
        let record = RecordRef::Patient(patient);
        let grants = s.grants(&sam).await.unwrap();
        assert!(!grants[0].can_export, "off unless ticked");
        assert!(!s.record_context(&alex, record).await.unwrap().can_export);
        assert!(!s.caring_for(&alex).await.unwrap()[0].can_export);
        let scope = ScopeForm { labels: vec!["general".into()], can_export: true, ..ScopeForm::default() };
        s.change_grant(&sam, grants[0].id, grants[0].version, &scope).await.unwrap();
        let grants = s.grants(&sam).await.unwrap();
        assert!(grants[0].can_export);
        let last = grants[0].history.last().unwrap();
        assert!(last.contains("now General; view, download and make health links"), "{last}");
        assert!(s.record_context(&alex, record).await.unwrap().can_export);
        assert!(s.caring_for(&alex).await.unwrap()[0].can_export);
        // The patient may always.
        assert!(s.record_context(&sam, RecordRef::Own).await.unwrap().can_export);
    }
}
