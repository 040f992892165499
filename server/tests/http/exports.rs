//! "Download my record" over HTTP on both databases, as a browser without JavaScript uses it:
//! the form, the page that refreshes itself while the copy is prepared, and the download,
//! which goes only to the person who asked and is never cached.

use crate::both;
use crate::harness::TestApp;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use std::time::Duration;

const PASSWORD: &str = "kettle lantern orbit meadow";

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let res = app.get(path, cookie).await;
    (res.status(), res.text().await.unwrap().replace("<!>", ""))
}

both! {
    async fn a_copy_is_prepared_and_downloaded_by_the_one_who_asked_and_nobody_else(app) {
        let sam = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let eve = app.register("Eve Other", "eve@example.org", PASSWORD).await;
        let reading = [("kind", "weight"), ("value", "70.5"), ("occurred_at", "2026-11-03T09:15"), ("label", "general")];
        assert!(app.form_post("/record", "record/add-reading", &reading, Some(&sam)).await.status().is_redirection());

        let (status, form) = page(&app, "/record/export", Some(&sam)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("Download a copy of your record") && form.contains("Prepare the copy"), "{form}");
        let res = app.form_post("/record/export", "record/request-export", &[("label_general", "yes")], Some(&sam)).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
        let id = to.strip_prefix("/record/export/").expect("the copy's own page").to_owned();

        // The page refreshes itself until the copy is ready, then offers both files.
        let mut ready = String::new();
        for _ in 0..100 {
            let (_, body) = page(&app, &to, Some(&sam)).await;
            if body.contains("Ready to download") {
                ready = body;
                break;
            }
            assert!(body.contains("http-equiv=\"refresh\""), "{body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready.contains(&format!("/record/export/{id}/readable")) && ready.contains(&format!("/record/export/{id}/fhir")), "{ready}");
        assert!(!ready.contains("http-equiv=\"refresh\""));

        let res = app.get(&format!("/record/export/{id}/fhir"), Some(&sam)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/fhir+json");
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
        let disposition = res.headers()[CONTENT_DISPOSITION].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment; filename=\"carry-record-sam-patel-") && disposition.ends_with(".json\""), "{disposition}");
        let bundle: serde_json::Value = res.json().await.unwrap();
        assert_eq!(bundle["type"], "collection");
        assert!(bundle.to_string().contains("\"value\":70.5"), "{bundle}");
        let res = app.get(&format!("/record/export/{id}/readable"), Some(&sam)).await;
        assert_eq!(res.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(res.text().await.unwrap().contains("70.5 kg"));

        // Nobody else: another person, someone signed out, a format that does not exist.
        for path in [format!("/record/export/{id}/fhir"), format!("/record/export/{id}/pdf")] {
            let res = app.get(&path, Some(&eve)).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(!res.text().await.unwrap().contains("70.5"));
        }
        let res = app.get(&format!("/record/export/{id}/fhir"), None).await;
        assert!(res.status().is_redirection());
        assert!(res.headers()[LOCATION].to_str().unwrap().starts_with("/sign-in?next=/record/export/"));
        let (status, body) = page(&app, &to, Some(&eve)).await;
        assert!(!body.contains("70.5") && !body.contains("Sam Patel"), "{status} {body}");

        // A stranger cannot ask for a copy of Sam's record by its id.
        let patient = bundle["entry"][0]["resource"]["id"].as_str().unwrap().to_owned();
        let res = app.call("record/request-export", &[("patient", &patient), ("label_general", "yes")], Some(&eve)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let (_, log) = page(&app, "/record/access-log?who=all", Some(&sam)).await;
        assert!(log.contains("You prepared a copy of your record to download"), "{log}");
        assert!(log.contains("You downloaded a copy of your record"), "{log}");
    }
}

both! {
    async fn the_summary_page_offers_its_ips_file_and_the_download_names_what_is_wrong(app) {
        let sam = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let eve = app.register("Eve Other", "eve@example.org", PASSWORD).await;
        let reading = [("kind", "weight"), ("value", "70.5"), ("occurred_at", "2026-11-03T09:15"), ("label", "general")];
        assert!(app.form_post("/record", "record/add-reading", &reading, Some(&sam)).await.status().is_redirection());

        // The summary page offers the file with a plain GET form, general ticked by default.
        let (status, summary) = page(&app, "/record/summary", Some(&sam)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(summary.contains("action=\"/record/summary/document\"") && summary.contains("Download the summary file"), "{summary}");
        assert!(summary.contains("name=\"labels\" value=\"general\" checked"), "{summary}");

        let res = app.get("/record/summary/document?labels=general", Some(&sam)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/fhir+json"));
        let disposition = res.headers()[CONTENT_DISPOSITION].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment; filename=\"carry-summary-sam-patel-"), "{disposition}");
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
        let bundle: serde_json::Value = res.json().await.unwrap();
        assert_eq!((bundle["type"].as_str(), bundle["entry"][0]["resource"]["resourceType"].as_str()), (Some("document"), Some("Composition")));
        assert!(bundle.to_string().contains("70.5"));

        // Nothing ticked, or a label that does not exist: a page that says what to do.
        for query in ["", "?labels=secret"] {
            let (status, body) = page(&app, &format!("/record/summary/document{query}"), Some(&sam)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert!(body.contains("<title>Summary not available") && body.contains("href=\"/record/summary\""), "{body}");
        }
        let (_, body) = page(&app, "/record/summary/document", Some(&sam)).await;
        assert!(body.contains("Choose at least one kind of entry to put in the summary"), "{body}");

        // Signed out: to sign in and back. A stranger naming Sam's record: nothing of it.
        let res = app.get("/record/summary/document?labels=general", None).await;
        assert!(res.status().is_redirection());
        assert!(res.headers()[LOCATION].to_str().unwrap().starts_with("/sign-in?next="));
        let patient = bundle["entry"][1]["resource"]["id"].as_str().unwrap().to_owned();
        let (status, body) = page(&app, &format!("/record/summary/document?patient={patient}&labels=general"), Some(&eve)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!body.contains("70.5") && !body.contains("Sam Patel"), "{body}");

        let (_, log) = page(&app, "/record/access-log?who=all", Some(&sam)).await;
        assert!(log.contains("You downloaded your health summary (International Patient Summary)"), "{log}");
        assert!(log.contains("Eve Other tried to download your health summary"), "{log}");
    }
}

both! {
    async fn a_health_link_is_made_by_a_plain_form_and_its_manifest_answers_any_origin(app) {
        use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, COOKIE, ORIGIN};
        let sam = app.register("Sam Patel", "sam@example.org", PASSWORD).await;
        let eve = app.register("Eve Other", "eve@example.org", PASSWORD).await;
        let reading = [("kind", "weight"), ("value", "70.5"), ("occurred_at", "2026-11-03T09:15"), ("label", "general")];
        assert!(app.form_post("/record", "record/add-reading", &reading, Some(&sam)).await.status().is_redirection());
        let (status, links) = page(&app, "/record/links", Some(&sam)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(links.contains("action=\"/record/links/new\"") && links.contains("No links yet."), "{links}");

        let make = |fields: Vec<(&'static str, &'static str)>, cookie: String| {
            let req = app.client.post(app.url("/record/links/new")).header(ORIGIN, app.url("")).header(COOKIE, cookie).form(&fields);
            async move { req.send().await.unwrap() }
        };
        let fields = vec![("label", "A&E card"), ("labels", "general"), ("expires", "week"), ("passcode", "kettle-22")];
        let res = make(fields.clone(), sam.clone()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let card = res.text().await.unwrap();
        assert!(card.contains("<svg role=\"img\" aria-label=\"QR code of the health link\"") && card.contains("Scan to see my health summary"), "{card}");
        assert!(card.contains("Health link made: A&amp;E card") && card.contains("Passcode needed"), "{card}");
        let viewer_url = card.split("<textarea id=\"shl-link\" class=\"shl-link-text\" readonly rows=\"4\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
        assert!(viewer_url.starts_with(&app.url("/shl#shlink:/")), "{viewer_url}");
        let payload = viewer_url.split("shlink:/").nth(1).unwrap();
        let payload: serde_json::Value = {
            use base64::Engine;
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
        };
        assert_eq!((payload["flag"].as_str(), payload["label"].as_str()), (Some("P"), Some("A&E card")));
        let manifest_url = payload["url"].as_str().unwrap().to_owned();

        // A form with a problem gets a page naming it; a stranger cannot make one for Sam.
        let res = make(vec![("label", ""), ("labels", "general")], sam.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains("Give the link a name"));
        let res = app.client.post(app.url("/record/links/new")).header(COOKIE, sam.clone()).form(&[("label", "x"), ("labels", "general")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "only from Carry's own pages");

        // The manifest answers another origin, with no cookie: the preflight, a wrong passcode, the file.
        let res = app.client.request(reqwest::Method::OPTIONS, &manifest_url).header(ORIGIN, "https://viewer.example").send().await.unwrap();
        assert!(res.status().is_success());
        assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let post = |body: serde_json::Value| app.client.post(&manifest_url).header(ORIGIN, "https://viewer.example").json(&body).send();
        let res = post(serde_json::json!({"recipient": "Dr Jones", "passcode": "wrong-one"})).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"remainingAttempts": 4}));
        let res = post(serde_json::json!({"passcode": "kettle-22"})).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "the recipient is required");
        let res = post(serde_json::json!({"recipient": "Dr Jones", "passcode": "kettle-22", "embeddedLengthMax": 10})).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let manifest: serde_json::Value = res.json().await.unwrap();
        let location = manifest["files"][0]["location"].as_str().unwrap().to_owned();
        let res = app.client.get(&location).header(ORIGIN, "https://viewer.example").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/jose");
        assert_eq!(res.text().await.unwrap().split('.').count(), 5, "a compact JWE");

        // The viewer page needs no sign-in and says what to do without JavaScript.
        let (status, viewer) = page(&app, "/shl", None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(viewer.contains("This page needs JavaScript to open a health link") && viewer.contains("src=\"/shl-viewer.js\""), "{viewer}");

        // The links page lists it with its uses; ending it makes the manifest answer 404.
        let (_, links) = page(&app, "/record/links", Some(&sam)).await;
        assert!(links.contains("A&amp;E card") && links.contains("who gave the name Dr Jones"), "{links}");
        let id = links.split("name=\"id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        app.form_post("/record/links", "record/end-link", &[("id", &id)], Some(&eve)).await;
        let res = post(serde_json::json!({"recipient": "Dr Jones", "passcode": "kettle-22"})).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "a stranger cannot end it");
        let res = app.form_post("/record/links", "record/end-link", &[("id", &id)], Some(&sam)).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        let res = post(serde_json::json!({"recipient": "Dr Jones", "passcode": "kettle-22"})).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.client.get(&location).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "nor its files");
    }
}
