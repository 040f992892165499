//! Server-side plumbing shared by the server functions: who is calling, the services handle,
//! cookies and redirects. Only built with the `ssr` feature.

use crate::error::AppError;
use leptos::prelude::*;
use service::{Caller, NewSession, Services, SignedIn};

/// Settings the UI needs from the server.
#[derive(Debug, Clone)]
pub struct UiSettings {
    /// Whether this is a demo server (shows the demo people on the home page).
    pub demo: bool,
}

/// The services handle the server put in context. A request that sent fields its server
/// function does not take is refused here, before any work (see [`reject_unknown_fields`]).
pub fn services() -> Result<Services, AppError> {
    reject_unknown_fields()?;
    use_context::<Services>().ok_or_else(|| AppError::Internal("context".to_owned()))
}

/// Fields a request sent that its server function does not take. The server's middleware finds
/// them before the function runs (security.md T5).
#[derive(Debug, Clone, Default)]
pub struct UnknownFields(pub Vec<String>);

/// Refuses a request that sent fields its server function does not take, naming each, so that
/// nothing such a request says (a `role`, a `patient_id`, an author) is ever applied. Every
/// server function calls it before doing anything: through [`services`], or directly.
pub fn reject_unknown_fields() -> Result<(), AppError> {
    let unknown = use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<UnknownFields>().cloned()).unwrap_or_default();
    if unknown.0.is_empty() {
        return Ok(());
    }
    Err(AppError::Invalid(
        unknown
            .0
            .into_iter()
            .map(|field| domain::FieldError {
                message: format!("This form has no field called \u{201c}{field}\u{201d}, so nothing was done."),
                field,
            })
            .collect(),
    ))
}

/// The fields a server function takes, read from its argument type's `Deserialize` (which
/// names them when it asks for a struct).
pub fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    let mut names = None;
    let _ = T::deserialize(FieldRecorder(&mut names));
    names.unwrap_or(&[])
}

struct FieldRecorder<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldRecorder<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only a struct names its fields"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Who is calling, as resolved by the server's session layer.
pub fn caller() -> Caller {
    use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<Caller>().cloned()).unwrap_or_default()
}

/// The signed-in person, or `NotSignedIn`, with the request they are making: its id and
/// whether it is a page being rendered or a server function called by the browser.
pub fn signed_in() -> Result<SignedIn, AppError> {
    let mut who = caller().signed_in.ok_or(AppError::NotSignedIn)?;
    if let Some(parts) = use_context::<http::request::Parts>() {
        if let Some(id) = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
            who.request.id = id.chars().take(64).collect();
        }
        who.request.door =
            if parts.uri.path().starts_with("/api/") { domain::audit::Door::ServerFunction } else { domain::audit::Door::Page };
    }
    Ok(who)
}

/// Sets the session cookie for a session just made.
pub fn set_session_cookie(session: &NewSession) {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        let value = service::cookie::set_session_cookie(&session.token, session.max_age);
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            res.append_header(http::header::SET_COOKIE, v);
        }
    }
}

/// Removes the session cookie.
pub fn clear_session_cookie() {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(v) = http::HeaderValue::from_str(&service::cookie::clear_session_cookie()) {
            res.append_header(http::header::SET_COOKIE, v);
        }
    }
}

/// A local path to go to after sign-in; anything else becomes `/account`. Only visible ASCII is
/// allowed: browsers drop tabs and newlines from URLs, so `/\t/evil.example` would become
/// `//evil.example`, another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
                && !p.contains("://") =>
        {
            p.to_owned()
        }
        _ => "/account".to_owned(),
    }
}

/// Finishes a server function: on error, sets the HTTP status that fits it, unless the request
/// is a plain form post from a page without JavaScript, which must get its redirect back to
/// the form (where the error is shown).
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result {
        let form_navigation = use_context::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(|a| a.contains("text/html")))
            .unwrap_or(false);
        if !form_navigation {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(status_for(e));
            }
        }
    }
    result
}

/// The HTTP status for an error.
pub fn status_for(e: &AppError) -> http::StatusCode {
    use http::StatusCode as S;
    match e {
        AppError::Invalid(_) | AppError::BadRequest => S::BAD_REQUEST,
        AppError::Refused(m) if m.starts_with("Too many attempts") || m.starts_with("Sign-in with a password is paused") => {
            S::TOO_MANY_REQUESTS
        }
        AppError::Refused(_) => S::FORBIDDEN,
        AppError::NotSignedIn => S::UNAUTHORIZED,
        AppError::ReauthRequired => S::FORBIDDEN,
        AppError::NotFound => S::NOT_FOUND,
        AppError::Conflict => S::CONFLICT,
        AppError::Internal(_) => S::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_of_visible_characters_are_followed() {
        assert_eq!(safe_next(Some("/account?x=1")), "/account?x=1");
        for bad in
            ["https://evil.example", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n", "/ /x", "javascript:alert(1)", ""]
        {
            assert_eq!(safe_next(Some(bad)), "/account", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/account");
    }
}
