//! Matching a Carry record to the shared care record's Patient: by NHS number, then checked
//! on name and date of birth. Anything short of a clear match is held for a person to look at
//! (quarantined), never merged.

use crate::model::{Bundle, Patient};
use crate::NHS_NUMBER;

/// What a search by NHS number found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// One Patient, with the same name and date of birth: its id.
    Same {
        /// The Patient's id on the other server.
        id: String,
    },
    /// One Patient whose name or date of birth differs, or several: held for a person.
    Quarantined {
        /// What differs, in plain words (no clinical content).
        reason: String,
    },
    /// No Patient has that NHS number (yet).
    NotFound,
}

/// Compares the search result with what Carry knows of the patient: NHS number, full name and
/// date of birth (`YYYY-MM-DD`), all three, never fewer.
pub fn match_patient(bundle: &Bundle, nhs_number: &str, name: &str, born_on: &str) -> Match {
    let patients: Vec<Patient> = bundle
        .entry
        .iter()
        .filter_map(|e| e.resource.clone())
        .filter_map(|r| serde_json::from_value::<Patient>(r).ok())
        .filter(|p| p.resource_type == "Patient")
        .filter(|p| p.identifier.iter().any(|i| i.system.as_deref() == Some(NHS_NUMBER) && i.value.as_deref() == Some(nhs_number)))
        .collect();
    let patient = match patients.as_slice() {
        [] => return Match::NotFound,
        [one] => one,
        many => return Match::Quarantined { reason: format!("{} records in the shared care record have this NHS number", many.len()) },
    };
    let Some(id) = patient.id.clone() else {
        return Match::Quarantined { reason: "the shared care record's patient has no id".into() };
    };
    if !same_name(patient, name) {
        return Match::Quarantined { reason: "the name in the shared care record is different".into() };
    }
    match patient.birth_date.as_deref() {
        Some(theirs) if theirs == born_on => Match::Same { id },
        Some(_) => Match::Quarantined { reason: "the date of birth in the shared care record is different".into() },
        None => Match::Quarantined { reason: "the shared care record has no date of birth to check".into() },
    }
}

/// Letters and digits only, lower case, single spaces: "O'Brien-Smith" and "obrien smith" compare.
fn normalise(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The same person's name: every word of Carry's name appears in one of the Patient's names,
/// and that name's family name is among them (so "Sam Patel" matches given "Samir Sam",
/// family "Patel", but not family "Shah").
fn same_name(patient: &Patient, name: &str) -> bool {
    let ours = normalise(name);
    if ours.is_empty() {
        return false;
    }
    patient.name.iter().any(|n| {
        let mut theirs: Vec<String> = n.given.iter().flat_map(|g| normalise(g)).collect();
        let family = n.family.as_deref().map(normalise).unwrap_or_default();
        theirs.extend(family.iter().cloned());
        if let Some(text) = &n.text {
            theirs.extend(normalise(text));
        }
        let family_ok = family.is_empty() && n.text.is_some() || family.iter().all(|f| ours.contains(f));
        family_ok && ours.iter().all(|w| theirs.contains(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn search(patients: Vec<serde_json::Value>) -> Bundle {
        serde_json::from_value(json!({
            "resourceType": "Bundle", "type": "searchset",
            "entry": patients.into_iter().map(|p| json!({"resource": p})).collect::<Vec<_>>()
        }))
        .unwrap()
    }

    fn patient(id: &str, given: &str, family: &str, born: &str) -> serde_json::Value {
        json!({"resourceType": "Patient", "id": id,
            "identifier": [{"system": NHS_NUMBER, "value": "9434765919"}],
            "name": [{"family": family, "given": [given]}], "birthDate": born})
    }

    #[test]
    fn one_patient_with_the_same_name_and_birth_date_matches() {
        let b = search(vec![patient("p1", "Sam", "Patel", "1980-04-02")]);
        assert_eq!(match_patient(&b, "9434765919", "Sam Patel", "1980-04-02"), Match::Same { id: "p1".into() });
        assert_eq!(match_patient(&b, "9434765919", "sam  PATEL", "1980-04-02"), Match::Same { id: "p1".into() });
    }

    #[test]
    fn a_different_name_or_birth_date_is_quarantined_never_merged() {
        let b = search(vec![patient("p1", "Sam", "Shah", "1980-04-02")]);
        assert!(matches!(match_patient(&b, "9434765919", "Sam Patel", "1980-04-02"), Match::Quarantined { .. }));
        let b = search(vec![patient("p1", "Sam", "Patel", "1981-04-02")]);
        let Match::Quarantined { reason } = match_patient(&b, "9434765919", "Sam Patel", "1980-04-02") else { panic!() };
        assert!(reason.contains("date of birth"));
        // A partial date of birth there is not the same date: held, never guessed.
        let b = search(vec![patient("p1", "Sam", "Patel", "1980")]);
        assert!(matches!(match_patient(&b, "9434765919", "Sam Patel", "1980-04-02"), Match::Quarantined { .. }));
        // The name alone never matches.
        let mut p = patient("p1", "Sam", "Patel", "1980-04-02");
        p.as_object_mut().unwrap().remove("birthDate");
        let Match::Quarantined { reason } = match_patient(&search(vec![p]), "9434765919", "Sam Patel", "1980-04-02") else { panic!() };
        assert!(reason.contains("no date of birth"));
    }

    #[test]
    fn two_patients_with_one_nhs_number_are_quarantined() {
        let b = search(vec![patient("p1", "Sam", "Patel", "1980-04-02"), patient("p2", "Sam", "Patel", "1980-04-02")]);
        assert!(matches!(match_patient(&b, "9434765919", "Sam Patel", "1980-04-02"), Match::Quarantined { .. }));
    }

    #[test]
    fn a_patient_without_that_nhs_number_is_not_a_match() {
        let b = search(vec![patient("p1", "Sam", "Patel", "1980-04-02")]);
        assert_eq!(match_patient(&b, "9990000018", "Sam Patel", "1980-04-02"), Match::NotFound);
        assert_eq!(match_patient(&search(vec![]), "9434765919", "Sam Patel", "1980-04-02"), Match::NotFound);
    }
}
