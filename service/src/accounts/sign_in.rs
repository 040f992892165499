//! Signing in, with a password or a passkey.

use crate::auth::passkey::credential_text;
use crate::error::{ServiceError, ServiceResult};
use crate::sessions::{self, ClientInfo, Method, NewSession, SignedIn};
use crate::throttle;
use crate::views::PasskeyChallenge;
use crate::Services;
use domain::{Email, PasswordText};
use store::ceremonies::CeremonyRow;
use store::passkeys::{self};
use store::{passwords, users};
use webauthn_rs::prelude::{DiscoverableAuthentication, Passkey};

impl Services {
    /// Signs in with an address and password. Every failure gives the same answer after the
    /// same work; repeated failures slow the account down and finally lock it until recovery.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
        replacing: Option<&SignedIn>,
    ) -> ServiceResult<NewSession> {
        throttle::per_address(self, "sign-in", client.address, self.config().throttle.sign_in_per_address).await?;
        let password = PasswordText::for_sign_in(password);
        let email_key = Email::parse(email).map(|e| e.lookup_key()).unwrap_or_else(|_| email.trim().to_lowercase());
        let key = throttle::account_key(&email_key);
        let now = self.now();

        // Count this attempt before checking it, atomically, so guesses sent in parallel each
        // see their own count (and the time of the attempt before) and gain nothing.
        let (attempts, previous) = {
            let mut tx = self.db().begin().await?;
            let counted = store::throttle::insert_attempt(&mut tx, &key, now).await?;
            tx.commit().await?;
            counted
        };
        throttle::wait_after(self, attempts - 1, previous, now)?;
        let (user, phc) = {
            let mut conn = self.db().conn().await?;
            let user = users::find_user_by_email_key(&mut conn, &email_key).await?;
            let phc = match &user {
                Some(u) => passwords::find_password(&mut conn, u.id).await?.map(|(p, _)| p),
                None => None,
            };
            (user, phc)
        };
        let ok = self.hasher().verify(phc.as_deref(), &password).await?;
        match (ok, user) {
            (true, Some(user)) => {
                let mut tx = self.db().begin().await?;
                store::throttle::delete_failures(&mut tx, &key).await?;
                let replacing = replacing.filter(|r| r.user_id == user.id).map(|r| r.session_id);
                let session = sessions::start(self, &mut tx, user.id, Method::Password, client, replacing).await?;
                tx.commit().await?;
                Ok(session)
            }
            // Already counted above.
            _ => Err(ServiceError::SignInFailed),
        }
    }

    /// Starts a passkey sign-in (no address needed: the authenticator offers its passkeys).
    pub async fn start_passkey_sign_in(&self, client: &ClientInfo) -> ServiceResult<PasskeyChallenge> {
        throttle::per_address(self, "sign-in", client.address, self.config().throttle.sign_in_per_address).await?;
        let (options, state) = self.passkeys().start_sign_in()?;
        self.store_ceremony("authenticate", None, None, &state, &options).await
    }

    /// Finishes a passkey sign-in. The ceremony is consumed first, so a replayed answer fails.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony_id: &str,
        response_json: &str,
        client: &ClientInfo,
        replacing: Option<&SignedIn>,
    ) -> ServiceResult<NewSession> {
        let (_row, state): (CeremonyRow, DiscoverableAuthentication) = self.take_ceremony(ceremony_id, "authenticate").await?;
        let (response, user_handle, cred_id) = self.passkeys().identify(response_json)?;
        let mut tx = self.db().begin().await?;
        let stored = passkeys::find_passkey_by_credential(&mut tx, &credential_text(&cred_id)).await?.ok_or(ServiceError::PasskeyFailed)?;
        if stored.user_id.as_uuid() != user_handle {
            return Err(ServiceError::PasskeyFailed);
        }
        let key: Passkey = serde_json::from_str(&stored.passkey_json).map_err(|e| ServiceError::internal(&e))?;
        let (key, _changed) = self.passkeys().finish_sign_in(&response, state, key)?;
        let json = serde_json::to_string(&key).map_err(|e| ServiceError::internal(&e))?;
        passkeys::update_passkey_use(&mut tx, stored.id, &json, self.now()).await?;
        let replacing = replacing.filter(|r| r.user_id == stored.user_id).map(|r| r.session_id);
        let session = sessions::start(self, &mut tx, stored.user_id, Method::Passkey(stored.id), client, replacing).await?;
        tx.commit().await?;
        Ok(session)
    }
}
