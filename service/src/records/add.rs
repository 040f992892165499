//! Adding a reading or a note to a record (the patient, or a carer whose grant may add).

use super::forms::{all_ok, input_of, parse_label, NoteForm, PrivacyForm, ReadingForm};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, DenyReason};
use domain::audit::Category;
use domain::entries::{parse_occurred_at, EntryBody, Snapshot, Source};
use domain::{EntryId, Note, Reading, ReadingKind, ValidationError};
use store::entries::{self, NewEntry};

/// Entry ids are UUIDv7: ordered by when they were made, so entries dated the same minute
/// sort newest first on the timeline (its order is time, then id).
pub(super) fn new_entry_id() -> EntryId {
    EntryId::from_uuid(uuid::Uuid::now_v7())
}

impl Services {
    /// Adds a home reading. Errors name `kind`, `value`, `diastolic`, `pulse`, `occurred_at` or `label`.
    pub async fn add_reading(
        &self,
        who: &SignedIn,
        record: RecordRef,
        form: &ReadingForm,
        privacy: &PrivacyForm,
    ) -> ServiceResult<EntryId> {
        let kind = ReadingKind::from_slug(form.kind.trim()).ok_or_else(|| ValidationError::field("kind", "Choose the kind of reading."))?;
        let (reading, at, label) = all_ok(
            Reading::parse(kind, &input_of(form)),
            parse_occurred_at("occurred_at", &form.occurred_at, self.now()),
            parse_label(&privacy.label),
        )?;
        self.add_entry(
            who,
            record,
            Category::Readings(kind),
            Snapshot { body: EntryBody::Reading(reading), label, shared_with_practice: privacy.share, occurred_at: at },
        )
        .await
    }

    /// Adds a journal note. Errors name `title`, `text`, `tags`, `occurred_at` or `label`.
    pub async fn add_note(&self, who: &SignedIn, record: RecordRef, form: &NoteForm, privacy: &PrivacyForm) -> ServiceResult<EntryId> {
        let (note, at, label) = all_ok(
            Note::parse(&form.title, &form.text, &form.tags),
            parse_occurred_at("occurred_at", &form.occurred_at, self.now()),
            parse_label(&privacy.label),
        )?;
        self.add_entry(
            who,
            record,
            Category::Notes,
            Snapshot { body: EntryBody::Note(note), label, shared_with_practice: privacy.share, occurred_at: at },
        )
        .await
    }

    pub(super) async fn add_entry(&self, who: &SignedIn, record: RecordRef, category: Category, state: Snapshot) -> ServiceResult<EntryId> {
        let id = new_entry_id();
        let (mut tx, access) = self.open(who, record, Action::AddEntries, Touch::item(category, id)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        if !access.labels().contains(&state.label) {
            // A label the caller may not use is refused as a field error, naming the field; it
            // tells a carer nothing about the record that the form did not already show. The
            // attempt is in the patient's log.
            drop(tx);
            self.log_refused(who, &access, Touch::item(category, id), DenyReason::ActionNotGranted).await?;
            return Err(ValidationError::field("label", "Choose a label from the list.").into());
        }
        let new = NewEntry { id, patient_id: patient, state, entered_by: who.user_id, source: Source::Carry };
        entries::insert_entry(&mut tx, access.permit()?, &new, self.now()).await?;
        self.refile(&mut tx, patient, id).await?;
        tx.commit().await?;
        Ok(id)
    }
}
