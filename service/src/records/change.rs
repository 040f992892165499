//! Changing an entry: editing it, relabelling or sharing it, deleting and restoring it. Each
//! change is a new version; nothing is overwritten.

use super::forms::{all_ok, input_of, parse_label, NoteForm, PrivacyForm, ReadingForm};
use crate::access::{Access, RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::entries::{parse_occurred_at, Change, EntryBody, Snapshot, RESTORE_WINDOW};
use domain::{EntryId, Note, Reading, ValidationError};
use store::entries::{self, EntryRow};

impl Services {
    /// Changes a reading's value or time (its kind stays). Errors name the fields.
    pub async fn edit_reading(
        &self,
        who: &SignedIn,
        record: RecordRef,
        id: EntryId,
        seen_version: i64,
        form: &ReadingForm,
    ) -> ServiceResult<()> {
        self.edit(who, record, id, seen_version, |current| {
            let EntryBody::Reading(old) = &current.body else { return Err(ServiceError::NotFound) };
            let (reading, at, ()) =
                all_ok(Reading::parse(old.kind(), &input_of(form)), self.when_edited(current, &form.occurred_at), Ok(()))?;
            Ok(Snapshot { body: EntryBody::Reading(reading), occurred_at: at, ..current.clone() })
        })
        .await
    }

    /// Changes a note. Errors name the fields.
    pub async fn edit_note(&self, who: &SignedIn, record: RecordRef, id: EntryId, seen_version: i64, form: &NoteForm) -> ServiceResult<()> {
        self.edit(who, record, id, seen_version, |current| {
            if !matches!(current.body, EntryBody::Note(_)) {
                return Err(ServiceError::NotFound);
            }
            let (note, at, ()) =
                all_ok(Note::parse(&form.title, &form.text, &form.tags), self.when_edited(current, &form.occurred_at), Ok(()))?;
            Ok(Snapshot { body: EntryBody::Note(note), occurred_at: at, ..current.clone() })
        })
        .await
    }

    /// Changes who may see an entry: its label and whether the GP practice may.
    pub async fn set_entry_privacy(
        &self,
        who: &SignedIn,
        record: RecordRef,
        id: EntryId,
        seen_version: i64,
        privacy: &PrivacyForm,
    ) -> ServiceResult<()> {
        let label = parse_label(&privacy.label)?;
        self.change(who, record, id, seen_version, Change::PrivacyChanged, |current| {
            Ok(Snapshot { label, shared_with_practice: privacy.share, ..current.clone() })
        })
        .await
    }

    /// Hides an entry behind a tombstone, restorable for 30 days. Its versions are kept.
    pub async fn delete_entry(&self, who: &SignedIn, record: RecordRef, id: EntryId, seen_version: i64) -> ServiceResult<()> {
        self.change(who, record, id, seen_version, Change::Deleted, |current| Ok(current.clone())).await
    }

    /// Brings back an entry deleted within the last 30 days.
    pub async fn restore_entry(&self, who: &SignedIn, record: RecordRef, id: EntryId, seen_version: i64) -> ServiceResult<()> {
        let now = self.now();
        let (mut tx, access) = self.open(who, record, Action::ChangeEntries, Touch::item(Category::Entry, id)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let row = entries::find_entry(&mut tx, access.permit()?, id).await?.ok_or(ServiceError::NotFound)?;
        match row.deleted_at {
            Some(at) if now.since(at) <= RESTORE_WINDOW => {}
            _ => return Err(ServiceError::NotRestorable),
        }
        if !entries::update_entry(&mut tx, access.permit()?, id, seen_version, Change::Restored, &row.current, now).await? {
            return Err(ServiceError::Stale);
        }
        self.refile(&mut tx, patient, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The time an edited entry is dated: unchanged when the form sent back the time it showed
    /// (the form shows minutes, and the stored time may be more precise).
    pub(super) fn when_edited(&self, current: &Snapshot, text: &str) -> Result<domain::Timestamp, ValidationError> {
        if text.trim() == current.occurred_at.to_uk_input() {
            Ok(current.occurred_at)
        } else {
            parse_occurred_at("occurred_at", text, self.now())
        }
    }

    /// The entry as it stands, if the caller may change it and it is not deleted, in a logged
    /// transaction, with the caller's access (the labels they may use, the permit to write).
    pub(super) async fn changeable(&self, who: &SignedIn, record: RecordRef, id: EntryId) -> ServiceResult<(store::Tx, EntryRow, Access)> {
        let (mut tx, access) = self.open(who, record, Action::ChangeEntries, Touch::item(Category::Entry, id)).await?;
        let row = entries::find_entry(&mut tx, access.permit()?, id).await?.ok_or(ServiceError::NotFound)?;
        if row.deleted_at.is_some() {
            return Err(ServiceError::Deleted);
        }
        Ok((tx, row, access))
    }

    pub(super) async fn edit(
        &self,
        who: &SignedIn,
        record: RecordRef,
        id: EntryId,
        seen_version: i64,
        next: impl FnOnce(&Snapshot) -> ServiceResult<Snapshot>,
    ) -> ServiceResult<()> {
        self.change(who, record, id, seen_version, Change::Edited, next).await
    }

    pub(super) async fn change(
        &self,
        who: &SignedIn,
        record: RecordRef,
        id: EntryId,
        seen_version: i64,
        change: Change,
        next: impl FnOnce(&Snapshot) -> ServiceResult<Snapshot>,
    ) -> ServiceResult<()> {
        let (mut tx, row, access) = self.changeable(who, record, id).await?;
        if change == Change::Deleted && row.current.body.kind() == domain::entries::EntryKind::AboutMe {
            return Err(ServiceError::NotDeletable);
        }
        let state = next(&row.current)?;
        // Nobody may move an entry into a label they cannot see (or share one from it).
        if !access.labels().contains(&state.label) {
            return Err(ServiceError::Forbidden);
        }
        if !entries::update_entry(&mut tx, access.permit()?, id, seen_version, change, &state, self.now()).await? {
            return Err(ServiceError::Stale);
        }
        self.refile(&mut tx, row.patient_id, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
