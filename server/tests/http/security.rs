//! Cookie flags and headers (T11), cross-origin state changes (T12).

use crate::both;
use crate::harness::raw_session_set_cookie;
use reqwest::StatusCode;

both! {
    async fn the_session_cookie_is_host_only_secure_httponly_and_lax_t11(app) {
        app.call("register", &[("name", "Sam Patel"), ("email", "sam@example.org")], None).await;
        let mail = app.mail.wait_for("sam@example.org", 1).await;
        let token = mail.link(&app.url("/welcome/")).rsplit('/').next().unwrap().to_owned();
        let res = app.call("complete-registration", &[("token", &token), ("password", "kettle lantern orbit meadow")], None).await;
        let cookie = raw_session_set_cookie(res.headers()).unwrap();
        for part in ["__Host-carry-session=", "Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=43200"] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
        assert!(!cookie.to_lowercase().contains("domain"), "{cookie}");
    }
}

both! {
    async fn every_response_carries_the_security_headers_t11(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        for path in ["/", "/sign-in", "/register", "/account", "/no-such-page", "/api/me", "/health"] {
            let res = app.get(path, Some(&cookie)).await;
            let h = res.headers();
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
        let page = app.get("/", None).await;
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the page's own scripts carry this response's nonce");
        assert_eq!(app.get("/no-such-page", None).await.status(), StatusCode::NOT_FOUND);
    }
}

both! {
    async fn state_changes_from_another_origin_are_refused_t12(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let forged = app.client.post(app.url("/api/sign-out-everywhere")).header("cookie", &cookie).header("origin", "https://evil.example").send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let no_origin = app.client.post(app.url("/api/sign-out-everywhere")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(no_origin.status(), StatusCode::FORBIDDEN, "no evidence of same origin is refused too");
        let cross_site = app.client.post(app.url("/api/sign-out-everywhere")).header("cookie", &cookie).header("sec-fetch-site", "cross-site").send().await.unwrap();
        assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
        let acct = app.client.get(app.url("/api/account")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(acct.status(), StatusCode::OK, "the forged requests changed nothing");
        let same = app.client.post(app.url("/api/sign-out-everywhere")).header("cookie", &cookie).header("sec-fetch-site", "same-origin").send().await.unwrap();
        assert_eq!(same.status(), StatusCode::OK);
    }
}

both! {
    async fn oversized_bodies_are_refused_with_413(app) {
        let big = "x".repeat(300 * 1024);
        let res = app.call("register", &[("name", &big), ("email", "a@example.org")], None).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
