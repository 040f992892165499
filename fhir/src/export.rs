//! A record as one FHIR R4 Bundle of type `collection`, to download (the patient's right of
//! access): the frame the service writes resources into one at a time, and the resources Carry
//! has no API for. Entries are the API's own resources ([`crate::api::resource`]), one for
//! each version, all under one `fullUrl` with their `meta.versionId` (bdl-7 allows it).
//!
//! - The patient: a `Patient` with their name, NHS number and date of birth where Carry knows
//!   them, at `urn:uuid:` of the record's id; every resource refers to it there.
//! - Carers: each grant as a `RelatedPerson` (who, how related) and a `Consent` (what the patient
//!   agreed they may see and do, from when until when, on what basis, and where it stands).
//! - The access log: each row as an `AuditEvent`, with its place in the record's hash chain.
//! - Items pulled from the shared care record: the resource as that server sent it, at its
//!   address there (`fullUrl`), so where it came from stays plain.

use crate::instant;
use crate::model::{Identifier, Reference};
use crate::push::to_json;
use crate::NHS_NUMBER;
use domain::{PrivacyLabel, Timestamp};
use serde_json::{json, Value};

/// The Bundle up to its first entry: everything but the entries and the closing brackets.
pub fn bundle_open(id: &str, timestamp: Timestamp) -> String {
    let head = json!({ "resourceType": "Bundle", "id": id, "type": "collection", "timestamp": instant(timestamp) });
    let text = head.to_string();
    // `{"id":...,"type":"collection"}` becomes `{"id":...,"type":"collection","entry":[`.
    format!("{},\"entry\":[", text.trim_end_matches('}'))
}

/// What ends the Bundle after its last entry.
pub const BUNDLE_CLOSE: &str = "]}";

/// One entry of the Bundle.
pub fn entry(full_url: &str, resource: Value) -> Value {
    json!({ "fullUrl": full_url, "resource": resource })
}

/// The `fullUrl` of something Carry has no address for: `urn:uuid:` of its id.
pub fn urn(uuid: &str) -> String {
    format!("urn:uuid:{uuid}")
}

/// The patient, as the record knows them.
#[derive(Debug, Clone)]
pub struct ExportPatient<'a> {
    /// The record's id (a UUID): the Patient's id.
    pub id: &'a str,
    /// Their name.
    pub name: &'a str,
    /// Their NHS number, when Carry knows it.
    pub nhs_number: Option<&'a str>,
    /// Their date of birth (`YYYY-MM-DD`), when Carry knows it.
    pub born_on: Option<&'a str>,
}

/// A reference to the patient inside the Bundle.
pub fn patient_reference(p: &ExportPatient<'_>) -> Reference {
    Reference {
        reference: Some(urn(p.id)),
        identifier: p.nhs_number.map(|n| Identifier::new(NHS_NUMBER, n)),
        display: Some(p.name.to_owned()),
        ..Default::default()
    }
}

/// The `Patient`.
pub fn patient(p: &ExportPatient<'_>) -> Value {
    let mut v = json!({ "resourceType": "Patient", "id": p.id, "name": [{ "text": p.name }] });
    if let Some(n) = p.nhs_number {
        v["identifier"] = json!([{ "system": NHS_NUMBER, "value": n }]);
    }
    if let Some(b) = p.born_on {
        v["birthDate"] = Value::String(b.to_owned());
    }
    v
}

/// Where a grant stands, as a `Consent.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// Invited, not yet answered.
    Proposed,
    /// In force now.
    Active,
    /// The carer declined.
    Rejected,
    /// Ended, revoked or withdrawn.
    Inactive,
}

impl GrantState {
    fn code(self) -> &'static str {
        match self {
            GrantState::Proposed => "proposed",
            GrantState::Active => "active",
            GrantState::Rejected => "rejected",
            GrantState::Inactive => "inactive",
        }
    }
}

/// A carer's grant, as the download shows it.
#[derive(Debug, Clone)]
pub struct ExportGrant<'a> {
    /// The grant's id (a UUID): the RelatedPerson's id.
    pub id: &'a str,
    /// Its Consent's id (a UUID).
    pub consent_id: &'a str,
    /// The carer's name.
    pub carer_name: &'a str,
    /// How they are related (a v3 RoleCode code) and in words.
    pub relationship: (&'a str, &'a str),
    /// On what authority, in words.
    pub basis: &'a str,
    /// Where it stands.
    pub state: GrantState,
    /// The labels it covers, with their security codings.
    pub labels: Vec<(PrivacyLabel, Vec<Value>)>,
    /// May add entries.
    pub can_add: bool,
    /// May download the record and make health links.
    pub can_export: bool,
    /// From, until (exclusive), and when it was given.
    pub period: (Timestamp, Timestamp),
    /// When the patient gave it.
    pub given_at: Timestamp,
}

const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
const CONSENT_ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const LOINC: &str = "http://loinc.org";

/// The carer as a `RelatedPerson`.
pub fn related_person(g: &ExportGrant<'_>, patient: &Reference) -> Value {
    json!({
        "resourceType": "RelatedPerson",
        "id": g.id,
        "active": g.state == GrantState::Active,
        "patient": to_json(patient),
        "relationship": [{ "coding": [{ "system": ROLE_CODE, "code": g.relationship.0, "display": g.relationship.1 }] }],
        "name": [{ "text": g.carer_name }],
    })
}

/// What the patient agreed the carer may see and do, as a `Consent`: a permit for the carer
/// (by their RelatedPerson) over the grant's period, with the actions it covers and its labels
/// as security labels.
pub fn consent(g: &ExportGrant<'_>, patient: &Reference) -> Value {
    let mut actions = vec![json!({ "coding": [{ "system": CONSENT_ACTION, "code": "access" }], "text": "view" })];
    if g.can_add {
        actions.push(json!({ "coding": [{ "system": CONSENT_ACTION, "code": "collect" }], "text": "add readings and notes" }));
    }
    if g.can_export {
        actions.push(
            json!({ "coding": [{ "system": CONSENT_ACTION, "code": "disclose" }], "text": "download the record and make health links" }),
        );
    }
    let labels: Vec<Value> = g.labels.iter().flat_map(|(_, codings)| codings.iter().cloned()).collect();
    let words: Vec<&str> = g.labels.iter().map(|(l, _)| l.label()).collect();
    let mut provision = json!({
        "type": "permit",
        "period": { "start": instant(g.period.0), "end": instant(g.period.1) },
        "actor": [{
            "role": { "coding": [{ "system": PARTICIPATION_TYPE, "code": "IRCP", "display": "information recipient" }] },
            "reference": { "reference": urn(g.id), "display": g.carer_name },
        }],
        "action": actions,
    });
    if !labels.is_empty() {
        provision["securityLabel"] = Value::Array(dedup(labels));
    }
    json!({
        "resourceType": "Consent",
        "id": g.consent_id,
        "status": g.state.code(),
        "scope": { "coding": [{ "system": CONSENT_SCOPE, "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": LOINC, "code": "59284-0", "display": "Patient Consent" }] }],
        "patient": to_json(patient),
        "dateTime": instant(g.given_at),
        "policyRule": { "coding": [{ "system": ACT_CODE, "code": "OPTIN" }], "text": g.basis },
        "provision": provision,
        "text": {
            "status": "generated",
            "div": format!(
                "<div xmlns=\"http://www.w3.org/1999/xhtml\">{} may see: {}.</div>",
                escape(g.carer_name),
                escape(&words.join(", "))
            ),
        },
    })
}

/// Codings once each, in order.
fn dedup(values: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Text for a narrative's XHTML.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A row of the access log, as the download shows it.
#[derive(Debug, Clone)]
pub struct ExportLogRow<'a> {
    /// Its AuditEvent's id (a UUID).
    pub id: &'a str,
    /// When.
    pub at: Timestamp,
    /// Who, by the name logged.
    pub actor_name: &'a str,
    /// Their part towards the record, in words ("carer", "practice clinician").
    pub role: &'a str,
    /// Whether it read, added, changed or did something else: `R`, `C`, `U` or `E`.
    pub action: &'a str,
    /// The row in words, as the patient's log page says it.
    pub words: &'a str,
    /// Why it was refused, in words, if it was.
    pub refused: Option<&'a str>,
    /// Its place in the record's hash chain, and its hash.
    pub seq: i64,
    /// The row's hash.
    pub hash: &'a str,
}

const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";

/// A row of the access log as an `AuditEvent`.
pub fn audit_event(r: &ExportLogRow<'_>, patient: &Reference) -> Value {
    let mut v = json!({
        "resourceType": "AuditEvent",
        "id": r.id,
        "type": { "system": DICOM, "code": "110110", "display": "Patient Record" },
        "action": r.action,
        "recorded": instant(r.at),
        "outcome": if r.refused.is_some() { "4" } else { "0" },
        "agent": [{ "who": { "display": r.actor_name }, "name": r.actor_name, "role": [{ "text": r.role }], "requestor": true }],
        "source": { "observer": { "display": "Carry" } },
        "entity": [{
            "what": to_json(patient),
            "description": r.words,
            "detail": [
                { "type": "carry-log-seq", "valueString": r.seq.to_string() },
                { "type": "carry-log-hash", "valueString": r.hash },
            ],
        }],
    });
    if let Some(why) = r.refused {
        v["outcomeDesc"] = Value::String(why.to_owned());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_is_a_collection_whose_entries_follow() {
        let open = bundle_open("b1", Timestamp::from_millis(0));
        let whole = format!("{open}{}{BUNDLE_CLOSE}", entry("urn:uuid:x", json!({ "resourceType": "Basic" })));
        let v: Value = serde_json::from_str(&whole).expect("the frame and an entry make JSON");
        assert_eq!(v["type"], "collection");
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["entry"][0]["fullUrl"], "urn:uuid:x");
    }

    #[test]
    fn a_grant_is_a_consent_for_its_carer_with_its_actions_and_labels() {
        let p = ExportPatient { id: "p", name: "Sam <Patel>", nhs_number: Some("9434765919"), born_on: None };
        let patient = patient_reference(&p);
        let g = ExportGrant {
            id: "g",
            consent_id: "c",
            carer_name: "Alex & Co",
            relationship: ("SPS", "spouse"),
            basis: "You agreed to it",
            state: GrantState::Active,
            labels: vec![(PrivacyLabel::General, vec![json!({"code": "N"})])],
            can_add: false,
            can_export: true,
            period: (Timestamp::from_millis(0), Timestamp::from_millis(1000)),
            given_at: Timestamp::from_millis(0),
        };
        let c = consent(&g, &patient);
        assert_eq!(c["status"], "active");
        assert_eq!(c["provision"]["actor"][0]["reference"]["reference"], "urn:uuid:g");
        let actions: Vec<&str> =
            c["provision"]["action"].as_array().into_iter().flatten().filter_map(|a| a["coding"][0]["code"].as_str()).collect();
        assert_eq!(actions, ["access", "disclose"]);
        assert_eq!(c["provision"]["securityLabel"], json!([{"code": "N"}]));
        assert!(c["text"]["div"].as_str().is_some_and(|d| d.contains("Alex &amp; Co")));
        assert_eq!(related_person(&g, &patient)["patient"]["reference"], "urn:uuid:p");
    }
}
