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
