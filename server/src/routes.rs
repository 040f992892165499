//! Routes outside the Leptos app: the health check, downloads of prepared copies of records,
//! and the development mail outbox.

use axum::extract::{Extension, Path};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use service::Services;
use std::path::PathBuf;

/// `GET /health`: 200 with the database reached, or 503.
pub async fn health(Extension(services): Extension<Services>) -> Response {
    match services.health().await {
        Ok(db) => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok", "database": db }))).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "status": "unavailable" }))).into_response(),
    }
}

/// Where a prepared copy of a record is downloaded from.
pub const EXPORT_DOWNLOAD: &str = "/record/export/{id}/{format}";

/// `GET /record/export/{id}/{format}`: a prepared copy of a record, for the person who asked
/// for it, decided and logged again by the service. Sent as an attachment, never cached.
pub async fn export_download(
    Extension(services): Extension<Services>,
    Extension(caller): Extension<service::Caller>,
    Path((id, format)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Response {
    use tower::ServiceExt;
    let Some(format) = domain::exports::ExportFormat::from_slug(&format) else { return problem(StatusCode::NOT_FOUND) };
    let Some(mut who) = caller.signed_in else {
        let next = format!("/record/export/{}", id.chars().filter(|c| c.is_ascii_hexdigit() || *c == '-').collect::<String>());
        return axum::response::Redirect::to(&format!("/sign-in?next={next}")).into_response();
    };
    as_page(&mut who, req.headers());
    let file = match services.export_file(&who, &id, format).await {
        Ok(f) => f,
        Err(service::ServiceError::Forbidden) => return problem(StatusCode::FORBIDDEN),
        Err(service::ServiceError::NotSignedIn) => return axum::response::Redirect::to("/sign-in").into_response(),
        Err(service::ServiceError::Internal { .. }) => return problem(StatusCode::INTERNAL_SERVER_ERROR),
        Err(_) => return problem(StatusCode::NOT_FOUND),
    };
    let Ok(mut res) = tower_http::services::ServeFile::new(&file.path).oneshot(req).await;
    if !res.status().is_success() {
        return problem(StatusCode::NOT_FOUND);
    }
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(file.media_type));
    if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers.remove(header::LAST_MODIFIED);
    res.map(axum::body::Body::new).into_response()
}

/// A short page for a copy that cannot be sent.
fn problem(status: StatusCode) -> Response {
    let words = match status {
        StatusCode::FORBIDDEN => "Your access no longer covers everything in this copy, so it cannot be downloaded. Ask for a new copy.",
        StatusCode::NOT_FOUND => "There is no such copy: it may have been removed, as copies are after an hour. Ask for a new copy.",
        _ => "Something went wrong on our side. Please try again.",
    };
    short_page(status, "Copy not available", words, ("/record/export", "Download a copy of the record"))
}

/// A short page of its own (outside the Leptos app) that says why something cannot be sent
/// and where to go instead.
pub(crate) fn short_page(status: StatusCode, title: &str, words: &str, back: (&str, &str)) -> Response {
    let (title, words, href, link) = (escape(title), escape(words), escape(back.0), escape(back.1));
    let body = format!(
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} \u{2013} Carry</title><link rel=\"stylesheet\" href=\"/pkg/carry.css\"></head><body><main id=\"main\">\
         <h1>{title}</h1><p>{words}</p><p><a href=\"{href}\">{link}</a></p></main></body></html>"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(body)).into_response()
}

/// Where the health summary for other clinicians' systems is downloaded from.
pub const SUMMARY_DOCUMENT: &str = "/record/summary/document";

/// `GET /record/summary/document?patient=...&labels=general`: the summary of a record as an
/// International Patient Summary (FHIR JSON), with the labels ticked, made now by the service
/// for the caller (decided and logged there). Sent as an attachment, never cached. A problem
/// with what was asked gets a page that names it.
pub async fn summary_document(
    Extension(services): Extension<Services>,
    Extension(caller): Extension<service::Caller>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let patient = pairs.iter().find(|(k, _)| k == "patient").map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let labels: Vec<String> = pairs.iter().filter(|(k, _)| k == "labels").map(|(_, v)| v.clone()).collect();
    let summary_page = match patient {
        Some(p) => format!("/record/summary?patient={}", url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>()),
        None => "/record/summary".to_owned(),
    };
    let Some(mut who) = caller.signed_in else {
        let next: String = url::form_urlencoded::byte_serialize(summary_page.as_bytes()).collect();
        return axum::response::Redirect::to(&format!("/sign-in?next={next}")).into_response();
    };
    as_page(&mut who, &headers);
    let back = (summary_page.as_str(), "Back to the health summary");
    let made = match service::RecordRef::parse(patient) {
        Ok(record) => services.summary_document(&who, record, &labels).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(doc) => {
            let mut res =
                (StatusCode::OK, [(header::CONTENT_TYPE, "application/fhir+json; charset=utf-8")], doc.bundle.to_string()).into_response();
            let headers = res.headers_mut();
            if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{}\"", doc.file_name)) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => error_page(
            e,
            "Summary not available",
            back,
            "You cannot take a summary of this record: it does not exist, or your access does not include it.",
        ),
    }
}

/// The signed-in person as a route of its own sees them: through the page door, under the
/// request's id.
pub(crate) fn as_page(who: &mut service::SignedIn, headers: &axum::http::HeaderMap) {
    if let Some(rid) = headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
        who.request.id = rid.chars().take(64).collect();
    }
    who.request.door = domain::audit::Door::Page;
}

/// The page a route of its own answers a service error with: what is wrong with the form (400,
/// with a way back to it), or, for a record the caller may not use, `refused` (404, the same
/// whether or not the record exists).
pub(crate) fn error_page(e: service::ServiceError, title: &str, back: (&str, &str), refused: &str) -> Response {
    match e {
        service::ServiceError::Validation(e) => {
            let words: Vec<&str> = e.0.iter().map(|f| f.message.as_str()).collect();
            short_page(StatusCode::BAD_REQUEST, title, &words.join(" "), back)
        }
        service::ServiceError::NotSignedIn => axum::response::Redirect::to("/sign-in").into_response(),
        service::ServiceError::Internal { .. } => {
            short_page(StatusCode::INTERNAL_SERVER_ERROR, title, "Something went wrong on our side. Please try again.", back)
        }
        _ => short_page(StatusCode::NOT_FOUND, title, refused, ("/record", "Back to the record")),
    }
}

/// Where the development outbox reads from.
#[derive(Clone)]
pub struct OutboxFolder(pub PathBuf);

/// `GET /dev/outbox` (development and demo only): the mail Carry would have sent, newest first.
pub async fn dev_outbox(Extension(folder): Extension<OutboxFolder>) -> Response {
    let mut messages: Vec<(std::time::SystemTime, String)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&folder.0) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("eml") {
                continue;
            }
            let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            if let Ok(raw) = std::fs::read_to_string(&path) {
                messages.push((modified, raw));
            }
        }
    }
    messages.sort_by_key(|m| std::cmp::Reverse(m.0));
    let mut body = String::from(
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Development outbox \u{2013} Carry</title><link rel=\"stylesheet\" href=\"/pkg/carry.css\"></head><body><main id=\"main\">\
         <h1>Development outbox</h1><p>The mail Carry would have sent, newest first. This page exists only outside production.</p>",
    );
    if messages.is_empty() {
        body.push_str("<p>No mail yet.</p>");
    }
    for (_, raw) in messages.iter().take(50) {
        let (headers, text) = split_message(raw);
        body.push_str("<article class=\"mail\"><h2>");
        body.push_str(&escape(header_value(headers, "Subject").unwrap_or("(no subject)")));
        body.push_str("</h2><p class=\"meta\">To ");
        body.push_str(&escape(header_value(headers, "To").unwrap_or("")));
        body.push_str(", ");
        body.push_str(&escape(header_value(headers, "Date").unwrap_or("")));
        body.push_str("</p><pre>");
        body.push_str(&linkify(&escape(&text)));
        body.push_str("</pre></article>");
    }
    body.push_str("</main></body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(body)).into_response()
}

/// Splits a raw message into its header block and decoded text body.
fn split_message(raw: &str) -> (&str, String) {
    let (headers, body) = raw.split_once("\r\n\r\n").or_else(|| raw.split_once("\n\n")).unwrap_or((raw, ""));
    let qp = headers.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable");
    (headers, if qp { decode_quoted_printable(body) } else { body.replace("\r\n", "\n") })
}

fn header_value<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn decode_quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "").replace("\r\n", "\n");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Makes http(s) links in already-escaped text clickable.
fn linkify(escaped: &str) -> String {
    escaped
        .split('\n')
        .map(|line| {
            line.split(' ')
                .map(
                    |w| {
                        if w.starts_with("http://") || w.starts_with("https://") {
                            format!("<a href=\"{w}\">{w}</a>")
                        } else {
                            w.to_owned()
                        }
                    },
                )
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_bodies_are_decoded_with_their_links_intact() {
        let raw =
            "Subject: Hi\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOpen http://localhost:3000/welcome/ab=\r\ncd and =3D done";
        let (h, text) = split_message(raw);
        assert_eq!(header_value(h, "subject"), Some("Hi"));
        assert_eq!(text, "Open http://localhost:3000/welcome/abcd and = done");
        assert!(linkify(&escape(&text)).contains("<a href=\"http://localhost:3000/welcome/abcd\">"));
    }

    #[test]
    fn markup_in_mail_is_shown_as_text() {
        assert_eq!(escape("<script>\"x\"&"), "&lt;script&gt;&quot;x&quot;&amp;");
    }
}
