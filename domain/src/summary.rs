//! The printable summary of a record (`/record/summary`): what a clinician who does not know the
//! patient needs first, on one page. Everything in it is what the reader may see anyway, within
//! their labels; nothing entered in error or quarantined is in it.

use crate::about_me::AboutMe;
use crate::care_record::{Section, SectionView, SyncStatus};
use crate::home_bp::HomeBpSummary;
use crate::{PrivacyLabel, Timestamp};
use serde::{Deserialize, Serialize};

/// The summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryView {
    /// Whose record it is.
    pub patient_name: String,
    /// Whether the reader is the patient ("your" or "their" on the screen).
    pub own: bool,
    /// When it was made: printed on the page.
    pub made_at: Timestamp,
    /// The labels it includes (a carer's, or the patient's: every label).
    pub labels: Vec<PrivacyLabel>,
    /// Whether the reader may take the record out: download the summary as an International
    /// Patient Summary for another clinician's system.
    pub may_export: bool,
    /// "About me", if there is one the reader may see.
    pub about_me: Option<AboutMe>,
    /// Where the record the NHS holds stands: its sections mean "none" only when it was fetched
    /// whole.
    pub nhs: SyncStatus,
    /// From the record the NHS holds: problems, medicines, allergies and vaccinations, in that
    /// order (each present, so the page can say "none recorded").
    pub sections: Vec<SectionView>,
    /// The sections known whole: fetched in a complete pull with nothing held back, so that
    /// empty means "none recorded" (otherwise it means "not known").
    pub known_whole: Vec<Section>,
    /// How many items of the NHS record could not be shown (quarantined): told to the patient,
    /// not to a carer (those items' labels are not known).
    pub not_shown: Option<u32>,
    /// The latest home reading of each kind, in the kinds' order.
    pub readings: Vec<LatestReading>,
    /// The latest series of home blood pressure readings, averaged as NICE describes.
    pub home_bp: Option<HomeBpSummary>,
    /// Who to contact.
    pub contacts: Vec<Contact>,
}

/// The latest reading of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestReading {
    /// The kind ("Blood pressure").
    pub kind: String,
    /// The value as people read it ("142/91 mmHg, pulse 72").
    pub value: String,
    /// When it was taken.
    pub at: Timestamp,
    /// Whether it was flagged as worrying.
    pub concerning: bool,
}

/// Someone to contact about the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Who they are to the patient ("GP practice", "Carer (daughter)").
    pub role: String,
    /// Their name.
    pub name: String,
    /// How to reach them, or more about them, if Carry holds it.
    pub detail: Option<String>,
}
