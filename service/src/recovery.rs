//! Getting back into an account by email. The link alone signs nobody in: it lets the person
//! set a new password or add a new passkey, and then every other session ends, failed sign-in
//! counters reset, and the account holder is told.

use crate::accounts::REGISTER;
use crate::error::{ServiceError, ServiceResult};
use crate::mail::queue;
use crate::sessions::{self, ClientInfo, Method, NewSession};
use crate::throttle;
use crate::tokens::Token;
use crate::views::{LinkView, PasskeyChallenge};
use crate::Services;
use domain::{Email, UserId};
use store::ceremonies::CeremonyRow;
use store::email_links::{self, EmailLinkRow};
use store::{passwords, users};
use webauthn_rs::prelude::PasskeyRegistration;

const RECOVER: &str = "recover";

impl Services {
    /// Emails a recovery link if the address has an account, or a note that it has none. The
    /// answer on the page is the same either way.
    pub async fn start_recovery(&self, email: &str, client: &ClientInfo) -> ServiceResult<()> {
        let email = Email::parse(email)?;
        throttle::per_address(self, "recover", client.address, self.config().throttle.requests_per_address).await?;
        let now = self.now();
        let key = email.lookup_key();
        let mut tx = self.db().begin().await?;
        if !throttle::mail_allowed(self, &mut tx, &key).await? {
            tx.commit().await?;
            return Ok(());
        }
        match users::find_user_by_email_key(&mut tx, &key).await? {
            Some(user) => {
                email_links::update_links_void(&mut tx, &key, RECOVER, now).await?;
                let token = Token::generate();
                let link = EmailLinkRow {
                    token_hash: token.hash(),
                    purpose: RECOVER.to_owned(),
                    email: user.email.clone(),
                    display_name: None,
                    user_id: Some(user.id),
                    expires_at: now.plus(self.config().recovery_link_ttl),
                    used_at: None,
                };
                email_links::insert_link(&mut tx, &link, now).await?;
                let body = format!(
                    "Someone asked to get back into your Carry account.\n\nTo set a new password or add a new passkey, \
                     open this link within 30 minutes:\n{}\n\nWhen you do, you will be signed out everywhere else.\n\
                     If this was not you, you can ignore this email: nothing has changed.",
                    self.config().link(&format!("/recover/{}", token.expose())),
                );
                queue(self, &mut tx, &user.email, "Get back into your Carry account", &body).await?;
            }
            None => {
                let body = format!(
                    "Someone asked to get back into a Carry account with this email address, but there is no \
                     account with it.\n\nIf you meant to create one, go to {}\nIf this was not you, you can ignore this email.",
                    self.config().link("/register"),
                );
                queue(self, &mut tx, email.as_str(), "About your request to Carry", &body).await?;
            }
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// What a recovery link is for, or `LinkInvalid`.
    pub async fn check_recovery_link(&self, token: &str) -> ServiceResult<LinkView> {
        let link = self.usable_link(token, RECOVER).await?;
        Ok(LinkView { email: link.email, display_name: None })
    }

    /// Sets a new password from a recovery link and signs the person in afresh.
    pub async fn complete_recovery_with_password(&self, token: &str, password: &str, client: &ClientInfo) -> ServiceResult<NewSession> {
        let link = self.usable_link(token, RECOVER).await?;
        let user = link.user_id.ok_or(ServiceError::LinkInvalid)?;
        let (row, _) = self.user_and_credentials(user).await?;
        let password = self.acceptable_password(password, &[&row.display_name, &row.email])?;
        let phc = self.hasher().hash(&password).await?;
        let mut tx = self.db().begin().await?;
        self.use_recovery_link(&mut tx, &link.token_hash, user).await?;
        passwords::upsert_password(&mut tx, user, &phc, self.now()).await?;
        let session = self.finish_recovery(&mut tx, user, client, Method::Recovery, "A new password was set").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(session)
    }

    /// Starts adding a passkey from a recovery link.
    pub async fn start_recovery_passkey(&self, token: &str) -> ServiceResult<PasskeyChallenge> {
        let link = self.usable_link(token, RECOVER).await?;
        let user = link.user_id.ok_or(ServiceError::LinkInvalid)?;
        let (row, existing) = self.user_and_credentials(user).await?;
        let (options, state) = self.passkeys().start_registration(user.as_uuid(), &row.email, &row.display_name, existing)?;
        self.store_ceremony(RECOVER, Some(user), Some(link.token_hash), &state, &options).await
    }

    /// Adds the passkey the browser made, from a recovery link, and signs the person in afresh.
    pub async fn finish_recovery_passkey(&self, ceremony_id: &str, response_json: &str, client: &ClientInfo) -> ServiceResult<NewSession> {
        let (row, state): (CeremonyRow, PasskeyRegistration) = self.take_ceremony(ceremony_id, RECOVER).await?;
        let (Some(user), Some(link_hash)) = (row.user_id, row.link_token_hash) else {
            return Err(ServiceError::PasskeyFailed);
        };
        let key = self.passkeys().finish_registration(response_json, &state)?;
        let mut tx = self.db().begin().await?;
        self.use_recovery_link(&mut tx, &link_hash, user).await?;
        let passkey = self.insert_passkey(&mut tx, user, &key, &format!("Passkey on {}", client.device)).await?;
        // The new session is tied to the new passkey, so removing that passkey ends it.
        let session = self.finish_recovery(&mut tx, user, client, Method::Passkey(passkey), "A new passkey was added").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(session)
    }

    async fn use_recovery_link(&self, tx: &mut store::Conn, token_hash: &str, user: UserId) -> ServiceResult<()> {
        let link = email_links::find_link(tx, token_hash, RECOVER).await?.ok_or(ServiceError::LinkInvalid)?;
        if link.user_id != Some(user) || !email_links::update_link_used(tx, token_hash, RECOVER, self.now()).await? {
            return Err(ServiceError::LinkInvalid);
        }
        // Any registration links still open for this address are void too.
        email_links::update_links_void(tx, &link.email.to_lowercase(), REGISTER, self.now()).await?;
        Ok(())
    }

    async fn finish_recovery(
        &self,
        tx: &mut store::Conn,
        user: UserId,
        client: &ClientInfo,
        method: Method,
        what: &str,
    ) -> ServiceResult<NewSession> {
        let row = users::find_user(tx, user).await?.ok_or(ServiceError::LinkInvalid)?;
        store::sessions::delete_sessions_of_user(tx, user, None).await?;
        store::throttle::delete_failures(tx, &throttle::account_key(&row.email.to_lowercase())).await?;
        let session = sessions::start(self, tx, user, method, client, None).await?;
        self.notify_change(tx, user, &format!("{what} on your Carry account using an emailed link")).await?;
        Ok(session)
    }
}
