//! Golden JSON for what Carry sends: each accepted entry's transaction Bundle, compared with a
//! reviewed file under `tests/golden/` (run with `CARRY_BLESS=1` to rewrite them after a change
//! that is meant, then review the diff), and read back through the model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::entries::EntryBody;
use domain::{EntryId, Note, Reading, ReadingInput, ReadingKind, Timestamp};
use fhir::model::Bundle;
use fhir::push::{transaction, EnteredBy, PushEntry, PushError};
use std::path::Path;

const ENTRY: &str = "01936a2e-7c40-7d1e-9a3b-5f0c2d8e4b61";
// 2026-11-21 08:00 UTC, accepted 2026-11-22 10:00 UTC.
const TAKEN: Timestamp = Timestamp::from_millis(1_795_248_000_000);
const ACCEPTED: Timestamp = Timestamp::from_millis(1_795_341_600_000);

fn entry<'a>(body: &'a EntryBody, by: &'a EnteredBy, first: bool) -> PushEntry<'a> {
    PushEntry {
        entry_system: "https://carry.example.org/fhir/id/entry",
        carer_system: "https://carry.example.org/fhir/id/carer",
        entry_id: ENTRY.parse::<EntryId>().unwrap(),
        first,
        version: if first { 1 } else { 2 },
        patient_id: "p-123",
        body,
        occurred_at: TAKEN,
        entered_by: by,
        changed_by: by,
        accepted_by: "Dr Priya Shah",
        accepted_at: ACCEPTED,
    }
}

fn golden(name: &str, bundle: &Bundle) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    let actual = serde_json::to_string_pretty(bundle).unwrap() + "\n";
    if std::env::var_os("CARRY_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing (CARRY_BLESS=1 writes it)", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
    // It reads back as the same Bundle.
    let back: Bundle = serde_json::from_str(&expected).unwrap();
    assert_eq!(&back, bundle);
}

fn reading(kind: ReadingKind, value: &str, diastolic: Option<&str>) -> EntryBody {
    let input = ReadingInput { value: value.into(), diastolic: diastolic.map(Into::into), pulse: None };
    EntryBody::Reading(Reading::parse(kind, &input).unwrap())
}

#[test]
fn a_blood_pressure_reading_by_the_patient_is_a_vital_signs_observation_with_its_provenance() {
    let body = reading(ReadingKind::BloodPressure, "150", Some("95"));
    golden("blood-pressure-by-patient.json", &transaction(&entry(&body, &EnteredBy::Patient, true)).unwrap());
}

#[test]
fn the_pulse_taken_with_a_blood_pressure_travels_as_a_heart_rate_component() {
    let input = ReadingInput { value: "150".into(), diastolic: Some("95".into()), pulse: Some("64".into()) };
    let body = EntryBody::Reading(Reading::parse(ReadingKind::BloodPressure, &input).unwrap());
    let bundle = transaction(&entry(&body, &EnteredBy::Patient, true)).unwrap();
    let observation = bundle.entry[0].resource.as_ref().unwrap();
    let components = observation["component"].as_array().unwrap();
    assert_eq!(components.len(), 3, "{observation}");
    assert_eq!(components[2]["code"]["coding"][0]["code"], "8867-4");
    assert_eq!(components[2]["valueQuantity"]["value"], 64.0);
    assert_eq!(components[2]["valueQuantity"]["code"], "/min");
    // Without a pulse there are the two pressures only (the golden file above).
    let without = reading(ReadingKind::BloodPressure, "150", Some("95"));
    let bundle = transaction(&entry(&without, &EnteredBy::Patient, true)).unwrap();
    assert_eq!(bundle.entry[0].resource.as_ref().unwrap()["component"].as_array().unwrap().len(), 2);
}

#[test]
fn a_reading_a_carer_took_names_the_carer_as_a_related_person_acting_for_the_patient() {
    let body = reading(ReadingKind::Weight, "72.5", None);
    let carer =
        EnteredBy::Carer { key: "7d0e8c9a-1111-4222-8333-944455556666".into(), name: "Alex Smith".into(), relationship: "MTH".into() };
    let bundle = transaction(&entry(&body, &carer, true)).unwrap();
    golden("weight-by-carer.json", &bundle);
    let provenance = &bundle.entry[2].resource.as_ref().unwrap()["agent"][0];
    assert_eq!(provenance["who"]["reference"], bundle.entry[0].full_url.clone().unwrap());
    assert_eq!(provenance["onBehalfOf"]["reference"], "Patient/p-123");
}

#[test]
fn a_later_accepted_version_amends_by_identifier_instead_of_creating() {
    let body = reading(ReadingKind::OxygenSaturation, "94", None);
    let bundle = transaction(&entry(&body, &EnteredBy::Patient, false)).unwrap();
    golden("oxygen-amended.json", &bundle);
    let request = bundle.entry[0].request.as_ref().unwrap();
    assert_eq!(request.method, "PUT");
    assert_eq!(request.url, format!("Observation?identifier=https://carry.example.org/fhir/id/entry|{ENTRY}"));
}

#[test]
fn a_note_is_a_document_reference_holding_its_text() {
    let body = EntryBody::Note(Note::parse("Headaches", "Mornings, since the new tablets \u{2014} worse on Mondays", "").unwrap());
    let bundle = transaction(&entry(&body, &EnteredBy::Patient, true)).unwrap();
    golden("note-by-patient.json", &bundle);
}

#[test]
fn about_me_is_never_sent() {
    let about = EntryBody::AboutMe(domain::about_me::AboutMe::default());
    assert_eq!(transaction(&entry(&about, &EnteredBy::Patient, true)).unwrap_err(), PushError::NotClinical);
}

#[test]
fn every_reading_kind_is_sent_with_its_loinc_and_ucum_codes() {
    let values =
        [("120", Some("80")), ("70", None), ("80", None), ("170", None), ("37.2", None), ("97", None), ("5.6", None), ("400", None)];
    for (kind, (value, dia)) in ReadingKind::ALL.into_iter().zip(values) {
        let body = reading(kind, value, dia);
        let bundle = transaction(&entry(&body, &EnteredBy::Patient, true)).unwrap();
        let obs = bundle.entry[0].resource.as_ref().unwrap();
        assert_eq!(obs["code"]["coding"][0]["system"], "http://loinc.org");
        assert_eq!(obs["code"]["coding"][0]["code"], kind.loinc());
        let quantity = if kind == ReadingKind::BloodPressure { &obs["component"][0]["valueQuantity"] } else { &obs["valueQuantity"] };
        assert_eq!(quantity["system"], "http://unitsofmeasure.org");
        assert_eq!(quantity["code"], kind.ucum());
    }
}

#[test]
fn glucose_and_peak_flow_are_sent_with_loincs_own_words_and_not_as_vital_signs() {
    let sent = |kind: ReadingKind, value: &str| {
        let body = reading(kind, value, None);
        let bundle = transaction(&entry(&body, &EnteredBy::Patient, true)).unwrap();
        bundle.entry.iter().find_map(|e| e.resource.clone().filter(|r| r["resourceType"] == "Observation")).unwrap()
    };
    let glucose = sent(ReadingKind::BloodGlucose, "5.4");
    assert_eq!(glucose["code"]["coding"][0]["display"], "Glucose [Moles/volume] in Capillary blood by Glucometer");
    assert_eq!(glucose["category"][0]["coding"][0]["code"], "laboratory");
    let flow = sent(ReadingKind::PeakFlow, "450");
    assert_eq!(flow["code"]["coding"][0]["display"], "Maximum expiratory gas flow Respiratory system airway by Peak flow meter");
    assert_eq!(flow["category"][0]["coding"][0]["code"], "exam");
    assert_eq!(sent(ReadingKind::Weight, "70")["category"][0]["coding"][0]["code"], "vital-signs");
}

#[test]
fn the_provenance_of_a_changed_version_names_who_changed_it() {
    let body = reading(ReadingKind::Weight, "71", None);
    let carer = EnteredBy::Carer { key: "g-1".into(), name: "Alex Smith".into(), relationship: "SPS".into() };
    let mut p = entry(&body, &EnteredBy::Patient, false);
    p.changed_by = &carer;
    let bundle = transaction(&p).unwrap();
    let resource = |t: &str| bundle.entry.iter().find_map(|e| e.resource.clone().filter(|r| r["resourceType"] == t)).unwrap();
    // The reading is still the patient's own; this version's Provenance names the carer who
    // changed it, on the patient's behalf, and the carer is a RelatedPerson made once.
    assert_eq!(resource("Observation")["performer"][0]["reference"], "Patient/p-123");
    let provenance = resource("Provenance");
    let author = &provenance["agent"][0];
    assert_eq!(author["who"]["display"], "Alex Smith");
    assert_eq!(author["onBehalfOf"]["reference"], "Patient/p-123");
    assert_eq!(provenance["activity"]["coding"][0]["code"], "UPDATE");
    let people: Vec<_> =
        bundle.entry.iter().filter(|e| e.resource.as_ref().is_some_and(|r| r["resourceType"] == "RelatedPerson")).collect();
    assert_eq!(people.len(), 1);
    assert_eq!(author["who"]["reference"].as_str(), people[0].full_url.as_deref());
}
