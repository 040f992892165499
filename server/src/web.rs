//! Request plumbing around every route: who is calling, same-origin checks on state changes,
//! security headers, and (outside production) sending visitors to the canonical host.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use service::{Caller, ClientInfo, Services};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use url::Url;

/// What the middleware needs.
#[derive(Clone)]
pub struct WebState {
    /// The use cases.
    pub services: Services,
    /// `scheme://host[:port]` people use.
    pub origin: String,
    /// `host[:port]` people use.
    pub authority: String,
    /// Whether the public URL is https (then HSTS is sent).
    pub https: bool,
    /// Redirect other hosts to the canonical one (not in production, where a proxy decides).
    pub canonical_redirect: bool,
    /// Read the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

impl WebState {
    /// Derives the origin facts from the public URL.
    pub fn new(services: Services, public_url: &Url, canonical_redirect: bool, trust_forwarded_for: bool) -> Self {
        let origin = public_url.origin().ascii_serialization();
        let authority = match public_url.port() {
            Some(p) => format!("{}:{p}", public_url.host_str().unwrap_or_default()),
            None => public_url.host_str().unwrap_or_default().to_owned(),
        };
        Self { services, origin, authority, https: public_url.scheme() == "https", canonical_redirect, trust_forwarded_for }
    }
}

/// Resolves the session cookie into a [`Caller`] in the request's extensions. A cookie for a
/// session that has ended is removed. Static files skip the lookup.
pub async fn resolve_caller(State(state): State<WebState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/passkey.js" || path == "/shl-viewer.js" || path == "/favicon.svg" {
        return next.run(req).await;
    }
    let client = ClientInfo {
        address: client_address(&req, state.trust_forwarded_for),
        device: service::sessions::device_label(req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")),
    };
    let token = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| service::cookie::session_token(v).map(str::to_owned));
    let mut stale_cookie = false;
    let signed_in = match token {
        None => None,
        Some(t) => match state.services.resolve_session(&t).await {
            Ok(found) => {
                stale_cookie = found.is_none();
                found
            }
            Err(service::ServiceError::Internal { incident }) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, format!("Carry could not check your sign-in. Incident {incident}."))
                    .into_response();
            }
            Err(_) => None,
        },
    };
    req.extensions_mut().insert(Caller { signed_in, client });
    let mut res = next.run(req).await;
    // Clear a dead cookie, unless this response just set a new session (signing in again).
    let sets_session =
        res.headers().get_all(header::SET_COOKIE).iter().any(|v| v.to_str().is_ok_and(|c| c.starts_with(service::cookie::SESSION_COOKIE)));
    if stale_cookie && !sets_session {
        if let Ok(v) = HeaderValue::from_str(&service::cookie::clear_session_cookie()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn client_address(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        // The right-most entry of the last header is the one our own proxy added; anything to
        // its left came from the client and proves nothing.
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// Finds the fields a request to a server function sent that the function does not take
/// (security.md T5), in its query and its body, and marks the request with them: the function
/// then refuses it, naming each, before doing anything. Arguments that cannot be decoded are
/// answered 400, not 500.
pub async fn mark_unknown_fields(req: Request, next: Next) -> Response {
    static ACCEPTED: OnceLock<HashMap<&'static str, &'static [&'static str]>> = OnceLock::new();
    let accepted = ACCEPTED.get_or_init(|| app::api::accepted_fields().into_iter().collect());
    let Some(fields) = accepted.get(req.uri().path()).copied() else {
        return next.run(req).await;
    };
    let mut sent = req.uri().query().map(|q| field_keys(q.as_bytes())).unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    // A server function reads any body as a form, whatever its Content-Type says, so every
    // body is checked the same way.
    let body = if parts.method != Method::GET {
        let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        };
        sent.extend(field_keys(&bytes));
        Body::from(bytes)
    } else {
        body
    };
    let mut unknown: Vec<String> = sent.into_iter().filter(|k| !fields.contains(&k.as_str())).collect();
    unknown.sort();
    unknown.dedup();
    if !unknown.is_empty() {
        parts.extensions.insert(app::ssr::UnknownFields(unknown));
    }
    let res = next.run(Request::from_parts(parts, body)).await;
    // Arguments the function could not even decode (a missing field, a number that is not one)
    // come back from Leptos as a 500 carrying `AppError::BadRequest`: they are the caller's
    // mistake, so they are answered as one.
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut head, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    if bytes.as_ref() == b"\"BadRequest\"" {
        head.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(head, Body::from(bytes))
}

/// The field names of a form-encoded text, as sent, each without a list index: a list field's
/// boxes are `entries[0]`, `entries[3]` ... (anything else in brackets fails to decode).
fn field_keys(raw: &[u8]) -> Vec<String> {
    url::form_urlencoded::parse(raw).map(|(k, _)| k.split('[').next().unwrap_or_default().to_owned()).collect()
}

/// Refuses any state-changing request that does not come from Carry's own pages: the `Origin`
/// must be Carry's, or, when a browser sends none, `Sec-Fetch-Site` must say same-origin.
pub async fn require_same_origin(State(state): State<WebState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if same_origin(req.headers(), &state.origin) {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "cross-origin state change refused");
        (StatusCode::FORBIDDEN, "This request did not come from Carry's own pages, so it was refused.").into_response()
    }
}

fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("")) {
        Some(o) => o == origin,
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin"),
    }
}

/// This response's CSP nonce, made by [`security_headers`] and given to Leptos (through the
/// request's extensions) so that the page's inline scripts carry it.
#[derive(Clone, Debug)]
pub struct PageNonce(pub String);

/// The Content-Security-Policy of a response whose inline scripts carry `nonce`.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// Security headers on every response, and `Cache-Control: no-store` on everything but the
/// built assets (which are revalidated instead, as their names carry no hash). The CSP nonce is
/// made here, per request, and the same value reaches the page's scripts, so the header never
/// depends on how the page was rendered.
pub async fn security_headers(State(state): State<WebState>, mut req: Request, next: Next) -> Response {
    let asset = {
        let p = req.uri().path();
        p.starts_with("/pkg/") || p == "/passkey.js" || p == "/shl-viewer.js" || p == "/favicon.svg"
    };
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&page_csp(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // same-origin, not no-referrer: forms without JavaScript report errors back to the page
    // they came from through the Referer. Nothing is ever sent to another site.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(h, header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()");
    set(h, header::CACHE_CONTROL, if asset { "no-cache" } else { "no-store" });
    if state.https {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    res
}

/// Outside production, a visit to another host name for this server (such as 127.0.0.1) is
/// sent to the public URL: passkeys only work on the host name they were made for.
pub async fn canonical_host(State(state): State<WebState>, req: Request, next: Next) -> Response {
    if !state.canonical_redirect {
        return next.run(req).await;
    }
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if host.is_empty() || host.eq_ignore_ascii_case(&state.authority) || req.uri().path() == "/health" {
        return next.run(req).await;
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let target = format!("{}{}", state.origin, req.uri().path_and_query().map_or("/", |p| p.as_str()));
        if let Ok(v) = HeaderValue::from_str(&target) {
            return Response::builder()
                .status(StatusCode::PERMANENT_REDIRECT)
                .header(header::LOCATION, v)
                .body(Body::empty())
                .unwrap_or_default();
        }
    }
    (StatusCode::MISDIRECTED_REQUEST, format!("Use {} to reach Carry.", state.origin)).into_response()
}

/// The path for logs, with every segment that could be a token or an id (16 characters or
/// more) replaced by `:id`. Queries are never logged.
pub fn loggable_path(path: &str) -> String {
    path.split('/').map(|seg| if seg.len() >= 16 { ":id" } else { seg }).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_hold_no_tokens() {
        assert_eq!(loggable_path("/welcome/AFacp1xtinj1TKhLvrFndwfQbyV-E1GwJVA0oAYq9W0"), "/welcome/:id");
        assert_eq!(loggable_path("/api/sign-in"), "/api/sign-in");
        assert_eq!(loggable_path("/recover/0123456789abcdef"), "/recover/:id");
    }

    #[test]
    fn origin_must_match_exactly_or_fetch_metadata_must_say_same_origin() {
        let mut h = HeaderMap::new();
        assert!(!same_origin(&h, "http://localhost:3000"), "no evidence at all is refused");
        h.insert(header::ORIGIN, HeaderValue::from_static("http://localhost:3000"));
        assert!(same_origin(&h, "http://localhost:3000"));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://localhost:3000.evil.example"));
        assert!(!same_origin(&h, "http://localhost:3000"));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h, "http://localhost:3000"));
        let mut f = HeaderMap::new();
        f.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&f, "http://localhost:3000"));
        f.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&f, "http://localhost:3000"));
    }

    #[test]
    fn page_policy_allows_only_its_nonce_and_no_inline_script() {
        let p = page_csp("abc123");
        assert!(p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(!p.contains("unsafe-inline"));
        for d in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(p.contains(d));
        }
    }
}
