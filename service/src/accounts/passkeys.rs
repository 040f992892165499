//! A person's passkeys: adding, naming and removing them, and the WebAuthn ceremony state kept
//! in the database between the two halves of a ceremony.

use crate::auth::passkey::credential_text;
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::SignedIn;
use crate::tokens::random_id;
use crate::views::PasskeyChallenge;
use crate::Services;
use domain::{PasskeyId, UserId, ValidationError};
use store::ceremonies::{self, CeremonyRow};
use store::passkeys::{self, PasskeyRow};
use store::{passwords, users, StoreError};
use webauthn_rs::prelude::{Passkey, PasskeyRegistration};

/// The longest name a passkey may be given.
pub(super) const MAX_PASSKEY_NAME: usize = 60;

pub(super) fn passkey_name(name: &str) -> Result<String, ValidationError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(ValidationError::field("name", "Give the passkey a name, such as the device it is on."));
    }
    if n.chars().count() > MAX_PASSKEY_NAME || n.chars().any(char::is_control) {
        return Err(ValidationError::field("name", "Use 60 characters or fewer, with no control characters."));
    }
    Ok(n.to_owned())
}

impl Services {
    /// Starts adding a passkey to the signed-in person's account (needs a recent sign-in).
    pub async fn start_add_passkey(&self, who: &SignedIn) -> ServiceResult<PasskeyChallenge> {
        self.require_recent_sign_in(who)?;
        let (user, existing) = self.user_and_credentials(who.user_id).await?;
        let (options, state) = self.passkeys().start_registration(who.user_id.as_uuid(), &user.email, &user.display_name, existing)?;
        self.store_ceremony("add", Some(who.user_id), None, &state, &options).await
    }

    /// Finishes adding a passkey and tells the person by email.
    pub async fn finish_add_passkey(&self, who: &SignedIn, ceremony_id: &str, response_json: &str, name: &str) -> ServiceResult<PasskeyId> {
        self.require_recent_sign_in(who)?;
        let name = passkey_name(name)?;
        let (row, state): (CeremonyRow, PasskeyRegistration) = self.take_ceremony(ceremony_id, "add").await?;
        if row.user_id != Some(who.user_id) {
            return Err(ServiceError::PasskeyFailed);
        }
        let key = self.passkeys().finish_registration(response_json, &state)?;
        let mut tx = self.db().begin().await?;
        let id = self.insert_passkey(&mut tx, who.user_id, &key, &name).await?;
        self.notify_change(&mut tx, who.user_id, "A passkey was added to your Carry account").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(id)
    }

    /// Renames one of the person's passkeys.
    pub async fn rename_passkey(&self, who: &SignedIn, id: PasskeyId, name: &str) -> ServiceResult<()> {
        let name = passkey_name(name)?;
        let mut conn = self.db().conn().await?;
        if passkeys::update_passkey_name(&mut conn, who.user_id, id, &name, self.now()).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Removes a passkey (needs a recent sign-in), ending the sessions signed in with it. The
    /// last way to sign in cannot be removed.
    pub async fn remove_passkey(&self, who: &SignedIn, id: PasskeyId) -> ServiceResult<()> {
        self.require_recent_sign_in(who)?;
        let mut tx = self.db().begin().await?;
        // Two removals at once must not both see "another way in" and leave none.
        users::lock_user(&mut tx, who.user_id, self.now()).await?;
        let keys = passkeys::list_passkeys(&mut tx, who.user_id).await?;
        if !keys.iter().any(|k| k.id == id) {
            return Err(ServiceError::NotFound);
        }
        let has_password = passwords::find_password(&mut tx, who.user_id).await?.is_some();
        if keys.len() == 1 && !has_password {
            return Err(
                ValidationError::field("passkey", "This is your only way to sign in. Add another passkey or a password first.").into()
            );
        }
        passkeys::delete_passkey(&mut tx, who.user_id, id).await?;
        self.notify_change(&mut tx, who.user_id, "A passkey was removed from your Carry account").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    pub(crate) async fn user_and_credentials(&self, user: UserId) -> ServiceResult<(store::users::UserRow, Vec<Vec<u8>>)> {
        let mut conn = self.db().conn().await?;
        let row = users::find_user(&mut conn, user).await?.ok_or(ServiceError::NotFound)?;
        let mut existing = Vec::new();
        for k in passkeys::list_passkeys(&mut conn, user).await? {
            let key: Passkey = serde_json::from_str(&k.passkey_json).map_err(|e| ServiceError::internal(&e))?;
            existing.push(key.cred_id().clone());
        }
        Ok((row, existing))
    }

    pub(crate) async fn insert_passkey(&self, tx: &mut store::Conn, user: UserId, key: &Passkey, name: &str) -> ServiceResult<PasskeyId> {
        let row = PasskeyRow {
            id: PasskeyId::from_uuid(uuid::Uuid::new_v4()),
            user_id: user,
            credential_id: credential_text(key.cred_id()),
            name: name.chars().take(MAX_PASSKEY_NAME).collect(),
            passkey_json: serde_json::to_string(key).map_err(|e| ServiceError::internal(&e))?,
            last_used_at: None,
            created_at: self.now(),
        };
        match passkeys::insert_passkey(tx, &row).await {
            Ok(()) => Ok(row.id),
            Err(StoreError::Conflict(_)) => Err(ServiceError::PasskeyFailed),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn store_ceremony<S: serde::Serialize, O: serde::Serialize>(
        &self,
        purpose: &str,
        user: Option<UserId>,
        link_token_hash: Option<String>,
        state: &S,
        options: &O,
    ) -> ServiceResult<PasskeyChallenge> {
        let now = self.now();
        let row = CeremonyRow {
            id: random_id(),
            purpose: purpose.to_owned(),
            user_id: user,
            link_token_hash,
            state_json: serde_json::to_string(state).map_err(|e| ServiceError::internal(&e))?,
            expires_at: now.plus(self.config().ceremony_ttl),
        };
        let mut conn = self.db().conn().await?;
        ceremonies::insert_ceremony(&mut conn, &row, now).await?;
        let options_json = serde_json::to_string(options).map_err(|e| ServiceError::internal(&e))?;
        Ok(PasskeyChallenge { ceremony_id: row.id, options_json })
    }

    pub(crate) async fn take_ceremony<S: serde::de::DeserializeOwned>(&self, id: &str, purpose: &str) -> ServiceResult<(CeremonyRow, S)> {
        let mut conn = self.db().conn().await?;
        let row = ceremonies::take_ceremony(&mut conn, id, purpose, self.now()).await?.ok_or(ServiceError::PasskeyFailed)?;
        let state = serde_json::from_str(&row.state_json).map_err(|e| ServiceError::internal(&e))?;
        Ok((row, state))
    }
}
