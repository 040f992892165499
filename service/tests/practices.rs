//! GP practices through the service layer on both databases: a practice and its staff by
//! emailed invitation, a patient's link checked by an administrator, the review inbox with the
//! home blood pressure summary, accept / note / reject / ask and the patient's answer, social
//! care workers seeing only what is labelled for them, staff of another practice seeing nothing,
//! and every look in the patient's access log (security.md T1, T2, T3 for the new roles).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

use domain::practice_views::InboxPatientView;
use domain::practices::{InboxState, ReviewStep};
use domain::{PatientId, Span};
use service::review::ReviewForm;
use service::{AccessLogQuery, PrivacyForm, RecordRef, ServiceError, Services, SignedIn, TimelineQuery};
use store::conformance;
use uuid::Uuid;

/// A week of home readings, twice a day, 14 Nov to 20 Nov.
async fn week_of_bp(s: &Services, sam: &SignedIn) {
    for day in 14..=20 {
        s.add_reading(sam, RecordRef::Own, &bp(142, 88, &format!("2026-11-{day}T08:00")), &shared("general")).await.unwrap();
        s.add_reading(sam, RecordRef::Own, &bp(138, 86, &format!("2026-11-{day}T20:00")), &shared("general")).await.unwrap();
    }
}

fn waiting_ids(p: &InboxPatientView, title: &str) -> Vec<String> {
    p.entries.iter().filter(|e| e.waiting && e.entry.title == title).map(|e| format!("{}:{}", e.entry.id, e.entry.version)).collect()
}

conformance! {
    async fn the_whole_review_journey(db) {
        let (s, _) = services(db);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, sam_email) = person(db, "Sam Patel").await;
        // A wrong check digit is refused, naming the field.
        match s.request_link(&sam, &p.id.to_string(), "943 476 5918", BORN).await {
            Err(ServiceError::Validation(v)) => assert_eq!(v.0[0].field, "nhs_number"),
            other => panic!("{other:?}"),
        }
        s.request_link(&sam, &p.id.to_string(), VALID_NHS, BORN).await.unwrap();
        let patient = s.staff_home(&p.admin).await.unwrap().link_requests[0].patient_id;
        // Until the practice accepts, its clinicians see nothing.
        s.add_note(&sam, RecordRef::Own, &note("Early note", "shared before the link"), &shared("general")).await.unwrap();
        assert!(matches!(s.shared_record(&p.gp, patient).await, Err(ServiceError::Forbidden)));
        assert!(s.inbox(&p.gp, "").await.unwrap().patients.is_empty());
        // The administrator sees no clinical content.
        assert!(matches!(s.shared_record(&p.admin, patient).await, Err(ServiceError::Forbidden)));
        s.decide_link(&p.admin, patient, &seen(&s, &p, patient).await, true, "").await.unwrap();
        assert_eq!(s.my_practice(&sam).await.unwrap().link.unwrap().status, domain::practices::LinkStatus::Linked);
        assert!(mail_to(db, &sam_email).await.contains("There is an update in Carry"));

        week_of_bp(&s, &sam).await;
        s.add_note(&sam, RecordRef::Own, &note("Dizzy spells", "I felt dizzy on Tuesday"), &shared("general")).await.unwrap();
        s.add_note(&sam, RecordRef::Own, &note(CANARY, CANARY), &PrivacyForm { label: "mental-health".into(), share: false }).await.unwrap();

        // A GP without a passkey session is told so, before anything is read.
        let password_gp = SignedIn { passkey: false, ..p.gp.clone() };
        assert!(matches!(s.inbox(&password_gp, "").await, Err(ServiceError::PasskeyRequired)));

        let inbox = s.inbox(&p.gp, "").await.unwrap();
        assert_eq!((inbox.waiting_patients, inbox.waiting_entries), (1, 16));
        let line = &inbox.patients[0];
        assert_eq!(line.nhs_number, VALID_NHS);
        assert_eq!(line.entries.len(), 16, "14 readings and 2 notes; nothing unshared");
        assert!(!format!("{inbox:?}").contains(CANARY));
        let bp = line.home_bp.clone().expect("the home blood pressure summary");
        assert_eq!((bp.days, bp.readings, bp.used), (7, 14, 12));
        assert_eq!((bp.mean_systolic, bp.mean_diastolic), (140.0, 87.0));
        assert_eq!(bp.verdict, domain::home_bp::Verdict::AtOrAboveThreshold);

        // Accept the readings in one go; ask about the note.
        let record = s.shared_record(&p.gp, patient).await.unwrap();
        let readings = waiting_ids(&record, "Blood pressure");
        assert_eq!(readings.len(), 14);
        let accept = ReviewForm { entries: readings.clone(), decision: "accept".into(), message: String::new() };
        assert_eq!(s.review_entries(&p.gp, patient, &accept).await.unwrap(), 14);
        // Deciding again is refused: they are done.
        assert!(matches!(s.review_entries(&p.gp, patient, &accept).await, Err(ServiceError::Validation(_))));
        let dizzy = waiting_ids(&record, "Dizzy spells");
        let no_question = ReviewForm { entries: dizzy.clone(), decision: "ask".into(), message: " ".into() };
        match s.review_entries(&p.gp, patient, &no_question).await {
            Err(ServiceError::Validation(v)) => assert_eq!(v.0[0].field, "message"),
            other => panic!("{other:?}"),
        }
        let ask = ReviewForm { entries: dizzy.clone(), decision: "ask".into(), message: "How long did it last?".into() };
        s.review_entries(&p.gp, patient, &ask).await.unwrap();

        // The patient sees each outcome and the question, and answers.
        let dizzy_id: domain::EntryId = dizzy[0].split(':').next().unwrap().parse().unwrap();
        let reading_id: domain::EntryId = readings[0].split(':').next().unwrap().parse().unwrap();
        let r = s.entry(&sam, RecordRef::Own, reading_id).await.unwrap();
        assert_eq!(r.reviews[0].step, ReviewStep::Accepted);
        assert!(r.reviews[0].patient_line().starts_with("Reviewed by Dr Priya Shah on 22 Nov 2026: accepted into your record"));
        let n = s.entry(&sam, RecordRef::Own, dizzy_id).await.unwrap();
        assert!(n.question_waiting);
        assert_eq!(n.reviews[0].message.as_deref(), Some("How long did it last?"));
        let mail = mail_to(db, &sam_email).await;
        assert!(!mail.contains("How long") && !mail.contains("Dizzy") && !mail.contains("142/88"), "notification mail says only that there is an update");
        assert!(matches!(s.answer_question(&sam, RecordRef::Own, dizzy_id, "").await, Err(ServiceError::Validation(_))));
        s.answer_question(&sam, RecordRef::Own, dizzy_id, "About ten minutes").await.unwrap();
        assert!(!s.entry(&sam, RecordRef::Own, dizzy_id).await.unwrap().question_waiting);
        // The answer is back in the GP's inbox, with the question and the answer.
        let inbox = s.inbox(&p.gp, "").await.unwrap();
        let back: Vec<_> = inbox.patients[0].entries.iter().filter(|e| e.entry.id == dizzy_id).collect();
        assert_eq!(back.len(), 1);
        let again = s.shared_record(&p.gp, patient).await.unwrap();
        let steps = &again.entries.iter().find(|e| e.entry.id == dizzy_id).unwrap().steps;
        assert_eq!(steps.iter().map(|s| s.step).collect::<Vec<_>>(), vec![ReviewStep::Asked, ReviewStep::Answered]);
        assert_eq!(steps[1].message.as_deref(), Some("About ten minutes"));

        // Every look is in Sam's log, by name and practice.
        let log = s.access_log(&sam, &AccessLogQuery::default()).await.unwrap();
        let words: Vec<String> = log.rows.iter().map(|r| r.words.clone()).collect();
        assert!(words.iter().any(|w| w == "Dr Priya Shah at Riverside Practice viewed what you shared with your GP practice"), "{words:?}");
        assert!(words.iter().any(|w| w == "Dr Priya Shah at Riverside Practice reviewed an entry in your record"), "{words:?}");
        assert!(words.iter().any(|w| w.contains("(practice administrator) checked your request")), "{words:?}");
        assert!(words.iter().any(|w| w.contains("tried to view what you shared") && w.contains("refused")), "the early refusal: {words:?}");
    }
}

conformance! {
    async fn social_care_sees_only_social_care_and_other_practices_see_nothing(db) {
        let (s, _) = services(db);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let other = practice(db, &s, "Hillside Surgery", "B82002").await;
        let (sam, _, patient) = linked(db, &s, &p, "Sam Patel", VALID_NHS).await;
        s.add_note(&sam, RecordRef::Own, &note("Help at home", "I need help with shopping"), &shared("social-care")).await.unwrap();
        s.add_note(&sam, RecordRef::Own, &note(CANARY, CANARY), &shared("general")).await.unwrap();

        let home = s.staff_home(&p.social).await.unwrap();
        assert_eq!(home.care_patients.iter().map(|c| c.patient_id).collect::<Vec<_>>(), vec![patient]);
        let seen = s.shared_record(&p.social, patient).await.unwrap();
        assert_eq!(seen.entries.len(), 1);
        assert_eq!(seen.entries[0].entry.title, "Help at home");
        assert!(!format!("{seen:?}").contains(CANARY), "a general entry is absent for social care");
        // Social care workers neither review nor use the clinicians' inbox.
        assert!(matches!(s.inbox(&p.social, "").await, Err(ServiceError::Forbidden)));
        let id = format!("{}:{}", seen.entries[0].entry.id, seen.entries[0].entry.version);
        let form = ReviewForm { entries: vec![id], decision: "accept".into(), message: String::new() };
        assert!(matches!(s.review_entries(&p.social, patient, &form).await, Err(ServiceError::Forbidden)));
        // A social care note the patient can read.
        s.add_care_note(&p.social, patient, &note("Visit booked", "Carer visit on Friday")).await.unwrap();
        let t = s.timeline(&sam, RecordRef::Own, &TimelineQuery::default()).await.unwrap();
        let visit = t.entries.iter().find(|e| e.title == "Visit booked").expect("the care note on Sam's timeline");
        assert_eq!(visit.label, domain::PrivacyLabel::SocialCare);
        assert_eq!(visit.entered_by, "Chris Morgan for you");
        // The practice's own social care note does not wait in its GP inbox.
        assert!(s.inbox(&p.gp, "").await.unwrap().patients.iter().all(|l| l.entries.iter().all(|e| e.entry.title != "Visit booked")));
        // A clinician cannot add social care notes.
        assert!(matches!(s.add_care_note(&p.gp, patient, &note("x", "y")).await, Err(ServiceError::Forbidden)));

        // The other practice's staff see nothing, and a stranger's id looks the same as Sam's.
        let stranger = PatientId::from_uuid(Uuid::new_v4());
        for who in [&other.gp, &other.social] {
            let a = s.shared_record(who, patient).await.unwrap_err();
            let b = s.shared_record(who, stranger).await.unwrap_err();
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
            assert!(matches!(a, ServiceError::Forbidden));
        }
        assert!(s.inbox(&other.gp, "").await.unwrap().patients.is_empty());
        assert!(s.staff_home(&other.social).await.unwrap().care_patients.is_empty());
        assert!(matches!(s.decide_link(&other.admin, patient, "", false, "not ours").await, Err(ServiceError::Forbidden)));
        let form = ReviewForm { entries: vec![], decision: "accept".into(), message: String::new() };
        assert!(matches!(s.review_entries(&other.gp, patient, &ReviewForm { entries: vec![format!("{}:1", Uuid::new_v4())], ..form }).await, Err(ServiceError::Forbidden)));
        // Sam stops sharing with the practice: at once its staff see nothing.
        s.unlink_practice(&sam).await.unwrap();
        assert!(matches!(s.shared_record(&p.gp, patient).await, Err(ServiceError::Forbidden)));
        assert!(matches!(s.shared_record(&p.social, patient).await, Err(ServiceError::Forbidden)));
        assert!(s.staff_home(&p.social).await.unwrap().care_patients.is_empty());
        assert!(s.inbox(&p.gp, "").await.unwrap().patients.is_empty());
        assert!(s.my_practice(&sam).await.unwrap().link.is_none());
        assert!(matches!(s.unlink_practice(&sam).await, Err(ServiceError::NotFound)));
        // A patient and a carer are not staff.
        assert!(matches!(s.inbox(&sam, "").await, Err(ServiceError::Forbidden)));
        assert!(matches!(s.shared_record(&sam, patient).await, Err(ServiceError::Forbidden)));
    }
}

conformance! {
    async fn the_inbox_follows_the_entries_and_the_link(db) {
        let (s, clock) = services(db);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _, patient) = linked(db, &s, &p, "Sam Patel", VALID_NHS).await;
        let first = s.add_note(&sam, RecordRef::Own, &note("First", "one"), &shared("general")).await.unwrap();
        clock.advance(Span::minutes(5));
        // A concerning value puts the patient first whatever the wait.
        let (kim, _, kim_patient) = linked(db, &s, &p, "Kim Jones", KIM_NHS).await;
        s.add_reading(&kim, RecordRef::Own, &bp(185, 125, "2026-11-22T09:30"), &shared("general")).await.unwrap();
        let inbox = s.inbox(&p.gp, "").await.unwrap();
        assert_eq!(inbox.patients.iter().map(|l| l.patient_id).collect::<Vec<_>>(), vec![kim_patient, patient]);
        assert!(inbox.patients[0].flagged && !inbox.patients[1].flagged);
        // Unsharing takes an entry out; sharing again brings it back.
        let v = s.entry(&sam, RecordRef::Own, first).await.unwrap().summary.version;
        s.set_entry_privacy(&sam, RecordRef::Own, first, v, &PrivacyForm { label: "general".into(), share: false }).await.unwrap();
        assert_eq!(s.inbox(&p.gp, "").await.unwrap().patients.len(), 1);
        // A decided entry that the patient changes comes back for review.
        let v = s.entry(&sam, RecordRef::Own, first).await.unwrap().summary.version;
        s.set_entry_privacy(&sam, RecordRef::Own, first, v, &shared("general")).await.unwrap();
        let v = s.entry(&sam, RecordRef::Own, first).await.unwrap().summary.version;
        // A stale version is refused: the patient changed it after the GP opened it.
        let stale = ReviewForm { entries: vec![format!("{first}:{}", v - 1)], decision: "note".into(), message: String::new() };
        assert!(matches!(s.review_entries(&p.gp, patient, &stale).await, Err(ServiceError::Stale)));
        let form = ReviewForm { entries: vec![format!("{first}:{v}")], decision: "note".into(), message: String::new() };
        s.review_entries(&p.gp, patient, &form).await.unwrap();
        assert_eq!(s.inbox(&p.gp, "").await.unwrap().patients.len(), 1, "only Kim waits");
        // An entry of Sam's that is not shared with the practice is "not found", and logged.
        let private = s.add_note(&sam, RecordRef::Own, &note("Private", "mine"), &PrivacyForm::default()).await.unwrap();
        let probe = ReviewForm { entries: vec![format!("{private}:1")], decision: "note".into(), message: String::new() };
        assert!(matches!(s.review_entries(&p.gp, patient, &probe).await, Err(ServiceError::NotFound)));
        let refused = s.access_log(&sam, &AccessLogQuery { outcome: "refused".into(), ..AccessLogQuery::default() }).await.unwrap();
        assert!(refused.rows.iter().any(|r| r.words.contains("tried to review an entry in your record")), "{:?}", refused.rows);
        s.edit_note(&sam, RecordRef::Own, first, v, &note("First", "one, corrected")).await.unwrap();
        let mut conn = db.conn().await.unwrap();
        assert_eq!(store::reviews::find_inbox(&mut conn, first).await.unwrap().unwrap().state, InboxState::Waiting);
        drop(conn);
        // Asking to link elsewhere takes everything out of the old practice's inbox at once.
        let other = practice(db, &s, "Hillside Surgery", "B82002").await;
        s.request_link(&sam, &other.id.to_string(), VALID_NHS, BORN).await.unwrap();
        assert_eq!(s.inbox(&p.gp, "").await.unwrap().patients.iter().map(|l| l.patient_id).collect::<Vec<_>>(), vec![kim_patient]);
        assert!(matches!(s.shared_record(&p.gp, patient).await, Err(ServiceError::Forbidden)));
        // An ended job ends access on the next request.
        s.remove_staff(&p.admin, p.gp.user_id).await.unwrap();
        let gone = fresh(db, &p.gp).await;
        assert!(matches!(s.inbox(&gone, "").await, Err(ServiceError::Forbidden)));
        // The NHS number is unique among a practice's linked records.
        let (lee, _) = person(db, "Lee").await;
        s.request_link(&lee, &p.id.to_string(), KIM_NHS, BORN).await.unwrap();
        let lee_patient = s.staff_home(&p.admin).await.unwrap().link_requests.iter().find(|r| r.name == "Lee").unwrap().patient_id;
        let lee_seen = seen(&s, &p, lee_patient).await;
        assert!(matches!(s.decide_link(&p.admin, lee_patient, &lee_seen, true, "").await, Err(ServiceError::Validation(_))));
        // Declining needs a reason, which the patient reads.
        assert!(matches!(s.decide_link(&p.admin, lee_patient, &lee_seen, false, " ").await, Err(ServiceError::Validation(_))));
        s.decide_link(&p.admin, lee_patient, &lee_seen, false, "The NHS number belongs to another patient").await.unwrap();
        let mine = s.my_practice(&lee).await.unwrap().link.unwrap();
        assert_eq!(mine.decline_reason.as_deref(), Some("The NHS number belongs to another patient"));
    }
}

conformance! {
    async fn an_accept_decides_only_the_details_the_administrator_was_shown(db) {
        let (s, clock) = services(db);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _) = person(db, "Sam Patel").await;
        // Every patient gives a date of birth, a real one, not in the future.
        for (born, field) in [("", "born_on"), ("31/02/1980", "born_on"), ("2090-01-01", "born_on")] {
            match s.request_link(&sam, &p.id.to_string(), VALID_NHS, born).await {
                Err(ServiceError::Validation(v)) => assert_eq!(v.0[0].field, field, "{born}"),
                other => panic!("{born}: {other:?}"),
            }
        }
        s.request_link(&sam, &p.id.to_string(), VALID_NHS, BORN).await.unwrap();
        let home = s.staff_home(&p.admin).await.unwrap();
        let shown = home.link_requests[0].clone();
        assert_eq!((shown.nhs_number.as_str(), shown.born_on.as_deref()), ("943 476 5919", Some("2 Apr 1980")));
        let patient = shown.patient_id;
        // With the administrator's page open, the patient asks again with another NHS number,
        // then with another date of birth: neither accept nor decline of what was shown decides.
        clock.advance(Span::minutes(1));
        s.request_link(&sam, &p.id.to_string(), KIM_NHS, BORN).await.unwrap();
        assert!(matches!(s.decide_link(&p.admin, patient, &shown.seen, true, "").await, Err(ServiceError::Stale)));
        assert!(matches!(s.decide_link(&p.admin, patient, &shown.seen, false, "Not ours").await, Err(ServiceError::Stale)));
        let second = seen(&s, &p, patient).await;
        clock.advance(Span::minutes(1));
        s.request_link(&sam, &p.id.to_string(), KIM_NHS, "1980-04-03").await.unwrap();
        assert!(matches!(s.decide_link(&p.admin, patient, &second, true, "").await, Err(ServiceError::Stale)));
        // Nor does a made-up fingerprint.
        assert!(matches!(s.decide_link(&p.admin, patient, "0123", true, "").await, Err(ServiceError::Stale)));
        let mine = s.my_practice(&sam).await.unwrap().link.unwrap();
        assert_eq!(mine.status, domain::practices::LinkStatus::Requested);
        assert_eq!((mine.nhs_number.as_str(), mine.born_on.as_deref()), ("943 476 5870", Some("3 Apr 1980")));
        // The request as it is now, looked at afresh, is decided.
        s.decide_link(&p.admin, patient, &seen(&s, &p, patient).await, true, "").await.unwrap();
        let mine = s.my_practice(&sam).await.unwrap().link.unwrap();
        assert_eq!((mine.status, mine.nhs_number.as_str()), (domain::practices::LinkStatus::Linked, "943 476 5870"));
        // Asking again with the same details as the link is refused; with other details it is a
        // new request that needs a new look.
        assert!(matches!(s.request_link(&sam, &p.id.to_string(), KIM_NHS, "1980-04-03").await, Err(ServiceError::Validation(_))));
        s.request_link(&sam, &p.id.to_string(), KIM_NHS, BORN).await.unwrap();
        assert_eq!(s.my_practice(&sam).await.unwrap().link.unwrap().status, domain::practices::LinkStatus::Requested);
    }
}

conformance! {
    async fn a_review_step_on_a_version_a_viewer_may_not_see_is_absent_for_them(db) {
        let (s, _) = services(db);
        let p = practice(db, &s, "Riverside Practice", "A81001").await;
        let (sam, _, patient) = linked(db, &s, &p, "Sam Patel", VALID_NHS).await;
        // Version 1, labelled mental health, shared; the GP asks about it.
        let id = s.add_note(&sam, RecordRef::Own, &note("Low days", "Struggling since the spring"), &shared("mental-health")).await.unwrap();
        let ask = ReviewForm { entries: vec![format!("{id}:1")], decision: "ask".into(), message: format!("{CANARY} how is your mood?") };
        s.review_entries(&p.gp, patient, &ask).await.unwrap();
        // Sam relabels it social care (version 2), so a general-and-social-care carer and the
        // practice's social care worker may see the entry, but not version 1.
        s.set_entry_privacy(&sam, RecordRef::Own, id, 1, &shared("social-care")).await.unwrap();
        let (alex, alex_email) = person(db, "Alex Smith").await;
        let form = service::InviteForm { name: "Alex".into(), email: alex_email.clone(), relationship: "SPS".into(), basis: String::new(),
            scope: service::ScopeForm { labels: vec!["general".into(), "social-care".into()], can_add: false, ..Default::default() } };
        s.invite_carer(&sam, &form).await.unwrap();
        s.accept_invitation(&alex, &mail_token(db, &alex_email, "/invitations/").await).await.unwrap();
        let theirs = s.entry(&alex, RecordRef::Patient(patient), id).await.unwrap();
        assert!(theirs.reviews.is_empty(), "{:?}", theirs.reviews);
        assert!(!theirs.question_waiting, "the question is about a version they may not see");
        assert_eq!((theirs.summary.version, theirs.history.len()), (0, 1), "no number counts the hidden version");
        assert!(!format!("{theirs:?}").contains(CANARY));
        let social = s.shared_record(&p.social, patient).await.unwrap();
        let entry = social.entries.iter().find(|e| e.entry.id == id).expect("the social care worker sees the entry");
        assert!(entry.steps.is_empty(), "{:?}", entry.steps);
        assert!(!format!("{social:?}").contains(CANARY));
        // Sam, and the GP, see the question.
        let mine = s.entry(&sam, RecordRef::Own, id).await.unwrap();
        assert_eq!(mine.reviews.len(), 1);
        assert!(mine.question_waiting && mine.summary.version == 2);
        let gp = s.shared_record(&p.gp, patient).await.unwrap();
        assert_eq!(gp.entries.iter().find(|e| e.entry.id == id).unwrap().steps.len(), 1);
        // Sam answers, on version 2: the carer and the social care worker see the answer (about
        // a version they may see), never the question.
        s.answer_question(&sam, RecordRef::Own, id, "Better now, thank you").await.unwrap();
        let theirs = s.entry(&alex, RecordRef::Patient(patient), id).await.unwrap();
        assert_eq!(theirs.reviews.iter().map(|r| r.step).collect::<Vec<_>>(), vec![ReviewStep::Answered]);
        assert!(!format!("{theirs:?}").contains(CANARY));
    }
}
