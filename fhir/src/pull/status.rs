//! What a resource's status and certainty mean for the patient: whether it stands as part of
//! their record at all ([`standing`]), and, where it does but is not plain, what to say beside
//! it ("Provisional", "Stopped", "Not given").

use domain::care_record::Standing;
use serde_json::Value;

/// Each type's `status` codes (required bindings in R4; `status` is required for all of these).
pub const STATUS_CODES: [(&str, &[&str]); 8] = [
    ("MedicationStatement", &["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"]),
    ("MedicationRequest", &["active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"]),
    ("Observation", &["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"]),
    ("Immunization", &["completed", "entered-in-error", "not-done"]),
    (
        "DiagnosticReport",
        &["registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"],
    ),
    ("DocumentReference", &["current", "superseded", "entered-in-error"]),
    ("Encounter", &["planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"]),
    ("CarePlan", &["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]),
];

/// The code of a CodeableConcept status (conditions' and allergies' verification and clinical
/// status), from its first coding with a code.
fn concept_code(v: &Value) -> Option<&str> {
    v["coding"].as_array()?.iter().find_map(|c| c["code"].as_str())
}

/// Whether the resource stands as part of the record. Assumes [`super::check::check`] passed.
pub fn standing(r: &Value, resource_type: &str) -> Standing {
    let status = r["status"].as_str();
    if status == Some("entered-in-error") || r["docStatus"].as_str() == Some("entered-in-error") {
        return Standing::EnteredInError;
    }
    match concept_code(&r["verificationStatus"]) {
        Some("entered-in-error") => return Standing::EnteredInError,
        Some("refuted") => return Standing::Refuted,
        _ => {}
    }
    if resource_type == "DocumentReference" && status == Some("superseded") {
        return Standing::Superseded;
    }
    Standing::Current
}

/// What to say beside a current item whose status is not plain: `None` for an active problem,
/// a final result, a completed vaccination and the like.
pub fn status_words(r: &Value, resource_type: &str) -> Option<String> {
    let status = r["status"].as_str().unwrap_or_default();
    let words = match resource_type {
        "Condition" | "AllergyIntolerance" => {
            let certainty = match concept_code(&r["verificationStatus"]) {
                Some("unconfirmed") => Some("Not confirmed"),
                Some("provisional") => Some("Provisional"),
                Some("differential") => Some("Possible (one of several being considered)"),
                _ => None,
            };
            let clinical = match concept_code(&r["clinicalStatus"]) {
                Some("active") => Some("Active"),
                Some("recurrence") => Some("Come back"),
                Some("relapse") => Some("Relapsed"),
                Some("inactive") => Some("Inactive"),
                Some("remission") => Some("In remission"),
                Some("resolved") => Some("Resolved"),
                _ => None,
            };
            let parts: Vec<&str> = [certainty, clinical].into_iter().flatten().collect();
            return (!parts.is_empty()).then(|| parts.join(", "));
        }
        "MedicationRequest" if status == "active" => "Current prescription",
        "MedicationStatement" | "MedicationRequest" => match status {
            "active" => "Taking now",
            "completed" => "Finished",
            "stopped" => "Stopped",
            "on-hold" => "On hold",
            "not-taken" => "Not taken",
            "intended" => "Planned, not started",
            "cancelled" => "Cancelled before it was started",
            "draft" => "Draft, not issued",
            _ => return None,
        },
        "Observation" | "DiagnosticReport" => match status {
            "registered" => "Registered: no result yet",
            "preliminary" => "Preliminary result: it may change",
            "partial" => "Partial result: more to come",
            "cancelled" => "Cancelled: no result",
            "amended" | "corrected" => "Corrected result",
            "appended" => "Result with added information",
            _ => return None,
        },
        "Immunization" => match status {
            "not-done" => "Not given",
            _ => return None,
        },
        "Encounter" => match status {
            "planned" => "Planned",
            "arrived" | "triaged" | "in-progress" => "Under way",
            "onleave" => "On leave",
            "cancelled" => "Cancelled",
            _ => return None,
        },
        "CarePlan" => match status {
            "draft" => "Draft",
            "on-hold" => "On hold",
            "revoked" => "Stopped",
            "completed" => "Completed",
            _ => return None,
        },
        _ => return None,
    };
    Some(words.to_owned())
}
