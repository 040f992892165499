//! Carry's own FHIR API, the second door: registered system clients (the shared care record)
//! sign in with SMART Backend Services and read what patients shared with their practice:
//! readings (Observation), notes (DocumentReference), "about me" (QuestionnaireResponse) and who
//! entered them (Provenance), one patient at a time, found by NHS number.
//!
//! The same policy decides as for people (`domain::access::decide` with `Actor::System`), and
//! every read, allowed or refused, is in the patient's access log under the client's name
//! before anything is answered.

mod jwks;
mod token;

pub use token::{fuzz_assertion, IssuedToken, TokenError, TokenRequest, TOKEN_LIFETIME_SECONDS};

use crate::config::FhirClientConfig;
use crate::Services;
use domain::access::{DenyReason, Permit, Refusal};
use domain::audit::{AuditEvent, Category, Door, Touch};
use domain::entries::Change as EntryChange;
use domain::practices::LinkStatus;
use domain::Timestamp;
use domain::{EntryId, PatientId, PrivacyLabel};
use fhir::api::{Author, Change, HistoryQuery, Perms, Scopes, Search, Served, ServedEntry};
use fhir::security::SecurityRules;

/// An instant as an HTTP date, for `Last-Modified`.
pub use fhir::api::http_date;
use serde_json::Value;
use store::entries::{EntryRow, VersionRow};
use store::fhir_api::{LinkByNhs, ServedQuery};

/// A registered client with its keys read.
pub(crate) struct RegisteredClient {
    config: FhirClientConfig,
    keys: Vec<token::ClientKey>,
    jwks: Option<jwks::Jwks>,
    scopes: Scopes,
}

/// The registered clients.
#[derive(Default)]
pub(crate) struct Clients(Vec<RegisteredClient>);

impl Clients {
    pub(crate) fn new(configs: &[FhirClientConfig]) -> Result<Self, String> {
        configs.iter().map(token::registered).collect::<Result<Vec<_>, _>>().map(Clients)
    }

    fn find(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.0.iter().find(|c| c.config.client_id == client_id)
    }
}

/// A system client with a valid access token, for one request.
#[derive(Debug, Clone)]
pub struct SystemCaller {
    client_id: String,
    name: String,
    scopes: Scopes,
    labels: Vec<PrivacyLabel>,
    request_id: String,
}

/// A FHIR API refusal or failure: the HTTP status and an OperationOutcome's issue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {diagnostics}")]
pub struct FhirError {
    /// The HTTP status.
    pub status: u16,
    /// The issue type code (`login`, `forbidden`, `not-found`, `invalid`, `not-supported`, `exception`).
    pub code: &'static str,
    /// What is wrong, for the client's developers. Never personal data.
    pub diagnostics: String,
}

impl FhirError {
    fn new(status: u16, code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self { status, code, diagnostics: diagnostics.into() }
    }

    /// The OperationOutcome to answer with.
    pub fn outcome(&self) -> Value {
        fhir::api::outcome(self.code, &self.diagnostics)
    }

    fn not_found() -> Self {
        Self::new(404, "not-found", "no such resource")
    }
}

impl From<crate::ServiceError> for FhirError {
    fn from(e: crate::ServiceError) -> Self {
        match e {
            crate::ServiceError::Internal { incident } => Self::new(500, "exception", format!("internal error, incident {incident}")),
            other => Self::new(500, "exception", other.to_string()),
        }
    }
}

impl From<store::StoreError> for FhirError {
    fn from(e: store::StoreError) -> Self {
        crate::ServiceError::from(e).into()
    }
}

/// The record a request is about, and the policy's answer (narrowed to the labels the client
/// is registered for).
struct Subject {
    patient: PatientId,
    owner: Option<domain::UserId>,
    nhs_number: String,
    outcome: Result<Permit, Refusal>,
}

fn category(t: Served) -> Category {
    match t {
        Served::Observation => Category::AllReadings,
        Served::DocumentReference => Category::Notes,
        Served::QuestionnaireResponse => Category::AboutMe,
        Served::Provenance => Category::EntryHistory,
    }
}

impl Services {
    /// The FHIR API's base URL.
    pub fn fhir_base(&self) -> String {
        self.config().link("/fhir")
    }

    /// The CapabilityStatement (`GET /fhir/metadata`).
    pub fn fhir_capability_statement(&self) -> Value {
        fhir::api::capability_statement(&self.fhir_base(), &self.fhir_token_url(), env!("CARGO_PKG_VERSION"), "2026-12-06")
    }

    /// The SMART configuration (`GET /fhir/.well-known/smart-configuration`).
    pub fn fhir_smart_configuration(&self) -> Value {
        fhir::api::smart_configuration(&self.fhir_token_url())
    }

    /// The system client a bearer token was issued to, if the token is current and the client
    /// is still registered.
    pub async fn fhir_caller(&self, bearer: Option<&str>, request_id: &str) -> Result<SystemCaller, FhirError> {
        let login = || FhirError::new(401, "login", format!("give a current bearer token from {}", self.fhir_token_url()));
        let presented = bearer.filter(|b| !b.is_empty() && b.len() <= 200).ok_or_else(login)?;
        let found = {
            let mut conn = self.db().conn().await?;
            store::fhir_api::find_token(&mut conn, &crate::tokens::Token::from_presented(presented).hash(), self.now()).await?
        };
        let (client_id, scope) = found.ok_or_else(login)?;
        let client = self.inner_fhir_clients().find(&client_id).ok_or_else(login)?;
        let scopes = Scopes::parse(&scope).map_err(|_| login())?.intersect(&client.scopes);
        Ok(SystemCaller {
            client_id,
            name: client.config.name.clone(),
            scopes,
            labels: client.config.labels.clone(),
            request_id: request_id.to_owned(),
        })
    }

    /// A search of one served type for one patient (`GET /fhir/{type}?patient:identifier=...`).
    /// A patient Carry does not hold, or one the client may not read, gives an empty page: from
    /// outside, forbidden and not found look the same.
    pub async fn fhir_search(&self, caller: &SystemCaller, type_name: &str, query: &[(String, String)]) -> Result<Value, FhirError> {
        let t = served_type(type_name)?;
        require_scope(caller, t, Perms { read: false, search: true })?;
        let search = Search::parse(query).map_err(|e| FhirError::new(400, "invalid", e.to_string()))?;
        let self_url =
            format!("{}/{}?{}", self.fhir_base(), t.name(), fhir::api::url_form(query.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        let empty = || fhir::api::searchset(&self_url, None, 0, &self.fhir_base(), Vec::new());
        let mut tx = self.db().begin_read().await?;
        let links = store::fhir_api::links_by_nhs_number(&mut tx, &search.nhs_number).await?;
        let Some(subject) = self.subject(&mut tx, &links, &search.nhs_number, caller).await? else { return Ok(empty()) };
        let Some(permit) = self.permit_or_log_refusal(caller, t, &subject, None).await? else { return Ok(empty()) };
        let q = ServedQuery { permit, kinds: t.kinds(), since: search.since, before: search.before };
        let total = store::fhir_api::count_served(&mut tx, &q).await?;
        let mut rows = if search.count == 0 {
            // _count=0: the total alone.
            Vec::new()
        } else {
            store::fhir_api::list_served(&mut tx, &q, search.after, i64::from(search.count) + 1).await?
        };
        drop(tx);
        let next = if rows.len() > search.count as usize {
            rows.truncate(search.count as usize);
            rows.last().map(|last| format!("{}/{}?{}", self.fhir_base(), t.name(), search.next_query(query, (last.updated_at, last.id))))
        } else {
            None
        };
        let entry_system = self.config().identifier_system("entry");
        let rules = self.security_rules();
        let versions = self.served_versions(permit, &rows).await?;
        let resources: Vec<Value> =
            rows.iter().zip(&versions).filter_map(|(row, v)| served(t, row, v, &subject, &entry_system, &rules)).collect();
        self.log(self.fhir_event(caller, Ok(permit), t, None)).await?;
        Ok(fhir::api::searchset(&self_url, next.as_deref(), u64::try_from(total).unwrap_or(0), &self.fhir_base(), resources))
    }

    /// A type's history (`GET /fhir/{type}/_history`): what changed since `_since`, and what
    /// was deleted, oldest first, in every record the client may read. Each record's entries
    /// are read under that record's own permit, and the look is in that patient's log.
    pub async fn fhir_history(&self, caller: &SystemCaller, type_name: &str, query: &[(String, String)]) -> Result<Value, FhirError> {
        let t = served_type(type_name)?;
        require_scope(caller, t, Perms { read: false, search: true })?;
        let h = HistoryQuery::parse(query).map_err(|e| FhirError::new(400, "invalid", e.to_string()))?;
        let limit = i64::from(h.count) + 1;
        let mut tx = self.db().begin_read().await?;
        let records = store::fhir_api::list_changed_records(&mut tx, t.kinds(), h.since, h.after, limit).await?;
        // (when, id, the change) for every record's changes, merged.
        let mut changes: Vec<(Timestamp, EntryId, Change)> = Vec::new();
        let entry_system = self.config().identifier_system("entry");
        let rules = self.security_rules();
        for patient in records {
            let Some(link) = store::links::find_link(&mut tx, patient).await? else { continue };
            let links = store::fhir_api::links_by_nhs_number(&mut tx, &link.nhs_number).await?;
            let Some(subject) = self.subject(&mut tx, &links, &link.nhs_number, caller).await?.filter(|s| s.patient == patient) else {
                continue;
            };
            let Some(permit) = self.permit_or_log_refusal(caller, t, &subject, None).await? else { continue };
            let q = ServedQuery { permit, kinds: t.kinds(), since: h.since, before: None };
            let rows = store::fhir_api::list_served(&mut tx, &q, h.after, limit).await?;
            let versions = self.served_versions(permit, &rows).await?;
            for (row, v) in rows.iter().zip(&versions) {
                if let Some(r) = served(t, row, v, &subject, &entry_system, &rules) {
                    changes.push((row.updated_at, row.id, Change::Current(r)));
                }
            }
            if t != Served::Provenance {
                for (id, at) in store::fhir_api::list_gone(&mut tx, &q, h.after, limit).await? {
                    changes.push((at, id, Change::Deleted(format!("{}/{id}", t.name()), at)));
                }
            }
            self.log(self.fhir_event(caller, Ok(permit), t, None)).await?;
        }
        drop(tx);
        changes.sort_by_key(|(at, id, _)| (*at, *id));
        let next = if changes.len() > h.count as usize {
            changes.truncate(h.count as usize);
            changes
                .last()
                .map(|(at, id, _)| format!("{}/{}/_history?{}", self.fhir_base(), t.name(), HistoryQuery::next_query(query, (*at, *id))))
        } else {
            None
        };
        let self_url = format!(
            "{}/{}/_history?{}",
            self.fhir_base(),
            t.name(),
            fhir::api::url_form(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        );
        Ok(fhir::api::history(&self_url, next.as_deref(), &self.fhir_base(), changes.into_iter().map(|(_, _, c)| c).collect()))
    }

    /// A read by id (`GET /fhir/{type}/{id}`).
    pub async fn fhir_read(&self, caller: &SystemCaller, type_name: &str, id: &str) -> Result<Value, FhirError> {
        let t = served_type(type_name)?;
        require_scope(caller, t, Perms { read: true, search: false })?;
        let (entry, version) = match t {
            Served::Provenance => {
                let rest = id.strip_prefix("carry-").ok_or_else(FhirError::not_found)?;
                let (entry, version) = rest.rsplit_once('-').ok_or_else(FhirError::not_found)?;
                (entry.parse::<EntryId>().ok(), version.parse::<i64>().ok())
            }
            _ => (id.parse::<EntryId>().ok(), None),
        };
        let entry = entry.ok_or_else(FhirError::not_found)?;
        let mut tx = self.db().begin_read().await?;
        let Some(patient) = store::fhir_api::entry_patient(&mut tx, entry).await? else { return Err(FhirError::not_found()) };
        let Some(link) = store::links::find_link(&mut tx, patient).await? else { return Err(FhirError::not_found()) };
        // The same rule as a search: every record linked with this NHS number is weighed, and
        // when two claim it neither is served; the one chosen must be the entry's own.
        let links = store::fhir_api::links_by_nhs_number(&mut tx, &link.nhs_number).await?;
        let subject = self.subject(&mut tx, &links, &link.nhs_number, caller).await?.filter(|s| s.patient == patient);
        let Some(subject) = subject else { return Err(FhirError::not_found()) };
        let Some(permit) = self.permit_or_log_refusal(caller, t, &subject, Some(id)).await? else { return Err(FhirError::not_found()) };
        let q = ServedQuery { permit, kinds: t.kinds(), since: None, before: None };
        let row = store::fhir_api::find_served(&mut tx, &q, entry).await?;
        let gone = row.is_none() && store::fhir_api::was_served(&mut tx, &q, entry).await?;
        drop(tx);
        if gone {
            // Deleted since it was served: 410, so a client that holds it learns to let it go.
            self.log(self.fhir_event(caller, Ok(permit), t, Some(id))).await?;
            return Err(FhirError::new(410, "deleted", format!("{} {id} was deleted", t.name())));
        }
        let resource = match row {
            Some(row) => {
                let served_version = self.served_versions(permit, std::slice::from_ref(&row)).await?.remove(0);
                // A Provenance is named by the version that made what is served.
                Some((row, served_version)).filter(|(_, v)| version.is_none_or(|asked| asked == v.entry_version))
            }
            None => None,
        };
        let resource =
            resource.and_then(|(row, v)| served(t, &row, &v, &subject, &self.config().identifier_system("entry"), &self.security_rules()));
        let Some(resource) = resource else {
            self.log(self.fhir_event(caller, Err(&permit.refuse(DenyReason::ItemNotVisible)), t, Some(id))).await?;
            return Err(FhirError::not_found());
        };
        self.log(self.fhir_event(caller, Ok(permit), t, Some(id))).await?;
        Ok(resource)
    }

    /// Finds the one record this NHS number names and asks the policy. `None` when Carry holds
    /// no such record, or two records claim the NHS number (never guess between them).
    async fn subject(
        &self,
        conn: &mut store::Conn,
        links: &[LinkByNhs],
        nhs: &str,
        caller: &SystemCaller,
    ) -> Result<Option<Subject>, FhirError> {
        let linked: Vec<&LinkByNhs> = links.iter().filter(|l| l.status == LinkStatus::Linked).collect();
        let link = match (linked.as_slice(), links.first()) {
            ([one], _) => *one,
            ([], Some(first)) if links.iter().all(|l| l.patient_id == first.patient_id) => first,
            ([], _) => return Ok(None),
            (_, _) => {
                tracing::warn!(client = %caller.client_id, "two records are linked with one NHS number; the FHIR API serves neither");
                return Ok(None);
            }
        };
        let Some(row) = store::patients::find_patient(conn, link.patient_id).await? else { return Ok(None) };
        let outcome = self.open_for_system(conn, row.id).await?.and_then(|p| p.narrowed(&caller.labels));
        Ok(Some(Subject { patient: row.id, owner: row.user_id, nhs_number: nhs.to_owned(), outcome }))
    }

    /// The client's permit for this record, or `None` when the policy refuses it (the refusal
    /// is logged to the patient first).
    async fn permit_or_log_refusal<'s>(
        &self,
        caller: &SystemCaller,
        t: Served,
        subject: &'s Subject,
        item: Option<&str>,
    ) -> Result<Option<&'s Permit>, FhirError> {
        match &subject.outcome {
            Ok(permit) => Ok(Some(permit)),
            Err(refusal) => {
                tracing::info!(client = %caller.client_id, reason = refusal.reason().slug(), resource = t.name(), "FHIR API read refused");
                self.log(self.fhir_event(caller, Err(refusal), t, item)).await?;
                Ok(None)
            }
        }
    }

    fn fhir_event(&self, caller: &SystemCaller, answer: Result<&Permit, &Refusal>, t: Served, item: Option<&str>) -> AuditEvent {
        let touch = Touch { category: category(t), item: item.map(|i| format!("{}/{i}", t.name())) };
        self.system_event(&caller.name, Door::Fhir, caller.request_id.clone(), answer, &touch)
    }

    /// The patient's International Patient Summary (`GET /fhir/Patient/$summary?identifier=`):
    /// what the client may read of what the patient shared with their practice, as an IPS
    /// document, logged to the patient like every read. A patient Carry does not hold and one
    /// the client may not read get the same 404.
    pub async fn fhir_summary(&self, caller: &SystemCaller, query: &[(String, String)]) -> Result<Value, FhirError> {
        if !caller.scopes.summary() {
            tracing::info!(client = %caller.client_id, "FHIR API summary outside the token's scope refused");
            return Err(FhirError::new(
                403,
                "forbidden",
                "the token's scope does not allow the patient summary: it needs system/Patient.r",
            ));
        }
        let nhs = fhir::api::summary_query(query).map_err(|e| FhirError::new(400, "invalid", e.to_string()))?;
        let not_found = || FhirError::new(404, "not-found", "Carry holds no record with that NHS number that this client may read");
        let touch = Touch::of(Category::SummaryDocument);
        let mut tx = self.db().begin_read().await?;
        let links = store::fhir_api::links_by_nhs_number(&mut tx, &nhs).await?;
        let Some(subject) = self.subject(&mut tx, &links, &nhs, caller).await? else { return Err(not_found()) };
        let permit = match &subject.outcome {
            Ok(permit) => permit,
            Err(refusal) => {
                tracing::info!(client = %caller.client_id, reason = refusal.reason().slug(), "FHIR API summary refused");
                drop(tx);
                self.log(self.system_event(&caller.name, Door::Fhir, caller.request_id.clone(), Err(refusal), &touch)).await?;
                return Err(not_found());
            }
        };
        let Some(record) = crate::exports::Subject::load(&mut tx, subject.patient).await? else { return Err(not_found()) };
        let bundle = self.ips(&mut tx, permit, &record, crate::exports::Holds::Shared).await?;
        drop(tx);
        self.log(self.system_event(&caller.name, Door::Fhir, caller.request_id.clone(), Ok(permit), &touch)).await?;
        Ok(bundle)
    }
}

/// Checks registered clients' keys and scopes as start-up will read them; the error names the
/// client.
pub fn check_clients(configs: &[FhirClientConfig]) -> Result<(), String> {
    Clients::new(configs).map(|_| ())
}

fn served_type(name: &str) -> Result<Served, FhirError> {
    Served::parse(name).ok_or_else(|| {
        FhirError::new(404, "not-supported", "Carry serves Observation, DocumentReference, QuestionnaireResponse and Provenance only")
    })
}

/// Refuses (403) what the token's scope does not cover, before any record is looked at: the
/// answer is the same whichever patient or id was asked for.
fn require_scope(caller: &SystemCaller, t: Served, need: Perms) -> Result<(), FhirError> {
    let have = caller.scopes.on(t);
    if (need.read && !have.read) || (need.search && !have.search) {
        tracing::info!(client = %caller.client_id, resource = t.name(), "FHIR API request outside the token's scope refused");
        let what = if need.read { "read" } else { "search" };
        return Err(FhirError::new(403, "forbidden", format!("the token's scope does not allow {what} of {}", t.name())));
    }
    Ok(())
}

impl Services {
    /// Each row's served version, in the rows' order.
    async fn served_versions(&self, permit: &Permit, rows: &[EntryRow]) -> Result<Vec<ServedVersion>, FhirError> {
        let mut conn = self.db().conn().await?;
        let ids: Vec<EntryId> = rows.iter().map(|r| r.id).collect();
        let versions = store::entries::list_versions_of(&mut conn, permit, &ids).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let mine: Vec<&VersionRow> = versions.iter().filter(|v| v.entry_id == row.id).collect();
                ServedVersion::of(row, &mine)
            })
            .collect())
    }
}

/// An entry's version as the FHIR API serves it. FHIR's version counts the changes a client
/// could see in the resource: among the versions shared with the practice, those that changed
/// its content, its time or its label, or brought it back after deletion. A change of sharing
/// alone is not a new version of anything served, so it is neither a new `versionId` nor an
/// "amended" status, and the Provenance stays the one of the version that made what is served.
#[derive(Debug, Clone, PartialEq)]
struct ServedVersion {
    /// `meta.versionId`: how many versions changed what is served, this one included.
    number: i64,
    /// The entry's version that made it (its Provenance is named by it).
    entry_version: i64,
    /// Who made that version (the entry's author when it is not visible).
    changed_by: Option<(domain::UserId, String)>,
    /// When that version was made.
    at: Timestamp,
}

impl ServedVersion {
    /// From the entry's versions the permit may see, oldest first.
    fn of(row: &EntryRow, versions: &[&VersionRow]) -> Self {
        let mut served: Option<ServedVersion> = None;
        let mut previous: Option<&domain::entries::Snapshot> = None;
        let shared = versions.iter().filter(|v| v.state.shared_with_practice);
        for v in shared.take_while(|v| v.version <= row.version) {
            let seen = match (previous, v.change) {
                (None, _) | (Some(_), EntryChange::Restored) => true,
                (Some(_), EntryChange::Deleted) => false,
                (Some(p), _) => p.body != v.state.body || p.occurred_at != v.state.occurred_at || p.label != v.state.label,
            };
            if seen {
                served = Some(ServedVersion {
                    number: served.as_ref().map_or(1, |s| s.number + 1),
                    entry_version: v.version,
                    changed_by: Some((v.changed_by, v.changed_by_name.clone())),
                    at: v.recorded_at,
                });
            }
            previous = Some(&v.state);
        }
        served.unwrap_or(ServedVersion { number: row.version, entry_version: row.version, changed_by: None, at: row.updated_at })
    }
}

/// How a resource names someone who wrote to the record: the patient (its owner), or a carer.
fn as_author<'a>(subject: &Subject, user: domain::UserId, name: &'a str) -> Author<'a> {
    if Some(user) == subject.owner {
        Author::Patient
    } else {
        Author::Carer(name)
    }
}

/// The resource of type `t` for an entry of the subject's record, at its served version, with
/// its privacy label as security labels (`access-rules.md`, the reverse mapping), so a
/// receiving system can keep it as private as Carry does.
fn served(
    t: Served,
    row: &EntryRow,
    version: &ServedVersion,
    subject: &Subject,
    entry_system: &str,
    rules: &SecurityRules,
) -> Option<Value> {
    let author = as_author(subject, row.entered_by, &row.entered_by_name);
    let changed_by = version.changed_by.as_ref().map_or(author, |(user, name)| as_author(subject, *user, name));
    fhir::api::resource(
        t,
        &ServedEntry {
            entry_system,
            entry_id: row.id,
            version: version.number,
            entry_version: version.entry_version,
            body: &row.current.body,
            occurred_at: row.current.occurred_at,
            updated_at: row.updated_at,
            changed_at: version.at,
            author,
            changed_by,
            nhs_number: &subject.nhs_number,
            patient_url: None,
        },
    )
    .map(|mut resource| {
        resource["meta"]["security"] = Value::Array(fhir::security::security_codings(row.current.label, rules));
        resource
    })
}
