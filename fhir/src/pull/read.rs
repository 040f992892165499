//! One resource read into a [`SyncedItem`]: checked first, then its standing, words, date,
//! source and privacy label.

use super::check::{check, DATE_FIELDS, PERIOD_FIELDS};
use super::numbers::Numbers;
use super::status::{standing, status_words};
use super::value::{concept, measure, quantity, value_words};
use super::when::date_time_millis;
use super::{PullError, SyncedItem};
use crate::response::type_and_id;
use crate::security::{read_security, SecurityRules};
use domain::care_record::{Origin, Section, Standing};
use serde_json::Value;

/// Reads one resource of `patient_id`'s record, from its JSON text as the server sent it (so
/// numbers keep the digits it wrote). `carry_entry_system` is Carry's own identifier
/// system for entries: what Carry sent comes back badged as the patient's or their carer's.
/// `rules` are the connection's security settings (which codes mean social care).
///
/// A resource of a type Carry shows, with an id, about this patient, is always taken: as it
/// stands ([`Standing`]), or quarantined with the reason when it does not conform in what Carry
/// reads (then nothing it holds is shown).
pub fn read_item(resource: &str, patient_id: &str, carry_entry_system: &str, rules: &SecurityRules) -> Result<SyncedItem, PullError> {
    read(resource, Some(patient_id), carry_entry_system, rules)
}

/// Reads again a resource Carry stored when it pulled it (whose patient was checked then), as
/// [`read_item`] reads it now.
pub fn reread_item(resource: &str, carry_entry_system: &str, rules: &SecurityRules) -> Result<SyncedItem, PullError> {
    read(resource, None, carry_entry_system, rules)
}

fn read(source: &str, patient_id: Option<&str>, carry_entry_system: &str, rules: &SecurityRules) -> Result<SyncedItem, PullError> {
    let parsed: Value = serde_json::from_str(source).map_err(|e| PullError::NotJson(e.to_string()))?;
    let resource = &parsed;
    let numbers = Numbers::read(source);
    let rtype = text(resource, "resourceType").unwrap_or_default();
    let section = Section::of_resource(&rtype).ok_or_else(|| PullError::NotShown(rtype.clone()))?;
    let id = text(resource, "id").filter(|id| valid_id(id)).ok_or_else(|| PullError::NoId(rtype.clone()))?;
    if patient_id.is_some_and(|p| !about_patient(resource, p)) {
        return Err(PullError::OtherPatient(rtype));
    }
    let security = read_security(resource, rules);
    let version_id = text(&resource["meta"], "versionId").unwrap_or_default();
    if let Err(reason) = check(resource, &rtype) {
        return Ok(SyncedItem {
            resource_type: rtype,
            remote_id: id,
            version_id,
            // Not trusted as the watermark either: it may be what failed.
            last_updated: None,
            section,
            standing: Standing::Quarantined,
            quarantine_reason: Some(reason),
            title: String::new(),
            detail: None,
            occurred: None,
            occurred_at: None,
            source: None,
            origin: Origin::SharedRecord,
            label: security.label,
            confidentiality: security.confidentiality,
            security_codes: security.codes,
            measure: None,
        });
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
    let date = date(resource);
    Ok(SyncedItem {
        title: title(resource, &rtype),
        detail: detail(resource, &rtype, &numbers),
        occurred_at: date.as_deref().and_then(date_time_millis),
        occurred: date,
        version_id,
        last_updated: text(&resource["meta"], "lastUpdated"),
        standing: standing(resource, &rtype),
        quarantine_reason: None,
        measure: (rtype == "Observation").then(|| measure(resource, &numbers)).flatten(),
        resource_type: rtype,
        remote_id: id,
        section,
        source,
        origin,
        label: security.label,
        confidentiality: security.confidentiality,
        security_codes: security.codes,
    })
}

/// R4's `id`: 1 to 64 of letters, digits, `-` and `.`.
fn valid_id(id: &str) -> bool {
    id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
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

/// The item's status where it is not plain, then what it holds: dose, value, reaction.
fn detail(r: &Value, rtype: &str, numbers: &Numbers) -> Option<String> {
    let mut parts: Vec<String> = status_words(r, rtype).into_iter().collect();
    match rtype {
        "MedicationStatement" | "MedicationRequest" => {
            parts.extend(r["dosage"].as_array().or(r["dosageInstruction"].as_array()).and_then(|d| d.iter().find_map(|x| text(x, "text"))));
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
            parts.extend(value_words(r, "", numbers));
            let comps: Vec<String> = r["component"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, c)| Some(format!("{} {}", concept(&c["code"])?, value_words(c, &format!("/component/{i}"), numbers)?)))
                .collect();
            parts.extend(comps);
            parts.extend(r["interpretation"].as_array().and_then(|i| i.iter().find_map(concept)));
            parts.extend(r["referenceRange"].as_array().and_then(|rr| rr.first()).and_then(|rr| range_words(rr, numbers)));
        }
        "DiagnosticReport" => parts.extend(text(r, "conclusion")),
        "Immunization" => parts.extend(concept(&r["statusReason"])),
        "Encounter" => parts.extend(text(&r["class"], "display").or_else(|| text(&r["class"], "code"))),
        "CarePlan" => parts.extend(text(r, "description")),
        _ => {}
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The first reference range in words: "normal range 3.5 to 5.3 mmol/L".
fn range_words(range: &Value, numbers: &Numbers) -> Option<String> {
    if let Some(t) = text(range, "text") {
        return Some(format!("normal range {t}"));
    }
    let end = |e: &str| quantity(&range[e], &format!("/referenceRange/0/{e}"), numbers);
    match (end("low"), end("high")) {
        (Some(l), Some(h)) => Some(format!("normal range {l} to {h}")),
        _ => None,
    }
}

fn date(r: &Value) -> Option<String> {
    DATE_FIELDS.iter().find_map(|f| text(r, f)).or_else(|| PERIOD_FIELDS.iter().find_map(|f| text(&r[*f], "start")))
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
