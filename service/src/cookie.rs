//! The session cookie: `__Host-` prefixed (so no Domain and Path=/), Secure, HttpOnly,
//! SameSite=Lax. Both doors use these helpers so they cannot disagree on its shape.

use domain::Span;

/// The cookie's name.
pub const SESSION_COOKIE: &str = "__Host-carry-session";

/// The `Set-Cookie` value that stores a session token.
pub fn set_session_cookie(token: &str, max_age: Span) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}", max_age.as_millis() / 1000)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Finds the session token in a `Cookie` request header.
pub fn session_token(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').map(str::trim).find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_has_every_protective_flag() {
        let c = set_session_cookie("abc", Span::hours(12));
        for part in ["__Host-carry-session=abc", "Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=43200"] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        assert!(!c.to_lowercase().contains("domain="));
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        assert_eq!(session_token("a=1; __Host-carry-session=tok; b=2"), Some("tok"));
        assert_eq!(session_token("carry-session=tok"), None);
        assert_eq!(session_token("__Host-carry-session="), None);
    }
}
