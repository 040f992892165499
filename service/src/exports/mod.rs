//! "Download my record": the patient's right of access, and a carer's when their grant says so.
//!
//! Asking for a copy goes through the gate (`Action::Export`) and is logged; the copy is then
//! prepared in the background ([`worker`]), which decides again through the gate when it runs,
//! so access that ended in between gives nothing. It writes two files as it reads, a page at a
//! time, never holding the record whole: a FHIR R4 Bundle and a readable document with the same
//! content. Each download is decided and logged again. Copies are removed an hour after they
//! are ready ([`domain::exports::KEPT_FOR`]).

mod document;
mod ips;
mod worker;

pub(crate) use ips::Holds;
pub use ips::SummaryDocument;

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, Role};
use domain::audit::Category;
use domain::exports::{ExportFormat, ExportStatus, ExportView, ExportsView, KEPT_FOR, MOST_AT_ONCE};
use domain::{PrivacyLabel, ValidationError};
use std::path::PathBuf;
use store::exports::{self, ExportRow};

/// What the "Download my record" form sends.
#[derive(Debug, Clone, Default)]
pub struct ExportForm {
    /// Label slugs ticked.
    pub labels: Vec<String>,
}

/// A prepared file, for the door to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    /// Where it is.
    pub path: PathBuf,
    /// The name to save it under.
    pub file_name: String,
    /// Its media type.
    pub media_type: &'static str,
}

impl Services {
    /// What the caller may put in a copy of `record`, and the copies they asked for. A refusal
    /// is logged; an allowed look shows nothing of the record but its name.
    pub async fn exports(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<ExportsView> {
        let access = self.peek_at(who, record, Action::Export, Touch::of(Category::ExportPrepared)).await?;
        let mut list = Vec::new();
        if let Some(patient) = access.patient() {
            let mut conn = self.db().conn().await?;
            let record = (access.role() != Role::Patient).then(|| patient.to_string());
            for row in exports::list_exports(&mut conn, who.user_id, patient).await? {
                list.push(view(&row, &access.patient_name, record.clone()));
            }
        }
        Ok(ExportsView {
            patient_name: access.patient_name.clone(),
            own: access.role() == Role::Patient,
            labels: access.labels().to_vec(),
            exports: list,
        })
    }

    /// Asks for a copy of `record` with the labels ticked (never beyond what the caller may
    /// see), to be prepared in the background. Errors name `labels`.
    pub async fn request_export(&self, who: &SignedIn, record: RecordRef, form: &ExportForm) -> ServiceResult<String> {
        if form.labels.is_empty() {
            return Err(ValidationError::field("labels", "Choose at least one kind of entry to put in the copy.").into());
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now();
        let (mut tx, access) = self.open(who, record, Action::Export, Touch::item(Category::ExportPrepared, &id)).await?;
        let Some(patient) = access.patient() else {
            return Err(ValidationError::field("labels", "Your record is empty: there is nothing to download yet.").into());
        };
        let labels = chosen_labels(&form.labels, access.labels(), "the copy")?;
        let recent = exports::list_exports(&mut tx, who.user_id, patient).await?;
        if recent.iter().filter(|e| e.created_at > now.minus(KEPT_FOR)).count() >= MOST_AT_ONCE {
            return Err(ValidationError::field(
                "labels",
                format!("You have asked for {MOST_AT_ONCE} copies in the last hour. Download one of those, or try again later."),
            )
            .into());
        }
        let row = ExportRow {
            id: id.clone(),
            patient_id: patient,
            requested_by: who.user_id,
            labels,
            with_access_log: access.role() == Role::Patient,
            status: ExportStatus::Queued,
            done: 0,
            total: 0,
            failure: None,
            sizes: None,
            expires_at: None,
            created_at: now,
        };
        exports::insert_export(&mut tx, &row, now).await?;
        tx.commit().await?;
        self.inner.export_wakeup.notify_one();
        Ok(id)
    }

    /// Where a copy the caller asked for stands. Someone else's copy, or one removed, is
    /// `NotFound`; a copy of a record the caller may no longer take out is refused (and the
    /// refusal logged), so a carer whose access ended learns nothing more of the record.
    pub async fn export_status(&self, who: &SignedIn, id: &str) -> ServiceResult<ExportView> {
        let row = {
            let mut conn = self.db().conn().await?;
            self.own_export(&mut conn, who, id).await?
        };
        let record = RecordRef::Patient(row.patient_id);
        let access = self.peek_at(who, record, Action::Export, Touch::item(Category::ExportPrepared, id)).await?;
        let theirs = (access.role() != Role::Patient).then(|| row.patient_id.to_string());
        Ok(view(&row, &access.patient_name, theirs))
    }

    /// A ready copy's file, for the caller who asked for it, decided again by the policy and
    /// logged: access that ended or narrowed since the copy was asked for gets nothing.
    pub async fn export_file(&self, who: &SignedIn, id: &str, format: ExportFormat) -> ServiceResult<ExportFile> {
        let row = {
            let mut conn = self.db().conn().await?;
            self.own_export(&mut conn, who, id).await?
        };
        if row.status != ExportStatus::Ready {
            return Err(ServiceError::NotFound);
        }
        let (tx, access) =
            self.open(who, RecordRef::Patient(row.patient_id), Action::Export, Touch::item(Category::ExportDownloaded, id)).await?;
        if row.labels.iter().any(|l| !access.labels().contains(l)) {
            return Err(ServiceError::Forbidden);
        }
        tx.commit().await?;
        let day = row.created_at.to_uk_date_input();
        let name: String =
            access.patient_name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        Ok(ExportFile {
            path: self.export_path(id, format),
            file_name: format!("carry-record-{}-{day}.{}", name.trim_matches('-'), format.extension()),
            media_type: format.media_type(),
        })
    }

    /// A copy the caller asked for, still kept.
    async fn own_export(&self, conn: &mut store::Conn, who: &SignedIn, id: &str) -> ServiceResult<ExportRow> {
        let row = exports::find_export(conn, id.trim()).await?.ok_or(ServiceError::NotFound)?;
        let expired = row.expires_at.is_some_and(|at| at <= self.now());
        if row.requested_by != who.user_id || expired {
            return Err(ServiceError::NotFound);
        }
        Ok(row)
    }

    /// Where a copy's file is kept.
    pub(crate) fn export_path(&self, id: &str, format: ExportFormat) -> PathBuf {
        self.config().export_dir.join(format!("{id}.{}", format.extension()))
    }
}

/// A copy as its page shows it.
fn view(row: &ExportRow, patient_name: &str, record: Option<String>) -> ExportView {
    ExportView {
        id: row.id.clone(),
        patient_name: patient_name.to_owned(),
        record,
        labels: row.labels.clone(),
        with_access_log: row.with_access_log,
        status: row.status,
        done: row.done,
        total: row.total,
        failure: row.failure.clone(),
        created_at: row.created_at,
        expires_at: row.expires_at,
        sizes: row.sizes,
    }
}

/// The record a copy or a summary is about, with its own strings.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// The record's id.
    pub(crate) id: String,
    /// The patient's name.
    pub(crate) name: String,
    /// Their NHS number, once the record is linked with one.
    pub(crate) nhs_number: Option<String>,
    /// Their date of birth, from the record or its link.
    pub(crate) born_on: Option<String>,
    /// The patient's account, when they hold one.
    owner: Option<domain::UserId>,
}

impl Subject {
    /// The record `patient`, if it exists.
    pub(crate) async fn load(conn: &mut store::Conn, patient: domain::PatientId) -> ServiceResult<Option<Self>> {
        let Some(row) = store::patients::find_patient(conn, patient).await? else { return Ok(None) };
        let link = store::links::find_link(conn, patient).await?;
        Ok(Some(Subject {
            id: row.id.to_string(),
            name: row.name.clone(),
            nhs_number: link.as_ref().map(|l| l.nhs_number.clone()).filter(|n| !n.is_empty()),
            born_on: row.born_on.clone().or_else(|| link.as_ref().and_then(|l| l.born_on.clone())),
            owner: row.user_id,
        }))
    }

    /// As the FHIR documents name the patient.
    pub(crate) fn as_export(&self) -> fhir::export::ExportPatient<'_> {
        fhir::export::ExportPatient {
            id: &self.id,
            name: &self.name,
            nhs_number: self.nhs_number.as_deref(),
            born_on: self.born_on.as_deref(),
        }
    }

    /// Who wrote to the record: the patient (its owner), or a carer by name, whoever reads it.
    pub(crate) fn author<'a>(&self, user: domain::UserId, name: &'a str) -> fhir::api::Author<'a> {
        if self.owner == Some(user) {
            fhir::api::Author::Patient
        } else {
            fhir::api::Author::Carer(name)
        }
    }
}

/// The labels a person ticked for something taken out of the record (a copy, a summary, a
/// link), checked against those they may see. Errors name `labels`; `what` is the thing
/// ("the copy").
pub(crate) fn chosen_labels(ticked: &[String], may_see: &[PrivacyLabel], what: &str) -> ServiceResult<Vec<PrivacyLabel>> {
    let mut labels = Vec::new();
    for slug in ticked {
        let label = PrivacyLabel::parse("labels", slug)?;
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    if labels.is_empty() {
        return Err(ValidationError::field("labels", format!("Choose at least one kind of entry to put in {what}.")).into());
    }
    if let Some(hidden) = labels.iter().find(|l| !may_see.contains(l)) {
        return Err(ValidationError::field(
            "labels",
            format!("Entries labelled \u{201c}{}\u{201d} cannot go in {what}: they are hidden from you.", hidden.label()),
        )
        .into());
    }
    Ok(PrivacyLabel::ALL.into_iter().filter(|l| labels.contains(l)).collect())
}
