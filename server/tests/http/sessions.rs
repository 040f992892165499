//! Sessions: rotation (T10), timeouts and sign-out (T13), listing and ending.

use crate::both;
use crate::harness::{session_cookie, TestApp};
use domain::Span;
use reqwest::StatusCode;

async fn account_status(app: &TestApp, cookie: &str) -> StatusCode {
    app.client.get(app.url("/api/account")).header("cookie", cookie).send().await.unwrap().status()
}

both! {
    async fn signing_in_again_rotates_the_session_id_t10(app) {
        let first = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let res = app.call("sign-in", &[("email", "sam@example.org"), ("password", "kettle lantern orbit meadow")], Some(&first)).await;
        let second = session_cookie(res.headers()).unwrap();
        assert_ne!(first, second);
        assert_eq!(account_status(&app, &first).await, StatusCode::UNAUTHORIZED, "the old id is dead");
        assert_eq!(account_status(&app, &second).await, StatusCode::OK);
    }
}

both! {
    async fn an_idle_session_ends_after_thirty_minutes_t13(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        app.advance(Span::minutes(29));
        assert_eq!(account_status(&app, &cookie).await, StatusCode::OK, "activity keeps it alive");
        app.advance(Span::minutes(29));
        assert_eq!(account_status(&app, &cookie).await, StatusCode::OK);
        app.advance(Span::minutes(31));
        let res = app.client.get(app.url("/api/account")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let cleared = crate::harness::raw_session_set_cookie(res.headers()).expect("the dead cookie is removed");
        assert!(cleared.contains("Max-Age=0"));
    }
}

both! {
    async fn a_session_ends_after_twelve_hours_however_busy_t13(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        for _ in 0..(12 * 3 - 1) {
            app.advance(Span::minutes(20));
            assert_eq!(account_status(&app, &cookie).await, StatusCode::OK);
        }
        app.advance(Span::minutes(20));
        assert_eq!(account_status(&app, &cookie).await, StatusCode::UNAUTHORIZED);
    }
}

both! {
    async fn signing_out_ends_the_session_on_the_server_t13(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let res = app.call("sign-out", &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(crate::harness::raw_session_set_cookie(res.headers()).unwrap().contains("Max-Age=0"));
        assert_eq!(account_status(&app, &cookie).await, StatusCode::UNAUTHORIZED, "a copied cookie is useless after sign-out");
    }
}

both! {
    async fn signing_out_everywhere_ends_every_session(app) {
        let a = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let b = app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.unwrap();
        let c = app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.unwrap();
        let res = app.call("sign-out-everywhere", &[], Some(&b)).await;
        assert_eq!(res.status(), StatusCode::OK);
        for cookie in [&a, &b, &c] {
            assert_eq!(account_status(&app, cookie).await, StatusCode::UNAUTHORIZED);
        }
    }
}

both! {
    async fn a_person_sees_their_sessions_and_ends_one_but_never_someone_elses(app) {
        let mine = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let other_device = app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.unwrap();
        let theirs = app.register("Alex Smith", "alex@example.org", "violet harbour quiet tide").await;

        let acct: serde_json::Value = app.client.get(app.url("/api/account")).header("cookie", &mine).send().await.unwrap().json().await.unwrap();
        let sessions = acct["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
        let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

        let res = app.call("end-session", &[("id", &other_id)], Some(&theirs)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "someone else's session looks like no session");
        assert_eq!(account_status(&app, &other_device).await, StatusCode::OK);

        let res = app.call("end-session", &[("id", &other_id)], Some(&mine)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(account_status(&app, &other_device).await, StatusCode::UNAUTHORIZED);
        assert_eq!(account_status(&app, &mine).await, StatusCode::OK);
    }
}

both! {
    async fn the_account_page_sends_signed_out_visitors_to_sign_in(app) {
        let res = app.get("/account", None).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(res.headers()["location"], "/sign-in?next=/account");
    }
}

both! {
    async fn signing_in_with_a_dead_cookie_keeps_the_new_session(app) {
        let old = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        app.call("sign-out", &[], Some(&old)).await;
        let res = app.call("sign-in", &[("email", "sam@example.org"), ("password", "kettle lantern orbit meadow")], Some(&old)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookies: Vec<String> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        assert!(!cookies.iter().any(|c| c.contains("Max-Age=0")), "the dead cookie's removal must not erase the new one: {cookies:?}");
        let new = session_cookie(res.headers()).unwrap();
        assert_eq!(account_status(&app, &new).await, StatusCode::OK);
    }
}
