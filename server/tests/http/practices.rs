//! GP practices over HTTP on both databases (security.md T1 to T3 and T5 for the new roles): a
//! practice's staff joining by emailed link, a patient's link checked by the administrator, the
//! inbox and review with JavaScript off (form posts), the patient's answer, social care seeing
//! only its label, and every practice route refused to everyone it is not for, alike for an
//! unknown id.

use crate::both;
use crate::harness::TestApp;
use domain::practices::StaffRole;
use domain::{PracticeId, Timestamp, UserId};
use reqwest::header::{ACCEPT, COOKIE, LOCATION};
use reqwest::StatusCode;

const PASSWORD: &str = "kettle lantern orbit meadow";
const CANARY: &str = "CANARY-5d0e-unshared";
const SOCIAL: &str = "Help with shopping";

/// A page's HTML without Leptos's hydration markers.
pub(crate) async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    app.get(path, Some(cookie)).await.text().await.unwrap().replace("<!>", "")
}

pub(crate) async fn json(app: &TestApp, method: &str, endpoint: &str, fields: &[(&str, &str)], cookie: &str) -> (StatusCode, String) {
    let res = if method == "GET" {
        let req = app.client.get(app.url(&format!("/api/{endpoint}"))).query(fields).header(ACCEPT, "application/json");
        req.header(COOKIE, cookie).send().await.unwrap()
    } else {
        app.call(endpoint, fields, Some(cookie)).await
    };
    let status = res.status();
    (status, res.text().await.unwrap())
}

/// What `carry practice create` does, done on the database: a practice whose first
/// administrator already has an account.
async fn practice(app: &TestApp, name: &str, ods: &str, admin: &str) -> (PracticeId, String) {
    let email = format!("{}@{ods}.example.org", admin.replace(' ', ".")).to_lowercase();
    let cookie = app.register(admin, &email, PASSWORD).await;
    let mut conn = app.db.db.conn().await.unwrap();
    let id = PracticeId::from_uuid(uuid::Uuid::new_v4());
    let now = Timestamp::from_millis(crate::harness::START);
    let row = store::practices::PracticeRow { id, name: name.into(), ods_code: ods.into() };
    store::practices::insert_practice(&mut conn, &row, now).await.unwrap();
    let user = store::users::find_user_by_email_key(&mut conn, &email).await.unwrap().unwrap().id;
    assert!(store::practices::upsert_staff(&mut conn, user, id, StaffRole::Admin, None, now).await.unwrap());
    (id, cookie)
}

/// The session behind a cookie, marked as started with a passkey. The ceremony itself runs in
/// Chromium (end2end/passkeys.spec.mjs); here only its outcome matters.
async fn as_passkey_session(app: &TestApp, email: &str) {
    let mut conn = app.db.db.conn().await.unwrap();
    let user: UserId = store::users::find_user_by_email_key(&mut conn, email).await.unwrap().unwrap().id;
    sqlx::query("update sessions set auth_method = 'passkey' where user_id = $1").bind(user.to_string()).execute(&mut *conn).await.unwrap();
}

/// The administrator invites someone, who registers and joins by the emailed link.
async fn staff(app: &TestApp, admin: &str, name: &str, email: &str, job: &str) -> String {
    let (status, body) = json(app, "POST", "practice/invite", &[("name", name), ("email", email), ("job", job)], admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mail = app.mail.wait_for(email, 1).await;
    assert!(mail.text.contains("passkey"), "{}", mail.text);
    let token = mail.link(&app.url("/practice/join/")).rsplit('/').next().unwrap().to_owned();
    let cookie = app.register(name, email, PASSWORD).await;
    assert!(page(app, &format!("/practice/join/{token}"), &cookie).await.contains("You are invited as"));
    let res = app.form_post(&format!("/practice/join/{token}"), "practice/join", &[("token", &token)], Some(&cookie)).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    // The link is single-use.
    let (status, _) = json(app, "POST", "practice/join", &[("token", &token)], &cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    if job != "admin" {
        as_passkey_session(app, email).await;
    }
    cookie
}

pub(crate) struct World {
    pub sam: String,
    pub patient: String,
    /// The fingerprint of Sam's request as the administrator's home shows it.
    pub seen: String,
    gp: String,
    pub admin: String,
    social: String,
    other_gp: String,
    other_admin: String,
    stranger: String,
    shared_note: String,
    social_note: String,
}

/// Riverside (administrator, GP, social care worker) and Hillside (administrator, GP); Sam
/// links to Riverside and shares a note and a social-care note, keeping a canary unshared.
pub(crate) async fn world(app: &TestApp) -> World {
    let (riverside, admin) = practice(app, "Riverside Practice", "A81001", "Jo Lee").await;
    let gp = staff(app, &admin, "Dr Priya Shah", "priya@example.org", "gp").await;
    let social = staff(app, &admin, "Chris Morgan", "chris@example.org", "social-care").await;
    let (_, other_admin) = practice(app, "Hillside Surgery", "B82002", "Ann Hill").await;
    let other_gp = staff(app, &other_admin, "Dr Other", "other@example.org", "gp").await;
    let stranger = app.register("Eve Other", "eve@example.org", PASSWORD).await;
    let sam = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
    let add = |title: &'static str, label: &'static str, share: bool| {
        let sam = sam.clone();
        async move {
            let mut f = vec![("title", title), ("text", title), ("occurred_at", "2026-11-03T09:15"), ("label", label)];
            if share {
                f.push(("share", "on"));
            }
            let res = app.form_post("/record/notes/new", "record/add-note", &f, Some(&sam)).await;
            assert!(res.status().is_redirection(), "{}", res.status());
            res.headers()[LOCATION].to_str().unwrap().trim_start_matches("/record/entries/").split('?').next().unwrap().to_owned()
        }
    };
    let shared_note = add("Dizzy spells", "general", true).await;
    let social_note = add(SOCIAL, "social-care", true).await;
    add(CANARY, "general", false).await;
    // Sam asks to link, without JavaScript; a bad NHS number first.
    let riverside = riverside.to_string();
    let res = app
        .form_post(
            "/record/practice",
            "practice/link",
            &[("practice", &riverside), ("nhs_number", "943 476 5918"), ("born_on", "1980-04-02")],
            Some(&sam),
        )
        .await;
    let back = res.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(!back.contains("asked=1"), "a wrong check digit is refused: {back}");
    let res = app
        .form_post(
            "/record/practice",
            "practice/link",
            &[("practice", &riverside), ("nhs_number", "943 476 5919"), ("born_on", "1980-04-02")],
            Some(&sam),
        )
        .await;
    assert!(res.status().is_redirection());
    let (_, home) = json(app, "GET", "practice/home", &[], &admin).await;
    let home: serde_json::Value = serde_json::from_str(&home).unwrap();
    let patient = home["link_requests"][0]["patient_id"].as_str().unwrap().to_owned();
    assert_eq!(home["link_requests"][0]["nhs_number"], "943 476 5919");
    assert_eq!(home["link_requests"][0]["born_on"], "2 Apr 1980");
    let seen = home["link_requests"][0]["seen"].as_str().unwrap().to_owned();
    World { sam, patient, seen, gp, admin, social, other_gp, other_admin, stranger, shared_note, social_note }
}

both! {
    async fn a_patient_links_and_a_gp_reviews_with_javascript_off(app) {
        let w = world(&app).await;
        // Not yet linked: the GP sees nothing of Sam.
        let (status, _) = json(&app, "GET", "practice/patient", &[("patient", &w.patient)], &w.gp).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let res = app.form_post("/practice", "practice/decide-link", &[("patient", &w.patient), ("seen", &w.seen), ("decision", "accept")], Some(&w.admin)).await;
        assert!(res.status().is_redirection());
        assert!(page(&app, "/record/practice", &w.sam).await.contains("Your record is linked to Riverside Practice"));

        let inbox = page(&app, "/practice/inbox", &w.gp).await;
        assert!(inbox.contains("Sam Patel") && inbox.contains("943 476 5919") && inbox.contains("Dizzy spells"), "{inbox}");
        assert!(!inbox.contains(CANARY), "an unshared entry is absent");
        let patient_page = page(&app, &format!("/practice/patients/{}", w.patient), &w.gp).await;
        assert!(patient_page.contains("Record the decision"), "{patient_page}");
        assert!(!patient_page.contains(CANARY));
        // Ask about the note, as a plain form post with the ticked box.
        let (_, shared) = json(&app, "GET", "practice/patient", &[("patient", &w.patient)], &w.gp).await;
        let shared: serde_json::Value = serde_json::from_str(&shared).unwrap();
        let entry = shared["entries"].as_array().unwrap().iter().find(|e| e["entry"]["id"] == w.shared_note.as_str()).unwrap();
        let value = format!("{}:{}", w.shared_note, entry["entry"]["version"]);
        let fields = [("patient", w.patient.as_str()), ("entries[3]", value.as_str()), ("decision", "ask"), ("message", "How long did it last?")];
        let res = app.form_post(&format!("/practice/patients/{}", w.patient), "practice/review", &fields, Some(&w.gp)).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        assert!(res.headers()[LOCATION].to_str().unwrap().contains("reviewed=1"));
        // The patient reads the question on the entry and answers it.
        let entry_page = page(&app, &format!("/record/entries/{}", w.shared_note), &w.sam).await;
        assert!(entry_page.contains("Dr Priya Shah asked you a question") && entry_page.contains("How long did it last?"), "{entry_page}");
        let res = app
            .form_post(&format!("/record/entries/{}", w.shared_note), "record/answer", &[("id", &w.shared_note), ("answer", "Ten minutes")], Some(&w.sam))
            .await;
        assert!(res.status().is_redirection());
        let after = page(&app, &format!("/practice/patients/{}", w.patient), &w.gp).await;
        assert!(after.contains("The patient answered") && after.contains("Ten minutes"), "{after}");
        // The notification emails say only that there is an update.
        for m in app.mail.all().iter().filter(|m| m.to.iter().any(|t| t.contains("sam@"))) {
            assert!(!m.text.contains("How long") && !m.text.contains("Dizzy") && !m.text.contains(CANARY), "{}", m.text);
        }
        let log = page(&app, "/record/access-log", &w.sam).await;
        assert!(log.contains("Dr Priya Shah at Riverside Practice viewed what you shared with your GP practice"), "{log}");
        assert!(log.contains("Dr Priya Shah at Riverside Practice reviewed an entry in your record"), "{log}");
        // Sam stops sharing with the practice, without JavaScript; the GP's next request sees nothing.
        let res = app.form_post("/record/practice", "practice/unlink", &[], Some(&w.sam)).await;
        assert!(res.headers()[LOCATION].to_str().unwrap().contains("unlinked=1"));
        let (status, _) = json(&app, "GET", "practice/patient", &[("patient", &w.patient)], &w.gp).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(!page(&app, "/practice/inbox", &w.gp).await.contains("Sam Patel"));
    }
}

both! {
    async fn staff_sessions_end_sooner_than_patients(app) {
        let w = world(&app).await;
        assert_eq!(json(&app, "GET", "practice/home", &[], &w.admin).await.0, StatusCode::OK);
        app.advance(domain::Span::minutes(16));
        // 16 minutes idle ends a member of staff's session; a patient's lasts 30.
        for cookie in [&w.admin, &w.gp, &w.social] {
            assert_eq!(json(&app, "GET", "practice/home", &[], cookie).await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(json(&app, "GET", "practice/mine", &[], &w.sam).await.0, StatusCode::OK);
    }
}

both! {
    async fn an_administrator_decides_only_the_request_they_were_shown(app) {
        let w = world(&app).await;
        let (_, mine) = json(&app, "GET", "practice/mine", &[], &w.sam).await;
        let practice = serde_json::from_str::<serde_json::Value>(&mine).unwrap()["link"]["practice"]["id"].as_str().unwrap().to_owned();
        // The administrator has Sam's request open; Sam asks again with another NHS number.
        let again = [("practice", practice.as_str()), ("nhs_number", "943 476 5870"), ("born_on", "1980-04-02")];
        assert!(app.form_post("/record/practice", "practice/link", &again, Some(&w.sam)).await.status().is_redirection());
        // Accepting what was on screen decides nothing, with JavaScript off and on.
        let accept = [("patient", w.patient.as_str()), ("seen", w.seen.as_str()), ("decision", "accept")];
        let res = app.form_post("/practice", "practice/decide-link", &accept, Some(&w.admin)).await;
        let back = res.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(!back.contains("linked=1"), "{back}");
        assert_eq!(json(&app, "POST", "practice/decide-link", &accept, &w.admin).await.0, StatusCode::CONFLICT);
        let decline = [("patient", w.patient.as_str()), ("seen", w.seen.as_str()), ("decision", "decline"), ("reason", "Not ours")];
        assert_eq!(json(&app, "POST", "practice/decide-link", &decline, &w.admin).await.0, StatusCode::CONFLICT);
        let own = page(&app, "/record/practice", &w.sam).await;
        assert!(own.contains("You asked Riverside Practice") && own.contains("943 476 5870"), "{own}");
        // The new request is shown afresh, with its own fingerprint, and that one decides.
        let (_, home) = json(&app, "GET", "practice/home", &[], &w.admin).await;
        let home: serde_json::Value = serde_json::from_str(&home).unwrap();
        assert_eq!(home["link_requests"][0]["nhs_number"], "943 476 5870");
        let seen = home["link_requests"][0]["seen"].as_str().unwrap().to_owned();
        assert_ne!(seen, w.seen);
        let accept = [("patient", w.patient.as_str()), ("seen", seen.as_str()), ("decision", "accept")];
        assert!(app.form_post("/practice", "practice/decide-link", &accept, Some(&w.admin)).await.status().is_redirection());
        let own = page(&app, "/record/practice", &w.sam).await;
        assert!(own.contains("Your record is linked to Riverside Practice (NHS number 943 476 5870)"), "{own}");
        // A request without a date of birth is refused, naming the field.
        let (status, body) = json(&app, "POST", "practice/link", &[("practice", &practice), ("nhs_number", "943 476 5919"), ("born_on", "")], &w.sam).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("born_on"), "{body}");
    }
}

both! {
    async fn every_practice_route_refuses_everyone_it_is_not_for(app) {
        let w = world(&app).await;
        let res = app.form_post("/practice", "practice/decide-link", &[("patient", &w.patient), ("seen", &w.seen), ("decision", "accept")], Some(&w.admin)).await;
        assert!(res.status().is_redirection());
        let unknown = uuid::Uuid::new_v4().to_string();
        // Reading what Sam shared: the GP and the social care worker of Sam's practice only.
        let read = |who: &str| [("patient", if who == "unknown" { unknown.as_str() } else { w.patient.as_str() })];
        for (who, cookie, expected) in [
            ("gp", &w.gp, StatusCode::OK),
            ("social", &w.social, StatusCode::OK),
            ("admin", &w.admin, StatusCode::FORBIDDEN),
            ("other gp", &w.other_gp, StatusCode::FORBIDDEN),
            ("other admin", &w.other_admin, StatusCode::FORBIDDEN),
            ("patient", &w.sam, StatusCode::FORBIDDEN),
            ("stranger", &w.stranger, StatusCode::FORBIDDEN),
        ] {
            let (status, body) = json(&app, "GET", "practice/patient", &read(who), cookie).await;
            assert_eq!(status, expected, "{who}: {body}");
            if status != StatusCode::OK {
                let (unknown_status, unknown_body) = json(&app, "GET", "practice/patient", &read("unknown"), cookie).await;
                assert_eq!((status, body), (unknown_status, unknown_body), "{who}: refused and unknown look the same");
            }
        }
        // The social care worker sees the social-care item only.
        let (_, body) = json(&app, "GET", "practice/patient", &read("social"), &w.social).await;
        assert!(body.contains(SOCIAL) && !body.contains("Dizzy spells") && !body.contains(CANARY), "{body}");
        let social_page = page(&app, &format!("/practice/patients/{}", w.patient), &w.social).await;
        assert!(social_page.contains(SOCIAL) && !social_page.contains("Dizzy spells") && !social_page.contains("Record the decision"));
        // The inbox: clinicians only, and each sees only their own practice's patients.
        assert_eq!(json(&app, "GET", "practice/inbox", &[], &w.gp).await.0, StatusCode::OK);
        let (_, other_inbox) = json(&app, "GET", "practice/inbox", &[], &w.other_gp).await;
        assert!(!other_inbox.contains("Sam Patel"), "{other_inbox}");
        for cookie in [&w.social, &w.admin, &w.sam, &w.stranger] {
            assert_eq!(json(&app, "GET", "practice/inbox", &[], cookie).await.0, StatusCode::FORBIDDEN);
        }
        // Reviewing: the GP of Sam's practice only.
        let value = format!("{}:1", w.social_note);
        let review = [("patient", w.patient.as_str()), ("entries[0]", value.as_str()), ("decision", "note")];
        for cookie in [&w.social, &w.admin, &w.other_gp, &w.sam, &w.stranger] {
            assert_eq!(json(&app, "POST", "practice/review", &review, cookie).await.0, StatusCode::FORBIDDEN);
        }
        // Social care notes: the social care worker only.
        let note = [("patient", w.patient.as_str()), ("title", "Visit"), ("text", "Friday")];
        for cookie in [&w.gp, &w.admin, &w.other_gp, &w.sam, &w.stranger] {
            assert_eq!(json(&app, "POST", "practice/care-note", &note, cookie).await.0, StatusCode::FORBIDDEN);
        }
        assert_eq!(json(&app, "POST", "practice/care-note", &note, &w.social).await.0, StatusCode::OK);
        // Deciding links and managing staff: the practice's own administrator only.
        let decide = [("patient", w.patient.as_str()), ("seen", w.seen.as_str()), ("decision", "decline"), ("reason", "not ours")];
        for cookie in [&w.gp, &w.social, &w.other_admin, &w.sam, &w.stranger] {
            assert_eq!(json(&app, "POST", "practice/decide-link", &decide, cookie).await.0, StatusCode::FORBIDDEN);
        }
        let invite = [("name", "Mal"), ("email", "mal@example.org"), ("job", "gp")];
        for cookie in [&w.gp, &w.social, &w.sam, &w.stranger] {
            assert_eq!(json(&app, "POST", "practice/invite", &invite, cookie).await.0, StatusCode::FORBIDDEN);
        }
        // Retrying a send to the shared care record: administrators only, and only their own
        // practice's sends (another's, or none, is "not found").
        let retry = [("send", unknown.as_str())];
        for cookie in [&w.gp, &w.social, &w.sam, &w.stranger] {
            assert_eq!(json(&app, "POST", "practice/retry-send", &retry, cookie).await.0, StatusCode::FORBIDDEN);
        }
        assert_eq!(json(&app, "POST", "practice/retry-send", &retry, &w.other_admin).await.0, StatusCode::NOT_FOUND);
        // Looking a held match up again: administrators only; a record not held (Sam's, or none
        // at all, or another practice's) is "not found".
        for patient in [w.patient.as_str(), unknown.as_str()] {
            let recheck = [("patient", patient)];
            for cookie in [&w.gp, &w.social, &w.sam, &w.stranger] {
                assert_eq!(json(&app, "POST", "practice/recheck-match", &recheck, cookie).await.0, StatusCode::FORBIDDEN);
            }
            for cookie in [&w.admin, &w.other_admin] {
                assert_eq!(json(&app, "POST", "practice/recheck-match", &recheck, cookie).await.0, StatusCode::NOT_FOUND);
            }
        }
        let admin_home = page(&app, "/practice", &w.admin).await;
        assert!(admin_home.contains("Sending to the shared care record") && admin_home.contains("No shared care record is connected"), "{admin_home}");
        // A GP signed in with a password alone is told to use a passkey, and sees nothing.
        let password_gp = app.sign_in("priya@example.org", PASSWORD).await.unwrap();
        let (status, body) = json(&app, "GET", "practice/inbox", &[], &password_gp).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("passkey"), "{body}");
        assert!(page(&app, "/practice", &password_gp).await.contains("Add a passkey on your account page"));
        // Extra fields are refused, naming them, and nothing is applied (T5).
        let forged = [("patient", w.patient.as_str()), ("entries[0]", value.as_str()), ("decision", "accept"), ("practice_id", "x"), ("role", "gp")];
        let (status, body) = json(&app, "POST", "practice/review", &forged, &w.gp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("\u{201c}practice_id\u{201d}") && body.contains("\u{201c}role\u{201d}"), "{body}");
        let link = [("practice", "x"), ("nhs_number", "9434765919"), ("born_on", "1980-04-02"), ("status", "linked")];
        assert_eq!(json(&app, "POST", "practice/link", &link, &w.stranger).await.0, StatusCode::BAD_REQUEST);
        // No page the other practice's staff open carries Sam's canary or name.
        for path in ["/practice", "/practice/inbox", &format!("/practice/patients/{}", w.patient)] {
            let body = page(&app, path, &w.other_gp).await;
            assert!(!body.contains("Sam Patel") && !body.contains(CANARY) && !body.contains(SOCIAL), "{path}");
        }
        // Every refusal is in Sam's log.
        let log = page(&app, "/record/access-log?outcome=refused", &w.sam).await;
        assert!(log.contains("Dr Other at Hillside Surgery tried to view what you shared with your GP practice and was refused"), "{log}");
    }
}
