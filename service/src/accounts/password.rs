//! Setting or removing a password.

use crate::auth::password::check_not_common;
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::SignedIn;
use crate::Services;
use domain::{PasswordText, ValidationError};
use store::passkeys::{self};
use store::{passwords, users};

impl Services {
    /// Sets or changes the password (needs a recent sign-in). Other sessions end.
    pub async fn set_password(&self, who: &SignedIn, new_password: &str) -> ServiceResult<()> {
        self.require_recent_sign_in(who)?;
        let (user, _) = self.user_and_credentials(who.user_id).await?;
        let password = self.acceptable_password(new_password, &[&user.display_name, &user.email])?;
        let phc = self.hasher().hash(&password).await?;
        let mut tx = self.db().begin().await?;
        passwords::upsert_password(&mut tx, who.user_id, &phc, self.now()).await?;
        store::sessions::delete_sessions_of_user(&mut tx, who.user_id, Some(who.session_id)).await?;
        self.notify_change(&mut tx, who.user_id, "The password of your Carry account was changed").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// Removes the password (needs a recent sign-in and at least one passkey).
    pub async fn remove_password(&self, who: &SignedIn) -> ServiceResult<()> {
        self.require_recent_sign_in(who)?;
        let mut tx = self.db().begin().await?;
        users::lock_user(&mut tx, who.user_id, self.now()).await?;
        if passkeys::list_passkeys(&mut tx, who.user_id).await?.is_empty() {
            return Err(ValidationError::field("password", "Your password is your only way to sign in. Add a passkey first.").into());
        }
        if !passwords::delete_password(&mut tx, who.user_id).await? {
            return Err(ServiceError::NotFound);
        }
        // A leaked password's sessions end with it (this one stays: its owner is here).
        store::sessions::delete_sessions_by_method(&mut tx, who.user_id, "password", who.session_id).await?;
        self.notify_change(&mut tx, who.user_id, "The password of your Carry account was removed").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    // ---- helpers shared with recovery ----

    pub(crate) fn acceptable_password(&self, text: &str, context: &[&str]) -> ServiceResult<PasswordText> {
        let password = PasswordText::parse(text, self.config().password_rules)?;
        check_not_common(&password, context)?;
        Ok(password)
    }
}
