//! Typed settings from the environment, validated once at start-up. Every problem names the
//! variable and what is wrong with it in one line.

use domain::{PasswordRules, Span};
use service::{Argon2Params, MailTransportConfig, ServiceConfig, ThrottleConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

/// How Carry is being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Local trial with clearly labelled demo people; mail goes to a folder.
    Demo,
    /// A developer's machine; mail goes to a folder, readable at /dev/outbox.
    Development,
    /// Real use: every setting must be given, mail goes over SMTP, logs are JSON.
    Production,
}

/// Everything the server needs. `Debug` leaves out `DATABASE_URL` (it may hold a password).
#[derive(Clone)]
pub struct Settings {
    /// How Carry is being run.
    pub mode: Mode,
    /// Where to listen.
    pub listen: SocketAddr,
    /// `DATABASE_URL`.
    pub database_url: String,
    /// Pool size.
    pub database_max_connections: u32,
    /// Where the built site (wasm, js, css, public files) is.
    pub site_root: PathBuf,
    /// JSON logs (production) or readable ones.
    pub json_logs: bool,
    /// Take the client address from the last hop of `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// What the use cases need.
    pub service: ServiceConfig,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("mode", &self.mode)
            .field("listen", &self.listen)
            .field("database", &store::Backend::from_url(&self.database_url).map(store::Backend::name).unwrap_or("?"))
            .field("site_root", &self.site_root)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {var} {problem}")]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong, in words.
    pub problem: String,
}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { var, problem: problem.into() }
}

impl Settings {
    /// Reads settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mode = match get("CARRY_MODE").as_deref() {
            Some("demo") => Mode::Demo,
            Some("development") => Mode::Development,
            Some("production") => Mode::Production,
            None => return Err(err("CARRY_MODE", "is not set: use demo, development or production")),
            Some(other) => return Err(err("CARRY_MODE", format!("is {other:?}: use demo, development or production"))),
        };
        let production = mode == Mode::Production;

        let listen: SocketAddr = match get("CARRY_LISTEN") {
            Some(v) => v.parse().map_err(|_| err("CARRY_LISTEN", format!("is {v:?}: give an address and port such as 127.0.0.1:3000")))?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };

        let public_url = match get("CARRY_PUBLIC_URL") {
            Some(v) => parse_public_url(&v, production)?,
            None if production => return Err(err("CARRY_PUBLIC_URL", "is not set: give the https:// address people use to reach Carry")),
            // Passkeys need a host name: "localhost" works in browsers, an IP address does not.
            None => Url::parse(&format!("http://localhost:{}", listen.port())).map_err(|e| err("CARRY_LISTEN", e.to_string()))?,
        };

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/carry.db".to_owned());
        store::Backend::from_url(&database_url).map_err(|p| err("DATABASE_URL", p))?;
        let database_max_connections = number(&get, "CARRY_DATABASE_MAX_CONNECTIONS", 8, 1, 1000)?;

        let mail = match get("CARRY_SMTP_URL") {
            Some(url) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(err("CARRY_SMTP_URL", "must start with smtp:// or smtps://"));
                }
                MailTransportConfig::Smtp { url }
            }
            None if production => {
                return Err(err("CARRY_SMTP_URL", "is not set: production sends mail over SMTP (smtps://user:password@host)"))
            }
            None => {
                MailTransportConfig::Folder { path: PathBuf::from(get("CARRY_MAIL_FOLDER").unwrap_or_else(|| "data/outbox".to_owned())) }
            }
        };
        let mail_from = match get("CARRY_MAIL_FROM") {
            Some(v) if v.contains('@') => v,
            Some(v) => return Err(err("CARRY_MAIL_FROM", format!("is {v:?}: give an address such as Carry <no-reply@example.org>"))),
            None if production => return Err(err("CARRY_MAIL_FROM", "is not set: give the From: address of Carry's mail")),
            None => "Carry <no-reply@localhost>".to_owned(),
        };

        let session_idle = Span::minutes(number(&get, "CARRY_SESSION_IDLE_MINUTES", 30, 1, 24 * 60)?);
        let session_absolute = Span::hours(number(&get, "CARRY_SESSION_ABSOLUTE_HOURS", 12, 1, 24 * 30)?);
        let staff_session_idle = Span::minutes(number(&get, "CARRY_STAFF_SESSION_IDLE_MINUTES", 15, 1, 24 * 60)?);
        let staff_session_absolute = Span::hours(number(&get, "CARRY_STAFF_SESSION_ABSOLUTE_HOURS", 8, 1, 24 * 30)?);
        let json_logs = match get("CARRY_LOG_FORMAT").as_deref() {
            Some("json") => true,
            Some("text") => false,
            None => production,
            Some(other) => return Err(err("CARRY_LOG_FORMAT", format!("is {other:?}: use json or text"))),
        };
        let trust_forwarded_for = match get("CARRY_TRUST_FORWARDED_FOR").as_deref() {
            Some("true") => true,
            Some("false") | None => false,
            Some(other) => return Err(err("CARRY_TRUST_FORWARDED_FOR", format!("is {other:?}: use true or false"))),
        };
        let site_root = PathBuf::from(get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()));

        let service = ServiceConfig {
            public_url,
            session_idle,
            session_absolute,
            staff_session_idle,
            staff_session_absolute,
            reauth_window: Span::minutes(10),
            register_link_ttl: Span::hours(24),
            recovery_link_ttl: Span::minutes(30),
            ceremony_ttl: Span::minutes(5),
            password_rules: PasswordRules::default(),
            argon2: Argon2Params::OWASP,
            max_concurrent_hashes: number(&get, "CARRY_MAX_CONCURRENT_HASHES", 4, 1, 64)?,
            throttle: ThrottleConfig {
                sign_in_per_address: number(&get, "CARRY_SIGN_IN_PER_ADDRESS", 100, 1, 1_000_000)?,
                requests_per_address: number(&get, "CARRY_REQUESTS_PER_ADDRESS", 20, 1, 1_000_000)?,
                ..ThrottleConfig::default()
            },
            mail,
            mail_from,
            age_rules: age_rules(&get)?,
            care_record: care_record(&get, production)?,
            fhir_clients: match get("CARRY_FHIR_CLIENTS_FILE") {
                Some(path) => crate::fhir::read_clients(&path).map_err(|problem| err("CARRY_FHIR_CLIENTS_FILE", problem))?,
                None => Vec::new(),
            },
            export_dir: PathBuf::from(get("CARRY_EXPORT_FOLDER").unwrap_or_else(|| "data/exports".to_owned())),
            health_link_key: match get("CARRY_HEALTH_LINK_KEY") {
                Some(hex_key) => Some(hex::decode(hex_key.trim()).ok().and_then(|k| <[u8; 32]>::try_from(k).ok()).ok_or_else(|| {
                    err("CARRY_HEALTH_LINK_KEY", "must be 64 hexadecimal characters (32 random bytes, such as from `openssl rand -hex 32`)")
                })?),
                // Outside production, a key for this run: long-term links made before a restart stop working.
                None if !production => Some(service::health_links::random_key()),
                None => None,
            },
        };
        Ok(Settings { mode, listen, database_url, database_max_connections, site_root, json_logs, trust_forwarded_for, service })
    }
}

/// The age thresholds for parents' access to children's records (access-rules.md's England
/// defaults: 11, 13, 16, warned 3 months before).
fn age_rules(get: &impl Fn(&str) -> Option<String>) -> Result<domain::grants::AgeRules, ConfigError> {
    let d = domain::grants::AgeRules::default();
    let rules = domain::grants::AgeRules {
        general_only_at: number(get, "CARRY_PROXY_GENERAL_ONLY_AGE", d.general_only_at, 1, 25)?,
        review_at: number(get, "CARRY_PROXY_REVIEW_AGE", d.review_at, 1, 25)?,
        suspend_at: number(get, "CARRY_PROXY_SUSPEND_AGE", d.suspend_at, 1, 25)?,
        warn_months: number(get, "CARRY_PROXY_WARN_MONTHS", d.warn_months, 0, 24)?,
    };
    if !(rules.general_only_at <= rules.review_at && rules.review_at <= rules.suspend_at) {
        return Err(err("CARRY_PROXY_SUSPEND_AGE", "the ages must rise: general-only age, then review age, then suspension age"));
    }
    Ok(rules)
}

/// The shared care record, when `CARRY_CARE_RECORD_URL` is set: its FHIR base and Carry's
/// SMART Backend Services credentials there.
fn care_record(get: &impl Fn(&str) -> Option<String>, production: bool) -> Result<Option<service::CareRecordConfig>, ConfigError> {
    let Some(base) = get("CARRY_CARE_RECORD_URL") else {
        for dependent in ["CARRY_CARE_RECORD_CLIENT_ID", "CARRY_CARE_RECORD_KEY_FILE", "CARRY_CARE_RECORD_TOKEN_URL"] {
            if get(dependent).is_some() {
                return Err(err(dependent, "is set but CARRY_CARE_RECORD_URL is not: give the shared care record's FHIR base URL"));
            }
        }
        return Ok(None);
    };
    let https_or_local = |name: &'static str, v: &str| -> Result<Url, ConfigError> {
        let url =
            Url::parse(v).map_err(|_| err(name, format!("is {v:?}: give an absolute URL such as https://scr.example.nhs.uk/fhir")))?;
        let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match url.scheme() {
            "https" => Ok(url),
            "http" if local && !production => Ok(url),
            _ => Err(err(name, "must be https:// (http:// is allowed only for a server on this machine outside production)")),
        }
    };
    let base_url = https_or_local("CARRY_CARE_RECORD_URL", &base)?;
    let client_id = get("CARRY_CARE_RECORD_CLIENT_ID")
        .ok_or_else(|| err("CARRY_CARE_RECORD_CLIENT_ID", "is not set: give Carry's client id at the shared care record"))?;
    let key_file = get("CARRY_CARE_RECORD_KEY_FILE")
        .ok_or_else(|| err("CARRY_CARE_RECORD_KEY_FILE", "is not set: give the path of Carry's private key (PKCS#8 PEM)"))?;
    let pem =
        std::fs::read_to_string(&key_file).map_err(|e| err("CARRY_CARE_RECORD_KEY_FILE", format!("cannot be read ({key_file}): {e}")))?;
    if !pem.contains("-----BEGIN PRIVATE KEY-----") {
        return Err(err("CARRY_CARE_RECORD_KEY_FILE", format!("{key_file} is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)")));
    }
    let alg_text = get("CARRY_CARE_RECORD_ALG").unwrap_or_else(|| "ES384".to_owned());
    let alg = service::AssertionAlg::parse(&alg_text)
        .ok_or_else(|| err("CARRY_CARE_RECORD_ALG", format!("is {alg_text:?}: use ES384, RS384 or RS512")))?;
    let token_url = get("CARRY_CARE_RECORD_TOKEN_URL").map(|v| https_or_local("CARRY_CARE_RECORD_TOKEN_URL", &v)).transpose()?;
    let scope = get("CARRY_CARE_RECORD_SCOPE").unwrap_or_else(|| service::CareRecordConfig::DEFAULT_SCOPE.to_owned());
    let security = service::SecurityRules::parse(&get("CARRY_CARE_RECORD_SOCIAL_CARE_CODES").unwrap_or_default())
        .map_err(|problem| err("CARRY_CARE_RECORD_SOCIAL_CARE_CODES", format!("{problem}: list system|code pairs, separated by commas")))?;
    let config = service::CareRecordConfig {
        base_url,
        client_id,
        private_key: service::PrivateKeyPem(pem),
        alg,
        key_id: get("CARRY_CARE_RECORD_KEY_ID"),
        token_url,
        scope,
        timeout: std::time::Duration::from_secs(number(get, "CARRY_CARE_RECORD_TIMEOUT_SECONDS", 30, 1, 600)?),
        security,
    };
    service::care_record::check_key(&config).map_err(|problem| err("CARRY_CARE_RECORD_KEY_FILE", format!("{key_file}: {problem}")))?;
    Ok(Some(config))
}

fn parse_public_url(v: &str, production: bool) -> Result<Url, ConfigError> {
    let url =
        Url::parse(v).map_err(|_| err("CARRY_PUBLIC_URL", format!("is {v:?}: give an absolute URL such as https://carry.example.org")))?;
    let Some(host) = url.host_str() else {
        return Err(err("CARRY_PUBLIC_URL", "has no host name"));
    };
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return Err(err("CARRY_PUBLIC_URL", "must use a host name, not an IP address (passkeys need one); use localhost locally"));
    }
    let local = host == "localhost";
    match url.scheme() {
        "https" => {}
        "http" if local && !production => {}
        _ => return Err(err("CARRY_PUBLIC_URL", "must be https:// (http:// is allowed only for localhost outside production)")),
    }
    if url.path() != "/" || url.query().is_some() {
        return Err(err("CARRY_PUBLIC_URL", "must be an origin with no path, such as https://carry.example.org"));
    }
    Ok(url)
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => match v.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(err(var, format!("is {v:?}: give a whole number from {min} to {max}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_missing_mode_stops_start_up_naming_the_variable() {
        let e = settings(&[]).unwrap_err();
        assert_eq!(e.var, "CARRY_MODE");
        assert_eq!(e.to_string(), "configuration error: CARRY_MODE is not set: use demo, development or production");
    }

    #[test]
    fn demo_mode_needs_nothing_else_and_uses_localhost_sqlite_and_a_mail_folder() {
        let s = settings(&[("CARRY_MODE", "demo")]).unwrap();
        assert_eq!(s.service.public_url.as_str(), "http://localhost:3000/");
        assert_eq!(s.database_url, "sqlite://data/carry.db");
        assert!(matches!(s.service.mail, MailTransportConfig::Folder { .. }));
        assert!(!s.json_logs);
    }

    #[test]
    fn production_requires_public_url_smtp_and_sender_in_turn() {
        assert_eq!(settings(&[("CARRY_MODE", "production")]).unwrap_err().var, "CARRY_PUBLIC_URL");
        let with_url = [("CARRY_MODE", "production"), ("CARRY_PUBLIC_URL", "https://carry.example.org")];
        assert_eq!(settings(&with_url).unwrap_err().var, "CARRY_SMTP_URL");
        let with_smtp = [with_url[0], with_url[1], ("CARRY_SMTP_URL", "smtps://u:p@mail.example.org")];
        assert_eq!(settings(&with_smtp).unwrap_err().var, "CARRY_MAIL_FROM");
        let all = [with_smtp[0], with_smtp[1], with_smtp[2], ("CARRY_MAIL_FROM", "Carry <no-reply@example.org>")];
        let s = settings(&all).unwrap();
        assert!(s.json_logs);
    }

    #[test]
    fn the_care_record_is_off_without_its_url_and_each_missing_or_wrong_part_is_named() {
        assert!(settings(&[("CARRY_MODE", "demo")]).unwrap().service.care_record.is_none());
        let orphan = settings(&[("CARRY_MODE", "demo"), ("CARRY_CARE_RECORD_CLIENT_ID", "carry")]).unwrap_err();
        assert_eq!(orphan.var, "CARRY_CARE_RECORD_CLIENT_ID");
        let url = ("CARRY_CARE_RECORD_URL", "https://scr.example.nhs.uk/fhir");
        assert_eq!(settings(&[("CARRY_MODE", "demo"), url]).unwrap_err().var, "CARRY_CARE_RECORD_CLIENT_ID");
        let id = ("CARRY_CARE_RECORD_CLIENT_ID", "carry");
        assert_eq!(settings(&[("CARRY_MODE", "demo"), url, id]).unwrap_err().var, "CARRY_CARE_RECORD_KEY_FILE");
        let missing = ("CARRY_CARE_RECORD_KEY_FILE", "/nonexistent/carry.pem");
        let e = settings(&[("CARRY_MODE", "demo"), url, id, missing]).unwrap_err();
        assert_eq!(e.var, "CARRY_CARE_RECORD_KEY_FILE");
        assert!(e.problem.contains("/nonexistent/carry.pem"));
        let dir = std::env::temp_dir().join(format!("carry-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let not_pem = not_pem.to_string_lossy().into_owned();
        let e = settings(&[("CARRY_MODE", "demo"), url, id, ("CARRY_CARE_RECORD_KEY_FILE", &not_pem)]).unwrap_err();
        assert!(e.problem.contains("PKCS#8"), "{e}");
        let broken = dir.join("broken.pem");
        std::fs::write(&broken, "-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----\n").unwrap();
        let broken = broken.to_string_lossy().into_owned();
        let e = settings(&[("CARRY_MODE", "demo"), url, id, ("CARRY_CARE_RECORD_KEY_FILE", &broken)]).unwrap_err();
        assert_eq!(e.var, "CARRY_CARE_RECORD_KEY_FILE");
        // A throwaway P-384 key made for this test (it signs nothing anywhere).
        let pem = dir.join("key.pem");
        std::fs::write(&pem, include_str!("test-es384.pem")).unwrap();
        let pem = pem.to_string_lossy().into_owned();
        let key = ("CARRY_CARE_RECORD_KEY_FILE", pem.as_str());
        // An EC key cannot sign RS512.
        let e = settings(&[("CARRY_MODE", "demo"), url, id, key, ("CARRY_CARE_RECORD_ALG", "RS512")]).unwrap_err();
        assert_eq!(e.var, "CARRY_CARE_RECORD_KEY_FILE");
        let e = settings(&[("CARRY_MODE", "demo"), url, id, key, ("CARRY_CARE_RECORD_ALG", "HS256")]).unwrap_err();
        assert_eq!(e.var, "CARRY_CARE_RECORD_ALG");
        let plain = ("CARRY_CARE_RECORD_URL", "http://scr.example.nhs.uk/fhir");
        assert_eq!(settings(&[("CARRY_MODE", "demo"), plain, id, key]).unwrap_err().var, "CARRY_CARE_RECORD_URL");
        let local = ("CARRY_CARE_RECORD_URL", "http://127.0.0.1:8090/fhir");
        let s = settings(&[("CARRY_MODE", "demo"), local, id, key]).unwrap();
        let c = s.service.care_record.unwrap();
        assert_eq!((c.alg, c.client_id.as_str(), c.token_url), (service::AssertionAlg::Es384, "carry", None));
        assert!(!format!("{:?}", c.private_key).contains("MIG2"), "the key never shows in Debug");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("CARRY_MODE", "live")], "CARRY_MODE"),
            (&[("CARRY_MODE", "demo"), ("CARRY_LISTEN", "port 80")], "CARRY_LISTEN"),
            (&[("CARRY_MODE", "demo"), ("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[("CARRY_MODE", "demo"), ("CARRY_PUBLIC_URL", "http://127.0.0.1:3000")], "CARRY_PUBLIC_URL"),
            (&[("CARRY_MODE", "production"), ("CARRY_PUBLIC_URL", "http://carry.example.org")], "CARRY_PUBLIC_URL"),
            (&[("CARRY_MODE", "demo"), ("CARRY_PUBLIC_URL", "https://x.org/carry")], "CARRY_PUBLIC_URL"),
            (&[("CARRY_MODE", "demo"), ("CARRY_SESSION_IDLE_MINUTES", "0")], "CARRY_SESSION_IDLE_MINUTES"),
            (&[("CARRY_MODE", "demo"), ("CARRY_SESSION_ABSOLUTE_HOURS", "twelve")], "CARRY_SESSION_ABSOLUTE_HOURS"),
            (&[("CARRY_MODE", "demo"), ("CARRY_SMTP_URL", "mail.example.org")], "CARRY_SMTP_URL"),
            (&[("CARRY_MODE", "demo"), ("CARRY_LOG_FORMAT", "xml")], "CARRY_LOG_FORMAT"),
        ];
        for (pairs, var) in cases {
            assert_eq!(settings(pairs).unwrap_err().var, *var, "{pairs:?}");
        }
    }

    #[test]
    fn debug_output_hides_database_and_smtp_passwords() {
        let s = settings(&[
            ("CARRY_MODE", "demo"),
            ("DATABASE_URL", "postgres://carry:hunter2@db/carry"),
            ("CARRY_SMTP_URL", "smtps://carry:swordfish@mail.example.org"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("swordfish"), "{shown}");
    }

    #[test]
    fn timeouts_are_configurable() {
        let s = settings(&[("CARRY_MODE", "demo"), ("CARRY_SESSION_IDLE_MINUTES", "15"), ("CARRY_SESSION_ABSOLUTE_HOURS", "8")]).unwrap();
        assert_eq!((s.service.session_idle, s.service.session_absolute), (Span::minutes(15), Span::hours(8)));
    }
}
