//! The health summary for other clinicians' systems: the International Patient Summary (HL7 IPS
//! 2.0.0), a FHIR document made by [`fhir::ips`] from what one permit may see.
//!
//! A person in Carry (the patient, or a carer whose grant lets them take the record out) gets
//! the problems, medicines, allergies, vaccinations and recent results of the NHS record as the
//! shared care record sent them, their latest home readings, and "about me", within the labels
//! they chose. The shared care record itself, through the FHIR API, gets only what the patient
//! shared with their practice: nothing it sent Carry comes back to it as if Carry knew it.

use super::{chosen_labels, Subject};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, Permit};
use domain::audit::Category;
use domain::care_record::{Section, SyncStatus};
use domain::entries::EntryBody;
use domain::{ReadingKind, ValidationError};
use fhir::api::{Served, ServedEntry};
use fhir::ips::{IpsInput, IpsItem, IpsSection};
use serde_json::Value;
use store::entries::EntryRow;
use store::{entries, shared, synced};

/// The parts of the NHS record a summary holds, with their IPS sections.
const NHS_PARTS: [(Section, IpsSection); 5] = [
    (Section::Problems, IpsSection::Problems),
    (Section::Medicines, IpsSection::Medications),
    (Section::Allergies, IpsSection::Allergies),
    (Section::Immunisations, IpsSection::Immunizations),
    (Section::Results, IpsSection::Results),
];
/// The most recent results a summary holds (IPS asks for the relevant ones, not every one).
const RECENT_RESULTS: i64 = 50;
/// The most items of any other part (a list longer than this is not a summary any more).
const MOST_ITEMS: i64 = 500;

/// What a summary is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holds {
    /// Everything the permit sees: the NHS record and the patient's own entries.
    Record,
    /// Only the entries the patient shared with their practice (the shared care record's own
    /// view through the FHIR API).
    Shared,
}

/// A summary made for someone to download.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryDocument {
    /// The name to save it under.
    pub file_name: String,
    /// The document Bundle.
    pub bundle: Value,
}

impl Services {
    /// The summary of `record` as an International Patient Summary, with the labels ticked
    /// (never beyond what the caller may see): the patient's, or a carer's whose grant lets
    /// them take the record out. Logged as a download. Errors name `labels`.
    pub async fn summary_document(&self, who: &SignedIn, record: RecordRef, labels: &[String]) -> ServiceResult<SummaryDocument> {
        let (mut tx, access) = self.open(who, record, Action::Export, Touch::of(Category::SummaryDocument)).await?;
        let Some(patient) = access.patient() else {
            return Err(ValidationError::field("labels", "Your record is empty: there is nothing to summarise yet.").into());
        };
        let labels = chosen_labels(labels, access.labels(), "the summary")?;
        let permit = access.permit()?.clone().narrowed(&labels).map_err(|_| ServiceError::Forbidden)?;
        let Some(subject) = Subject::load(&mut tx, patient).await? else { return Err(ServiceError::NotFound) };
        let bundle = self.ips(&mut tx, &permit, &subject, Holds::Record).await?;
        tx.commit().await?;
        let name: String = subject.name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        Ok(SummaryDocument {
            file_name: format!("carry-summary-{}-{}.json", name.trim_matches('-'), self.now().to_uk_date_input()),
            bundle,
        })
    }

    /// The summary of the permit's record as an IPS document Bundle, read from what `holds`
    /// says. The caller has decided the permit and logs the look.
    pub(crate) async fn ips(&self, conn: &mut store::Conn, permit: &Permit, subject: &Subject, holds: Holds) -> ServiceResult<Value> {
        let patient_url = fhir::export::urn(&subject.id);
        let mut items: Vec<(IpsSection, IpsItem)> = Vec::new();
        let mut known_whole = Vec::new();
        if holds == Holds::Record {
            let base = self.config().care_record.as_ref().map(|c| c.base_url.as_str().trim_end_matches('/').to_owned());
            for (section, ips_section) in NHS_PARTS {
                let limit = if section == Section::Results { RECENT_RESULTS } else { MOST_ITEMS };
                for held in synced::list_section_resources(conn, permit, section, limit).await? {
                    let Ok(resource) = serde_json::from_str::<Value>(&held.resource) else {
                        tracing::warn!(id = %held.remote_id, "a held resource is not JSON; left out of the summary");
                        continue;
                    };
                    let full_url = match &base {
                        Some(b) => format!("{b}/{}/{}", held.resource_type, held.remote_id),
                        None => fhir::export::urn(&uuid::Uuid::new_v4().to_string()),
                    };
                    let detail = [held.detail, held.occurred].into_iter().flatten().collect::<Vec<_>>().join("; ");
                    let detail = (!detail.is_empty()).then_some(detail);
                    items.push((ips_section, IpsItem { full_url, resource, title: held.title, detail }));
                }
            }
            known_whole = self.known_whole(conn, permit).await?.into_iter().filter_map(ips_section_of).collect();
        }

        let entry_system = self.config().identifier_system("entry");
        let rules = self.security_rules();
        let nhs_number = subject.nhs_number.clone().unwrap_or_default();
        for kind in ReadingKind::ALL {
            let latest = match holds {
                Holds::Record => entries::list_readings(conn, permit, kind, None, 1).await?,
                Holds::Shared => shared::list_shared_readings(conn, permit, kind, 1).await?,
            };
            let Some(row) = latest.into_iter().next() else { continue };
            let EntryBody::Reading(reading) = &row.current.body else { continue };
            let detail = format!("{}, {}", reading.display(), row.current.occurred_at.to_uk_string());
            let Some(resource) = self.entry_resource(&row, subject, &entry_system, &rules, &nhs_number, &patient_url) else { continue };
            let section = match kind {
                // A glucometer's glucose and a peak flow are measurements, not vital signs.
                ReadingKind::BloodGlucose | ReadingKind::PeakFlow => IpsSection::Results,
                _ => IpsSection::VitalSigns,
            };
            let full_url = self.config().link(&format!("/fhir/Observation/{}", row.id));
            items.push((section, IpsItem { full_url, resource, title: format!("{} (home reading)", kind.label()), detail: Some(detail) }));
        }

        let about = match holds {
            Holds::Record => entries::find_about_me(conn, permit).await?,
            Holds::Shared => shared::find_shared_about_me(conn, permit).await?,
        };
        let about_me = match about.map(|row| row.current.body) {
            Some(EntryBody::AboutMe(a)) => {
                a.answers().into_iter().filter(|(_, answer)| !answer.is_empty()).map(|(q, a)| (q.to_owned(), a)).collect()
            }
            _ => Vec::new(),
        };

        let (bundle_id, composition_id, device_id) =
            (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
        Ok(fhir::ips::document(IpsInput {
            bundle_id: &bundle_id,
            composition_id: &composition_id,
            device_id: &device_id,
            made_at: self.now(),
            patient: subject.as_export(),
            items,
            known_whole,
            about_me,
        }))
    }

    /// An entry as the FHIR API serves it, naming the patient inside the document. A summary
    /// is a snapshot: the resource carries no version of its own.
    fn entry_resource(
        &self,
        row: &EntryRow,
        subject: &Subject,
        entry_system: &str,
        rules: &fhir::security::SecurityRules,
        nhs_number: &str,
        patient_url: &str,
    ) -> Option<Value> {
        let author = subject.author(row.entered_by, &row.entered_by_name);
        let served = ServedEntry {
            entry_system,
            entry_id: row.id,
            version: row.version,
            entry_version: row.version,
            body: &row.current.body,
            occurred_at: row.current.occurred_at,
            updated_at: row.updated_at,
            changed_at: row.updated_at,
            author,
            changed_by: author,
            nhs_number,
            patient_url: Some(patient_url),
        };
        let mut resource = fhir::api::resource(Served::of_kind(row.current.body.kind()), &served)?;
        if let Some(meta) = resource["meta"].as_object_mut() {
            meta.remove("versionId");
        }
        resource["meta"]["security"] = Value::Array(fhir::security::security_codings(row.current.label, rules));
        Some(resource)
    }

    /// The parts of the NHS record known whole: fetched in a complete pull, with nothing of
    /// theirs held back (a part with an item that could not be shown is not known whole,
    /// whatever its label). Empty when it has not been fetched whole.
    pub(crate) async fn known_whole(&self, conn: &mut store::Conn, permit: &Permit) -> ServiceResult<Vec<Section>> {
        let status = self.sync_status(conn, permit.patient()).await?;
        if !matches!(status, SyncStatus::On { last_success: Some(_), incomplete: None, .. }) {
            return Ok(Vec::new());
        }
        let held_back: Vec<Option<Section>> =
            synced::quarantined_types(conn, permit).await?.iter().map(|t| Section::of_resource(t)).collect();
        Ok(Section::ALL.into_iter().filter(|s| !held_back.contains(&Some(*s))).collect())
    }
}

fn ips_section_of(section: Section) -> Option<IpsSection> {
    NHS_PARTS.iter().find(|(s, _)| *s == section).map(|(_, i)| *i)
}
