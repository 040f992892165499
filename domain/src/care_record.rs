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

/// Whether a synced item stands as part of the patient's record. Only [`Standing::Current`]
/// items are shown or served; the others are kept for the record's history, never as if real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Standing {
    /// Shown, with its status in words where it is not plain (provisional, stopped...).
    Current,
    /// The source marked it entered in error.
    EnteredInError,
    /// The source says it was ruled out (a refuted condition or allergy).
    Refuted,
    /// A document replaced by a newer one.
    Superseded,
    /// Carry could not read it as FHIR R4 defines it, or it carries a modifier Carry does not
    /// understand: kept with the reason, counted for the patient and clinicians, never shown.
    Quarantined,
}

impl Standing {
    /// Every standing.
    pub const ALL: [Standing; 5] =
        [Standing::Current, Standing::EnteredInError, Standing::Refuted, Standing::Superseded, Standing::Quarantined];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Standing::Current => "current",
            Standing::EnteredInError => "entered-in-error",
            Standing::Refuted => "refuted",
            Standing::Superseded => "superseded",
            Standing::Quarantined => "quarantined",
        }
    }

    /// Parses [`Standing::slug`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == s)
    }
}

/// One resource of the shared care record, as Carry read it from the source's FHIR (in the
/// `fhir` crate) and keeps it (in the store).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedItem {
    /// The FHIR type.
    pub resource_type: String,
    /// Its id on the shared care record.
    pub remote_id: String,
    /// Its version there (opaque; empty when the server gave none).
    pub version_id: String,
    /// `meta.lastUpdated` in the server's clock (the watermark), when given.
    pub last_updated: Option<String>,
    /// Where it is shown.
    pub section: Section,
    /// Whether it stands as part of the record (only current items are listed).
    pub standing: Standing,
    /// Why it is quarantined.
    pub quarantine_reason: Option<String>,
    /// What it is.
    pub title: String,
    /// More, in words.
    pub detail: Option<String>,
    /// When (ISO 8601 text, as the record gives it).
    pub occurred: Option<String>,
    /// The same moment in milliseconds since 1970, UTC: what items sort by.
    pub occurred_at: Option<i64>,
    /// The organisation it came from.
    pub source: Option<String>,
    /// The badge.
    pub origin: Origin,
    /// Its privacy label.
    pub label: PrivacyLabel,
    /// Who beyond the label may see it.
    pub confidentiality: Confidentiality,
    /// The source's security codings, as given (`code (system)`).
    pub security_codes: Vec<String>,
    /// A numeric result, for trends.
    pub measure: Option<SyncedMeasure>,
}

/// A synced result's number, for trends (never for a value with a comparator: "<2" is not 2).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedMeasure {
    /// `system|code` of what was measured.
    pub code: String,
    /// The value.
    pub value: f64,
    /// The number as the source wrote it.
    pub text: String,
    /// The unit as people read it.
    pub unit: String,
    /// The UCUM code, when the source gave one.
    pub ucum: Option<String>,
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

/// One value of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// When, as the record gives it.
    pub date: String,
    /// The value, in the trend's unit.
    pub value: f64,
    /// The value as it is shown: as the source wrote it, or converted to the trend's unit.
    pub text: String,
}

/// One kind of result over time (a trend): the same code's values in one unit, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendView {
    /// What was measured.
    pub title: String,
    /// The unit.
    pub unit: String,
    /// The values, oldest first (by instant, whatever offsets the source wrote).
    pub points: Vec<TrendPoint>,
}

impl TrendView {
    /// "up from 5.6 to 6.1", "down ...", "unchanged at ...": the last two values in words.
    pub fn direction(&self) -> Option<String> {
        let n = self.points.len();
        if n < 2 {
            return None;
        }
        let (before, last) = (&self.points[n - 2], &self.points[n - 1]);
        let (b, l) = (&before.text, &last.text);
        Some(if last.value > before.value {
            format!("up from {b} to {l} {}", self.unit)
        } else if last.value < before.value {
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

/// A number as people write it: at most three decimals, no trailing zeros; a very large or
/// very small one in scientific notation ("1e308", never 309 digits).
pub fn format_value(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(0.001..1e15).contains(&v.abs()) {
        return format!("{v:e}");
    }
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
        /// What the last pulls could not fetch (the server said it holds more than it gave),
        /// in words, and since when.
        incomplete: Option<(String, Timestamp)>,
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
    /// How many items could not be shown (they did not conform, or carry what Carry does not
    /// understand): told to the patient and clinicians; `None` for a carer, who is not told
    /// (those items' labels are not known).
    pub not_shown: Option<u32>,
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
        for s in Standing::ALL {
            assert_eq!(Standing::parse(s.slug()), Some(s));
        }
    }

    #[test]
    fn record_dates_read_as_uk_dates() {
        assert_eq!(display_date("2026-02-03"), "3 Feb 2026");
        assert_eq!(display_date("2026-02-03T09:00:00Z"), "3 Feb 2026");
        assert_eq!(display_date("2019-03"), "2019-03");
    }

    #[test]
    fn numbers_are_written_short_however_large() {
        assert_eq!(format_value(5.0), "5");
        assert_eq!(format_value(72.456_78), "72.457");
        assert_eq!(format_value(1e308), "1e308");
        assert_eq!(format_value(-2.5e-7), "-2.5e-7");
        assert_eq!(format_value(0.0), "0");
    }

    #[test]
    fn a_trend_says_which_way_the_last_value_went_in_the_sources_digits() {
        let point = |v: f64, text: &str| TrendPoint { date: "2026-01-01".into(), value: v, text: text.into() };
        let t = |a: TrendPoint, b: TrendPoint| TrendView { title: "HbA1c".into(), unit: "mmol/mol".into(), points: vec![a, b] };
        assert_eq!(t(point(48.0, "48"), point(53.5, "53.5")).direction().as_deref(), Some("up from 48 to 53.5 mmol/mol"));
        assert_eq!(t(point(53.0, "53.0"), point(48.0, "48")).direction().as_deref(), Some("down from 53.0 to 48 mmol/mol"));
        assert_eq!(t(point(48.0, "48"), point(48.0, "48.0")).direction().as_deref(), Some("unchanged at 48.0 mmol/mol"));
        let one = TrendView { points: vec![point(1.0, "1")], ..t(point(1.0, "1"), point(1.0, "1")) };
        assert_eq!(one.direction(), None);
    }
}
