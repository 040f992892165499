//! Recovery by emailed link.

use crate::both;
use crate::harness::{error_json, session_cookie};
use domain::Span;
use reqwest::StatusCode;

both! {
    async fn recovery_sets_a_new_password_ends_other_sessions_and_tells_the_owner(app) {
        let old_session = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let res = app.call("recover", &[("email", "sam@example.org")], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let mail = app.mail.wait_for("sam@example.org", 2).await;
        assert_eq!(mail.subject, "Get back into your Carry account");
        let token = mail.link(&app.url("/recover/")).rsplit('/').next().unwrap().to_owned();

        let res = app.call("complete-recovery", &[("token", &token), ("password", "violet harbour quiet tide")], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let new_session = session_cookie(res.headers()).unwrap();
        let status = |c: String| {
            let req = app.client.get(app.url("/api/account")).header("cookie", c);
            async move { req.send().await.unwrap().status() }
        };
        assert_eq!(status(old_session).await, StatusCode::UNAUTHORIZED, "other sessions end");
        assert_eq!(status(new_session).await, StatusCode::OK);
        let notice = app.mail.wait_for("sam@example.org", 3).await;
        assert!(notice.subject.contains("A new password was set"), "{}", notice.subject);
        assert!(app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.is_err());
        app.sign_in("sam@example.org", "violet harbour quiet tide").await.unwrap();

        let reuse = app.call("complete-recovery", &[("token", &token), ("password", "another long pass phrase")], None).await;
        assert_eq!(reuse.status(), StatusCode::FORBIDDEN, "the link works once");
    }
}

both! {
    async fn recovery_for_an_unknown_address_answers_the_same(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let known = app.call("recover", &[("email", "sam@example.org")], None).await;
        let unknown = app.call("recover", &[("email", "nobody@example.org")], None).await;
        assert_eq!(known.status(), unknown.status());
        assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
        let note = app.mail.wait_for("nobody@example.org", 1).await;
        assert!(!note.text.contains("/recover/"), "no recovery link for an address with no account");
    }
}

both! {
    async fn a_recovery_link_expires_after_thirty_minutes(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        app.call("recover", &[("email", "sam@example.org")], None).await;
        let mail = app.mail.wait_for("sam@example.org", 2).await;
        let token = mail.link(&app.url("/recover/")).rsplit('/').next().unwrap().to_owned();
        app.advance(Span::minutes(31));
        let res = app.call("complete-recovery", &[("token", &token), ("password", "violet harbour quiet tide")], None).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(error_json(res).await["Refused"].as_str().unwrap().contains("expired"));
    }
}
