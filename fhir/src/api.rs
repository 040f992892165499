//! Carry's own FHIR API, as pure functions: what it says about itself (CapabilityStatement,
//! SMART configuration), the scopes it grants, how a search is read, and the resources it serves
//! from patients' entries. The service decides who may see what; this module only shapes it.

use crate::instant;
use crate::model::{CodeableConcept, Coding, Identifier, Provenance, ProvenanceAgent, Reference};
use crate::push::{entry_resource, to_json, DATA_OPERATION, PARTICIPANT_TYPE};
use crate::NHS_NUMBER;
use domain::about_me::AboutMe;
use domain::entries::{EntryBody, EntryKind};
use domain::{EntryId, Timestamp};
use serde_json::{json, Value};

/// The resource types Carry serves, each from one kind of entry (Provenance from all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Served {
    /// Home readings.
    Observation,
    /// Journal notes.
    DocumentReference,
    /// "About me / what matters to me".
    QuestionnaireResponse,
    /// Who entered each entry, and when.
    Provenance,
}

impl Served {
    /// Every served type, in the order the CapabilityStatement lists them.
    pub const ALL: [Served; 4] = [Served::Observation, Served::DocumentReference, Served::QuestionnaireResponse, Served::Provenance];

    /// The FHIR type name.
    pub fn name(self) -> &'static str {
        match self {
            Served::Observation => "Observation",
            Served::DocumentReference => "DocumentReference",
            Served::QuestionnaireResponse => "QuestionnaireResponse",
            Served::Provenance => "Provenance",
        }
    }

    /// Reads a type name (exactly, as FHIR names are case-sensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The kinds of entry this type is made from.
    pub fn kinds(self) -> &'static [EntryKind] {
        match self {
            Served::Observation => &[EntryKind::Reading],
            Served::DocumentReference => &[EntryKind::Note],
            Served::QuestionnaireResponse => &[EntryKind::AboutMe],
            Served::Provenance => &[EntryKind::Reading, EntryKind::Note, EntryKind::AboutMe],
        }
    }

    /// The type an entry of this kind is served as (besides its Provenance).
    pub fn of_kind(kind: EntryKind) -> Self {
        match kind {
            EntryKind::Reading => Served::Observation,
            EntryKind::Note => Served::DocumentReference,
            EntryKind::AboutMe => Served::QuestionnaireResponse,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scopes

/// What a scope allows of one type: `r` (read by id) and `s` (search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Perms {
    /// Read by id.
    pub read: bool,
    /// Search.
    pub search: bool,
}

impl Perms {
    fn any(self) -> bool {
        self.read || self.search
    }

    fn and(self, other: Perms) -> Perms {
        Perms { read: self.read && other.read, search: self.search && other.search }
    }

    fn or(self, other: Perms) -> Perms {
        Perms { read: self.read || other.read, search: self.search || other.search }
    }

    fn text(self) -> &'static str {
        match (self.read, self.search) {
            (true, true) => "rs",
            (true, false) => "r",
            (false, true) => "s",
            (false, false) => "",
        }
    }
}

/// The read permissions a set of SMART v1 or v2 system scopes gives on each served type, and
/// whether it allows the patient summary (`Patient/$summary`, a read of `Patient`: Carry
/// serves no Patient resource of its own). Scopes for other types, other contexts
/// (`patient/`, `user/`) and write permissions give nothing here: Carry's API is read-only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    perms: [Perms; 4],
    summary: bool,
}

/// Why a scope text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the scope {0:?} is not a SMART scope (system/<Type>.<permissions>, such as system/Observation.rs)")]
pub struct ScopeError(pub String);

impl Scopes {
    /// Reads a space-separated scope text. A malformed `system/` scope is an error; scopes of
    /// other shapes (`openid`, `launch`) are ignored.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let mut scopes = Scopes::default();
        for scope in text.split_whitespace() {
            let Some(rest) = scope.strip_prefix("system/") else { continue };
            let Some((resource, perms)) = rest.split_once('.') else { return Err(ScopeError(scope.to_owned())) };
            let perms = perms_of(perms).ok_or_else(|| ScopeError(scope.to_owned()))?;
            if resource == "*" {
                for p in &mut scopes.perms {
                    *p = p.or(perms);
                }
                scopes.summary |= perms.read;
            } else if resource == "Patient" {
                scopes.summary |= perms.read;
            } else if let Some(t) = Served::parse(resource) {
                let i = index(t);
                scopes.perms[i] = scopes.perms[i].or(perms);
            } else if !resource.chars().all(|c| c.is_ascii_alphabetic()) || resource.is_empty() {
                return Err(ScopeError(scope.to_owned()));
            }
        }
        Ok(scopes)
    }

    /// What is allowed on `t`.
    pub fn on(&self, t: Served) -> Perms {
        self.perms[index(t)]
    }

    /// Whether the patient summary (`Patient/$summary`) is allowed.
    pub fn summary(&self) -> bool {
        self.summary
    }

    /// What both allow.
    pub fn intersect(&self, other: &Scopes) -> Scopes {
        let mut out = Scopes { summary: self.summary && other.summary, ..Scopes::default() };
        for i in 0..4 {
            out.perms[i] = self.perms[i].and(other.perms[i]);
        }
        out
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        !self.summary && !self.perms.iter().any(|p| p.any())
    }

    /// The scope text (SMART v2 form), one scope per type allowed.
    pub fn text(&self) -> String {
        let types = Served::ALL.into_iter().filter(|t| self.on(*t).any()).map(|t| format!("system/{}.{}", t.name(), self.on(t).text()));
        types.chain(self.summary.then(|| "system/Patient.r".to_owned())).collect::<Vec<_>>().join(" ")
    }
}

fn index(t: Served) -> usize {
    Served::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// SMART v1 (`read`, `write`, `*`) or v2 (`cruds` in order, any subset) permissions.
fn perms_of(text: &str) -> Option<Perms> {
    match text {
        "read" | "*" => return Some(Perms { read: true, search: true }),
        "write" => return Some(Perms::default()),
        "" => return None,
        _ => {}
    }
    let mut last = None;
    for c in text.chars() {
        let at = "cruds".find(c)?;
        if last.is_some_and(|l| at <= l) {
            return None;
        }
        last = Some(at);
    }
    Some(Perms { read: text.contains('r'), search: text.contains('s') })
}

// ---------------------------------------------------------------------------------------------
// Searches

/// The largest page a client may ask for, and the page it gets when it does not say.
pub const MAX_COUNT: u32 = 100;
/// The page size when `_count` is not given.
pub const DEFAULT_COUNT: u32 = 50;

/// A search of one served type, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The patient's NHS number (ten digits).
    pub nhs_number: String,
    /// Only resources changed at or after this (inclusive).
    pub since: Option<Timestamp>,
    /// Only resources changed before this (exclusive).
    pub before: Option<Timestamp>,
    /// The page size (0: the total alone, no entries).
    pub count: u32,
    /// Where this page starts: after the resource changed at this time with this id.
    pub after: Option<(Timestamp, EntryId)>,
}

/// A search parameter Carry cannot use, named, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {problem}")]
pub struct SearchError {
    /// The parameter.
    pub param: String,
    /// What is wrong, in words.
    pub problem: String,
}

fn search_error(param: &str, problem: impl Into<String>) -> SearchError {
    SearchError { param: param.to_owned(), problem: problem.into() }
}

impl Search {
    /// Reads a search's query parameters. Every parameter Carry does not support is refused by
    /// name (a silently ignored filter would hand the client more than it asked for).
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, SearchError> {
        let mut nhs_number = None;
        let mut since: Option<Timestamp> = None;
        let mut before: Option<Timestamp> = None;
        let mut count = DEFAULT_COUNT;
        let mut after = None;
        for (name, value) in pairs {
            match name.as_str() {
                "patient:identifier" | "patient.identifier" | "subject:identifier" | "subject.identifier" => {
                    if nhs_number.replace(nhs_number_of(name, value)?).is_some() {
                        return Err(search_error(name, "give one patient per search"));
                    }
                }
                "patient" | "subject" => {
                    return Err(search_error(
                        name,
                        format!("Carry finds patients by NHS number: use patient:identifier={NHS_NUMBER}|<10 digits>"),
                    ))
                }
                "_lastUpdated" => {
                    // By characters, not bytes: a value such as "gé…" must be refused, never split
                    // inside a character (which panics).
                    let (prefix, rest) = match (value.get(..2), value.get(2..)) {
                        (Some(p), Some(r)) => (p, r),
                        _ => ("", value.as_str()),
                    };
                    let at = parse_instant(rest).ok_or_else(|| {
                        search_error(name, "give a prefix and an instant or date, such as ge2026-12-01T09:00:00Z or lt2026-12-02")
                    })?;
                    match prefix {
                        "ge" => since = Some(since.map_or(at.0, |s| s.max(at.0))),
                        "gt" => since = Some(since.map_or(at.1, |s| s.max(at.1))),
                        "lt" => before = Some(before.map_or(at.0, |b| b.min(at.0))),
                        "le" => before = Some(before.map_or(at.1, |b| b.min(at.1))),
                        _ => return Err(search_error(name, "start the value with ge, gt, le or lt (such as ge2026-12-01)")),
                    }
                }
                "_count" => {
                    // 0 asks for the total alone.
                    count = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n <= MAX_COUNT)
                        .ok_or_else(|| search_error(name, format!("give a whole number from 0 to {MAX_COUNT}")))?;
                }
                "_page" => {
                    after = Some(read_page(value).ok_or_else(|| search_error(name, "use the next link as Carry gave it"))?);
                }
                "_sort" if value == "_lastUpdated" => {}
                "_sort" => {
                    return Err(search_error(
                        name,
                        "results are sorted by _lastUpdated, oldest first; only _sort=_lastUpdated is supported",
                    ))
                }
                "_format" if matches!(value.as_str(), "json" | "application/json" | "application/fhir+json") => {}
                "_format" => return Err(search_error(name, "Carry answers in JSON only (_format=json)")),
                other => {
                    return Err(search_error(other, "is not a search parameter Carry supports (patient:identifier, _lastUpdated, _count)"))
                }
            }
        }
        let nhs_number = nhs_number.ok_or_else(|| {
            search_error("patient:identifier", format!("is required: give the patient's NHS number as {NHS_NUMBER}|<10 digits>"))
        })?;
        Ok(Search { nhs_number, since, before, count, after })
    }

    /// The query of this search's page after `last` (for the `next` link), keeping what the
    /// client asked for.
    pub fn next_query(&self, pairs: &[(String, String)], last: (Timestamp, EntryId)) -> String {
        HistoryQuery::next_query(pairs, last)
    }
}

/// An NHS number given as a token (`https://fhir.nhs.uk/Id/nhs-number|<10 digits>`), checked.
fn nhs_number_of(name: &str, value: &str) -> Result<String, SearchError> {
    let digits = value
        .strip_prefix(NHS_NUMBER)
        .and_then(|v| v.strip_prefix('|'))
        .ok_or_else(|| search_error(name, format!("give the NHS number as {NHS_NUMBER}|<10 digits>")))?;
    let nhs = domain::practices::NhsNumber::parse(name, digits)
        .map_err(|_| search_error(name, "that is not a valid NHS number (10 digits with a correct check digit)"))?;
    Ok(nhs.digits())
}

/// A patient summary request (`Patient/$summary?identifier=...`, the type-level form of the
/// IPS operation), checked: the patient's NHS number. Every other parameter is refused by
/// name, `profile` excepted when it names IPS (the only summary Carry makes).
pub fn summary_query(pairs: &[(String, String)]) -> Result<String, SearchError> {
    let mut nhs_number = None;
    for (name, value) in pairs {
        match name.as_str() {
            "identifier" => {
                if nhs_number.replace(nhs_number_of(name, value)?).is_some() {
                    return Err(search_error(name, "give one patient per summary"));
                }
            }
            "profile" if value.starts_with("http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips") => {}
            "profile" => {
                return Err(search_error(
                    name,
                    "Carry makes the IPS summary only (http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips)",
                ))
            }
            "_format" if matches!(value.as_str(), "json" | "application/json" | "application/fhir+json") => {}
            "_format" => return Err(search_error(name, "Carry answers in JSON only (_format=json)")),
            other => return Err(search_error(other, "is not a parameter of $summary Carry supports (identifier)")),
        }
    }
    nhs_number.ok_or_else(|| search_error("identifier", format!("is required: give the patient's NHS number as {NHS_NUMBER}|<10 digits>")))
}

/// A type-level `_history` request (`[type]/_history?_since=...&_count=...`), checked: what
/// changed, including what was deleted, oldest first, across the records the client may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only changes at or after this.
    pub since: Option<Timestamp>,
    /// The page size (1 to [`MAX_COUNT`]).
    pub count: u32,
    /// Where this page starts.
    pub after: Option<(Timestamp, EntryId)>,
}

impl HistoryQuery {
    /// Reads the parameters; each one Carry does not support is refused by name.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, SearchError> {
        let mut q = HistoryQuery { since: None, count: DEFAULT_COUNT, after: None };
        for (name, value) in pairs {
            match name.as_str() {
                "_since" => {
                    q.since =
                        Some(parse_instant(value).ok_or_else(|| search_error(name, "give an instant, such as 2026-12-01T09:00:00Z"))?.0);
                }
                "_count" => {
                    q.count = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_COUNT).contains(n))
                        .ok_or_else(|| search_error(name, format!("give a whole number from 1 to {MAX_COUNT}")))?;
                }
                "_page" => q.after = Some(read_page(value).ok_or_else(|| search_error(name, "use the next link as Carry gave it"))?),
                "_format" if matches!(value.as_str(), "json" | "application/json" | "application/fhir+json") => {}
                other => return Err(search_error(other, "is not a history parameter Carry supports (_since, _count)")),
            }
        }
        Ok(q)
    }

    /// The query of the page after `last` (for the `next` link), keeping what the client asked.
    pub fn next_query(pairs: &[(String, String)], last: (Timestamp, EntryId)) -> String {
        let mut out = url_form(pairs.iter().filter(|(k, _)| k != "_page").map(|(k, v)| (k.as_str(), v.as_str())));
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&format!("_page={}.{}", last.0.as_millis(), last.1));
        out
    }
}

/// One change in a history page: the resource as it is now, or its deletion.
pub enum Change {
    /// Made or changed: the resource.
    Current(Value),
    /// Deleted: its type and id, and when.
    Deleted(String, Timestamp),
}

/// A page of history (newest versions of what changed, and deletions), oldest first.
pub fn history(self_url: &str, next_url: Option<&str>, base: &str, changes: Vec<Change>) -> Value {
    let mut links = vec![json!({ "relation": "self", "url": self_url })];
    if let Some(next) = next_url {
        links.push(json!({ "relation": "next", "url": next }));
    }
    let entries: Vec<Value> = changes
        .into_iter()
        .map(|c| match c {
            Change::Current(r) => {
                let path = format!("{}/{}", r["resourceType"].as_str().unwrap_or_default(), r["id"].as_str().unwrap_or_default());
                let method = if r["meta"]["versionId"] == "1" { "POST" } else { "PUT" };
                let status = if method == "POST" { "201 Created" } else { "200 OK" };
                let modified = r["meta"]["lastUpdated"].clone();
                json!({ "fullUrl": format!("{base}/{path}"), "resource": r,
                    "request": { "method": method, "url": if method == "POST" { path.split('/').next().unwrap_or_default().to_owned() } else { path.clone() } },
                    "response": { "status": status, "lastModified": modified } })
            }
            Change::Deleted(path, at) => json!({ "fullUrl": format!("{base}/{path}"),
                "request": { "method": "DELETE", "url": path }, "response": { "status": "204 No Content", "lastModified": instant(at) } }),
        })
        .collect();
    let mut bundle = json!({ "resourceType": "Bundle", "type": "history", "link": links });
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

/// The query text of these pairs, percent-encoded.
pub fn url_form<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs.map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn read_page(value: &str) -> Option<(Timestamp, EntryId)> {
    let (millis, id) = value.split_once('.')?;
    Some((Timestamp::from_millis(millis.parse().ok()?), id.parse().ok()?))
}

/// An instant or a date as the start of its span and the start of the next one (a date or an
/// instant to the second covers the whole day or second).
fn parse_instant(text: &str) -> Option<(Timestamp, Timestamp)> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(at) = time::OffsetDateTime::parse(text, &Rfc3339) {
        let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()?;
        let next = if at.nanosecond() == 0 { 1000 } else { 1 };
        return Some((Timestamp::from_millis(millis), Timestamp::from_millis(millis + next)));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text, &format).ok()?;
    let start = day.midnight().assume_utc().unix_timestamp() * 1000;
    Some((Timestamp::from_millis(start), Timestamp::from_millis(start + 86_400_000)))
}

// ---------------------------------------------------------------------------------------------
// Resources

/// Who entered an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author<'a> {
    /// The patient.
    Patient,
    /// A carer, by name, on the patient's behalf.
    Carer(&'a str),
}

/// An entry, as the API serves it.
#[derive(Debug, Clone)]
pub struct ServedEntry<'a> {
    /// Carry's identifier system for entries.
    pub entry_system: &'a str,
    /// The entry.
    pub entry_id: EntryId,
    /// Its served version: how many of its versions changed what is served (a change of
    /// sharing alone does not).
    pub version: i64,
    /// The entry's own version that made what is served (its Provenance is named by it).
    pub entry_version: i64,
    /// What it holds.
    pub body: &'a EntryBody,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// When it last changed, sharing included (the resource's `meta.lastUpdated`, what
    /// `_lastUpdated` matches).
    pub updated_at: Timestamp,
    /// When its served version was made (Provenance's `recorded`, an answer's `authored`).
    pub changed_at: Timestamp,
    /// Who entered it.
    pub author: Author<'a>,
    /// Who made its current version (its Provenance's author).
    pub changed_by: Author<'a>,
    /// The patient's NHS number (empty when Carry does not know it).
    pub nhs_number: &'a str,
    /// The Patient's `fullUrl` in a Bundle that holds it (a download of the record); `None`
    /// for the API, which names the patient by NHS number alone.
    pub patient_url: Option<&'a str>,
}

/// The Provenance id of an entry's current version (the same id Carry uses when it sends it).
pub fn provenance_id(entry: EntryId, version: i64) -> String {
    crate::push::provenance_id(entry, version)
}

/// The patient, or a carer as a RelatedPerson named by their display.
fn reference_to(who: Author<'_>, patient: &Reference) -> Reference {
    match who {
        Author::Patient => patient.clone(),
        Author::Carer(name) => Reference { ref_type: Some("RelatedPerson".into()), display: Some(name.to_owned()), ..Default::default() },
    }
}

/// The resource of type `t` for this entry, with its id and meta: the entry's own resource, or
/// its Provenance. `None` when the entry is not of a kind `t` is made from.
pub fn resource(t: Served, e: &ServedEntry<'_>) -> Option<Value> {
    let nhs_number = (!e.nhs_number.is_empty()).then(|| Identifier::new(NHS_NUMBER, e.nhs_number));
    let patient = match (e.patient_url, nhs_number) {
        (Some(url), identifier) => Reference { reference: Some(url.to_owned()), identifier, ..Default::default() },
        (None, identifier) => Reference { ref_type: Some("Patient".into()), identifier, ..Default::default() },
    };
    let author = reference_to(e.author, &patient);
    let kind = e.body.kind();
    if !t.kinds().contains(&kind) {
        return None;
    }
    let (id, mut value) = match t {
        Served::Provenance => {
            let target = Served::of_kind(kind);
            let provenance = Provenance {
                resource_type: "Provenance".into(),
                id: None,
                target: vec![Reference::to(format!("{}/{}", target.name(), e.entry_id))],
                recorded: instant(e.changed_at),
                activity: Some(if e.version == 1 {
                    CodeableConcept::of(Coding::new(DATA_OPERATION, "CREATE", "create"))
                } else {
                    CodeableConcept::of(Coding::new(DATA_OPERATION, "UPDATE", "revise"))
                }),
                agent: vec![ProvenanceAgent {
                    agent_type: Some(CodeableConcept::of(Coding::new(PARTICIPANT_TYPE, "author", "Author"))),
                    who: reference_to(e.changed_by, &patient),
                    on_behalf_of: matches!(e.changed_by, Author::Carer(_)).then(|| patient.clone()),
                }],
            };
            (provenance_id(e.entry_id, e.entry_version), to_json(&provenance))
        }
        Served::QuestionnaireResponse => {
            let EntryBody::AboutMe(about) = e.body else { return None };
            (e.entry_id.to_string(), about_me(about, e, &patient, &author))
        }
        Served::Observation | Served::DocumentReference => {
            let identifier = vec![Identifier::new(e.entry_system, &e.entry_id.to_string())];
            let status = if e.version == 1 { "final" } else { "amended" };
            let (_, value) = entry_resource(e.body, status, identifier, &patient, &author, e.occurred_at)?;
            (e.entry_id.to_string(), value)
        }
    };
    if let Value::Object(map) = &mut value {
        map.insert("id".into(), Value::String(id));
        map.insert("meta".into(), json!({ "versionId": e.version.to_string(), "lastUpdated": instant(e.updated_at) }));
    }
    Some(value)
}

/// "About me" as a QuestionnaireResponse: one item per answer given, each with its question.
fn about_me(about: &AboutMe, e: &ServedEntry<'_>, patient: &Reference, author: &Reference) -> Value {
    let mut items = Vec::new();
    let mut text = |link: &str, question: &str, answer: &str| {
        if !answer.is_empty() {
            items.push(json!({ "linkId": link, "text": question, "answer": [{ "valueString": answer }] }));
        }
    };
    text("preferred-name", "What I like to be called", &about.preferred_name);
    text("pronouns", "My pronouns", &about.pronouns);
    text("languages", "Languages I speak", &about.languages);
    text("contact-times", "Times that suit me", &about.contact_times);
    text("accessibility", "Accessibility and communication needs", &about.accessibility);
    text("practice-contact", "My main contact at the practice", &about.practice_contact);
    text("goals", "What matters to me", &about.goals);
    if !about.contact_methods.is_empty() {
        let answers: Vec<Value> = about.contact_methods.iter().map(|m| json!({ "valueString": m.label() })).collect();
        items.push(json!({ "linkId": "contact-methods", "text": "How I like to be contacted", "answer": answers }));
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "identifier": { "system": e.entry_system, "value": e.entry_id.to_string() },
        "status": if e.version == 1 { "completed" } else { "amended" },
        "subject": to_json(patient),
        "authored": instant(e.changed_at),
        "author": to_json(author),
        "source": to_json(patient),
        "item": items,
    })
}

/// A page of search results.
pub fn searchset(self_url: &str, next_url: Option<&str>, total: u64, base: &str, resources: Vec<Value>) -> Value {
    let mut links = vec![json!({ "relation": "self", "url": self_url })];
    if let Some(next) = next_url {
        links.push(json!({ "relation": "next", "url": next }));
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!("{base}/{}/{}", r["resourceType"].as_str().unwrap_or_default(), r["id"].as_str().unwrap_or_default());
            json!({ "fullUrl": url, "resource": r, "search": { "mode": "match" } })
        })
        .collect();
    let mut bundle = json!({ "resourceType": "Bundle", "type": "searchset", "total": total, "link": links });
    // FHIR JSON has no empty arrays: a page without matches has no entry at all.
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

/// An instant (`2026-12-05T10:00:00.000Z`) as an HTTP date (`Sat, 05 Dec 2026 10:00:00 GMT`),
/// for `Last-Modified`. `None` when it is not an instant.
pub fn http_date(instant: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(instant, &time::format_description::well_known::Rfc3339).ok()?;
    let format = time::macros::format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    t.to_offset(time::UtcOffset::UTC).format(&format).ok()
}

/// An OperationOutcome with one error.
pub fn outcome(code: &str, diagnostics: &str) -> Value {
    json!({ "resourceType": "OperationOutcome", "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }] })
}

/// The CapabilityStatement at `[base]/metadata`.
pub fn capability_statement(base: &str, token_url: &str, software_version: &str, date: &str) -> Value {
    // Carry serves no Patient resource; the type is listed for its summary operation alone.
    let summary = json!({
        "type": "Patient",
        "operation": [{
            "name": "summary",
            "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
            "documentation": format!("GET [base]/Patient/$summary?identifier={NHS_NUMBER}|<10 digits>: the International Patient Summary (IPS 2.0.0) as a document Bundle, holding only what the client may read. Needs the scope system/Patient.r."),
        }],
    });
    let resources: Vec<Value> = Served::ALL
        .into_iter()
        .map(|t| {
            json!({
                "type": t.name(),
                "interaction": [{ "code": "read" }, { "code": "search-type" }, { "code": "history-type" }],
                "searchParam": [
                    { "name": "patient", "type": "reference", "documentation": format!("By NHS number only: patient:identifier={NHS_NUMBER}|<10 digits> (required)") },
                    { "name": "_lastUpdated", "type": "date", "documentation": "ge, gt, le or lt; results are sorted by it, oldest first" },
                    { "name": "_count", "type": "number", "documentation": format!("0 (the total alone) to {MAX_COUNT}; {DEFAULT_COUNT} when not given") },
                ],
            })
        })
        .chain([summary])
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Carry",
        "kind": "instance",
        "software": { "name": "Carry", "version": software_version },
        "implementation": { "description": "Carry: patient-entered data, for authorised systems", "url": base },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. Patient-entered readings, notes, \u{201c}about me\u{201d} and their provenance, for patients whose GP practice has verified their link and only what they shared with it.",
            "security": {
                "service": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR" }] }],
                "description": "SMART Backend Services: private_key_jwt client assertions (ES384, RS384, RS512) for a bearer token.",
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{ "url": "token", "valueUri": token_url }]
                }]
            },
            "resource": resources,
        }],
    })
}

/// The SMART configuration at `[base]/.well-known/smart-configuration`.
pub fn smart_configuration(token_url: &str) -> Value {
    let scopes: Vec<String> =
        Served::ALL.into_iter().map(|t| format!("system/{}.rs", t.name())).chain(["system/Patient.r".to_owned()]).collect();
    json!({
        "token_endpoint": token_url,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384", "RS512"],
        "scopes_supported": scopes,
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const PATIENT: &str = "https://fhir.nhs.uk/Id/nhs-number|9434765919";

    #[test]
    fn scopes_read_v1_and_v2_and_grant_only_reads_of_served_types() {
        let asked = Scopes::parse("system/Observation.rs system/DocumentReference.read system/Patient.rs openid").unwrap();
        assert_eq!(asked.text(), "system/Observation.rs system/DocumentReference.rs system/Patient.r");
        assert!(asked.summary());
        let all = Scopes::parse("system/*.rs").unwrap();
        assert_eq!(
            all.text(),
            "system/Observation.rs system/DocumentReference.rs system/QuestionnaireResponse.rs system/Provenance.rs system/Patient.r"
        );
        // The summary is a read: a search-only scope of Patient does not give it.
        assert!(!Scopes::parse("system/Patient.s").unwrap().summary());
        assert!(!Scopes::parse("system/Observation.rs").unwrap().summary());
        let writes = Scopes::parse("system/Observation.cud system/*.write").unwrap();
        assert!(writes.is_empty());
        let registered = Scopes::parse("system/Observation.s system/Provenance.rs").unwrap();
        assert_eq!(asked.intersect(&registered).text(), "system/Observation.s");
        for bad in
            ["system/Observation", "system/Observation.sr", "system/Observation.x", "system/.rs", "system/Obs-1.rs", "system/Observation."]
        {
            assert!(Scopes::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_summary_is_asked_for_by_nhs_number_alone() {
        assert_eq!(summary_query(&pairs(&[("identifier", PATIENT), ("_format", "json")])).unwrap(), "9434765919");
        let ips = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips";
        assert!(summary_query(&pairs(&[("identifier", PATIENT), ("profile", ips)])).is_ok());
        for (q, param) in [
            (vec![], "identifier"),
            (vec![("identifier", "9434765919")], "identifier"),
            (vec![("identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765918")], "identifier"),
            (vec![("identifier", PATIENT), ("identifier", PATIENT)], "identifier"),
            (vec![("identifier", PATIENT), ("profile", "http://example.org/other")], "profile"),
            (vec![("identifier", PATIENT), ("_format", "xml")], "_format"),
            (vec![("identifier", PATIENT), ("patient", "Patient/1")], "patient"),
        ] {
            assert_eq!(summary_query(&pairs(&q)).unwrap_err().param, param, "{q:?}");
        }
    }

    #[test]
    fn instants_are_written_as_http_dates() {
        assert_eq!(http_date("2026-12-05T10:00:00.000Z").as_deref(), Some("Sat, 05 Dec 2026 10:00:00 GMT"));
        assert_eq!(http_date("2026-12-05T11:00:00+01:00").as_deref(), Some("Sat, 05 Dec 2026 10:00:00 GMT"));
        assert_eq!(http_date("soon"), None);
    }

    #[test]
    fn a_search_needs_a_valid_nhs_number_and_names_every_bad_parameter() {
        let s =
            Search::parse(&pairs(&[("patient:identifier", PATIENT), ("_lastUpdated", "ge2026-12-01T09:00:00Z"), ("_count", "2")])).unwrap();
        assert_eq!(s.nhs_number, "9434765919");
        assert_eq!(s.since.unwrap().as_millis(), 1_796_115_600_000);
        assert_eq!(s.count, 2);
        let total_only = Search::parse(&pairs(&[("patient:identifier", PATIENT), ("_count", "0")])).unwrap();
        assert_eq!(total_only.count, 0, "_count=0 asks for the total alone");
        let day =
            Search::parse(&pairs(&[("patient.identifier", PATIENT), ("_lastUpdated", "gt2026-12-01"), ("_lastUpdated", "lt2026-12-03")]))
                .unwrap();
        assert_eq!(day.since.unwrap().as_millis(), 1_796_169_600_000);
        assert_eq!(day.before.unwrap().as_millis(), 1_796_256_000_000);
        let cases: [(&[(&str, &str)], &str); 16] = [
            (&[], "patient:identifier"),
            (&[("patient", "Patient/1")], "patient"),
            (&[("patient:identifier", "9434765919")], "patient:identifier"),
            (&[("patient:identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765918")], "patient:identifier"),
            (&[("patient:identifier", PATIENT), ("_count", "101")], "_count"),
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "2026-12-01")], "_lastUpdated"),
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "geyesterday")], "_lastUpdated"),
            // Values that are not ASCII, or too short to hold a prefix, are refused by name.
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "gé2026-12-01")], "_lastUpdated"),
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "é")], "_lastUpdated"),
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "\u{1F600}2026")], "_lastUpdated"),
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "g")], "_lastUpdated"),
            (&[("patient:identifier", PATIENT), ("_lastUpdated", "")], "_lastUpdated"),
            (&[("patient:identifier", PATIENT), ("_count", "２")], "_count"),
            (&[("patient:identifier", PATIENT), ("_page", "é.é")], "_page"),
            (&[("patient:identifier", PATIENT), ("code", "http://loinc.org|8867-4")], "code"),
            (&[("patient:identifier", PATIENT), ("_page", "nonsense")], "_page"),
        ];
        for (query, param) in cases {
            assert_eq!(Search::parse(&pairs(query)).unwrap_err().param, param, "{query:?}");
        }
    }

    #[test]
    fn the_next_link_keeps_the_query_and_its_page_reads_back() {
        let q = pairs(&[("patient:identifier", PATIENT), ("_count", "2"), ("_page", "1.x")]);
        let id: EntryId = "01890a5d-ac96-774b-bcce-b302099a8057".parse().unwrap();
        let s = Search::parse(&q[..2]).unwrap();
        let next = s.next_query(&q, (Timestamp::from_millis(42), id));
        assert_eq!(
            next,
            "patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C9434765919&_count=2&_page=42.01890a5d-ac96-774b-bcce-b302099a8057"
        );
        let back = Search::parse(&pairs(&[("patient:identifier", PATIENT), ("_page", "42.01890a5d-ac96-774b-bcce-b302099a8057")])).unwrap();
        assert_eq!(back.after, Some((Timestamp::from_millis(42), id)));
    }

    #[test]
    fn an_entry_is_served_as_its_own_type_and_as_provenance_only() {
        let note = EntryBody::Note(domain::notes::Note::parse("Sleep", "Slept badly <b>again</b>", "").unwrap());
        let e = ServedEntry {
            entry_system: "http://localhost:3000/fhir/id/entry",
            entry_id: "01890a5d-ac96-774b-bcce-b302099a8057".parse().unwrap(),
            // Its third version changed what is served a second time (one changed sharing only).
            version: 2,
            entry_version: 3,
            body: &note,
            occurred_at: Timestamp::from_millis(1_796_115_600_000),
            updated_at: Timestamp::from_millis(1_796_115_800_000),
            changed_at: Timestamp::from_millis(1_796_115_700_000),
            author: Author::Carer("Alex Smith"),
            changed_by: Author::Carer("Alex Smith"),
            nhs_number: "9434765919",
            patient_url: None,
        };
        assert!(resource(Served::Observation, &e).is_none());
        assert!(resource(Served::QuestionnaireResponse, &e).is_none());
        let doc = resource(Served::DocumentReference, &e).unwrap();
        assert_eq!(doc["id"], "01890a5d-ac96-774b-bcce-b302099a8057");
        assert_eq!(doc["meta"]["versionId"], "2");
        assert_eq!(doc["subject"]["identifier"]["value"], "9434765919");
        assert_eq!(doc["author"][0]["display"], "Alex Smith");
        let prov = resource(Served::Provenance, &e).unwrap();
        assert_eq!(prov["id"], "carry-01890a5d-ac96-774b-bcce-b302099a8057-3", "named by the entry's version");
        assert_eq!(prov["target"][0]["reference"], "DocumentReference/01890a5d-ac96-774b-bcce-b302099a8057");
        assert_eq!(prov["activity"]["coding"][0]["code"], "UPDATE");
        assert_eq!(prov["recorded"], instant(Timestamp::from_millis(1_796_115_700_000)), "when the served version was made");
        assert_eq!(doc["meta"]["lastUpdated"], instant(Timestamp::from_millis(1_796_115_800_000)), "when it last changed at all");
        assert_eq!(prov["agent"][0]["onBehalfOf"]["identifier"]["value"], "9434765919");
        // The patient changed what the carer entered: the Provenance of this version names them.
        let changed = ServedEntry { changed_by: Author::Patient, ..e };
        let prov = resource(Served::Provenance, &changed).unwrap();
        assert_eq!(prov["agent"][0]["who"]["identifier"]["value"], "9434765919");
        assert!(prov["agent"][0].get("onBehalfOf").is_none());
        assert_eq!(resource(Served::DocumentReference, &changed).unwrap()["author"][0]["display"], "Alex Smith", "still theirs");
    }
}
