//! Reading what the shared care record holds about a patient: each resource of the kinds Carry
//! shows becomes a [`PulledItem`] (its section, words, date, source and privacy label), and a
//! history page gives the deletions to apply.
//!
//! Resources are read as JSON rather than full typed models: Carry shows a few elements of
//! many resource types, and a field it does not know must never stop a pull.

use crate::model::{Bundle, BundleEntry};
use crate::response::type_and_id;
use crate::security::{read_security, SecurityRules};
use domain::care_record::{format_value, Confidentiality, Origin, Section};
use domain::PrivacyLabel;
use serde_json::Value;

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

/// The search parameter that names the patient, per type (all of Carry's types use `patient`).
pub fn search_path(resource_type: &str, patient_id: &str, since: Option<&str>, count: u32) -> String {
    let mut path = format!("{resource_type}?patient=Patient/{patient_id}&_sort=_lastUpdated&_count={count}");
    if let Some(since) = since {
        path.push_str("&_lastUpdated=ge");
        path.push_str(&encode(since));
    }
    if resource_type == "DiagnosticReport" {
        path.push_str("&_include=DiagnosticReport:result");
    }
    path
}

/// The history of a type since a moment (for deletions).
pub fn history_path(resource_type: &str, since: &str, count: u32) -> String {
    format!("{resource_type}/_history?_since={}&_count={count}", encode(since))
}

/// The moment `overlap_seconds` before `watermark` (an instant in the other server's clock),
/// written as an instant in UTC with milliseconds. `None` when the watermark is not an instant.
pub fn minus_overlap(watermark: &str, overlap_seconds: i64) -> Option<String> {
    let t = time::OffsetDateTime::parse(watermark.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    let nanos = (t - time::Duration::seconds(overlap_seconds)).unix_timestamp_nanos();
    let millis = i64::try_from(nanos / 1_000_000).ok()?;
    Some(crate::instant(domain::Timestamp::from_millis(millis)))
}

/// Whether instant `a` is later than `b` (both in the other server's clock). Unparseable
/// instants compare as text.
pub fn later(a: &str, b: &str) -> bool {
    let parse = |s: &str| time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok();
    match (parse(a), parse(b)) {
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

/// A numeric result, for trends.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// `system|code` of what was measured (the trend's key).
    pub code: String,
    /// The value.
    pub value: f64,
    /// Its unit, as written.
    pub unit: String,
}

/// One resource, read for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledItem {
    /// The FHIR type.
    pub resource_type: String,
    /// Its id on the shared care record.
    pub id: String,
    /// Its version there (opaque; empty when the server gave none).
    pub version_id: String,
    /// `meta.lastUpdated` in the server's clock (the watermark), when given.
    pub last_updated: Option<String>,
    /// Where it is shown.
    pub section: Section,
    /// What it is.
    pub title: String,
    /// More, in words.
    pub detail: Option<String>,
    /// When, as the record gives it (ISO 8601, a date or an instant).
    pub date: Option<String>,
    /// The organisation or person named as its source.
    pub source: Option<String>,
    /// The badge.
    pub origin: Origin,
    /// Its privacy label, from its security labels.
    pub label: PrivacyLabel,
    /// Who beyond the label may see it, from its security labels.
    pub confidentiality: Confidentiality,
    /// Its security codings as the source gave them, to show.
    pub security_codes: Vec<String>,
    /// A numeric result, for trends.
    pub measure: Option<Measure>,
}

/// Why a resource was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    /// It is not of a type Carry shows.
    #[error("a {0} is not shown in Carry")]
    NotShown(String),
    /// It has no id.
    #[error("a {0} without an id")]
    NoId(String),
    /// It names another patient (the server answered with someone else's data: never kept).
    #[error("a {0} about another patient")]
    OtherPatient(String),
}

/// Reads one resource of `patient_id`'s record. `carry_entry_system` is Carry's own identifier
/// system for entries: what Carry sent comes back badged as the patient's or their carer's.
/// `rules` are the connection's security settings (which codes mean social care).
pub fn read_item(resource: &Value, patient_id: &str, carry_entry_system: &str, rules: &SecurityRules) -> Result<PulledItem, PullError> {
    let rtype = text(resource, "resourceType").unwrap_or_default();
    let section = Section::of_resource(&rtype).ok_or_else(|| PullError::NotShown(rtype.clone()))?;
    let id = text(resource, "id").ok_or_else(|| PullError::NoId(rtype.clone()))?;
    if !about_patient(resource, patient_id) {
        return Err(PullError::OtherPatient(rtype));
    }
    let source = source_name(resource);
    let from_carry =
        resource["identifier"].as_array().is_some_and(|ids| ids.iter().any(|i| i["system"].as_str() == Some(carry_entry_system)));
    let origin = if from_carry {
        let by_carer = ["performer", "author"].iter().any(|f| references(&resource[*f]).any(|r| r.starts_with("RelatedPerson/")));
        if by_carer {
            Origin::Carer
        } else {
            Origin::You
        }
    } else {
        source.as_deref().map_or(Origin::SharedRecord, Origin::from_organisation_name)
    };
    let measure = (rtype == "Observation").then(|| measure(resource)).flatten();
    let security = read_security(resource, rules);
    Ok(PulledItem {
        title: title(resource, &rtype),
        detail: detail(resource, &rtype),
        date: date(resource),
        version_id: text(&resource["meta"], "versionId").unwrap_or_default(),
        last_updated: text(&resource["meta"], "lastUpdated"),
        resource_type: rtype,
        id,
        section,
        source,
        origin,
        label: security.label,
        confidentiality: security.confidentiality,
        security_codes: security.codes,
        measure,
    })
}

/// Whether the resource's subject or patient is `Patient/{patient_id}` (relative or absolute).
fn about_patient(resource: &Value, patient_id: &str) -> bool {
    let want = format!("Patient/{patient_id}");
    ["subject", "patient"].iter().any(|f| {
        resource[*f]["reference"]
            .as_str()
            .is_some_and(|r| r == want || r.ends_with(&format!("/{want}")) || type_and_id(r).as_deref() == Some(&want))
    })
}

fn text(v: &Value, field: &str) -> Option<String> {
    v[field].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A CodeableConcept in words: its text, else its first coding's display, else its code.
fn concept(v: &Value) -> Option<String> {
    text(v, "text").or_else(|| v["coding"].as_array()?.iter().find_map(|c| text(c, "display").or_else(|| text(c, "code"))))
}

fn references(v: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    list.into_iter().filter_map(|r| r["reference"].as_str().or_else(|| r["actor"]["reference"].as_str()))
}

fn title(r: &Value, rtype: &str) -> String {
    let found = match rtype {
        "MedicationStatement" | "MedicationRequest" => {
            concept(&r["medicationCodeableConcept"]).or_else(|| text(&r["medicationReference"], "display"))
        }
        "Immunization" => concept(&r["vaccineCode"]),
        "DocumentReference" => text(r, "description").or_else(|| concept(&r["type"])),
        "Encounter" => r["type"].as_array().and_then(|t| t.iter().find_map(concept)).or_else(|| text(&r["class"], "display")),
        "CarePlan" => text(r, "title").or_else(|| r["category"].as_array().and_then(|c| c.iter().find_map(concept))),
        _ => concept(&r["code"]),
    };
    found.unwrap_or_else(|| match rtype {
        "Condition" => "A problem (not named in the record)".to_owned(),
        "AllergyIntolerance" => "An allergy (not named in the record)".to_owned(),
        _ => format!("{} (not named in the record)", rtype),
    })
}

fn quantity(q: &Value) -> Option<String> {
    let v = q["value"].as_f64()?;
    let unit = text(q, "unit").or_else(|| text(q, "code")).unwrap_or_default();
    Some(format!("{} {unit}", format_value(v)).trim().to_owned())
}

fn detail(r: &Value, rtype: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    match rtype {
        "Condition" => parts.extend(concept(&r["clinicalStatus"])),
        "MedicationStatement" | "MedicationRequest" => {
            parts.extend(r["dosage"].as_array().or(r["dosageInstruction"].as_array()).and_then(|d| d.iter().find_map(|x| text(x, "text"))));
            parts.extend(text(r, "status"));
        }
        "AllergyIntolerance" => {
            let reactions: Vec<String> = r["reaction"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|x| x["manifestation"].as_array().into_iter().flatten().filter_map(concept))
                .collect();
            if !reactions.is_empty() {
                parts.push(format!("Reaction: {}", reactions.join(", ")));
            }
            parts.extend(text(r, "criticality").map(|c| format!("criticality {c}")));
        }
        "Observation" => {
            if let Some(v) =
                quantity(&r["valueQuantity"]).or_else(|| concept(&r["valueCodeableConcept"])).or_else(|| text(r, "valueString"))
            {
                parts.push(v);
            }
            let comps: Vec<String> = r["component"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| Some(format!("{} {}", concept(&c["code"])?, quantity(&c["valueQuantity"])?)))
                .collect();
            parts.extend(comps);
            parts.extend(r["interpretation"].as_array().and_then(|i| i.iter().find_map(concept)));
        }
        "DiagnosticReport" => parts.extend(text(r, "conclusion")),
        "Immunization" => parts.extend(text(r, "status")),
        "Encounter" => parts.extend(text(&r["class"], "display").or_else(|| text(&r["class"], "code"))),
        "CarePlan" => parts.extend(text(r, "description")),
        _ => {}
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn date(r: &Value) -> Option<String> {
    const FIELDS: [&str; 10] = [
        "effectiveDateTime",
        "onsetDateTime",
        "occurrenceDateTime",
        "authoredOn",
        "recordedDate",
        "dateAsserted",
        "issued",
        "date",
        "created",
        "effectiveInstant",
    ];
    FIELDS
        .iter()
        .find_map(|f| text(r, f))
        .or_else(|| ["effectivePeriod", "period", "onsetPeriod"].iter().find_map(|f| text(&r[*f], "start")))
}

/// The source organisation or person, by the first reference display the resource gives.
fn source_name(r: &Value) -> Option<String> {
    const FIELDS: [&str; 9] =
        ["serviceProvider", "custodian", "performer", "recorder", "asserter", "requester", "author", "informationSource", "issuer"];
    FIELDS.iter().find_map(|f| {
        let v = &r[*f];
        match v {
            Value::Array(a) => a.iter().find_map(|x| text(x, "display").or_else(|| text(&x["actor"], "display"))),
            _ => text(v, "display"),
        }
    })
}

fn measure(r: &Value) -> Option<Measure> {
    let coding = r["code"]["coding"].as_array()?.first()?;
    let code = format!("{}|{}", coding["system"].as_str().unwrap_or_default(), coding["code"].as_str()?);
    let q = &r["valueQuantity"];
    Some(Measure { code, value: q["value"].as_f64()?, unit: text(q, "unit").or_else(|| text(q, "code")).unwrap_or_default() })
}

/// The `Type/id` a history entry deleted, when it is a deletion.
pub fn deletion(e: &BundleEntry) -> Option<String> {
    let request = e.request.as_ref().filter(|r| r.method.eq_ignore_ascii_case("DELETE"))?;
    type_and_id(&request.url).or_else(|| e.full_url.as_deref().and_then(type_and_id))
}

/// The `Type/id` of each deletion in a history page.
pub fn deletions(history: &Bundle) -> Vec<String> {
    history.entry.iter().filter_map(deletion).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CARRY: &str = "https://carry.example.org/fhir/id/entry";

    #[test]
    fn a_condition_is_a_problem_with_its_status_date_and_source() {
        let r = json!({"resourceType": "Condition", "id": "c1", "meta": {"versionId": "3", "lastUpdated": "2026-11-20T10:00:00.000+00:00"},
            "clinicalStatus": {"coding": [{"code": "active", "display": "Active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006", "display": "Type 2 diabetes mellitus"}]},
            "subject": {"reference": "Patient/p1"}, "onsetDateTime": "2019-03-01",
            "recorder": {"reference": "Practitioner/x", "display": "Riverside Surgery"}});
        let item = read_item(&r, "p1", CARRY, &SecurityRules::default()).unwrap();
        assert_eq!((item.section, item.title.as_str()), (Section::Problems, "Type 2 diabetes mellitus"));
        assert_eq!(item.detail.as_deref(), Some("Active"));
        assert_eq!(item.date.as_deref(), Some("2019-03-01"));
        assert_eq!((item.source.as_deref(), item.origin), (Some("Riverside Surgery"), Origin::Gp));
        assert_eq!((item.version_id.as_str(), item.last_updated.as_deref()), ("3", Some("2026-11-20T10:00:00.000+00:00")));
    }

    #[test]
    fn another_patients_resource_is_never_taken() {
        let r = json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p2"}});
        assert_eq!(read_item(&r, "p1", CARRY, &SecurityRules::default()), Err(PullError::OtherPatient("Condition".into())));
        let absolute = json!({"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "http://h/fhir/Patient/p1"}});
        assert!(read_item(&absolute, "p1", CARRY, &SecurityRules::default()).is_ok());
        let none = json!({"resourceType": "Encounter", "id": "e1"});
        assert!(read_item(&none, "p1", CARRY, &SecurityRules::default()).is_err());
    }

    #[test]
    fn what_carry_sent_comes_back_as_the_patients_or_their_carers() {
        let mine = json!({"resourceType": "Observation", "id": "o1", "identifier": [{"system": CARRY, "value": "x"}],
            "subject": {"reference": "Patient/p1"}, "performer": [{"reference": "Patient/p1"}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}});
        let item = read_item(&mine, "p1", CARRY, &SecurityRules::default()).unwrap();
        assert_eq!(item.origin, Origin::You);
        assert_eq!(item.detail.as_deref(), Some("72.5 kg"));
        assert_eq!(item.measure, Some(Measure { code: "http://loinc.org|29463-7".into(), value: 72.5, unit: "kg".into() }));
        let mut carers = mine.clone();
        carers["performer"] = json!([{"reference": "RelatedPerson/r1"}]);
        assert_eq!(read_item(&carers, "p1", CARRY, &SecurityRules::default()).unwrap().origin, Origin::Carer);
    }

    #[test]
    fn security_labels_give_the_privacy_label_and_who_may_see_it() {
        let r = |code: &str| {
            json!({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p1"},
            "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code}]}})
        };
        let read = |code: &str| {
            let i = read_item(&r(code), "p1", CARRY, &SecurityRules::default()).unwrap();
            (i.label, i.confidentiality)
        };
        assert_eq!(read("PSY"), (PrivacyLabel::MentalHealth, Confidentiality::Normal));
        assert_eq!(read("HIV"), (PrivacyLabel::SexualHealth, Confidentiality::Normal));
        assert_eq!(read("NOPAT"), (PrivacyLabel::General, Confidentiality::NoPatient));
        // SOC is not an HL7 code: without a configured social care code it is unknown, so restricted.
        assert_eq!(read("SOC"), (PrivacyLabel::General, Confidentiality::Restricted));
    }

    #[test]
    fn medicines_allergies_and_blood_pressure_read_in_words() {
        let med = json!({"resourceType": "MedicationRequest", "id": "m", "status": "active", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"text": "Amlodipine 5 mg tablets"}, "dosageInstruction": [{"text": "One a day"}],
            "authoredOn": "2026-01-02", "requester": {"display": "St Mary's Hospital"}});
        let m = read_item(&med, "p1", CARRY, &SecurityRules::default()).unwrap();
        assert_eq!(
            (m.title.as_str(), m.detail.as_deref(), m.origin),
            ("Amlodipine 5 mg tablets", Some("One a day; active"), Origin::Hospital)
        );
        let allergy = json!({"resourceType": "AllergyIntolerance", "id": "a", "patient": {"reference": "Patient/p1"},
            "code": {"text": "Penicillin"}, "criticality": "high", "reaction": [{"manifestation": [{"text": "Hives"}]}]});
        assert_eq!(
            read_item(&allergy, "p1", CARRY, &SecurityRules::default()).unwrap().detail.as_deref(),
            Some("Reaction: Hives; criticality high")
        );
        let bp = json!({"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/p1"}, "code": {"text": "Blood pressure"},
            "component": [{"code": {"text": "Systolic"}, "valueQuantity": {"value": 128, "unit": "mm[Hg]"}},
                          {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 82.0, "unit": "mm[Hg]"}}],
            "effectivePeriod": {"start": "2026-02-03T09:00:00Z"}});
        let b = read_item(&bp, "p1", CARRY, &SecurityRules::default()).unwrap();
        assert_eq!(b.detail.as_deref(), Some("Systolic 128 mm[Hg]; Diastolic 82 mm[Hg]"));
        assert_eq!(b.date.as_deref(), Some("2026-02-03T09:00:00Z"));
        assert_eq!(b.measure, None, "a panel has no single value to trend");
    }

    #[test]
    fn searches_name_the_patient_and_encode_the_watermark() {
        assert_eq!(
            search_path("Observation", "p1", Some("2026-11-20T10:00:00.000+00:00"), 100),
            "Observation?patient=Patient/p1&_sort=_lastUpdated&_count=100&_lastUpdated=ge2026-11-20T10%3A00%3A00.000%2B00%3A00"
        );
        assert!(search_path("DiagnosticReport", "p1", None, 50).ends_with("&_include=DiagnosticReport:result"));
    }

    #[test]
    fn the_overlap_is_taken_in_the_remote_clock() {
        assert_eq!(minus_overlap("2026-11-20T10:00:00.000Z", 300).as_deref(), Some("2026-11-20T09:55:00.000Z"));
        assert_eq!(minus_overlap("2026-11-20T11:00:00+01:00", 60).as_deref(), Some("2026-11-20T09:59:00.000Z"));
        assert_eq!(minus_overlap("yesterday", 60), None);
        assert!(later("2026-11-20T10:00:00.001Z", "2026-11-20T10:00:00Z"));
        assert!(!later("2026-11-20T11:00:00+01:00", "2026-11-20T10:00:00Z"));
    }

    #[test]
    fn a_history_page_gives_its_deletions() {
        let b: Bundle = serde_json::from_value(json!({"resourceType": "Bundle", "type": "history", "entry": [
            {"fullUrl": "http://h/fhir/Condition/c1", "request": {"method": "DELETE", "url": "Condition/c1"}},
            {"fullUrl": "http://h/fhir/Condition/c2", "resource": {"resourceType": "Condition", "id": "c2"}, "request": {"method": "PUT", "url": "Condition/c2"}},
            {"fullUrl": "http://h/fhir/Encounter/e9", "request": {"method": "DELETE", "url": "Encounter/e9/_history/4"}}]}))
        .unwrap();
        assert_eq!(deletions(&b), vec!["Condition/c1".to_owned(), "Encounter/e9".to_owned()]);
    }
}
