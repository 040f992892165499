//! A Carry server on port 0 with a manual clock, a real SMTP server (aiosmtpd) beside it, and a
//! fresh database on the chosen backend. Cookies are handled by hand: the session cookie is
//! `Secure`, which a cookie jar would never send over plain http.

use domain::Span;
use reqwest::header::{HeaderMap, ACCEPT, COOKIE, ORIGIN, REFERER, SET_COOKIE};
use reqwest::{redirect, Client, Response, StatusCode};
use serde_json::Value;
use server::config::Settings;
use service::ManualClock;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;
use store::Backend;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Runs a test once per backend as `<name>::on_sqlite` and `<name>::on_postgres`.
#[macro_export]
macro_rules! both {
    ($(#[$m:meta])* async fn $name:ident($app:ident) $body:block) => {
        pub mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::harness::TestApp) $body
            $(#[$m])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let app = $crate::harness::TestApp::spawn(store::Backend::Sqlite).await;
                run(app).await;
            }
            $(#[$m])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let app = $crate::harness::TestApp::spawn(store::Backend::Postgres).await;
                run(app).await;
            }
        }
    };
}

/// A message the SMTP server received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

impl Mail {
    /// The first link in the message that starts with `prefix` (an absolute URL).
    pub fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} link in {:?}", self.text))
            .to_owned()
    }
}

/// aiosmtpd, started for one test.
pub struct SmtpSink {
    child: tokio::process::Child,
    dir: PathBuf,
    pub port: u16,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

impl SmtpSink {
    pub async fn start() -> Self {
        let root = workspace_root();
        let python = root.join(".tools/venv/bin/python");
        assert!(python.exists(), "the SMTP test server is not installed: run scripts/install-tools.sh test");
        let dir = std::env::temp_dir().join(format!("carry-mail-{}", uuid::Uuid::new_v4().simple()));
        let mut child = tokio::process::Command::new(python)
            .arg(root.join("end2end/smtp_sink.py"))
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP test server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.expect("SMTP server start").unwrap().unwrap();
        let port = first.strip_prefix("PORT ").expect("PORT line").parse().unwrap();
        Self { child, dir, port }
    }

    /// Every message received so far, oldest first.
    pub fn all(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                Mail {
                    to: v["to"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect(),
                    subject: v["subject"].as_str().unwrap().to_owned(),
                    text: v["text"].as_str().unwrap().to_owned(),
                }
            })
            .collect()
    }

    /// Waits for the `n`th (1-based) message to `to` and returns it.
    pub async fn wait_for(&self, to: &str, n: usize) -> Mail {
        let to = to.to_lowercase();
        for _ in 0..200 {
            let mine: Vec<Mail> = self.all().into_iter().filter(|m| m.to.contains(&to)).collect();
            if mine.len() >= n {
                return mine[n - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("message {n} to {to} never arrived; received: {:?}", self.all());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running Carry with its SMTP server, clock and database.
pub struct TestApp {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub mail: SmtpSink,
    pub client: Client,
    pub db: TestDb,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The time the test clock starts at: 3 November 2026, 14:02 UTC.
pub const START: i64 = 1_793_714_520_000;

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new(backend).await;
        let mail = SmtpSink::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://localhost:{}", addr.port());
        let mut env: HashMap<String, String> = [
            ("CARRY_MODE", "development".to_owned()),
            ("CARRY_PUBLIC_URL", base.clone()),
            ("CARRY_SMTP_URL", format!("smtp://127.0.0.1:{}", mail.port)),
            ("CARRY_MAIL_FROM", "Carry <no-reply@localhost>".to_owned()),
            ("DATABASE_URL", db.url.clone()),
            ("LEPTOS_SITE_ROOT", workspace_root().join("target/site").to_string_lossy().into_owned()),
            (
                "CARRY_EXPORT_FOLDER",
                std::env::temp_dir().join(format!("carry-exports-{}", uuid::Uuid::new_v4().simple())).to_string_lossy().into_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // An empty value removes the setting.
        for (k, v) in extra {
            if v.is_empty() {
                env.remove(*k);
            } else {
                env.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        let settings = Settings::from_lookup(|k| env.get(k).cloned()).unwrap();
        let clock = Arc::new(ManualClock::new(domain::Timestamp::from_millis(START)));
        let running = server::start(&settings, clock.clone(), listener).await.unwrap();
        // A request that never answers fails its test instead of stalling the whole run.
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .resolve("localhost", addr)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { base, clock, mail, client, db, task: running.task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, span: Span) {
        self.clock.advance(span);
    }

    /// A page, as a browser with the given session cookie would ask for it.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path)).header(ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// A server function called as the page's JavaScript would (same origin, JSON back).
    pub async fn call(&self, endpoint: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ORIGIN, &self.base)
            .header(ACCEPT, "application/json")
            .form(fields);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// A server function called by a plain form post from `page` with JavaScript off.
    pub async fn form_post(&self, page: &str, endpoint: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ORIGIN, &self.base)
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header(REFERER, self.url(page))
            .form(fields);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// Registers through the emailed link with a password and returns the session cookie.
    pub async fn register(&self, name: &str, email: &str, password: &str) -> String {
        let before = self.mail.all().iter().filter(|m| m.to.contains(&email.to_lowercase())).count();
        let res = self.call("register", &[("name", name), ("email", email)], None).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        let mail = self.mail.wait_for(email, before + 1).await;
        let link = mail.link(&self.url("/welcome/"));
        let token = link.rsplit('/').next().unwrap().to_owned();
        let res = self.call("complete-registration", &[("token", &token), ("password", password)], None).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
        session_cookie(res.headers()).expect("a session cookie")
    }

    /// Signs in with a password; Ok(cookie) or the failed response.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<String, Response> {
        let res = self.call("sign-in", &[("email", email), ("password", password)], None).await;
        match session_cookie(res.headers()) {
            Some(c) if res.status() == StatusCode::OK => Ok(c),
            _ => Err(res),
        }
    }
}

/// The `name=value` of the session cookie a response set (None if it set none, or cleared it).
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let pair = v.split(';').next()?.trim();
        let (name, value) = pair.split_once('=')?;
        (name == service::cookie::SESSION_COOKIE && !value.is_empty()).then(|| pair.to_owned())
    })
}

/// The raw `Set-Cookie` value for the session cookie.
pub fn raw_session_set_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(service::cookie::SESSION_COOKIE))
        .map(str::to_owned)
}

/// The JSON error body of a failed server function call.
pub async fn error_json(res: Response) -> Value {
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}
