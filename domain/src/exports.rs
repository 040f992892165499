//! A copy of the record to download (the patient's right of access): where a prepared copy
//! stands, and how long it is kept.

use crate::{PrivacyLabel, Span, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a prepared copy is kept after it is ready: long enough to download it, short
/// enough that a copy of the whole record does not sit on the server.
pub const KEPT_FOR: Span = Span::hours(1);

/// How many copies of one record one person may ask for in [`KEPT_FOR`].
pub const MOST_AT_ONCE: usize = 5;

/// Where a prepared copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportStatus {
    /// Waiting to be prepared.
    Queued,
    /// Being prepared.
    Running,
    /// Ready to download until it expires.
    Ready,
    /// It could not be prepared (the reason says why).
    Failed,
}

impl ExportStatus {
    /// Every status.
    pub const ALL: [ExportStatus; 4] = [ExportStatus::Queued, ExportStatus::Running, ExportStatus::Ready, ExportStatus::Failed];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Ready => "ready",
            ExportStatus::Failed => "failed",
        }
    }

    /// Reads a stored value.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.slug() == s)
    }
}

/// The two forms of one copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    /// A FHIR R4 Bundle (JSON), for another system or another Carry.
    Fhir,
    /// A readable document (HTML that prints well).
    Readable,
}

impl ExportFormat {
    /// The part of the download's address and file name that names it.
    pub fn slug(self) -> &'static str {
        match self {
            ExportFormat::Fhir => "fhir",
            ExportFormat::Readable => "readable",
        }
    }

    /// Reads it from an address.
    pub fn from_slug(s: &str) -> Option<Self> {
        [ExportFormat::Fhir, ExportFormat::Readable].into_iter().find(|f| f.slug() == s)
    }

    /// The file's extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Fhir => "json",
            ExportFormat::Readable => "html",
        }
    }

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Fhir => "application/fhir+json",
            ExportFormat::Readable => "text/html; charset=utf-8",
        }
    }
}

/// A copy as its page shows it to the person who asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportView {
    /// Its id (in its addresses).
    pub id: String,
    /// Whose record.
    pub patient_name: String,
    /// The record's id when it is not the viewer's own (a carer's copy), for links back to it.
    pub record: Option<String>,
    /// The labels it holds.
    pub labels: Vec<PrivacyLabel>,
    /// Whether it holds the access log (the patient's own copies only).
    pub with_access_log: bool,
    /// Where it stands.
    pub status: ExportStatus,
    /// How many items are written so far, of how many.
    pub done: i64,
    /// How many in all (an estimate until it is ready).
    pub total: i64,
    /// Why it failed, in words.
    pub failure: Option<String>,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// When it is removed (ready copies only).
    pub expires_at: Option<Timestamp>,
    /// The sizes of its two files in bytes, once ready.
    pub sizes: Option<(i64, i64)>,
}

/// The "Download my record" page: what may go in a copy, and the copies already asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportsView {
    /// Whose record.
    pub patient_name: String,
    /// Whether it is the caller's own (the access log goes in their copies only).
    pub own: bool,
    /// The labels the caller may put in a copy: those they may see.
    pub labels: Vec<PrivacyLabel>,
    /// Copies asked for and still kept, newest first.
    pub exports: Vec<ExportView>,
}
