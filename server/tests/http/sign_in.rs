//! Signing in: one answer for every failure (T9), throttling (T8), no-JS error round trip.

use crate::both;
use crate::harness::error_json;
use domain::Span;
use reqwest::StatusCode;
use std::time::Instant;

both! {
    async fn a_wrong_password_and_an_unknown_address_get_the_same_answer(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let wrong = app.sign_in("sam@example.org", "not the password at all").await.unwrap_err();
        let unknown = app.sign_in("nobody@example.org", "not the password at all").await.unwrap_err();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        assert_eq!(wrong.status(), unknown.status());
        let (a, b) = (error_json(wrong).await, error_json(unknown).await);
        assert_eq!(a, b);
        assert_eq!(a["Refused"], "Email or password not recognised.");
    }
}

both! {
    async fn unknown_addresses_take_as_long_as_known_ones(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        // Alternate, and stay under the throttling threshold for each address.
        for i in 0..6 {
            let t = Instant::now();
            let _ = app.sign_in("sam@example.org", &format!("wrong password number {i}")).await;
            known.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let _ = app.sign_in(&format!("nobody{i}@example.org"), "wrong password again").await;
            unknown.push(t.elapsed().as_secs_f64());
            app.advance(Span::minutes(20));
        }
        let median = |v: &mut Vec<f64>| { v.sort_by(f64::total_cmp); v[v.len() / 2] };
        let (k, u) = (median(&mut known), median(&mut unknown));
        assert!(u > k * 0.5 && u < k * 2.0, "known {k:.3}s vs unknown {u:.3}s: both must do one argon2 verification");
    }
}

both! {
    async fn the_third_failure_slows_the_account_and_waiting_lets_its_owner_in_t8(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        for _ in 0..3 {
            assert_eq!(app.sign_in("sam@example.org", "wrong wrong wrong wrong").await.unwrap_err().status(), StatusCode::FORBIDDEN);
        }
        let slowed = app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.unwrap_err();
        assert_eq!(slowed.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(error_json(slowed).await["Refused"].as_str().unwrap().starts_with("Too many attempts"));
        app.advance(Span::seconds(2));
        app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.expect("after the wait, the owner gets in");
        // Success resets the count.
        assert_eq!(app.sign_in("sam@example.org", "wrong wrong wrong wrong").await.unwrap_err().status(), StatusCode::FORBIDDEN);
    }
}

both! {
    async fn fifty_failures_pause_password_sign_in_until_recovery_t8(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        for _ in 0..50 {
            let _ = app.sign_in("sam@example.org", "an attacker guessing here").await;
            app.advance(Span::minutes(16));
        }
        let paused = app.sign_in("sam@example.org", "kettle lantern orbit meadow").await.unwrap_err();
        assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(error_json(paused).await["Refused"].as_str().unwrap().contains("paused"));

        app.call("recover", &[("email", "sam@example.org")], None).await;
        let mail = app.mail.wait_for("sam@example.org", 2).await;
        let token = mail.link(&app.url("/recover/")).rsplit('/').next().unwrap().to_owned();
        let res = app.call("complete-recovery", &[("token", &token), ("password", "violet harbour quiet tide")], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        app.sign_in("sam@example.org", "violet harbour quiet tide").await.expect("recovery lifts the pause");
    }
}

both! {
    async fn too_many_attempts_from_one_address_are_refused(app) {
        for i in 0..100 {
            let res = app.sign_in(&format!("guess{i}@example.org"), "some password guess").await.unwrap_err();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "attempt {i}");
        }
        let res = app.sign_in("guess-last@example.org", "some password guess").await.unwrap_err();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        app.advance(Span::minutes(15));
        assert_eq!(app.sign_in("guess-later@example.org", "some password guess").await.unwrap_err().status(), StatusCode::FORBIDDEN);
    }
}

both! {
    async fn without_javascript_a_failed_sign_in_returns_to_the_form_with_its_error(app) {
        let res = app.form_post("/sign-in", "sign-in", &[("email", "nobody@example.org"), ("password", "wrong password here"), ("next", "")], None).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&app.url("/sign-in?")), "{location}");
        assert!(!location.contains("nobody"), "no personal data in the URL: {location}");
        let path = location.strip_prefix(&app.base).unwrap();
        let page = app.get(path, None).await.text().await.unwrap();
        assert!(page.contains("Email or password not recognised."), "{page}");
    }
}

both! {
    async fn without_javascript_a_successful_sign_in_redirects_to_the_account(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let res = app.form_post("/sign-in", "sign-in", &[("email", "sam@example.org"), ("password", "kettle lantern orbit meadow"), ("next", "")], None).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(res.headers()["location"], "/account");
        let cookie = crate::harness::session_cookie(res.headers()).unwrap();
        let page = app.get("/account", Some(&cookie)).await.text().await.unwrap();
        assert!(page.contains("Your account") && page.contains("sam@example.org"));
    }
}

both! {
    async fn sign_in_never_redirects_to_another_site(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        for next in ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n"] {
            let res = app.form_post("/sign-in", "sign-in", &[("email", "sam@example.org"), ("password", "kettle lantern orbit meadow"), ("next", next)], None).await;
            assert_eq!(res.headers()["location"], "/account", "{next}");
        }
    }
}

both! {
    async fn guesses_sent_in_parallel_get_no_more_tries_than_guesses_sent_in_turn(app) {
        app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let guesses = (0..12).map(|i| {
            let req = app
                .client
                .post(app.url("/api/sign-in"))
                .header("origin", &app.base)
                .header("accept", "application/json")
                .form(&[("email", "sam@example.org".to_owned()), ("password", format!("parallel guess number {i}"))]);
            async move { req.send().await.unwrap().status() }
        });
        let mut handles = Vec::new();
        for g in guesses {
            handles.push(tokio::spawn(g));
        }
        let mut checked = 0;
        for h in handles {
            let status = h.await.unwrap();
            assert!(status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS, "{status}");
            if status == StatusCode::FORBIDDEN {
                checked += 1;
            }
        }
        assert!(checked <= 3, "{checked} guesses were checked; only 3 may be before the wait starts");
    }
}
