//! A panic while answering a request becomes an answer, never a dropped connection: a 500 page
//! for people and a 500 OperationOutcome on `/fhir`, each naming an incident id. The log gets
//! the incident id and the code location only, never the panic's message, which can quote
//! request data (a query value, a field a person typed).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;
use tower_http::catch_panic::CatchPanicLayer;

thread_local! {
    /// The incident id of the last panic on this thread, set by the hook and taken by the layer
    /// (a request's panic is caught on the thread it happened on, right after the hook ran).
    static LAST_INCIDENT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the process's panic hook with one that logs an incident id and the location, and
/// not the message. The server binary installs it at start; tests keep the default hook, so a
/// failing assertion still says what failed.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let incident = new_incident();
            let location = info.location().map_or_else(|| "unknown".to_owned(), |l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            tracing::error!(incident = %incident, location = %location, "panic");
            LAST_INCIDENT.with(|last| *last.borrow_mut() = Some(incident));
        }));
    });
}

fn new_incident() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// The incident id the hook gave this panic, or a new one (logged here) when no hook ran.
fn incident() -> String {
    LAST_INCIDENT.with(|last| last.borrow_mut().take()).unwrap_or_else(|| {
        let incident = new_incident();
        tracing::error!(incident = %incident, "a request handler panicked");
        incident
    })
}

/// For the pages and server functions: a plain 500 page naming the incident.
pub fn for_pages() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(page_answer as fn(Box<dyn Any + Send + 'static>) -> Response)
}

/// For `/fhir`: a 500 OperationOutcome naming the incident.
pub fn for_fhir() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(fhir_answer as fn(Box<dyn Any + Send + 'static>) -> Response)
}

// The payload (the panic's message) is dropped unread.
fn page_answer(_payload: Box<dyn Any + Send + 'static>) -> Response {
    let incident = incident();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>Something went wrong - Carry</title></head><body><main>\
         <h1>Something went wrong on our side</h1><p>Nothing you did caused this. Try again in a moment. If it keeps \
         happening, contact support and quote incident {incident}.</p><p><a href=\"/\">Go to the start page</a></p>\
         </main></body></html>"
    );
    (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn fhir_answer(_payload: Box<dyn Any + Send + 'static>) -> Response {
    let incident = incident();
    let outcome =
        service::fhir_api::FhirError { status: 500, code: "exception", diagnostics: format!("internal error, incident {incident}") }
            .outcome();
    (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "application/fhir+json; charset=utf-8")], outcome.to_string())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    const SECRET: &str = "PANIC-MESSAGE-QUOTING-REQUEST-DATA";

    async fn boom() -> &'static str {
        panic!("{SECRET}")
    }

    async fn answer(router: Router) -> (StatusCode, String, String) {
        let res = router.oneshot(axum::http::Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let kind = res.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, kind, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_panic_in_a_page_is_a_500_page_with_an_incident_id_and_not_the_message() {
        let (status, kind, body) = answer(Router::new().route("/boom", get(boom)).layer(for_pages())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(kind.starts_with("text/html"));
        assert!(body.contains("quote incident "), "{body}");
        assert!(!body.contains(SECRET));
    }

    #[tokio::test]
    async fn a_panic_on_fhir_is_a_500_operation_outcome_with_an_incident_id() {
        let (status, kind, body) = answer(Router::new().route("/boom", get(boom)).layer(for_fhir())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(kind.starts_with("application/fhir+json"));
        let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!((outcome["resourceType"].as_str(), outcome["issue"][0]["code"].as_str()), (Some("OperationOutcome"), Some("exception")));
        assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().starts_with("internal error, incident "));
        assert!(!body.contains(SECRET));
    }
}
