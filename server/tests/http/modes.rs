//! What differs between demo, development and production.

use crate::harness::TestApp;
use domain::demo::{demo_person, DemoPart, DEMO_PEOPLE, DEMO_PRACTICE_NAME, DEMO_PRACTICE_ODS};
use domain::practices::StaffRole;
use reqwest::StatusCode;
use store::Backend;

#[tokio::test]
async fn demo_mode_seeds_the_demo_people_listed_on_the_home_page() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("CARRY_MODE", "demo")]).await;
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(home.contains("Demo people"), "{home}");
    for p in &DEMO_PEOPLE {
        assert!(home.contains(&format!("{}: {}", p.part.words(), p.name)), "{home}");
        assert!(home.contains(p.email));
        app.sign_in(p.email, p.password).await.unwrap_or_else(|_| panic!("demo person {} signs in", p.email));
    }
    // The demo staff work at the demo practice; the GP is asked for a passkey before anything
    // clinical, the administrator sees the practice's staff.
    let (practice, ods) = (DEMO_PRACTICE_NAME, DEMO_PRACTICE_ODS);
    let person = |job| demo_person(DemoPart::Staff(job)).unwrap();
    let admin = app.sign_in(person(StaffRole::Admin).email, person(StaffRole::Admin).password).await.unwrap();
    let res =
        app.client.get(app.url("/api/practice/home")).header("accept", "application/json").header("cookie", &admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let home: serde_json::Value = res.json().await.unwrap();
    assert_eq!((home["practice"]["name"].as_str(), home["practice"]["ods_code"].as_str()), (Some(practice), Some(ods)));
    assert_eq!(home["staff"].as_array().unwrap().len(), 3);
    let gp = app.sign_in(person(StaffRole::Gp).email, person(StaffRole::Gp).password).await.unwrap();
    let res =
        app.client.get(app.url("/api/practice/inbox")).header("accept", "application/json").header("cookie", &gp).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("passkey"));
}

#[tokio::test]
async fn outside_demo_mode_there_are_no_demo_people() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(!home.contains("Demo people"));
    let patient = demo_person(DemoPart::Patient).unwrap();
    assert!(app.sign_in(patient.email, patient.password).await.is_err());
}

#[tokio::test]
async fn development_mail_without_smtp_is_readable_at_the_dev_outbox() {
    let folder = std::env::temp_dir().join(format!("carry-outbox-{}", uuid::Uuid::new_v4().simple()));
    let folder_text = folder.to_string_lossy().into_owned();
    let app = TestApp::spawn_with(Backend::Sqlite, &[("CARRY_SMTP_URL", ""), ("CARRY_MAIL_FOLDER", &folder_text)]).await;
    let res = app.call("register", &[("name", "Dev Eloper"), ("email", "dev@example.org")], None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut page = String::new();
    for _ in 0..100 {
        page = app.get("/dev/outbox", None).await.text().await.unwrap();
        if page.contains("/welcome/") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("Finish creating your Carry account"), "{page}");
    assert!(page.contains(&format!("<a href=\"{}/welcome/", app.base)), "the link is clickable: {page}");
    assert!(app.mail.all().is_empty(), "nothing went over SMTP");
    let _ = std::fs::remove_dir_all(folder);
}

/// Production always sends over SMTP (its settings refuse to start without it), so it can
/// never have the page either.
#[tokio::test]
async fn with_smtp_configured_there_is_no_dev_outbox() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.get("/dev/outbox", None).await.status(), StatusCode::NOT_FOUND);
}
