//! Registration by emailed link, and the password rules (T6).

use crate::both;
use crate::harness::{error_json, session_cookie};
use reqwest::StatusCode;

both! {
    async fn health_reports_the_database_it_reached(app) {
        let res = app.client.get(app.url("/health")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert!(body["database"] == "sqlite" || body["database"] == "postgres", "{body}");
    }
}

both! {
    async fn registration_emails_a_single_use_link_that_makes_a_verified_account(app) {
        let res = app.call("register", &[("name", "Sam Patel"), ("email", "Sam.Patel@Example.org")], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(session_cookie(res.headers()).is_none(), "nobody is signed in before the link is used");
        let mail = app.mail.wait_for("sam.patel@example.org", 1).await;
        assert_eq!(mail.subject, "Finish creating your Carry account");
        let token = mail.link(&app.url("/welcome/")).rsplit('/').next().unwrap().to_owned();
        assert!(token.len() >= 43, "at least 256 bits");

        let page = app.get(&format!("/welcome/{token}"), None).await.text().await.unwrap();
        assert!(page.contains("Finish creating your account") && page.contains("Sam.Patel@example.org"));

        let res = app.call("complete-registration", &[("token", &token), ("password", "kettle lantern orbit meadow")], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = session_cookie(res.headers()).unwrap();
        let acct: serde_json::Value = app.client.get(app.url("/api/account")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
        assert_eq!(acct["email"], "Sam.Patel@example.org");
        assert_eq!(acct["display_name"], "Sam Patel");

        let again = app.call("complete-registration", &[("token", &token), ("password", "another long pass phrase")], None).await;
        assert_eq!(again.status(), StatusCode::FORBIDDEN);
        assert!(error_json(again).await["Refused"].as_str().unwrap().contains("expired or has already been used"));
        let page = app.get(&format!("/welcome/{token}"), None).await.text().await.unwrap();
        assert!(page.contains("This link cannot be used"));
    }
}

both! {
    async fn registering_a_taken_address_answers_the_same_and_tells_its_owner(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let first = app.call("register", &[("name", "Someone"), ("email", "new@example.org")], None).await;
        let second = app.call("register", &[("name", "Someone"), ("email", "SAM@example.org")], None).await;
        assert_eq!(first.status(), second.status());
        assert_eq!(first.text().await.unwrap(), second.text().await.unwrap());
        let mail = app.mail.wait_for("sam@example.org", 2).await;
        assert_eq!(mail.subject, "You already have a Carry account");
        assert!(!mail.text.contains("/welcome/"), "no registration link for a taken address");
    }
}

both! {
    async fn registration_names_each_field_at_fault(app) {
        let res = app.call("register", &[("name", "  "), ("email", "not an email")], None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body = error_json(res).await;
        let fields: Vec<&str> = body["Invalid"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "email"]);
        assert!(app.mail.all().is_empty());
    }
}

both! {
    async fn passwords_follow_the_rules_t6(app) {
        app.call("register", &[("name", "Rule Tester"), ("email", "rules@example.org")], None).await;
        let mail = app.mail.wait_for("rules@example.org", 1).await;
        let token = mail.link(&app.url("/welcome/")).rsplit('/').next().unwrap().to_owned();
        for (password, why) in [
            ("fourteen chars", "too short"),
            ("password12345678", "common password padded with digits"),
            ("rulestester12345", "the person's own name"),
        ] {
            let res = app.call("complete-registration", &[("token", &token), ("password", password)], None).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{why}");
            let body = error_json(res).await;
            assert_eq!(body["Invalid"][0]["field"], "password", "{why}");
        }
        // 80 characters, spaces and symbols welcome, nothing truncated.
        let long = "a long walk along the canal, then tea & cake at four o'clock with Nan and Grandad!";
        let res = app.call("complete-registration", &[("token", &token), ("password", long)], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        app.sign_in("rules@example.org", long).await.expect("the whole long password signs in");
        let truncated = &long[..72];
        assert!(app.sign_in("rules@example.org", truncated).await.is_err(), "a prefix must not sign in");
    }
}
