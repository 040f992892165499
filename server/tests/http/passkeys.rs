//! Passkey ceremonies at the HTTP level: options, single-use state, re-authentication. The full
//! ceremonies with an authenticator run in Chromium (end2end/).

use crate::both;
use crate::harness::error_json;
use domain::Span;
use reqwest::StatusCode;

both! {
    async fn sign_in_options_require_user_verification(app) {
        let res = app.call("passkey/sign-in/start", &[], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let challenge: serde_json::Value = res.json().await.unwrap();
        let options: serde_json::Value = serde_json::from_str(challenge["options_json"].as_str().unwrap()).unwrap();
        assert_eq!(options["publicKey"]["userVerification"], "required");
        assert_eq!(options["publicKey"]["rpId"], "localhost");
    }
}

both! {
    async fn a_ceremony_is_refused_for_a_bad_answer_and_then_gone(app) {
        let challenge: serde_json::Value = app.call("passkey/sign-in/start", &[], None).await.json().await.unwrap();
        let id = challenge["ceremony_id"].as_str().unwrap();
        let bogus = r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"authenticatorData":"AAAA","clientDataJSON":"AAAA","signature":"AAAA","userHandle":null}}"#;
        let res = app.call("passkey/sign-in/finish", &[("ceremony_id", id), ("credential", bogus)], None).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(error_json(res).await["Refused"].as_str().unwrap().contains("passkey could not be used"));
        let res = app.call("passkey/sign-in/finish", &[("ceremony_id", id), ("credential", bogus)], None).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "the state was used up by the first attempt");
    }
}

both! {
    async fn adding_a_passkey_needs_a_sign_in_within_ten_minutes(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let res = app.call("passkey/add/start", &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let challenge: serde_json::Value = res.json().await.unwrap();
        let options: serde_json::Value = serde_json::from_str(challenge["options_json"].as_str().unwrap()).unwrap();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["userVerification"], "required");

        app.advance(Span::minutes(11));
        let res = app.call("passkey/add/start", &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(error_json(res).await, serde_json::json!("ReauthRequired"));
        let res = app.call("set-password", &[("password", "a brand new pass phrase")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "changing the password needs it too");
    }
}

both! {
    async fn the_only_way_to_sign_in_cannot_be_removed(app) {
        let cookie = app.register("Sam Patel", "sam@example.org", "kettle lantern orbit meadow").await;
        let res = app.call("remove-password", &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error_json(res).await["Invalid"][0]["field"], "password");
    }
}
