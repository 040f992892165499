//! The International Patient Summary (HL7 IPS implementation guide 2.0.0) as a FHIR Document
//! Bundle: a Composition with the required sections (problems, medication summary, allergies
//! and intolerances; each with an `emptyReason` when it has nothing to say), the recommended
//! ones Carry has data for (immunizations, results), and the optional ones that fit (vital
//! signs from the patient's home readings, and "about me" as the patient story), followed by
//! every resource the sections name. Pure: the service chooses what goes in, through the gate.
//!
//! Items from the shared care record go in as the source sent them, with one change a
//! document needs: every reference resolves inside the Bundle. References to the patient point
//! at the Bundle's Patient; references to something the Bundle does not hold (a practitioner,
//! a medication resource) keep their `display` and lose their address.

use crate::export::{escape, patient, urn, ExportPatient};
use crate::instant;
use domain::Timestamp;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const LOINC: &str = "http://loinc.org";
const EMPTY_REASON: &str = "http://terminology.hl7.org/CodeSystem/list-empty-reason";

/// A section of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsSection {
    /// Problems (required).
    Problems,
    /// Medication summary (required).
    Medications,
    /// Allergies and intolerances (required).
    Allergies,
    /// Immunizations (recommended).
    Immunizations,
    /// Results (recommended).
    Results,
    /// Vital signs (optional): the patient's own home readings.
    VitalSigns,
    /// The patient story (optional): "about me".
    PatientStory,
}

impl IpsSection {
    /// The sections in the order the summary lists them.
    pub const ALL: [IpsSection; 7] = [
        IpsSection::Problems,
        IpsSection::Medications,
        IpsSection::Allergies,
        IpsSection::Immunizations,
        IpsSection::Results,
        IpsSection::VitalSigns,
        IpsSection::PatientStory,
    ];

    /// Whether IPS requires it (with an `emptyReason` when empty).
    pub fn required(self) -> bool {
        matches!(self, IpsSection::Problems | IpsSection::Medications | IpsSection::Allergies)
    }

    /// Its LOINC code and display, as IPS 2.0.0 names it.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            IpsSection::Problems => ("11450-4", "Problem list - Reported"),
            IpsSection::Medications => ("10160-0", "History of Medication use Narrative"),
            IpsSection::Allergies => ("48765-2", "Allergies and adverse reactions Document"),
            IpsSection::Immunizations => ("11369-6", "History of Immunization Narrative"),
            IpsSection::Results => ("30954-2", "Relevant diagnostic tests/laboratory data Narrative"),
            IpsSection::VitalSigns => ("8716-3", "Vital signs"),
            IpsSection::PatientStory => ("81338-6", "Patient Goals, preferences, and care experience"),
        }
    }

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            IpsSection::Problems => "Problems",
            IpsSection::Medications => "Medication summary",
            IpsSection::Allergies => "Allergies and intolerances",
            IpsSection::Immunizations => "Immunizations",
            IpsSection::Results => "Results",
            IpsSection::VitalSigns => "Vital signs (home readings)",
            IpsSection::PatientStory => "About me: what matters to me",
        }
    }

    /// The section a pulled resource type belongs in, if any.
    pub fn of_resource(resource_type: &str) -> Option<Self> {
        Some(match resource_type {
            "Condition" => IpsSection::Problems,
            "MedicationStatement" | "MedicationRequest" => IpsSection::Medications,
            "AllergyIntolerance" => IpsSection::Allergies,
            "Immunization" => IpsSection::Immunizations,
            "Observation" | "DiagnosticReport" => IpsSection::Results,
            _ => return None,
        })
    }
}

/// One resource the summary holds, with the words its section's narrative shows.
#[derive(Debug, Clone)]
pub struct IpsItem {
    /// Its `fullUrl`.
    pub full_url: String,
    /// The resource.
    pub resource: Value,
    /// What it is, in words.
    pub title: String,
    /// More, in words (status, dose, value, date).
    pub detail: Option<String>,
}

/// Everything a summary is made from.
#[derive(Debug, Clone)]
pub struct IpsInput<'a> {
    /// The Bundle's id and identifier (a UUID).
    pub bundle_id: &'a str,
    /// The Composition's id (a UUID).
    pub composition_id: &'a str,
    /// The author Device's id (a UUID): Carry, which compiled it.
    pub device_id: &'a str,
    /// When it was made.
    pub made_at: Timestamp,
    /// The patient.
    pub patient: ExportPatient<'a>,
    /// The items, by section.
    pub items: Vec<(IpsSection, IpsItem)>,
    /// Sections known to be whole (the NHS record was fetched whole): empty means "none known",
    /// not "not known".
    pub known_whole: Vec<IpsSection>,
    /// "About me", as questions and answers.
    pub about_me: Vec<(String, String)>,
}

/// The summary as a FHIR Document Bundle.
pub fn document(input: IpsInput<'_>) -> Value {
    let patient_url = urn(input.patient.id);
    let device_url = urn(input.device_id);
    // Every resource's addresses inside the Bundle: its fullUrl, and `Type/id` for references
    // written relative to the source's base.
    let mut inside: HashMap<String, String> = HashMap::new();
    for (_, item) in &input.items {
        inside.insert(item.full_url.clone(), item.full_url.clone());
        if let (Some(t), Some(id)) = (item.resource["resourceType"].as_str(), item.resource["id"].as_str()) {
            inside.insert(format!("{t}/{id}"), item.full_url.clone());
        }
    }
    let mut sections = Vec::new();
    for section in IpsSection::ALL {
        let items: Vec<&IpsItem> = input.items.iter().filter(|(s, _)| *s == section).map(|(_, i)| i).collect();
        let (code, display) = section.code();
        let mut s = json!({
            "title": section.title(),
            "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
        });
        if section == IpsSection::PatientStory {
            if input.about_me.is_empty() {
                continue;
            }
            let rows: String = input.about_me.iter().map(|(q, a)| format!("<li><b>{}</b>: {}</li>", escape(q), escape(a))).collect();
            s["text"] = narrative(&format!("<ul>{rows}</ul>"));
            sections.push(s);
            continue;
        }
        if items.is_empty() {
            if !section.required() {
                continue;
            }
            let (reason, words) = if input.known_whole.contains(&section) {
                ("nilknown", "None known.")
            } else {
                ("unavailable", "Not known: Carry does not hold this part of the record whole.")
            };
            s["text"] = narrative(&format!("<p>{words}</p>"));
            s["emptyReason"] = json!({ "coding": [{ "system": EMPTY_REASON, "code": reason }] });
            sections.push(s);
            continue;
        }
        let rows: String = items
            .iter()
            .map(|i| match &i.detail {
                Some(d) => format!("<li>{}: {}</li>", escape(&i.title), escape(d)),
                None => format!("<li>{}</li>", escape(&i.title)),
            })
            .collect();
        s["text"] = narrative(&format!("<ul>{rows}</ul>"));
        s["entry"] = Value::Array(items.iter().map(|i| json!({ "reference": i.full_url })).collect());
        sections.push(s);
    }
    let composition = json!({
        "resourceType": "Composition",
        "id": input.composition_id,
        "status": "final",
        "type": { "coding": [{ "system": LOINC, "code": "60591-5", "display": "Patient summary Document" }] },
        "subject": { "reference": patient_url },
        "date": instant(input.made_at),
        "author": [{ "reference": device_url, "display": "Carry" }],
        "title": format!("Patient summary as of {}", input.made_at.to_uk_string()),
        "confidentiality": "N",
        "section": sections,
    });
    let device = json!({
        "resourceType": "Device",
        "id": input.device_id,
        "deviceName": [{ "name": "Carry, a patient-held record", "type": "user-friendly-name" }],
    });
    let mut entries = vec![
        json!({ "fullUrl": urn(input.composition_id), "resource": composition }),
        json!({ "fullUrl": patient_url, "resource": patient(&input.patient) }),
        json!({ "fullUrl": device_url, "resource": device }),
    ];
    for (_, item) in input.items {
        let mut resource = item.resource;
        localise(&mut resource, &patient_url, &inside);
        entries.push(json!({ "fullUrl": item.full_url, "resource": resource }));
    }
    json!({
        "resourceType": "Bundle",
        "id": input.bundle_id,
        "identifier": { "system": "urn:ietf:rfc:3986", "value": urn(input.bundle_id) },
        "type": "document",
        "timestamp": instant(input.made_at),
        "entry": entries,
    })
}

fn narrative(inner: &str) -> Value {
    json!({ "status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{inner}</div>") })
}

/// Makes every reference in `value` resolve inside the Bundle: the patient's to its Patient,
/// others to the entry that holds them; one to something the Bundle does not hold keeps only
/// its display. References inside the resource (`#id`) stay.
pub fn localise(value: &mut Value, patient_url: &str, inside: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("reference").cloned() {
                rewrite(map, &target, patient_url, inside);
            }
            for (_, v) in map.iter_mut() {
                localise(v, patient_url, inside);
            }
        }
        Value::Array(items) => {
            for v in items {
                localise(v, patient_url, inside);
            }
        }
        _ => {}
    }
}

fn rewrite(map: &mut Map<String, Value>, target: &str, patient_url: &str, inside: &HashMap<String, String>) {
    if target.starts_with('#') || target == patient_url {
        return;
    }
    // `Type/id`, whether written relative or under a base.
    let relative: String = {
        let parts: Vec<&str> = target.trim_end_matches('/').split('/').collect();
        match parts.as_slice() {
            [.., t, id, "_history", _] | [.., t, id] => format!("{t}/{id}"),
            _ => target.to_owned(),
        }
    };
    if relative.starts_with("Patient/") {
        map.insert("reference".into(), Value::String(patient_url.to_owned()));
        return;
    }
    if let Some(url) = inside.get(target).or_else(|| inside.get(&relative)) {
        map.insert("reference".into(), Value::String(url.clone()));
        return;
    }
    map.remove("reference");
    if !map.contains_key("display") && !map.contains_key("identifier") {
        map.insert("display".into(), Value::String("Not included in this summary".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(items: Vec<(IpsSection, IpsItem)>, known_whole: Vec<IpsSection>) -> IpsInput<'a> {
        IpsInput {
            bundle_id: "b",
            composition_id: "c",
            device_id: "d",
            made_at: Timestamp::from_millis(0),
            patient: ExportPatient { id: "p", name: "Sam Patel", nhs_number: Some("9434765919"), born_on: Some("1970-01-01") },
            items,
            known_whole,
            about_me: vec![("What matters to me".into(), "My <dog>".into())],
        }
    }

    #[test]
    fn required_sections_say_why_they_are_empty_and_optional_ones_are_left_out() {
        let doc = document(input(vec![], vec![IpsSection::Problems]));
        assert_eq!(doc["type"], "document");
        assert_eq!(doc["entry"][0]["resource"]["resourceType"], "Composition");
        let sections = doc["entry"][0]["resource"]["section"].as_array().unwrap().clone();
        let codes: Vec<&str> = sections.iter().map(|s| s["code"]["coding"][0]["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["11450-4", "10160-0", "48765-2", "81338-6"]);
        assert_eq!(sections[0]["emptyReason"]["coding"][0]["code"], "nilknown");
        assert_eq!(sections[1]["emptyReason"]["coding"][0]["code"], "unavailable");
        assert!(sections[3]["text"]["div"].as_str().unwrap().contains("My &lt;dog&gt;"));
    }

    #[test]
    fn references_resolve_inside_the_bundle_or_keep_only_their_display() {
        let condition = json!({
            "resourceType": "Condition", "id": "c1",
            "subject": { "reference": "https://scr.example/fhir/Patient/p1" },
            "asserter": { "reference": "Practitioner/9", "display": "Dr Shah" },
            "recorder": { "reference": "Practitioner/10" },
            "evidence": [{ "detail": [{ "reference": "Observation/o1" }] }],
        });
        let obs = json!({ "resourceType": "Observation", "id": "o1", "subject": { "reference": "Patient/p1/_history/2" } });
        let item = |r: Value, url: &str| IpsItem { full_url: url.into(), resource: r, title: "x".into(), detail: None };
        let doc = document(input(
            vec![
                (IpsSection::Problems, item(condition, "https://scr.example/fhir/Condition/c1")),
                (IpsSection::Results, item(obs, "https://scr.example/fhir/Observation/o1")),
            ],
            vec![],
        ));
        let c = &doc["entry"][3]["resource"];
        assert_eq!(c["subject"]["reference"], "urn:uuid:p");
        assert_eq!(c["asserter"], json!({ "display": "Dr Shah" }));
        assert_eq!(c["recorder"], json!({ "display": "Not included in this summary" }));
        assert_eq!(c["evidence"][0]["detail"][0]["reference"], "https://scr.example/fhir/Observation/o1");
        assert_eq!(doc["entry"][4]["resource"]["subject"]["reference"], "urn:uuid:p");
        let problems = &doc["entry"][0]["resource"]["section"][0];
        assert_eq!(problems["entry"][0]["reference"], "https://scr.example/fhir/Condition/c1");
        assert!(problems.get("emptyReason").is_none());
    }
}
