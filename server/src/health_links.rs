//! SMART Health Links over HTTP: making a link (a plain form post answered with its card, the
//! only page that ever shows the link's key), the viewer a recipient opens, and the two
//! addresses whoever holds a link uses from any origin: its manifest, and files a manifest
//! named by address. The work is the service's.

use crate::routes::{as_page, error_page, escape};
use axum::body::Bytes;
use axum::extract::{Extension, Path};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use service::health_links::{LinkError, LinkForm, MadeLink, ManifestRequest};
use service::Services;

/// Where the form that makes a link posts.
pub const MAKE: &str = "/record/links/new";
/// Carry's viewer, opened with the link after `#`.
pub const VIEWER: &str = "/shl";
/// A link's manifest (`POST`, from any origin).
pub const MANIFEST: &str = "/shl/m/{token}";
/// A file a manifest named by address (`GET`, from any origin).
pub const FILE: &str = "/shl/f/{ticket}";

/// The addresses whoever holds a link uses, from any origin (a viewer elsewhere, a phone app):
/// no cookie is read, the same-origin rule does not apply, and CORS allows any origin.
pub fn public_router() -> Router {
    Router::new().route(MANIFEST, post(manifest).options(preflight)).route(FILE, get(file).options(preflight)).layer(
        axum::middleware::map_response(|mut res: Response| async move {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type"));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            res
        }),
    )
}

async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `POST /shl/m/{token}` with `{"recipient": ..., "passcode": ..., "embeddedLengthMax": ...}`:
/// the manifest, or the specification's answers (401 with `remainingAttempts` for a wrong
/// passcode; 404 for a link that is not active).
async fn manifest(Extension(services): Extension<Services>, Path(token): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let ask: ManifestRequest = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": format!("the body must be a JSON object with recipient: {e}") }),
            )
        }
    };
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    match services.health_link_manifest(&token, &ask, &request_id).await {
        Ok(m) => json(StatusCode::OK, &m),
        Err(LinkError::WrongPasscode { remaining }) => {
            json(StatusCode::UNAUTHORIZED, &serde_json::json!({ "remainingAttempts": remaining }))
        }
        Err(LinkError::Invalid(problem)) => json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": problem })),
        Err(LinkError::NotFound) => json(StatusCode::NOT_FOUND, &serde_json::json!({ "error": "no active link at this address" })),
        Err(LinkError::Internal) => {
            json(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({ "error": "something went wrong; try again" }))
        }
    }
}

/// `GET /shl/f/{ticket}`: an encrypted file a manifest named by address, for an hour.
async fn file(Extension(services): Extension<Services>, Path(ticket): Path<String>) -> Response {
    match services.health_link_file(&ticket).await {
        Ok(Some(jwe)) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/jose")], jwe).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A page of its own, outside the Leptos app.
fn page(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} \u{2013} Carry</title><link rel=\"stylesheet\" href=\"/pkg/carry.css\">{head}</head><body><main id=\"main\">{body}</main></body></html>",
        escape(title)
    )
}

/// `GET /shl`: the viewer. It reads the link after `#` (which a browser never sends), asks who
/// is looking (and the passcode), decrypts the summary in the browser and shows it.
pub async fn viewer() -> Response {
    // What shows until the script replaces it: all a browser without JavaScript ever shows.
    let body = "<h1>A health summary shared with you</h1>\
        <div id=\"shl-viewer\"><p>This page needs JavaScript to open a health link: the link\u{2019}s key stays in your browser and is \
        never sent to Carry. Turn JavaScript on, or open the link in another SMART Health Links viewer.</p></div>";
    let html = page("A health summary shared with you", "<script src=\"/shl-viewer.js\" defer></script>", body);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(html)).into_response()
}

/// `POST /record/links/new`: makes a link with what the form says and answers with its card.
pub async fn make_link(
    Extension(services): Extension<Services>,
    Extension(caller): Extension<service::Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let patient = field("patient");
    let links_page = if patient.is_empty() {
        "/record/links".to_owned()
    } else {
        format!("/record/links?patient={}", url::form_urlencoded::byte_serialize(patient.as_bytes()).collect::<String>())
    };
    let Some(mut who) = caller.signed_in else {
        return axum::response::Redirect::to("/sign-in?next=/record/links").into_response();
    };
    as_page(&mut who, &headers);
    let form = LinkForm {
        label: field("label"),
        labels: pairs.iter().filter(|(k, _)| k == "labels").map(|(_, v)| v.clone()).collect(),
        expires: field("expires"),
        passcode: field("passcode"),
        long_term: !field("long_term").is_empty(),
    };
    let back = (links_page.as_str(), "Back to health links");
    let made = match service::RecordRef::parse(Some(&patient)) {
        Ok(record) => services.make_health_link(&who, record, &form).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(link) => card(&link, &links_page),
        Err(e) => error_page(
            e,
            "The link was not made",
            back,
            "You cannot make a link to this summary: the record does not exist, or your access does not include it.",
        ),
    }
}

/// The card of a link just made, and the link to copy: shown once.
fn card(link: &MadeLink, links_page: &str) -> Response {
    let expires = link.expires_at.to_uk_string();
    let passcode_card = if link.passcode { "<p>Passcode needed: ask me for it</p>" } else { "" };
    let passcode_note = if link.passcode {
        "<p><strong>Whoever uses it also needs the passcode you chose.</strong> Tell it to them; it is not on the card.</p>"
    } else {
        ""
    };
    // Carry keeps only a hash of the link's address, so no link can be shown again: a long-term
    // link's sealed key serves its summary, never its card.
    let what = if link.long_term {
        "<p>It always shows the summary as it is when it is opened.</p>"
    } else {
        "<p>It shows the summary as it is now. Carry does not keep its key.</p>"
    };
    let once = format!(
        "{what}<p><strong>This is the only time you can print this card or copy this link.</strong> If you lose it, end the link \
         and make a new one.</p>"
    );
    let body = format!(
        "<h1 class=\"no-print\">Health link made: {label}</h1>\
         <div class=\"no-print\"><p>Print this card, or show the QR code on your phone. Whoever scans it sees the health summary of \
         {name} until {expires}. Every look is in the access log.</p>{passcode_note}{once}</div>\
         <div class=\"shl-card\" id=\"shl-card\">{qr}<div><p class=\"shl-card-name\">{name}</p><p>Scan to see my health summary</p>\
         <p>Works until {expires}</p>{passcode_card}<p>From Carry, held by the patient</p></div></div>\
         <div class=\"no-print\"><h2>The link</h2><p><label for=\"shl-link\">To send it rather than the card, copy the whole link:</label></p>\
         <textarea id=\"shl-link\" class=\"shl-link-text\" readonly rows=\"4\">{url}</textarea>\
         <p>To print the card, use your browser\u{2019}s Print (Ctrl+P, or Share and then Print on a phone).</p>\
         <p><a href=\"{back}\">Back to health links</a></p></div>",
        label = escape(&link.label),
        name = escape(&link.patient_name),
        qr = link.qr_svg,
        url = escape(&link.viewer_url),
        back = escape(links_page),
    );
    let html = page(&format!("Health link made: {}", link.label), "", &body);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(html)).into_response()
}
