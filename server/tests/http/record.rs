//! The patient's record over HTTP: forms without JavaScript, status codes for the page's
//! JavaScript, escaping, charts drawn on the server, and other people's entries.

use crate::both;
use crate::harness::{error_json, TestApp};
use reqwest::header::{LOCATION, ORIGIN};
use reqwest::StatusCode;

const PASSWORD: &str = "kettle lantern orbit meadow";
// The test clock starts at 3 Nov 2026 14:02 UTC (GMT).
const EARLIER: &str = "2026-11-03T09:15";

async fn add_bp(app: &TestApp, cookie: &str, sys: &str, dia: &str) -> String {
    let fields =
        [("kind", "blood-pressure"), ("value", sys), ("diastolic", dia), ("pulse", ""), ("occurred_at", EARLIER), ("label", "general")];
    let res = app.form_post("/record/readings/new?kind=blood-pressure", "record/add-reading", &fields, Some(cookie)).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to.starts_with("/record/entries/") && to.ends_with("?added=1"), "{to}");
    to.trim_start_matches("/record/entries/").trim_end_matches("?added=1").to_owned()
}

both! {
    async fn a_reading_posted_without_javascript_is_saved_and_shown_with_its_advice(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let id = add_bp(&app, &cookie, "182", "95").await;
        let page = app.get(&format!("/record/entries/{id}?added=1"), Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("182/95 mmHg"));
        assert!(html.contains("This blood pressure is very high."), "the concern is flagged");
        assert!(html.contains("NHS 111"));
        assert!(html.contains("3 Nov 2026, 09:15"));
        let timeline = app.get("/record", Some(&cookie)).await.text().await.unwrap();
        assert!(timeline.contains("182/95 mmHg"));
    }
}

both! {
    async fn an_impossible_value_is_refused_with_the_field_and_range_and_nothing_is_saved(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let fields = [("kind", "oxygen-saturation"), ("value", "140"), ("occurred_at", EARLIER)];
        let res = app.call("record/add-reading", &fields, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body = error_json(res).await;
        assert_eq!(body["Invalid"][0]["field"], "value");
        assert!(body["Invalid"][0]["message"].as_str().unwrap().contains("between 50 and 100 %"));
        // Without JavaScript the browser is sent back to the form, which shows the message.
        let res = app.form_post("/record/readings/new?kind=oxygen-saturation", "record/add-reading", &fields, Some(&cookie)).await;
        assert!(res.status().is_redirection());
        let back = res.headers()[LOCATION].to_str().unwrap().trim_start_matches(&app.base).to_owned();
        assert!(back.starts_with("/record/readings/new?kind=oxygen-saturation&"), "{back}");
        let form = app.get(&back, Some(&cookie)).await.text().await.unwrap();
        assert!(form.contains("between 50 and 100 %"), "the error is on the page");
        let timeline = app.get("/api/record/timeline", Some(&cookie)).await.text().await.unwrap();
        assert!(timeline.contains("\"entries\":[]"), "{timeline}");
    }
}

both! {
    async fn a_note_is_shown_as_text_never_as_html(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let fields = [("title", "</title><b>Bad</b> night"), ("text", "<script>alert(1)</script>\nSlept 3 hours."), ("tags", ""), ("occurred_at", EARLIER)];
        let res = app.form_post("/record/notes/new", "record/add-note", &fields, Some(&cookie)).await;
        let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
        let html = app.get(&to, Some(&cookie)).await.text().await.unwrap();
        // Not in the page, and not in its <title> either (which a title could break out of).
        assert!(!html.contains("<script>alert(1)</script>") && !html.contains("<b>Bad</b>") && !html.contains("</title><b>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}

both! {
    async fn another_persons_entry_is_not_found_and_cannot_be_changed(app) {
        let sam = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let alex = app.register("Alex Kim", "alex@example.org", PASSWORD).await;
        let id = add_bp(&app, &sam, "120", "80").await;
        // Alex has a record of his own, so the lookups below run against it.
        add_bp(&app, &alex, "130", "85").await;
        let res = app.client.get(app.url(&format!("/api/record/entry?id={id}"))).header("cookie", &alex).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let privacy = [("id", id.as_str()), ("version", "1"), ("label", "general"), ("share", "yes")];
        for (endpoint, fields) in [("record/delete", &privacy[..2]), ("record/restore", &privacy[..2]), ("record/set-privacy", &privacy[..])] {
            let res = app.call(endpoint, fields, Some(&alex)).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{endpoint}");
        }
        let html = app.get(&format!("/record/entries/{id}"), Some(&alex)).await.text().await.unwrap();
        assert!(html.contains("We could not find that") && !html.contains("120/80"));
        let res = app.client.get(app.url(&format!("/api/record/entry?id={id}"))).header("cookie", &sam).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "still there for its owner");
        let body = res.text().await.unwrap();
        assert!(body.contains("\"version\":1") && body.contains("\"shared_with_practice\":false"), "and unchanged: {body}");
    }
}

both! {
    async fn the_record_needs_sign_in(app) {
        let res = app.call("record/add-reading", &[("kind", "weight"), ("value", "70"), ("occurred_at", EARLIER)], None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = app.get("/record", None).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        assert_eq!(res.headers()[LOCATION], "/sign-in?next=/record");
    }
}

both! {
    async fn a_stale_edit_is_a_conflict_and_changes_nothing(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let id = add_bp(&app, &cookie, "140", "90").await;
        let edit = |v: &'static str, sys: &'static str| {
            vec![("id", id.clone()), ("version", v.to_owned()), ("value", sys.to_owned()), ("diastolic", "85".to_owned()), ("occurred_at", EARLIER.to_owned())]
        };
        let first: Vec<(&str, String)> = edit("1", "135");
        let pairs: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(app.call("record/edit-reading", &pairs, Some(&cookie)).await.status(), StatusCode::OK);
        let second = edit("1", "150");
        let pairs: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.call("record/edit-reading", &pairs, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let html = app.get(&format!("/record/entries/{id}"), Some(&cookie)).await.text().await.unwrap();
        assert!(html.contains("135/85 mmHg") && html.contains("Value changed from 140/90 mmHg to 135/85 mmHg"));
        assert!(!html.contains("150/85"));
    }
}

both! {
    async fn a_chart_is_an_svg_with_the_same_readings_in_a_table_without_javascript(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        add_bp(&app, &cookie, "150", "95").await;
        add_bp(&app, &cookie, "128", "82").await;
        let html = app.get("/record/charts/blood-pressure?period=30d", Some(&cookie)).await.text().await.unwrap();
        assert!(html.contains("<svg") && html.contains("<polyline") && html.contains("class=\"band\""));
        assert_eq!(html.matches("<circle").count(), 2, "a circle for each systolic");
        let bands = html.matches("class=\"band\"").count();
        assert_eq!((bands, html.matches("<rect").count() - bands), (2, 2), "two shaded ranges, and a square for each diastolic");
        assert!(html.contains("<table") && html.contains("<tbody>") && html.contains("150/95") && html.contains("128/82"));
        assert!(html.contains("Usual range for systolic: 90 to 135 mmHg"));
        let res = app.get("/record/charts/mood", Some(&cookie)).await.text().await.unwrap();
        assert!(res.contains("We could not find that"));
    }
}

both! {
    async fn a_cross_site_form_cannot_add_to_a_record_t12(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let res = app
            .client
            .post(app.url("/api/record/add-note"))
            .header(ORIGIN, "https://evil.example")
            .header("cookie", &cookie)
            .form(&[("title", "x"), ("text", "y"), ("occurred_at", EARLIER)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let timeline = app.get("/api/record/timeline", Some(&cookie)).await.text().await.unwrap();
        assert!(timeline.contains("\"entries\":[]"));
    }
}
