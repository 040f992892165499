//! Reading what the shared care record holds about a patient: the searches Carry sends (by
//! patient and `_lastUpdated`, with windows for a server that gives no `next` links, and ids
//! only to reconcile deletions), each resource of the kinds Carry shows read into a
//! [`SyncedItem`] (its section, words, dates, source, privacy label and standing), and the
//! deletions a history page gives.
//!
//! Resources are read as JSON, not full typed models: Carry shows a few elements of many types.
//! What Carry reads is checked first ([`check`]): a resource that does not conform there, or
//! carries a modifier Carry does not understand, is kept quarantined with the reason, never
//! shown with what it holds.

pub mod check;
pub mod numbers;
mod read;
pub mod status;
#[cfg(test)]
mod tests;
pub mod value;
pub mod when;

pub use read::{read_item, reread_item};

use crate::model::{Bundle, BundleEntry, BundleLink, BundleSearch};
use crate::response::type_and_id;
pub use domain::care_record::{SyncedItem, SyncedMeasure};

/// The resource types Carry pulls (besides Patient), in the order it pulls them.
pub const PULLED_TYPES: [&str; 10] = [
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "AllergyIntolerance",
    "Observation",
    "Immunization",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "CarePlan",
];

/// A search of one type for one patient, oldest change first. `from` is the lower bound of
/// `meta.lastUpdated` (inclusive) and `before` the upper (exclusive), both in the other server's
/// clock: a window, for a server that answers without `next` links.
pub fn search_path(resource_type: &str, patient_id: &str, from: Option<&str>, before: Option<&str>, count: u32) -> String {
    let mut path = windowed(resource_type, patient_id, "", from, before, count);
    if resource_type == "DiagnosticReport" {
        path.push_str("&_include=DiagnosticReport:result");
    }
    path
}

/// A search like [`search_path`] that answers ids only (`_elements=id`; servers keep `meta`,
/// which windows narrow by): what the server holds now, to find what it deleted when it offers
/// no `_history`.
pub fn ids_path(resource_type: &str, patient_id: &str, from: Option<&str>, before: Option<&str>, count: u32) -> String {
    windowed(resource_type, patient_id, "&_elements=id", from, before, count)
}

fn windowed(resource_type: &str, patient_id: &str, elements: &str, from: Option<&str>, before: Option<&str>, count: u32) -> String {
    let mut path = format!("{resource_type}?patient=Patient/{patient_id}{elements}&_sort=_lastUpdated&_count={count}");
    if let Some(from) = from {
        path.push_str("&_lastUpdated=ge");
        path.push_str(&encode(from));
    }
    if let Some(before) = before {
        path.push_str("&_lastUpdated=lt");
        path.push_str(&encode(before));
    }
    path
}

/// How many resources of one type the server holds for a patient (`_summary=count`).
pub fn count_path(resource_type: &str, patient_id: &str) -> String {
    format!("{resource_type}?patient=Patient/{patient_id}&_summary=count")
}

/// The history of a type since a moment (for deletions), where the server offers it.
pub fn history_path(resource_type: &str, since: &str, count: u32) -> String {
    format!("{resource_type}/_history?_since={}&_count={count}", encode(since))
}

/// Whether a CapabilityStatement lists the `history-type` interaction for a resource type.
pub fn offers_history(capability: &serde_json::Value, resource_type: &str) -> bool {
    capability["rest"].as_array().into_iter().flatten().filter(|r| r["mode"].as_str() != Some("client")).any(|rest| {
        rest["resource"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"].as_str() == Some(resource_type))
            .any(|r| r["interaction"].as_array().into_iter().flatten().any(|i| i["code"].as_str() == Some("history-type")))
    })
}

/// The moment `overlap_seconds` before `watermark` (an instant in the other server's clock),
/// written as an instant in UTC with milliseconds. `None` when the watermark is not an instant.
pub fn minus_overlap(watermark: &str, overlap_seconds: i64) -> Option<String> {
    let t = when::instant_millis(watermark)?;
    Some(crate::instant(domain::Timestamp::from_millis(t.saturating_sub(overlap_seconds.saturating_mul(1000)))))
}

/// Whether instant `a` is later than `b` (both in the other server's clock). Unparseable
/// instants compare as text.
pub fn later(a: &str, b: &str) -> bool {
    match (when::instant_millis(a), when::instant_millis(b)) {
        (Some(x), Some(y)) => x > y,
        _ => a > b,
    }
}

/// Percent-encodes what a query value may not hold as it is (`+` and `:` in instants).
fn encode(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' => c.to_string(),
            c => {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf).bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}

/// Why a resource was not taken at all (nothing of it is kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    /// It is not of a type Carry shows.
    #[error("a {0} is not shown in Carry")]
    NotShown(String),
    /// It has no usable id, so it cannot be kept or updated.
    #[error("a {0} without a valid id")]
    NoId(String),
    /// It names another patient (the server answered with someone else's data: never kept).
    #[error("a {0} about another patient")]
    OtherPatient(String),
    /// Its text is not JSON (a stored resource read again).
    #[error("the resource is not JSON ({0})")]
    NotJson(String),
}

/// The `Type/id` a history entry deleted, when it is a deletion.
pub fn deletion(e: &BundleEntry) -> Option<String> {
    deleted(e.request.as_ref(), e.full_url.as_deref())
}

/// The `Type/id` an entry with this request and full URL deleted, when it is a deletion.
fn deleted(request: Option<&crate::model::BundleRequest>, full_url: Option<&str>) -> Option<String> {
    let request = request.filter(|r| r.method.eq_ignore_ascii_case("DELETE"))?;
    type_and_id(&request.url).or_else(|| full_url.and_then(type_and_id))
}

/// A history answer as a deletion check reads it: each entry's request and response, and never
/// its resource (a type's history spans every patient: reading each resource would be most of
/// a pull's own time).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// `Bundle`.
    pub resource_type: String,
    /// Paging links.
    #[serde(default)]
    pub link: Vec<BundleLink>,
    /// The entries, newest first.
    #[serde(default)]
    pub entry: Vec<HistoryEntry>,
}

/// One entry of a [`HistoryPage`].
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The version's URL.
    #[serde(default)]
    pub full_url: Option<String>,
    /// What was done (`DELETE` for a deletion) and to what.
    #[serde(default)]
    pub request: Option<crate::model::BundleRequest>,
    /// When (`lastModified`).
    #[serde(default)]
    pub response: Option<crate::model::BundleResponse>,
}

impl HistoryPage {
    /// Reads a history answer; `None` when it is not a Bundle.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(body).ok().filter(|p| p.resource_type == "Bundle")
    }

    /// The `next` link, if there is one.
    pub fn next_link(&self) -> Option<&str> {
        self.link.iter().find(|l| l.relation == "next").map(|l| l.url.as_str())
    }
}

impl HistoryEntry {
    /// The `Type/id` this version is of.
    pub fn key(&self) -> Option<String> {
        self.request.as_ref().and_then(|r| type_and_id(&r.url)).or_else(|| self.full_url.as_deref().and_then(type_and_id))
    }

    /// The `Type/id` it deleted, when it is a deletion.
    pub fn deletion(&self) -> Option<String> {
        deleted(self.request.as_ref(), self.full_url.as_deref())
    }

    /// When the version was made, in the server's clock.
    pub fn last_modified(&self) -> Option<&str> {
        self.response.as_ref().and_then(|r| r.last_modified.as_deref())
    }
}

/// The `Type/id` of each deletion in a history page.
pub fn deletions(history: &Bundle) -> Vec<String> {
    history.entry.iter().filter_map(deletion).collect()
}

/// A search answer as a pull reads it: each resource kept as the text the server sent, so its
/// numbers keep their digits and the record keeps exactly what came.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    /// `Bundle`.
    pub resource_type: String,
    /// How many match, when the server says.
    #[serde(default)]
    pub total: Option<u64>,
    /// Paging links.
    #[serde(default)]
    pub link: Vec<BundleLink>,
    /// The entries.
    #[serde(default)]
    pub entry: Vec<PageEntry>,
}

/// One entry of a [`SearchPage`].
#[derive(Debug, serde::Deserialize)]
pub struct PageEntry {
    /// The resource's text, as sent.
    #[serde(default)]
    pub resource: Option<Box<serde_json::value::RawValue>>,
    /// Why it is in the page (a match, an include, an outcome).
    #[serde(default)]
    pub search: Option<BundleSearch>,
}

impl PageEntry {
    /// Whether it is in the page as a match (not an include or an outcome).
    pub fn is_match(&self) -> bool {
        self.search.as_ref().and_then(|s| s.mode.as_deref()).is_none_or(|m| m == "match")
    }

    /// Its resource's type, id, version and `meta.lastUpdated`, read without reading the rest
    /// (what is not text reads as absent). `None` without a resource or when it is not JSON.
    pub fn head(&self) -> Option<Head> {
        use serde_json::Value;
        #[derive(serde::Deserialize)]
        struct Raw {
            #[serde(rename = "resourceType", default)]
            resource_type: Value,
            #[serde(default)]
            id: Value,
            #[serde(default)]
            meta: Value,
        }
        let raw: Raw = serde_json::from_str(self.resource.as_ref()?.get()).ok()?;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Some(Head {
            resource_type: text(&raw.resource_type).unwrap_or_default(),
            id: text(&raw.id),
            version_id: text(&raw.meta["versionId"]),
            last_updated: text(&raw.meta["lastUpdated"]),
        })
    }
}

/// What a pull reads of a resource before deciding whether to read it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `resourceType` (empty when absent).
    pub resource_type: String,
    /// `id`.
    pub id: Option<String>,
    /// `meta.versionId`.
    pub version_id: Option<String>,
    /// `meta.lastUpdated`, as written.
    pub last_updated: Option<String>,
}

impl SearchPage {
    /// Reads a search answer; `None` when it is not a Bundle.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(body).ok().filter(|p| p.resource_type == "Bundle")
    }

    /// The `next` link, if there is one.
    pub fn next_link(&self) -> Option<&str> {
        self.link.iter().find(|l| l.relation == "next").map(|l| l.url.as_str())
    }
}

/// The text of an OperationOutcome's issues, for a log line (diagnostics, else details, else code).
pub fn outcome_text(outcome: &serde_json::Value) -> String {
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i["diagnostics"]
                .as_str()
                .or_else(|| i["details"]["text"].as_str())
                .or_else(|| i["code"].as_str())
                .map(|t| format!("{}: {t}", i["severity"].as_str().unwrap_or("issue")))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
