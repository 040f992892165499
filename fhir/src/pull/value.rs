//! Values as the source gave them: every `value[x]` type in words, a quantity with its
//! comparator ("<2 mmol/L" is never "2 mmol/L"), and numbers with the precision the source
//! wrote ("5.0" stays "5.0", 1e308 is not printed as 309 digits).
//!
//! Each function takes the JSON Pointer of the value it reads (`at`), so a number's digits come
//! from [`Numbers`], as the source wrote them.

use super::numbers::Numbers;
use super::SyncedMeasure;
use serde_json::Value;

/// `Quantity.comparator`'s codes.
pub const COMPARATORS: [&str; 4] = ["<", "<=", ">=", ">"];

fn text(v: &Value, field: &str) -> Option<String> {
    v[field].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A CodeableConcept in words: its text, else its first coding's display, else its code.
pub fn concept(v: &Value) -> Option<String> {
    text(v, "text").or_else(|| v["coding"].as_array()?.iter().find_map(|c| text(c, "display").or_else(|| text(c, "code"))))
}

/// A quantity at `at` in words: "<2 mmol/L", "72.50 kg". `None` without a value.
pub fn quantity(q: &Value, at: &str, numbers: &Numbers) -> Option<String> {
    let number = numbers.text(&format!("{at}/value"), &q["value"])?;
    let comparator = q["comparator"].as_str().unwrap_or_default();
    let unit = text(q, "unit").or_else(|| text(q, "code")).unwrap_or_default();
    Some(format!("{comparator}{number} {unit}").trim().to_owned())
}

/// A resource's or component's (at `at`) `value[x]` in words, whatever its type, or why it is
/// absent.
pub fn value_words(v: &Value, at: &str, numbers: &Numbers) -> Option<String> {
    if let Some(q) = v.get("valueQuantity") {
        return quantity(q, &format!("{at}/valueQuantity"), numbers);
    }
    if let Some(c) = v.get("valueCodeableConcept") {
        return concept(c);
    }
    if let Some(s) = text(v, "valueString") {
        return Some(s);
    }
    if let Some(b) = v["valueBoolean"].as_bool() {
        return Some(if b { "Yes" } else { "No" }.to_owned());
    }
    if let Some(n) = numbers.text(&format!("{at}/valueInteger"), &v["valueInteger"]) {
        return Some(n);
    }
    if let Some(r) = v.get("valueRange") {
        let end = |e: &str| quantity(&r[e], &format!("{at}/valueRange/{e}"), numbers);
        return match (end("low"), end("high")) {
            (Some(l), Some(h)) => Some(format!("{l} to {h}")),
            (Some(l), None) => Some(format!("at least {l}")),
            (None, Some(h)) => Some(format!("at most {h}")),
            (None, None) => None,
        };
    }
    if let Some(r) = v.get("valueRatio") {
        let part = |p: &str| quantity(&r[p], &format!("{at}/valueRatio/{p}"), numbers);
        return Some(format!("{} : {}", part("numerator")?, part("denominator")?));
    }
    if let Some(t) = text(v, "valueTime") {
        return Some(t);
    }
    if let Some(d) = text(v, "valueDateTime") {
        return Some(domain::care_record::display_date(&d));
    }
    if let Some(p) = v.get("valuePeriod") {
        let day = |f: &str| text(p, f).map(|d| domain::care_record::display_date(&d));
        return match (day("start"), day("end")) {
            (Some(s), Some(e)) => Some(format!("{s} to {e}")),
            (Some(s), None) => Some(format!("from {s}")),
            (None, Some(e)) => Some(format!("until {e}")),
            (None, None) => None,
        };
    }
    if v.get("valueSampledData").is_some() {
        return Some("A series of measurements (not shown here)".to_owned());
    }
    if let Some(a) = v.get("valueAttachment") {
        return Some(text(a, "title").map_or_else(|| "An attachment (not shown here)".to_owned(), |t| format!("Attachment: {t}")));
    }
    concept(&v["dataAbsentReason"]).map(|why| format!("No value: {why}"))
}

/// An Observation's numeric value for trends: its code, value, the number's text and unit.
/// `None` for a value with a comparator, or one that is not a finite number.
pub fn measure(r: &Value, numbers: &Numbers) -> Option<SyncedMeasure> {
    let coding = r["code"]["coding"].as_array()?.first()?;
    let code = format!("{}|{}", coding["system"].as_str().unwrap_or_default(), coding["code"].as_str()?);
    let q = &r["valueQuantity"];
    if q.get("comparator").is_some() {
        return None;
    }
    let value = q["value"].as_f64().filter(|v| v.is_finite())?;
    let ucum = (q["system"].as_str() == Some("http://unitsofmeasure.org")).then(|| text(q, "code")).flatten();
    Some(SyncedMeasure {
        code,
        value,
        text: numbers.text("/valueQuantity/value", &q["value"])?,
        unit: text(q, "unit").or_else(|| text(q, "code")).unwrap_or_default(),
        ucum,
    })
}
