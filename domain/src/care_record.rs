//! The record the NHS holds, as Carry shows it: the sections items are sorted into, where each
//! item came from, and the views of the synced record and its sync status.

use crate::{PrivacyLabel, Timestamp};
use serde::{Deserialize, Serialize};

/// A part of the record the NHS holds, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Section {
    /// Conditions.
    Problems,
    /// Medication statements and prescriptions.
    Medicines,
    /// Allergies and intolerances.
    Allergies,
    /// Test results and measurements (Observations, DiagnosticReports).
    Results,
    /// Vaccinations.
    Immunisations,
    /// Letters and discharge summaries.
    Documents,
    /// Contacts and visits.
    Encounters,
    /// Care and support plans.
    CarePlans,
}

impl Section {
    /// Every section, in page order.
    pub const ALL: [Section; 8] = [
        Section::Problems,
        Section::Medicines,
        Section::Allergies,
        Section::Results,
        Section::Immunisations,
        Section::Documents,
        Section::Encounters,
        Section::CarePlans,
    ];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Section::Problems => "problems",
            Section::Medicines => "medicines",
            Section::Allergies => "allergies",
            Section::Results => "results",
            Section::Immunisations => "immunisations",
            Section::Documents => "documents",
            Section::Encounters => "encounters",
            Section::CarePlans => "care-plans",
        }
    }

    /// Parses [`Section::slug`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == s)
    }

    /// The heading people read.
    pub fn heading(self) -> &'static str {
        match self {
            Section::Problems => "Problems",
            Section::Medicines => "Medicines",
            Section::Allergies => "Allergies",
            Section::Results => "Test results",
            Section::Immunisations => "Vaccinations",
            Section::Documents => "Letters and documents",
            Section::Encounters => "Appointments and visits",
            Section::CarePlans => "Care plans",
        }
    }

    /// The section a FHIR resource type belongs to; `None` for types Carry does not show.
    pub fn of_resource(resource_type: &str) -> Option<Self> {
        Some(match resource_type {
            "Condition" => Section::Problems,
            "MedicationStatement" | "MedicationRequest" => Section::Medicines,
            "AllergyIntolerance" => Section::Allergies,
            "Observation" | "DiagnosticReport" => Section::Results,
            "Immunization" => Section::Immunisations,
            "DocumentReference" => Section::Documents,
            "Encounter" => Section::Encounters,
            "CarePlan" => Section::CarePlans,
            _ => return None,
        })
    }
}

/// Who beyond the item's label may see a synced item, from the source's confidentiality and
/// sensitivity codes (`access-rules.md`, "Labels of synced items"). Ordered from least to most
/// private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Confidentiality {
    /// Whoever may see its label.
    Normal,
    /// Restricted (v3-Confidentiality `R` or `V`, sexual or domestic violence, or a code Carry
    /// does not know): the patient and clinicians of a linked practice, never a carer.
    Restricted,
    /// Not for the patient, their family or carers (v3-ActCode `NOPAT`): clinicians of a linked
    /// practice only.
    NoPatient,
}

impl Confidentiality {
    /// Every level, least private first.
    pub const ALL: [Confidentiality; 3] = [Confidentiality::Normal, Confidentiality::Restricted, Confidentiality::NoPatient];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Confidentiality::Normal => "normal",
            Confidentiality::Restricted => "restricted",
            Confidentiality::NoPatient => "no-patient",
        }
    }

    /// Parses [`Confidentiality::slug`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.slug() == s)
    }
}

/// Where an item in the record came from: the badge beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// The shared care record itself, or an organisation it does not say more about.
    SharedRecord,
    /// A GP practice.
    Gp,
    /// A hospital.
    Hospital,
    /// The patient, through Carry (accepted by their practice).
    You,
    /// A carer, through Carry.
    Carer,
}

impl Origin {
    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Origin::SharedRecord => "shared-record",
            Origin::Gp => "gp",
            Origin::Hospital => "hospital",
            Origin::You => "you",
            Origin::Carer => "carer",
        }
    }

    /// Parses [`Origin::slug`].
    pub fn parse(s: &str) -> Option<Self> {
        [Origin::SharedRecord, Origin::Gp, Origin::Hospital, Origin::You, Origin::Carer].into_iter().find(|k| k.slug() == s)
    }

    /// The badge's words, for the patient (a carer reads "the patient" for [`Origin::You`]).
    pub fn badge(self, own: bool) -> &'static str {
        match (self, own) {
            (Origin::SharedRecord, _) => "Shared care record",
            (Origin::Gp, _) => "GP",
            (Origin::Hospital, _) => "Hospital",
            (Origin::You, true) => "You",
            (Origin::You, false) => "The patient",
            (Origin::Carer, true) => "Your carer",
            (Origin::Carer, false) => "A carer",
        }
    }

    /// Guesses GP or hospital from an organisation's name when the record says no more. A
    /// name that fits neither is left as the shared record's.
    pub fn from_organisation_name(name: &str) -> Self {
        let n = name.to_lowercase();
        const GP: [&str; 6] = ["surgery", "practice", "medical centre", "health centre", "medical center", "health center"];
        const HOSPITAL: [&str; 4] = ["hospital", "infirmary", "foundation trust", "nhs trust"];
        if GP.iter().any(|w| n.contains(w)) {
            Origin::Gp
        } else if HOSPITAL.iter().any(|w| n.contains(w)) {
            Origin::Hospital
        } else {
            Origin::SharedRecord
        }
    }
}

/// One item of the record the NHS holds, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncedItemView {
    /// What it is ("Type 2 diabetes", "Amlodipine 5 mg tablets").
    pub title: String,
    /// More, in words (status, dose, value), if any.
    pub detail: Option<String>,
    /// When (a date or date and time, as the record gives it), if known.
    pub date: Option<String>,
    /// The organisation it came from, if named.
    pub source: Option<String>,
    /// The badge.
    pub origin: Origin,
    /// Its privacy label.
    pub label: PrivacyLabel,
    /// The security codes the source put on it (`code (system)`), shown to the patient on
    /// their own record; empty for others.
    pub security: Vec<String>,
}

/// One kind of result over time (a trend): the same code's values, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendView {
    /// What was measured.
    pub title: String,
    /// The unit.
    pub unit: String,
    /// (date, value) pairs, oldest first.
    pub points: Vec<(String, f64)>,
}

impl TrendView {
    /// "up from 5.6 to 6.1", "down ...", "unchanged at ...": the last two values in words.
    pub fn direction(&self) -> Option<String> {
        let n = self.points.len();
        if n < 2 {
            return None;
        }
        let (before, last) = (self.points[n - 2].1, self.points[n - 1].1);
        let (b, l) = (format_value(before), format_value(last));
        Some(if last > before {
            format!("up from {b} to {l} {}", self.unit)
        } else if last < before {
            format!("down from {b} to {l} {}", self.unit)
        } else {
            format!("unchanged at {l} {}", self.unit)
        })
    }
}

/// A record's date ("2026-02-03", or an instant) as people read it: "3 Feb 2026". A partial
/// date ("2019-03") is shown as the record gives it.
pub fn display_date(iso: &str) -> String {
    iso.get(..10).and_then(Timestamp::parse_uk_date).map_or_else(|| iso.to_owned(), Timestamp::to_uk_date)
}

/// A number as people write it: no trailing zeros.
pub fn format_value(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A section and its items, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionView {
    /// Which.
    pub section: Section,
    /// Its items.
    pub items: Vec<SyncedItemView>,
    /// Results only: each measured kind with two or more values.
    pub trends: Vec<TrendView>,
}

/// Where the sync with the shared care record stands for one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    /// No shared care record is connected to Carry.
    Off,
    /// The record is not linked to a GP practice yet, so Carry cannot find it there.
    NotLinked,
    /// A person must check the match (name or date of birth differ): nothing is pulled.
    Held,
    /// Not pulled yet, or pulled; `running` while a pull is under way.
    On {
        /// The last pull that finished, if any.
        last_success: Option<Timestamp>,
        /// Whether one is running now.
        running: bool,
        /// How far the running one is: kinds of record done, of all.
        progress: Option<(u32, u32)>,
        /// The last pull's failure, in words, when it failed after the last success.
        last_error: Option<String>,
    },
}

/// The record the NHS holds, by section, with the sync's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CareRecordView {
    /// The sync's status.
    pub status: SyncStatus,
    /// The sections, in page order (empty ones included, so the page can say "nothing").
    pub sections: Vec<SectionView>,
    /// Whether the caller is the patient (the badges' words differ for a carer).
    pub own: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_are_read_as_gp_or_hospital_by_their_name() {
        assert_eq!(Origin::from_organisation_name("Riverside Surgery"), Origin::Gp);
        assert_eq!(Origin::from_organisation_name("THE PARK MEDICAL CENTRE"), Origin::Gp);
        assert_eq!(Origin::from_organisation_name("St Mary's Hospital"), Origin::Hospital);
        assert_eq!(Origin::from_organisation_name("Leeds Teaching Hospitals NHS Trust"), Origin::Hospital);
        assert_eq!(Origin::from_organisation_name("Yorkshire Ambulance Service"), Origin::SharedRecord);
    }

    #[test]
    fn every_slug_reads_back() {
        for s in Section::ALL {
            assert_eq!(Section::parse(s.slug()), Some(s));
        }
        for o in [Origin::SharedRecord, Origin::Gp, Origin::Hospital, Origin::You, Origin::Carer] {
            assert_eq!(Origin::parse(o.slug()), Some(o));
        }
    }

    #[test]
    fn record_dates_read_as_uk_dates() {
        assert_eq!(display_date("2026-02-03"), "3 Feb 2026");
        assert_eq!(display_date("2026-02-03T09:00:00Z"), "3 Feb 2026");
        assert_eq!(display_date("2019-03"), "2019-03");
    }

    #[test]
    fn a_trend_says_which_way_the_last_value_went() {
        let t =
            |a: f64, b: f64| TrendView { title: "HbA1c".into(), unit: "mmol/mol".into(), points: vec![("1".into(), a), ("2".into(), b)] };
        assert_eq!(t(48.0, 53.5).direction().as_deref(), Some("up from 48 to 53.5 mmol/mol"));
        assert_eq!(t(53.0, 48.0).direction().as_deref(), Some("down from 53 to 48 mmol/mol"));
        assert_eq!(t(48.0, 48.0).direction().as_deref(), Some("unchanged at 48 mmol/mol"));
        let one = TrendView { points: vec![("1".into(), 1.0)], ..t(1.0, 1.0) };
        assert_eq!(one.direction(), None);
    }
}
