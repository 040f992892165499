//! What Carry sends to the shared care record when a practice accepts an entry: one FHIR
//! transaction holding the entry (an Observation for a reading, a DocumentReference for a note),
//! the carer who entered it (a RelatedPerson) when it was a carer, and its Provenance.
//!
//! Every write is idempotent, so a retry after a lost response never duplicates anything:
//! - the first acceptance creates the entry with `ifNoneExist: identifier=<Carry's system>|<entry uuid>`;
//! - a later version (the patient changed it and the practice accepted it again) is a conditional
//!   update on the same identifier, status `amended`;
//! - the RelatedPerson is created with `ifNoneExist` on Carry's identifier for the carer;
//! - the Provenance has an id Carry chooses from the entry's, written with PUT.

use crate::instant;
use crate::model::*;
use domain::entries::EntryBody;
use domain::{EntryId, Reading, ReadingKind, Timestamp};

/// LOINC's system URI.
pub const LOINC: &str = "http://loinc.org";
/// UCUM's system URI.
pub const UCUM: &str = "http://unitsofmeasure.org";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub(crate) const DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
pub(crate) const PARTICIPANT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

/// Who entered the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnteredBy {
    /// The patient themselves.
    Patient,
    /// A carer, under their own name.
    Carer {
        /// Carry's stable key for this carer of this patient (the grant's id).
        key: String,
        /// The carer's name.
        name: String,
        /// Their relationship (v3 RoleCode: MTH, FRND, ...).
        relationship: String,
    },
}

/// Everything the transaction is made from.
#[derive(Debug, Clone)]
pub struct PushEntry<'a> {
    /// Carry's identifier system for entries (`https://carry.example.org/fhir/id/entry`).
    pub entry_system: &'a str,
    /// Carry's identifier system for carers.
    pub carer_system: &'a str,
    /// The entry.
    pub entry_id: EntryId,
    /// True for the first acceptance of this entry (create); false for a later version (amend).
    pub first: bool,
    /// The accepted version of the entry (each version sent has a Provenance of its own).
    pub version: i64,
    /// The patient's id on the shared care record.
    pub patient_id: &'a str,
    /// What it holds.
    pub body: &'a EntryBody,
    /// When the reading was taken or the note dated.
    pub occurred_at: Timestamp,
    /// Who entered it (the resource's author or performer).
    pub entered_by: &'a EnteredBy,
    /// Who made this version (the Provenance's author): for the first, who entered it.
    pub changed_by: &'a EnteredBy,
    /// The clinician who accepted it (their name).
    pub accepted_by: &'a str,
    /// When it was accepted.
    pub accepted_at: Timestamp,
}

/// Why an entry cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// "About me" is not part of the clinical record and is never sent.
    #[error("\u{201c}About me\u{201d} is not sent to the shared care record")]
    NotClinical,
}

/// The transaction Bundle for one accepted entry.
pub fn transaction(p: &PushEntry<'_>) -> Result<Bundle, PushError> {
    let patient = format!("Patient/{}", p.patient_id);
    let entry_url = format!("urn:uuid:{}", p.entry_id);
    let mut entries = Vec::new();

    let author = person(p, p.entered_by, 0, &patient, &mut entries);
    // Who made this version: the Provenance names them, not the person who first entered it.
    let changer = if p.changed_by == p.entered_by { author.clone() } else { person(p, p.changed_by, 1, &patient, &mut entries) };

    let identifier = vec![Identifier::new(p.entry_system, &p.entry_id.to_string())];
    let status = if p.first { "final" } else { "amended" };
    let (resource_type, resource) = entry_resource(p.body, status, identifier, &Reference::to(patient.clone()), &author, p.occurred_at)
        .ok_or(PushError::NotClinical)?;
    let search = format!("identifier={}|{}", p.entry_system, p.entry_id);
    let request = if p.first {
        BundleRequest { method: "POST".into(), url: resource_type.into(), if_none_exist: Some(search) }
    } else {
        BundleRequest { method: "PUT".into(), url: format!("{resource_type}?{search}"), if_none_exist: None }
    };
    entries.push(BundleEntry {
        full_url: Some(entry_url.clone()),
        resource: Some(resource),
        request: Some(request),
        response: None,
        search: None,
    });

    let provenance_id = provenance_id(p.entry_id, p.version);
    let mut agents = vec![ProvenanceAgent {
        agent_type: Some(CodeableConcept::of(Coding::new(PARTICIPANT_TYPE, "author", "Author"))),
        who: changer,
        on_behalf_of: matches!(p.changed_by, EnteredBy::Carer { .. }).then(|| Reference::to(patient.clone())),
    }];
    agents.push(ProvenanceAgent {
        agent_type: Some(CodeableConcept::of(Coding::new(PARTICIPANT_TYPE, "verifier", "Verifier"))),
        who: Reference { display: Some(p.accepted_by.to_owned()), ..Default::default() },
        on_behalf_of: None,
    });
    let (op, op_display) = if p.first { ("CREATE", "create") } else { ("UPDATE", "revise") };
    let provenance = Provenance {
        resource_type: "Provenance".into(),
        id: Some(provenance_id.clone()),
        target: vec![Reference::to(entry_url)],
        recorded: instant(p.accepted_at),
        activity: Some(CodeableConcept::of(Coding::new(DATA_OPERATION, op, op_display))),
        agent: agents,
    };
    entries.push(BundleEntry {
        full_url: None,
        resource: Some(to_json(&provenance)),
        request: Some(BundleRequest { method: "PUT".into(), url: format!("Provenance/{provenance_id}"), if_none_exist: None }),
        response: None,
        search: None,
    });
    Ok(Bundle { resource_type: "Bundle".into(), bundle_type: "transaction".into(), total: None, link: vec![], entry: entries })
}

/// A reference to the patient, or to a carer as a RelatedPerson: for a carer, the RelatedPerson
/// is created in the same transaction (once: `ifNoneExist` on Carry's key for the carer), under
/// a fullUrl of its own (`nth` tells the entry's first carer from its second).
fn person(p: &PushEntry<'_>, who: &EnteredBy, nth: u8, patient: &str, entries: &mut Vec<BundleEntry>) -> Reference {
    let EnteredBy::Carer { key, name, relationship } = who else { return Reference::to(patient.to_owned()) };
    let url = format!("urn:uuid:{}", carer_uuid(p.entry_id, nth));
    let person = RelatedPerson {
        resource_type: "RelatedPerson".into(),
        identifier: vec![Identifier::new(p.carer_system, key)],
        patient: Reference::to(patient.to_owned()),
        relationship: vec![CodeableConcept::of(Coding {
            system: Some(ROLE_CODE.to_owned()),
            code: Some(relationship.clone()),
            display: None,
        })],
        name: vec![HumanName { text: Some(name.clone()), ..Default::default() }],
    };
    entries.push(BundleEntry {
        full_url: Some(url.clone()),
        resource: Some(to_json(&person)),
        request: Some(BundleRequest {
            method: "POST".into(),
            url: "RelatedPerson".into(),
            if_none_exist: Some(format!("identifier={}|{}", p.carer_system, key)),
        }),
        response: None,
        search: None,
    });
    Reference { reference: Some(url), display: Some(name.clone()), ..Default::default() }
}

/// The Provenance's id on the other server for one accepted version: chosen by Carry, so a
/// retry rewrites it rather than adding another, and a later version keeps the earlier's.
pub fn provenance_id(entry: EntryId, version: i64) -> String {
    format!("carry-{entry}-{version}")
}

/// A bundle-local UUID for the carer's RelatedPerson, distinct from the entry's (the entry's
/// UUID with its first nibble changed; it only needs to be unique within the bundle).
fn carer_uuid(entry: EntryId, nth: u8) -> String {
    // The entry's uuid with its first digit changed: another uuid for each person, never the
    // entry's own, so each is unique within the transaction.
    let text = entry.to_string();
    let own = text.chars().next().unwrap_or('0');
    let digit = ['0', '1', '2'].into_iter().filter(|d| *d != own).nth(usize::from(nth)).unwrap_or('3');
    format!("{digit}{}", &text[1..])
}

/// The resource for an entry's content: an Observation for a reading, a DocumentReference for a
/// note (none for "about me", which is not clinical). `status` is the Observation's (`final`,
/// `amended`). Carry's own FHIR API serves the same resources it sends.
pub(crate) fn entry_resource(
    body: &EntryBody,
    status: &str,
    identifier: Vec<Identifier>,
    subject: &Reference,
    author: &Reference,
    occurred_at: Timestamp,
) -> Option<(&'static str, serde_json::Value)> {
    match body {
        EntryBody::Reading(r) => Some(("Observation", to_json(&observation(status, occurred_at, r, identifier, subject, author)))),
        EntryBody::Note(n) => {
            let doc = DocumentReference {
                resource_type: "DocumentReference".into(),
                identifier,
                status: "current".into(),
                doc_type: Some(CodeableConcept::of(Coding::new(LOINC, "51855-5", "Patient Note"))),
                subject: Some(subject.clone()),
                date: Some(instant(occurred_at)),
                author: vec![author.clone()],
                description: Some(n.title.clone()),
                content: vec![DocumentContent {
                    attachment: Attachment {
                        content_type: Some("text/plain; charset=utf-8".into()),
                        data: Some(base64(n.text.as_bytes())),
                        title: Some(n.title.clone()),
                    },
                }],
                id: None,
            };
            Some(("DocumentReference", to_json(&doc)))
        }
        EntryBody::AboutMe(_) => None,
    }
}

fn observation(
    status: &str,
    occurred_at: Timestamp,
    r: &Reading,
    identifier: Vec<Identifier>,
    subject: &Reference,
    author: &Reference,
) -> Observation {
    let kind = r.kind();
    let quantity = |value: f64, k: ReadingKind| Quantity {
        value: Some(value),
        unit: Some(k.ucum().to_owned()),
        system: Some(UCUM.to_owned()),
        code: Some(k.ucum().to_owned()),
    };
    let (value, component) = match *r {
        Reading::BloodPressure { systolic, diastolic, pulse } => {
            let mut parts = vec![
                ObservationComponent {
                    code: CodeableConcept::of(Coding::new(LOINC, "8480-6", "Systolic blood pressure")),
                    value_quantity: Some(quantity(f64::from(systolic), kind)),
                },
                ObservationComponent {
                    code: CodeableConcept::of(Coding::new(LOINC, "8462-4", "Diastolic blood pressure")),
                    value_quantity: Some(quantity(f64::from(diastolic), kind)),
                },
            ];
            // The pulse taken with the pressure is part of the reading: the panel's slicing is
            // open, so it travels as a heart rate component rather than being dropped.
            if let Some(pulse) = pulse {
                parts.push(ObservationComponent {
                    code: CodeableConcept::of(Coding::new(LOINC, "8867-4", "Heart rate")),
                    value_quantity: Some(quantity(f64::from(pulse), ReadingKind::HeartRate)),
                });
            }
            (None, parts)
        }
        _ => (Some(quantity(r.primary(), kind)), vec![]),
    };
    let mut code = CodeableConcept::of(Coding::new(LOINC, kind.loinc(), loinc_display(kind)));
    if kind == ReadingKind::OxygenSaturation {
        // The vital-signs profile asks for 2708-6 beside the pulse oximetry code.
        code.coding.push(Coding::new(LOINC, "2708-6", "Oxygen saturation in Arterial blood"));
    }
    code.text = Some(kind.label().to_owned());
    Observation {
        resource_type: "Observation".into(),
        id: None,
        meta: None,
        identifier,
        status: status.to_owned(),
        category: vec![category(kind)],
        code,
        subject: Some(subject.clone()),
        effective_date_time: Some(instant(occurred_at)),
        performer: vec![author.clone()],
        value_quantity: value,
        component,
    }
}

/// The Observation category of a reading: vital signs, except a glucometer's glucose (a
/// laboratory test done at home) and a peak flow (an examination with a simple instrument),
/// which the vital-signs profile does not cover.
fn category(kind: ReadingKind) -> CodeableConcept {
    let (code, display) = match kind {
        ReadingKind::BloodGlucose => ("laboratory", "Laboratory"),
        ReadingKind::PeakFlow => ("exam", "Exam"),
        _ => ("vital-signs", "Vital Signs"),
    };
    CodeableConcept::of(Coding::new(OBSERVATION_CATEGORY, code, display))
}

/// LOINC's display names for the codes Carry sends.
pub fn loinc_display(kind: ReadingKind) -> &'static str {
    match kind {
        ReadingKind::BloodPressure => "Blood pressure panel with all children optional",
        ReadingKind::HeartRate => "Heart rate",
        ReadingKind::Weight => "Body weight",
        ReadingKind::Height => "Body height",
        ReadingKind::Temperature => "Body temperature",
        ReadingKind::OxygenSaturation => "Oxygen saturation in Arterial blood by Pulse oximetry",
        ReadingKind::BloodGlucose => "Glucose [Moles/volume] in Capillary blood by Glucometer",
        ReadingKind::PeakFlow => "Maximum expiratory gas flow Respiratory system airway by Peak flow meter",
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Serialising these plain structs cannot fail (no maps with non-string keys, no NaN:
    // readings are checked finite when parsed).
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Standard base64 with padding (FHIR's base64Binary).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn the_carers_bundle_uuid_differs_from_the_entrys() {
        for text in ["01890a5d-ac96-774b-bcce-b302099a8057", "a1890a5d-ac96-774b-bcce-b302099a8057"] {
            let id: EntryId = text.parse().unwrap();
            let other = carer_uuid(id, 0);
            assert_ne!(other, text);
            let second = carer_uuid(id, 1);
            assert!(second != text && second != other, "a second carer has a uuid of their own");
            assert_eq!(other.len(), text.len());
            assert!(other.parse::<EntryId>().is_ok());
        }
    }
}
