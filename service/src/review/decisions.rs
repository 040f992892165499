//! A clinician's decisions on shared entries, the patient's answers, and social care notes.

use super::{ReviewForm, MAX_BATCH};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::records::NoteForm;
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::entries::{EntryBody, Snapshot, Source};
use domain::practices::{review_message, InboxState, ReviewStep};
use domain::{EntryId, Note, PatientId, PrivacyLabel, ValidationError};
use store::audit;
use store::care_record::{self, NewOutboxRow};
use store::entries::{self, NewEntry};
use store::reviews::{self, InboxRow, ReviewRow};

impl Services {
    /// A clinician's decision on one or more of a patient's shared entries: accept (filed for
    /// the shared care record), note only, reject with a reason, or ask the patient a question.
    /// Each entry must be as the clinician saw it. The patient is told. Returns how many
    /// entries were decided. Errors name `entries`, `decision` or `message`.
    pub async fn review_entries(&self, who: &SignedIn, patient: PatientId, form: &ReviewForm) -> ServiceResult<usize> {
        let step = ReviewStep::parse_decision("decision", form.decision.trim())?;
        let message = review_message("message", step, &form.message)?;
        if form.entries.is_empty() {
            return Err(ValidationError::field("entries", "Choose at least one entry.").into());
        }
        if form.entries.len() > MAX_BATCH {
            return Err(ValidationError::field("entries", format!("Choose at most {MAX_BATCH} entries at once.")).into());
        }
        let mut chosen: Vec<(EntryId, i64)> = Vec::with_capacity(form.entries.len());
        for text in &form.entries {
            let parsed = text.split_once(':').and_then(|(id, v)| Some((id.trim().parse::<EntryId>().ok()?, v.trim().parse::<i64>().ok()?)));
            let item =
                parsed.ok_or_else(|| ValidationError::field("entries", "One of the chosen entries is not valid. Reload the page."))?;
            if !chosen.iter().any(|(id, _)| *id == item.0) {
                chosen.push(item);
            }
        }
        let now = self.now();
        let touch = Touch::of(Category::Shared);
        let (mut tx, access) =
            self.open(who, RecordRef::Patient(patient), Action::Review, touch).await.map_err(|e| self.passkey_hint(who, e))?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let practice = who.staff.as_ref().map(|j| j.practice).ok_or(ServiceError::Forbidden)?;
        for (id, seen) in &chosen {
            let row = entries::find_entry(&mut tx, access.permit()?, *id).await?;
            let inbox = reviews::find_inbox(&mut tx, *id).await?.filter(|i| i.practice_id == practice);
            let (Some(row), Some(inbox)) = (row.filter(|r| r.deleted_at.is_none() && r.current.shared_with_practice), inbox) else {
                // Not an entry shared with this practice: "not found", and in the patient's log.
                drop(tx);
                let touch = Touch::item(Category::Entry, id);
                self.log_refused(who, &access, touch, domain::access::DenyReason::ItemNotVisible).await?;
                return Err(ServiceError::NotFound);
            };
            if row.version != *seen {
                return Err(ServiceError::Stale);
            }
            if inbox.state == InboxState::Done {
                return Err(ValidationError::field(
                    "entries",
                    format!("\u{201c}{}\u{201d} has already been reviewed.", row.current.body.title()),
                )
                .into());
            }
            reviews::insert_review(
                &mut tx,
                &ReviewRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    entry_id: *id,
                    entry_version: row.version,
                    practice_id: practice,
                    step,
                    message: message.clone(),
                    actor: who.user_id,
                    actor_name: who.display_name.clone(),
                    at: now,
                },
            )
            .await?;
            if step == ReviewStep::Accepted && row.current.body.kind() != domain::entries::EntryKind::AboutMe {
                // Filed for the shared care record in the same transaction: an acceptance is
                // never recorded without its send, nor a send without its acceptance.
                care_record::insert_outbox(
                    &mut tx,
                    &NewOutboxRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        entry_id: *id,
                        entry_version: row.version,
                        patient_id: patient,
                        practice_id: practice,
                        accepted_by: who.user_id,
                        accepted_by_name: who.display_name.clone(),
                    },
                    now,
                )
                .await?;
            }
            let next = InboxRow { state: step.inbox_state(), ..inbox };
            reviews::upsert_inbox(&mut tx, *id, patient, &next, now).await?;
            audit::append(&mut tx, &self.allowed_event(who, access.permit()?, &Touch::item(Category::Entry, id))).await?;
        }
        reviews::refresh_inbox_patient(&mut tx, patient, practice).await?;
        if let Some(owner) = access.owner {
            let text = match step {
                ReviewStep::Asked => "Your GP practice asked you a question about something you shared.",
                _ => "Your GP practice reviewed something you shared.",
            };
            let link = match chosen.as_slice() {
                [(id, _)] => format!("/record/entries/{id}"),
                _ => "/record".to_owned(),
            };
            self.notify_about(&mut tx, owner, text, &link, "").await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        if step == ReviewStep::Accepted {
            self.wake_care_record();
        }
        Ok(chosen.len())
    }

    /// The patient answers the practice's question about an entry (answering, like changing an
    /// entry, is the patient's alone); the entry returns to the practice's inbox. Errors name
    /// `answer`.
    pub async fn answer_question(&self, who: &SignedIn, record: RecordRef, id: EntryId, answer: &str) -> ServiceResult<()> {
        let text = review_message("answer", ReviewStep::Answered, answer)?;
        let now = self.now();
        let (mut tx, access) = self.open(who, record, Action::ChangeEntries, Touch::item(Category::Entry, id)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let row = entries::find_entry(&mut tx, access.permit()?, id).await?.ok_or(ServiceError::NotFound)?;
        let inbox = reviews::find_inbox(&mut tx, id)
            .await?
            .filter(|i| i.state == InboxState::WaitingForPatient)
            .ok_or_else(|| ValidationError::field("answer", "There is no question waiting for an answer on this entry."))?;
        reviews::insert_review(
            &mut tx,
            &ReviewRow {
                id: uuid::Uuid::now_v7().to_string(),
                entry_id: id,
                entry_version: row.version,
                practice_id: inbox.practice_id,
                step: ReviewStep::Answered,
                message: text,
                actor: who.user_id,
                actor_name: who.display_name.clone(),
                at: now,
            },
        )
        .await?;
        reviews::upsert_inbox(&mut tx, id, patient, &InboxRow { state: InboxState::Waiting, waiting_since: now, ..inbox }, now).await?;
        reviews::refresh_inbox_patient(&mut tx, patient, inbox.practice_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A social care worker adds a note to a linked patient's record, labelled for social care
    /// and visible to the patient. Errors name `title`, `text`, `tags` or `occurred_at`.
    pub async fn add_care_note(&self, who: &SignedIn, patient: PatientId, form: &NoteForm) -> ServiceResult<EntryId> {
        let note = Note::parse(&form.title, &form.text, &form.tags)?;
        let occurred_at = match form.occurred_at.trim() {
            "" => self.now(),
            t => domain::entries::parse_occurred_at("occurred_at", t, self.now())?,
        };
        let id = EntryId::from_uuid(uuid::Uuid::now_v7());
        let (mut tx, access) = self
            .open(who, RecordRef::Patient(patient), Action::AddCareNote, Touch::item(Category::Notes, id))
            .await
            .map_err(|e| self.passkey_hint(who, e))?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let state = Snapshot { body: EntryBody::Note(note), label: PrivacyLabel::SocialCare, shared_with_practice: true, occurred_at };
        entries::insert_entry(
            &mut tx,
            access.permit()?,
            &NewEntry { id, patient_id: patient, state, entered_by: who.user_id, source: Source::Carry },
            self.now(),
        )
        .await?;
        if let Some(owner) = access.owner {
            self.notify_about(&mut tx, owner, "Your social care worker added a note to your record.", &format!("/record/entries/{id}"), "")
                .await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(id)
    }
}
