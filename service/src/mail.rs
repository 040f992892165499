//! Mail: queued in the same transaction as the work that needs it, then sent by a worker.
//! Messages never carry clinical content: only what happened and a link.

use crate::config::MailTransportConfig;
use crate::error::{ServiceError, ServiceResult};
use crate::tokens::random_id;
use crate::Services;
use domain::Span;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use std::time::Duration;
use store::mail;

/// How long a claimed message stays reserved for the worker that claimed it.
const LEASE: Span = Span::seconds(120);

/// Where messages go.
#[derive(Clone)]
pub(crate) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    pub(crate) fn new(config: &MailTransportConfig) -> ServiceResult<Self> {
        match config {
            MailTransportConfig::Smtp { url } => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Transport::Smtp(b.timeout(Some(Duration::from_secs(20))).build()))
                .map_err(|_| ServiceError::internal(&"CARRY_SMTP_URL is not a valid SMTP URL")),
            MailTransportConfig::Folder { path } => {
                std::fs::create_dir_all(path).map_err(|e| ServiceError::internal(&e))?;
                Ok(Transport::Folder(AsyncFileTransport::<Tokio1Executor>::new(path)))
            }
        }
    }

    async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Folder(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// The longest name (in characters) a message quotes.
const MAIL_NAME_MAX: usize = 40;

/// A name someone typed, made fit to quote in an email to another person: on one line, at most
/// 40 characters, and never a link or an address a mail program would make into one (dots,
/// colons, slashes and `@` become spaces). Carry's mail otherwise holds only its own fixed words
/// and its own links, so nobody can use it to send their text to an address they typed.
pub(crate) fn mail_name(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            '.' | ':' | '/' | '\\' | '@' | '<' | '>' | '[' | ']' | '(' | ')' | '\u{2024}' | '\u{3002}' | '\u{FF0E}' | '\u{FF1A}'
            | '\u{FF0F}' | '\u{FF20}' => ' ',
            c => c,
        })
        .collect();
    let words = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() > MAIL_NAME_MAX {
        let short: String = words.chars().take(MAIL_NAME_MAX - 1).collect();
        format!("{}\u{2026}", short.trim_end())
    } else if words.is_empty() {
        "Someone".to_owned()
    } else {
        words
    }
}

/// Queues a message in the caller's transaction. Call [`Services::wake_mailer`] after commit.
pub(crate) async fn queue(services: &Services, conn: &mut store::Conn, to: &str, subject: &str, body: &str) -> ServiceResult<()> {
    let signed = format!("{body}\n\n-- \nCarry, your health record\n{}\n", services.config().link("/"));
    mail::insert_mail(conn, &random_id(), to, subject, &signed, services.now()).await?;
    Ok(())
}

impl Services {
    /// Sends every message that is due now. Returns how many were sent.
    pub async fn send_due_mail(&self) -> ServiceResult<usize> {
        let mut sent = 0;
        loop {
            let now = self.now();
            let claimed = {
                let mut tx = self.db().begin().await?;
                let row = mail::claim_due_mail(&mut tx, now, now.plus(LEASE)).await?;
                tx.commit().await?;
                row
            };
            let Some(row) = claimed else { return Ok(sent) };
            let outcome = match self.build_message(&row) {
                Ok(message) => self.transport().send(message).await,
                Err(e) => Err(e),
            };
            let mut tx = self.db().begin().await?;
            match outcome {
                Ok(()) => {
                    mail::update_mail_sent(&mut tx, &row.id, self.now()).await?;
                    sent += 1;
                }
                Err(error) => {
                    let exp = u32::try_from(row.attempts.clamp(0, 12)).unwrap_or(12);
                    let backoff = Span::seconds(1i64 << exp).min(Span::hours(1));
                    let jitter = Span::millis(rand::thread_rng().gen_range(0..1000));
                    let next = self.now().plus(backoff).plus(jitter);
                    // The error text comes from the transport (never from the message body).
                    tracing::warn!(mail_id = %row.id, attempts = row.attempts, "mail send failed; will retry");
                    mail::update_mail_failed(&mut tx, &row.id, &error, next, self.now()).await?;
                }
            }
            tx.commit().await?;
        }
    }

    fn build_message(&self, row: &mail::MailRow) -> Result<Message, String> {
        Message::builder()
            .from(self.config().mail_from.parse().map_err(|_| "CARRY_MAIL_FROM is not an address".to_owned())?)
            .to(row.to_address.parse().map_err(|_| "recipient is not an address".to_owned())?)
            .subject(row.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(row.body_text.clone())
            .map_err(|e| e.to_string())
    }

    /// Runs the mail worker until the task is dropped: sends what is due, then sleeps until
    /// woken by new mail or for a few seconds (retries and other servers' mail).
    pub async fn run_mail_worker(self) {
        let wakeup = self.mail_wakeup();
        loop {
            if let Err(e) = self.send_due_mail().await {
                tracing::error!(error = %e, "mail worker pass failed");
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), wakeup.notified()).await;
        }
    }
}

#[cfg(test)]
mod mail_name_tests {
    use super::mail_name;

    #[test]
    fn a_typed_name_is_short_on_one_line_and_never_a_link() {
        assert_eq!(mail_name("Sam Patel"), "Sam Patel");
        assert_eq!(mail_name("Visit https://evil.example/login now"), "Visit https evil example login now");
        assert_eq!(mail_name("www.evil.example"), "www evil example");
        assert_eq!(mail_name("me@evil.example"), "me evil example");
        assert_eq!(mail_name("Sam\r\nBcc: victim@example.org"), "Sam Bcc victim example org");
        assert_eq!(mail_name("evil\u{FF0E}example"), "evil example");
        let long = mail_name(&"Aa ".repeat(40));
        assert!(long.chars().count() <= 40 && long.ends_with('\u{2026}'), "{long}");
        assert_eq!(mail_name(" ... "), "Someone");
    }
}
