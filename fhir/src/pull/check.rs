//! Whether a resource conforms to FHIR R4 in what Carry reads from it: the types of the
//! elements, the codes of required bindings, the dates. And whether it carries a modifier
//! (`modifierExtension` at any depth, `implicitRules`) that changes its meaning in a way Carry
//! cannot know: FHIR says such a resource must not be shown as if it were understood.
//!
//! A resource that fails is quarantined with the reason this module gives, in words an
//! administrator can pass to the source's team. A reason quotes codes and addresses, never a
//! value that may be clinical (a date, a result): it names the element and what kind of value
//! it holds instead.

use super::status::STATUS_CODES;
use super::value::COMPARATORS;
use super::when::{date_time_millis, instant_millis};
use serde_json::Value;

/// The date elements Carry reads, in the order it prefers them.
pub const DATE_FIELDS: [&str; 10] = [
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

/// The period elements whose `start` Carry reads as the date.
pub const PERIOD_FIELDS: [&str; 3] = ["effectivePeriod", "period", "onsetPeriod"];

/// The clinical and verification status systems of conditions and allergies, with their codes
/// (required bindings in R4).
const CONCEPT_STATUSES: [(&str, &str, &[&str]); 4] = [
    (
        "clinicalStatus",
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        &["active", "recurrence", "relapse", "inactive", "remission", "resolved"],
    ),
    (
        "verificationStatus",
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        &["unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"],
    ),
    ("clinicalStatus", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", &["active", "inactive", "resolved"]),
    (
        "verificationStatus",
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        &["unconfirmed", "confirmed", "refuted", "entered-in-error"],
    ),
];

/// Why the resource cannot be shown as Carry reads it; `Ok` when it can.
pub fn check(resource: &Value, resource_type: &str) -> Result<(), String> {
    if let Some(rules) = resource.get("implicitRules") {
        return Err(format!("it has implicitRules ({}), which Carry does not understand", short(rules)));
    }
    if let Some(url) = find_modifier(resource) {
        return Err(format!("it has a modifier extension Carry does not understand ({url})"));
    }
    check_status(resource, resource_type)?;
    if let Some(updated) = resource["meta"].get("lastUpdated") {
        if updated.as_str().and_then(instant_millis).is_none() {
            return Err(format!("meta.lastUpdated is {}, not a FHIR instant", kind(updated)));
        }
    }
    for field in DATE_FIELDS {
        if let Some(v) = resource.get(field) {
            if v.as_str().and_then(date_time_millis).is_none() {
                return Err(format!("{field} is {}, not a FHIR dateTime", kind(v)));
            }
        }
    }
    for field in PERIOD_FIELDS {
        for end in ["start", "end"] {
            if let Some(v) = resource.get(field).and_then(|p| p.get(end)) {
                if v.as_str().and_then(date_time_millis).is_none() {
                    return Err(format!("{field}.{end} is {}, not a FHIR dateTime", kind(v)));
                }
            }
        }
    }
    check_value(resource, "")?;
    for (i, c) in resource["component"].as_array().into_iter().flatten().enumerate() {
        check_value(c, &format!("component[{i}]."))?;
    }
    for field in ["code", "valueCodeableConcept", "vaccineCode", "medicationCodeableConcept", "clinicalStatus", "verificationStatus"] {
        check_concept(&resource[field], field)?;
    }
    Ok(())
}

/// The `url` of the first `modifierExtension` at any depth (or "no url" when it has none).
fn find_modifier(v: &Value) -> Option<String> {
    match v {
        Value::Object(map) => {
            if let Some(m) = map.get("modifierExtension") {
                let url = m.as_array().and_then(|a| a.iter().find_map(|e| e["url"].as_str())).unwrap_or("no url");
                return Some(url.to_owned());
            }
            map.values().find_map(find_modifier)
        }
        Value::Array(items) => items.iter().find_map(find_modifier),
        _ => None,
    }
}

fn check_status(resource: &Value, resource_type: &str) -> Result<(), String> {
    if let Some((_, codes)) = STATUS_CODES.iter().find(|(t, _)| *t == resource_type) {
        let status = &resource["status"];
        return match status.as_str() {
            Some(s) if codes.contains(&s) => Ok(()),
            None if status.is_null() => Err(format!("it has no status, which every {resource_type} must have")),
            _ => Err(format!("status {} is not a {resource_type} status", short(status))),
        };
    }
    for (field, system, codes) in CONCEPT_STATUSES {
        for coding in resource[field]["coding"].as_array().into_iter().flatten() {
            if coding["system"].as_str() == Some(system) && !coding["code"].as_str().is_some_and(|c| codes.contains(&c)) {
                return Err(format!("{field} {} is not a code of {system}", short(&coding["code"])));
            }
        }
    }
    Ok(())
}

/// A test of a JSON value's type.
type Is = fn(&Value) -> bool;

fn check_value(v: &Value, at: &str) -> Result<(), String> {
    let quantity = &v["valueQuantity"];
    if !quantity.is_null() {
        if let Some(n) = quantity.get("value") {
            if !n.is_number() {
                return Err(format!("{at}valueQuantity.value is {}, not a number", kind(n)));
            }
        }
        if let Some(c) = quantity.get("comparator") {
            if !c.as_str().is_some_and(|c| COMPARATORS.contains(&c)) {
                return Err(format!("{at}valueQuantity.comparator {} is not <, <=, >= or >", short(c)));
            }
        }
    }
    let typed: [(&str, Is, &str); 5] = [
        ("valueString", Value::is_string, "text"),
        ("valueBoolean", Value::is_boolean, "true or false"),
        ("valueInteger", |n| n.is_i64() || n.is_u64(), "a whole number"),
        ("valueTime", Value::is_string, "a time"),
        ("valueDateTime", |d| d.as_str().and_then(date_time_millis).is_some(), "a FHIR dateTime"),
    ];
    for (field, ok, what) in typed {
        if let Some(x) = v.get(field) {
            if !ok(x) {
                return Err(format!("{at}{field} is {}, not {what}", kind(x)));
            }
        }
    }
    Ok(())
}

fn check_concept(v: &Value, field: &str) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    if !v.is_object() {
        return Err(format!("{field} is not a CodeableConcept"));
    }
    if v.get("text").is_some_and(|t| !t.is_string()) {
        return Err(format!("{field}.text is not text"));
    }
    if v.get("coding").is_some_and(|c| !c.is_array()) {
        return Err(format!("{field}.coding is not a list"));
    }
    Ok(())
}

/// What a value is, in words, without the value itself: a reason is shown to administrators
/// and written to the log, so it never quotes what may be clinical content (a date, a result).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(s) if s.trim().is_empty() => "empty text",
        Value::String(_) => "other text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A code or address as a short quote for a reason (never a value that may be clinical):
/// at most 40 characters.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 {
        format!("{}\u{2026}", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}
