use super::*;
use crate::security::SecurityRules;
use domain::care_record::{Confidentiality, Origin, Section, Standing};
use domain::PrivacyLabel;
use serde_json::json;

const CARRY: &str = "https://carry.example.org/fhir/id/entry";

#[test]
fn a_condition_is_a_problem_with_its_status_date_and_source() {
    let r = json!({"resourceType": "Condition", "id": "c1", "meta": {"versionId": "3", "lastUpdated": "2026-11-20T10:00:00.000+00:00"},
        "clinicalStatus": {"coding": [{"code": "active", "display": "Active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006", "display": "Type 2 diabetes mellitus"}]},
        "subject": {"reference": "Patient/p1"}, "onsetDateTime": "2019-03-01",
        "recorder": {"reference": "Practitioner/x", "display": "Riverside Surgery"}});
    let item = read_item(&r.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap();
    assert_eq!((item.section, item.title.as_str()), (Section::Problems, "Type 2 diabetes mellitus"));
    assert_eq!(item.detail.as_deref(), Some("Active"));
    assert_eq!(item.standing, Standing::Current);
    assert_eq!(item.occurred.as_deref(), Some("2019-03-01"));
    assert_eq!((item.source.as_deref(), item.origin), (Some("Riverside Surgery"), Origin::Gp));
    assert_eq!((item.version_id.as_str(), item.last_updated.as_deref()), ("3", Some("2026-11-20T10:00:00.000+00:00")));
}

#[test]
fn another_patients_resource_is_never_taken() {
    let r = json!({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p2"}});
    assert_eq!(read_item(&r.to_string(), "p1", CARRY, &SecurityRules::default()), Err(PullError::OtherPatient("Condition".into())));
    let absolute = json!({"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "http://h/fhir/Patient/p1"}});
    assert!(read_item(&absolute.to_string(), "p1", CARRY, &SecurityRules::default()).is_ok());
    let none = json!({"resourceType": "Encounter", "id": "e1"});
    assert!(read_item(&none.to_string(), "p1", CARRY, &SecurityRules::default()).is_err());
}

#[test]
fn what_carry_sent_comes_back_as_the_patients_or_their_carers() {
    let mine = json!({"resourceType": "Observation", "id": "o1", "status": "final", "identifier": [{"system": CARRY, "value": "x"}],
        "subject": {"reference": "Patient/p1"}, "performer": [{"reference": "Patient/p1"}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
        "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}});
    let item = read_item(&mine.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap();
    assert_eq!(item.origin, Origin::You);
    assert_eq!(item.detail.as_deref(), Some("72.5 kg"));
    assert_eq!(
        item.measure,
        Some(SyncedMeasure {
            code: "http://loinc.org|29463-7".into(),
            value: 72.5,
            text: "72.5".into(),
            unit: "kg".into(),
            ucum: Some("kg".into())
        })
    );
    let mut carers = mine.clone();
    carers["performer"] = json!([{"reference": "RelatedPerson/r1"}]);
    assert_eq!(read_item(&carers.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap().origin, Origin::Carer);
}

#[test]
fn security_labels_give_the_privacy_label_and_who_may_see_it() {
    let r = |code: &str| {
        json!({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p1"},
        "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code}]}})
    };
    let read = |code: &str| {
        let i = read_item(&r(code).to_string(), "p1", CARRY, &SecurityRules::default()).unwrap();
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
    let m = read_item(&med.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap();
    assert_eq!(
        (m.title.as_str(), m.detail.as_deref(), m.origin),
        ("Amlodipine 5 mg tablets", Some("Current prescription; One a day"), Origin::Hospital)
    );
    let allergy = json!({"resourceType": "AllergyIntolerance", "id": "a", "patient": {"reference": "Patient/p1"},
        "code": {"text": "Penicillin"}, "criticality": "high", "reaction": [{"manifestation": [{"text": "Hives"}]}]});
    assert_eq!(
        read_item(&allergy.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap().detail.as_deref(),
        Some("Reaction: Hives; criticality high")
    );
    let bp = json!({"resourceType": "Observation", "id": "o", "status": "final", "subject": {"reference": "Patient/p1"}, "code": {"text": "Blood pressure"},
        "component": [{"code": {"text": "Systolic"}, "valueQuantity": {"value": 128, "unit": "mm[Hg]"}},
                      {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 82.0, "unit": "mm[Hg]"}}],
        "effectivePeriod": {"start": "2026-02-03T09:00:00Z"}});
    let b = read_item(&bp.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap();
    assert_eq!(b.detail.as_deref(), Some("Systolic 128 mm[Hg]; Diastolic 82.0 mm[Hg]"));
    assert_eq!(b.occurred.as_deref(), Some("2026-02-03T09:00:00Z"));
    assert_eq!(b.measure, None, "a panel has no single value to trend");
}

#[test]
fn searches_name_the_patient_and_encode_the_watermark() {
    assert_eq!(
        search_path("Observation", "p1", Some("2026-11-20T10:00:00.000+00:00"), None, 100),
        "Observation?patient=Patient/p1&_sort=_lastUpdated&_count=100&_lastUpdated=ge2026-11-20T10%3A00%3A00.000%2B00%3A00"
    );
    assert!(search_path("DiagnosticReport", "p1", None, None, 50).ends_with("&_include=DiagnosticReport:result"));
    assert_eq!(
        search_path("Condition", "p1", Some("2026-01-01T00:00:00Z"), Some("2026-02-01T00:00:00Z"), 10),
        "Condition?patient=Patient/p1&_sort=_lastUpdated&_count=10&_lastUpdated=ge2026-01-01T00%3A00%3A00Z&_lastUpdated=lt2026-02-01T00%3A00%3A00Z"
    );
    assert_eq!(ids_path("Encounter", "p1", None, None, 500), "Encounter?patient=Patient/p1&_elements=id&_sort=_lastUpdated&_count=500");
    assert_eq!(
        ids_path("DiagnosticReport", "p1", Some("2026-01-01T00:00:00Z"), None, 1000),
        "DiagnosticReport?patient=Patient/p1&_elements=id&_sort=_lastUpdated&_count=1000&_lastUpdated=ge2026-01-01T00%3A00%3A00Z"
    );
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

#[test]
fn a_history_page_is_read_for_its_requests_and_times_only() {
    let body = json!({"resourceType": "Bundle", "type": "history", "link": [{"relation": "next", "url": "http://h/fhir/Condition/_history?page=2"}],
        "entry": [
        {"fullUrl": "http://h/fhir/Condition/c1", "request": {"method": "DELETE", "url": "Condition/c1"},
         "response": {"status": "204", "lastModified": "2026-11-20T10:00:00Z"}},
        // A resource Carry could not read is no matter here: only the request counts.
        {"fullUrl": "http://h/fhir/Condition/c2", "resource": {"resourceType": "Condition", "id": 2, "code": [true]},
         "request": {"method": "PUT", "url": "Condition/c2"}},
        {"fullUrl": "http://h/fhir/Encounter/e9/_history/4", "request": {"method": "DELETE", "url": "Encounter/e9/_history/4"}}]})
    .to_string();
    let page = HistoryPage::parse(body.as_bytes()).unwrap();
    let keys: Vec<_> = page.entry.iter().map(|e| (e.key(), e.deletion())).collect();
    assert_eq!(
        keys,
        [
            (Some("Condition/c1".to_owned()), Some("Condition/c1".to_owned())),
            (Some("Condition/c2".to_owned()), None),
            (Some("Encounter/e9".to_owned()), Some("Encounter/e9".to_owned())),
        ]
    );
    assert_eq!(page.entry[0].last_modified(), Some("2026-11-20T10:00:00Z"));
    assert_eq!(page.next_link(), Some("http://h/fhir/Condition/_history?page=2"));
    assert!(HistoryPage::parse(br#"{"resourceType": "OperationOutcome"}"#).is_none());
}

fn read(r: &serde_json::Value) -> SyncedItem {
    read_item(&r.to_string(), "p1", CARRY, &SecurityRules::default()).unwrap()
}

fn observation(extra: serde_json::Value) -> serde_json::Value {
    let mut o = json!({"resourceType": "Observation", "id": "o", "status": "final", "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "effectiveDateTime": "2026-02-03T09:00:00Z"});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

#[test]
fn entered_in_error_refuted_and_superseded_never_stand_as_real() {
    let condition = |verification: &str| {
        json!({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p1"}, "code": {"text": "Asthma"},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]}})
    };
    assert_eq!(read(&condition("entered-in-error")).standing, Standing::EnteredInError);
    assert_eq!(read(&condition("refuted")).standing, Standing::Refuted);
    assert_eq!(read(&condition("provisional")).detail.as_deref(), Some("Provisional"));
    assert_eq!(read(&condition("differential")).standing, Standing::Current);
    let allergy = json!({"resourceType": "AllergyIntolerance", "id": "a", "patient": {"reference": "Patient/p1"}, "code": {"text": "Nuts"},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "refuted"}]}});
    assert_eq!(read(&allergy).standing, Standing::Refuted);
    assert_eq!(read(&observation(json!({"status": "entered-in-error"}))).standing, Standing::EnteredInError);
    let doc = |status: &str| {
        json!({"resourceType": "DocumentReference", "id": "d", "status": status, "subject": {"reference": "Patient/p1"},
            "description": "Discharge summary", "content": []})
    };
    assert_eq!(read(&doc("superseded")).standing, Standing::Superseded);
    assert_eq!(read(&doc("entered-in-error")).standing, Standing::EnteredInError);
    assert_eq!(read(&doc("current")).standing, Standing::Current);
}

#[test]
fn statuses_that_are_not_plain_are_said() {
    let jab = json!({"resourceType": "Immunization", "id": "i", "status": "not-done", "patient": {"reference": "Patient/p1"},
        "vaccineCode": {"text": "Flu"}, "statusReason": {"text": "Patient declined"}, "occurrenceDateTime": "2026-10-01"});
    assert_eq!(read(&jab).detail.as_deref(), Some("Not given; Patient declined"));
    let med = json!({"resourceType": "MedicationStatement", "id": "m", "status": "stopped", "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "Ramipril"}});
    assert_eq!(read(&med).detail.as_deref(), Some("Stopped"));
    let preliminary = read(&observation(json!({"status": "preliminary", "valueQuantity": {"value": 5.1, "unit": "mmol/L"}})));
    assert_eq!(preliminary.detail.as_deref(), Some("Preliminary result: it may change; 5.1 mmol/L"));
    assert_eq!(read(&observation(json!({"status": "cancelled"}))).detail.as_deref(), Some("Cancelled: no result"));
}

#[test]
fn a_comparator_is_kept_and_never_trended() {
    let o = read(&observation(
        json!({"valueQuantity": {"value": 2, "comparator": "<", "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}),
    ));
    assert_eq!(o.detail.as_deref(), Some("<2 mmol/L"));
    assert_eq!(o.measure, None, "<2 is not 2");
}

#[test]
fn numbers_keep_the_precision_the_source_gave() {
    let five = read(&observation(json!({"valueQuantity": {"value": 5.0, "unit": "mmol/L"}})));
    // Written by serde_json from a float: "5.0" (a whole float keeps its point).
    assert_eq!(five.detail.as_deref(), Some("5.0 mmol/L"));
    let text = |quantity: &str, rest: &str| {
        format!(
            r#"{{"resourceType": "Observation", "id": "o", "status": "final", "subject": {{"reference": "Patient/p1"}},
            "code": {{"coding": [{{"system": "http://loinc.org", "code": "2345-7"}}]}}, "valueQuantity": {quantity}{rest}}}"#
        )
    };
    let exact = |t: String| read_item(&t, "p1", CARRY, &SecurityRules::default()).unwrap();
    let weight = exact(text(
        r#"{"value": 72.50, "unit": "kg"}"#,
        r#", "referenceRange": [{"low": {"value": 3.50, "unit": "kg"}, "high": {"value": 100, "unit": "kg"}}]"#,
    ));
    assert_eq!(weight.detail.as_deref(), Some("72.50 kg; normal range 3.50 kg to 100 kg"));
    assert_eq!(weight.measure.unwrap().text, "72.50");
    let big = exact(text(r#"{"value": 1e308, "unit": "g"}"#, ""));
    assert_eq!(big.detail.as_deref(), Some("1e308 g"));
    assert_eq!(big.measure.unwrap().text, "1e308");
    let bp = exact(text(
        r#"{"value": 1}"#,
        r#", "component": [{"code": {"text": "Systolic"}, "valueQuantity": {"value": 120.0, "unit": "mm[Hg]"}}]"#,
    ));
    assert_eq!(bp.detail.as_deref(), Some("1; Systolic 120.0 mm[Hg]"));
}

#[test]
fn every_value_type_reads_in_words() {
    let words = |v: serde_json::Value| read(&observation(v)).detail.unwrap_or_default();
    assert_eq!(words(json!({"valueBoolean": true})), "Yes");
    assert_eq!(words(json!({"valueInteger": 3})), "3");
    assert_eq!(words(json!({"valueString": "Clear"})), "Clear");
    assert_eq!(words(json!({"valueRange": {"low": {"value": 1, "unit": "mg"}, "high": {"value": 2, "unit": "mg"}}})), "1 mg to 2 mg");
    assert_eq!(words(json!({"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 128}}})), "1 : 128");
    assert_eq!(words(json!({"valueDateTime": "2026-02-03"})), "3 Feb 2026");
    assert_eq!(words(json!({"valuePeriod": {"start": "2026-02-03"}})), "from 3 Feb 2026");
    assert_eq!(words(json!({"valueTime": "10:30:00"})), "10:30:00");
    assert_eq!(
        words(json!({"valueSampledData": {"origin": {"value": 0}, "period": 1, "dimensions": 1}})),
        "A series of measurements (not shown here)"
    );
    assert_eq!(words(json!({"dataAbsentReason": {"text": "Sample haemolysed"}})), "No value: Sample haemolysed");
}

#[test]
fn what_does_not_conform_is_quarantined_with_the_reason_and_nothing_it_holds() {
    let reason = |v: serde_json::Value| {
        let item = read(&observation(v));
        assert_eq!(item.standing, Standing::Quarantined);
        assert_eq!((item.title.as_str(), item.detail.as_deref(), item.measure.as_ref()), ("", None, None), "nothing it holds is shown");
        item.quarantine_reason.unwrap()
    };
    assert_eq!(reason(json!({"status": 123})), "status 123 is not a Observation status");
    assert_eq!(reason(json!({"status": null})), "it has no status, which every Observation must have");
    assert_eq!(reason(json!({"effectiveDateTime": "yesterday"})), "effectiveDateTime is other text, not a FHIR dateTime");
    assert_eq!(reason(json!({"valueQuantity": {"value": "72.5", "unit": "kg"}})), "valueQuantity.value is other text, not a number");
    assert_eq!(reason(json!({"valueQuantity": {"value": 2, "comparator": "~"}})), "valueQuantity.comparator \"~\" is not <, <=, >= or >");
    assert_eq!(
        reason(json!({"component": [{"code": {"text": "x"}, "valueQuantity": {"value": [1]}}]})),
        "component[0].valueQuantity.value is a list, not a number"
    );
    assert_eq!(
        reason(json!({"valueCodeableConcept": {"coding": [{"code": "x", "modifierExtension": [{"url": "https://x.example/not"}]}]}})),
        "it has a modifier extension Carry does not understand (https://x.example/not)"
    );
    assert_eq!(
        reason(json!({"implicitRules": "https://x.example/rules"})),
        "it has implicitRules (\"https://x.example/rules\"), which Carry does not understand"
    );
    assert_eq!(reason(json!({"meta": {"lastUpdated": "2026-01-01"}})), "meta.lastUpdated is other text, not a FHIR instant");
    let condition = json!({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "gone"}]}});
    assert_eq!(
        read(&condition).quarantine_reason.as_deref(),
        Some("clinicalStatus \"gone\" is not a code of http://terminology.hl7.org/CodeSystem/condition-clinical")
    );
}

#[test]
fn dates_sort_as_instants_whatever_the_offset() {
    let at = |d: &str| read(&observation(json!({"effectiveDateTime": d}))).occurred_at;
    assert!(at("2026-02-03T09:00:00+05:00") < at("2026-02-03T05:00:00Z"));
    assert_eq!(at("2026-02-03"), at("2026-02-03T00:00:00Z"));
}

#[test]
fn a_capability_statement_says_whether_type_history_is_offered() {
    let cs = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "resource": [
        {"type": "Condition", "interaction": [{"code": "read"}, {"code": "history-type"}]},
        {"type": "Observation", "interaction": [{"code": "read"}, {"code": "search-type"}]}]}]});
    assert!(offers_history(&cs, "Condition"));
    assert!(!offers_history(&cs, "Observation"));
    assert!(!offers_history(&cs, "Encounter"));
    assert!(!offers_history(&json!({}), "Condition"));
}

#[test]
fn an_outcome_reads_as_its_issues() {
    let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-supported", "diagnostics": "_history is not supported"}, {"severity": "warning", "code": "processing"}]});
    assert_eq!(outcome_text(&oo), "error: _history is not supported; warning: processing");
}
