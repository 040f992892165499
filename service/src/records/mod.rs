//! The patient's own entries: readings, notes and "about me". Every function goes through
//! [`Services::open`]; every change is a new version written in one transaction with the
//! entry's current state, guarded by the version the person saw.

mod read;

pub(crate) use read::summary_view;
pub use read::{TimelineQuery, MAX_CHART_POINTS};

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::about_me::{AboutMe, AboutMeInput};
use domain::access::{Action, DenyReason};
use domain::audit::Category;
use domain::entries::{parse_occurred_at, Change, EntryBody, Snapshot, Source, RESTORE_WINDOW};
use domain::{EntryId, FieldError, Note, PrivacyLabel, Reading, ReadingInput, ReadingKind, ValidationError};
use store::entries::{self, EntryRow, NewEntry};

/// A reading as typed on the form.
#[derive(Debug, Clone, Default)]
pub struct ReadingForm {
    /// The kind's slug (ignored on edit: a reading keeps its kind).
    pub kind: String,
    /// The value (systolic for blood pressure).
    pub value: String,
    /// Diastolic, for blood pressure.
    pub diastolic: Option<String>,
    /// Pulse, optional with blood pressure.
    pub pulse: Option<String>,
    /// When it was taken, as a `datetime-local` value in UK time.
    pub occurred_at: String,
}

/// A note as typed on the form.
#[derive(Debug, Clone, Default)]
pub struct NoteForm {
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Comma-separated tags.
    pub tags: String,
    /// The note's date and time, as a `datetime-local` value in UK time.
    pub occurred_at: String,
}

/// Who may see a new entry: its label and whether the practice may.
#[derive(Debug, Clone, Default)]
pub struct PrivacyForm {
    /// The label's slug (empty means general).
    pub label: String,
    /// Share with the GP practice.
    pub share: bool,
}

/// Gathers the errors of several checks into one, so a form shows every problem at once.
fn all_ok<A, B, C>(
    a: Result<A, ValidationError>,
    b: Result<B, ValidationError>,
    c: Result<C, ValidationError>,
) -> ServiceResult<(A, B, C)> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => {
            let errors: Vec<FieldError> = a.err().into_iter().chain(b.err()).chain(c.err()).flat_map(|e| e.0).collect();
            Err(ValidationError(errors).into())
        }
    }
}

fn parse_label(text: &str) -> Result<PrivacyLabel, ValidationError> {
    if text.trim().is_empty() {
        Ok(PrivacyLabel::General)
    } else {
        PrivacyLabel::parse("label", text)
    }
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

    /// Saves "about me": the first save makes it, later ones (naming the version seen) add a
    /// version. Its label and sharing change here too.
    pub async fn save_about_me(
        &self,
        who: &SignedIn,
        record: RecordRef,
        input: &AboutMeInput,
        privacy: &PrivacyForm,
        seen_version: Option<i64>,
    ) -> ServiceResult<EntryId> {
        let (about, label, ()) = all_ok(AboutMe::parse(input), parse_label(&privacy.label), Ok(()))?;
        let now = self.now();
        let state = Snapshot { body: EntryBody::AboutMe(about), label, shared_with_practice: privacy.share, occurred_at: now };
        // "About me" is the patient's own voice: the policy lets a carer write it only for a
        // record with no account of its own (a young child's).
        let (mut tx, access) = self.open(who, record, Action::WriteAboutMe, Touch::of(Category::AboutMe)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        if !access.labels().contains(&label) {
            drop(tx);
            let touch = Touch::of(Category::AboutMe);
            self.log_refused(who, &access, touch, DenyReason::ActionNotGranted).await?;
            return Err(ServiceError::Forbidden);
        }
        let id = match entries::find_about_me_id(&mut tx, patient).await? {
            None => {
                let id = new_entry_id();
                let new = NewEntry { id, patient_id: patient, state, entered_by: who.user_id, source: Source::Carry };
                match entries::insert_entry(&mut tx, &new, now).await {
                    Ok(()) => id,
                    Err(store::StoreError::Conflict(c)) if c == "entries_patient_id_unique" => return Err(ServiceError::Stale),
                    Err(e) => return Err(e.into()),
                }
            }
            Some(id) => {
                let current = entries::find_entry(&mut tx, access.permit()?, id).await?.ok_or(ServiceError::Forbidden)?;
                let seen = seen_version.ok_or(ServiceError::Stale)?;
                // Only the label or sharing changed: say so in the history, and keep the date.
                let (change, state) = if current.current.body == state.body {
                    (Change::PrivacyChanged, Snapshot { occurred_at: current.current.occurred_at, ..state })
                } else {
                    (Change::Edited, state)
                };
                if !entries::update_entry(&mut tx, patient, id, seen, change, &state, who.user_id, now).await? {
                    return Err(ServiceError::Stale);
                }
                id
            }
        };
        self.refile(&mut tx, patient, id).await?;
        tx.commit().await?;
        Ok(id)
    }

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
        if !entries::update_entry(&mut tx, patient, id, seen_version, Change::Restored, &row.current, who.user_id, now).await? {
            return Err(ServiceError::Stale);
        }
        self.refile(&mut tx, patient, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The time an edited entry is dated: unchanged when the form sent back the time it showed
    /// (the form shows minutes, and the stored time may be more precise).
    fn when_edited(&self, current: &Snapshot, text: &str) -> Result<domain::Timestamp, ValidationError> {
        if text.trim() == current.occurred_at.to_uk_input() {
            Ok(current.occurred_at)
        } else {
            parse_occurred_at("occurred_at", text, self.now())
        }
    }

    async fn add_entry(&self, who: &SignedIn, record: RecordRef, category: Category, state: Snapshot) -> ServiceResult<EntryId> {
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
        entries::insert_entry(&mut tx, &new, self.now()).await?;
        self.refile(&mut tx, patient, id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The entry as it stands, if the caller may change it and it is not deleted, in a logged
    /// transaction, with the labels the caller may use.
    async fn changeable(&self, who: &SignedIn, record: RecordRef, id: EntryId) -> ServiceResult<(store::Tx, EntryRow, Vec<PrivacyLabel>)> {
        let (mut tx, access) = self.open(who, record, Action::ChangeEntries, Touch::item(Category::Entry, id)).await?;
        let row = entries::find_entry(&mut tx, access.permit()?, id).await?.ok_or(ServiceError::NotFound)?;
        if row.deleted_at.is_some() {
            return Err(ServiceError::Deleted);
        }
        Ok((tx, row, access.labels().to_vec()))
    }

    async fn edit(
        &self,
        who: &SignedIn,
        record: RecordRef,
        id: EntryId,
        seen_version: i64,
        next: impl FnOnce(&Snapshot) -> ServiceResult<Snapshot>,
    ) -> ServiceResult<()> {
        self.change(who, record, id, seen_version, Change::Edited, next).await
    }

    async fn change(
        &self,
        who: &SignedIn,
        record: RecordRef,
        id: EntryId,
        seen_version: i64,
        change: Change,
        next: impl FnOnce(&Snapshot) -> ServiceResult<Snapshot>,
    ) -> ServiceResult<()> {
        let (mut tx, row, labels) = self.changeable(who, record, id).await?;
        if change == Change::Deleted && row.current.body.kind() == domain::entries::EntryKind::AboutMe {
            return Err(ServiceError::NotDeletable);
        }
        let state = next(&row.current)?;
        // Nobody may move an entry into a label they cannot see (or share one from it).
        if !labels.contains(&state.label) {
            return Err(ServiceError::Forbidden);
        }
        if !entries::update_entry(&mut tx, row.patient_id, id, seen_version, change, &state, who.user_id, self.now()).await? {
            return Err(ServiceError::Stale);
        }
        self.refile(&mut tx, row.patient_id, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Entry ids are UUIDv7: ordered by when they were made, so entries dated the same minute
/// sort newest first on the timeline (its order is time, then id).
fn new_entry_id() -> EntryId {
    EntryId::from_uuid(uuid::Uuid::now_v7())
}

fn input_of(form: &ReadingForm) -> ReadingInput {
    ReadingInput { value: form.value.clone(), diastolic: form.diastolic.clone(), pulse: form.pulse.clone() }
}
