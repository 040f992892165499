//! Saving “about me”: the patient's own voice (or a young child's parent's).

use super::add::new_entry_id;
use super::forms::{all_ok, parse_label, PrivacyForm};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::about_me::{AboutMe, AboutMeInput};
use domain::access::{Action, DenyReason};
use domain::audit::Category;
use domain::entries::{Change, EntryBody, Snapshot, Source};
use domain::EntryId;
use store::entries::{self, NewEntry};

impl Services {
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
                match entries::insert_entry(&mut tx, access.permit()?, &new, now).await {
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
                if !entries::update_entry(&mut tx, access.permit()?, id, seen, change, &state, now).await? {
                    return Err(ServiceError::Stale);
                }
                id
            }
        };
        self.refile(&mut tx, patient, id).await?;
        tx.commit().await?;
        Ok(id)
    }
}
