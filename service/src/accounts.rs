//! Registration, sign-in and the account page.
//!
//! Registration never says whether an address has an account: it always answers "check your
//! email", and the email either carries a link to finish registering or, for an address that
//! already has an account, says so and points to sign-in and recovery. Finishing from the link
//! proves the address, so every account's email is verified.

use crate::auth::passkey::credential_text;
use crate::auth::password::check_not_common;
use crate::error::{ServiceError, ServiceResult};
use crate::mail::queue;
use crate::sessions::{self, ClientInfo, Method, NewSession, SignedIn};
use crate::throttle;
use crate::tokens::{random_id, Token};
use crate::views::{AccountView, LinkView, PasskeyChallenge, PasskeyView, SessionView};
use crate::Services;
use domain::{Email, PasskeyId, PasswordText, PersonName, UserId, ValidationError};
use store::ceremonies::{self, CeremonyRow};
use store::email_links::{self, EmailLinkRow};
use store::passkeys::{self, PasskeyRow};
use store::{passwords, users, StoreError};
use webauthn_rs::prelude::{DiscoverableAuthentication, Passkey, PasskeyRegistration};

pub(crate) const REGISTER: &str = "register";

/// The longest name a passkey may be given.
const MAX_PASSKEY_NAME: usize = 60;

impl Services {
    /// Starts registration: validates the name and address and emails a link (or, if the address
    /// already has an account, a note saying so). The answer is the same either way.
    pub async fn start_registration(&self, name: &str, email: &str, client: &ClientInfo) -> ServiceResult<()> {
        let (name, email) = match (PersonName::parse(name), Email::parse(email)) {
            (Ok(n), Ok(e)) => (n, e),
            (n, e) => return Err(ValidationError(n.err().into_iter().chain(e.err()).flat_map(|v| v.0).collect()).into()),
        };
        throttle::per_address(self, "register", client.address, self.config().throttle.requests_per_address).await?;

        let now = self.now();
        let key = email.lookup_key();
        let mut tx = self.db().begin().await?;
        if !throttle::mail_allowed(self, &mut tx, &key).await? {
            tx.commit().await?;
            return Ok(());
        }
        if users::find_user_by_email_key(&mut tx, &key).await?.is_some() {
            let body = format!(
                "Someone asked to create a Carry account with this email address, but you already have one.\n\n\
                 To sign in, go to {}\nIf you cannot sign in, you can get back into your account at {}\n\n\
                 If this was not you, you can ignore this email.",
                self.config().link("/sign-in"),
                self.config().link("/recover"),
            );
            queue(self, &mut tx, email.as_str(), "You already have a Carry account", &body).await?;
        } else {
            email_links::update_links_void(&mut tx, &key, REGISTER, now).await?;
            let token = Token::generate();
            let link = EmailLinkRow {
                token_hash: token.hash(),
                purpose: REGISTER.to_owned(),
                email: email.as_str().to_owned(),
                display_name: Some(name.as_str().to_owned()),
                user_id: None,
                expires_at: now.plus(self.config().register_link_ttl),
                used_at: None,
            };
            email_links::insert_link(&mut tx, &link, now).await?;
            let body = format!(
                "Welcome to Carry.\n\nTo finish creating your account, open this link within 24 hours:\n{}\n\n\
                 If you did not ask for a Carry account, you can ignore this email.",
                self.config().link(&format!("/welcome/{}", token.expose())),
            );
            queue(self, &mut tx, email.as_str(), "Finish creating your Carry account", &body).await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// What a registration link is for, or `LinkInvalid` if it cannot be used.
    pub async fn check_registration_link(&self, token: &str) -> ServiceResult<LinkView> {
        let link = self.usable_link(token, REGISTER).await?;
        Ok(LinkView { email: link.email, display_name: link.display_name })
    }

    pub(crate) async fn usable_link(&self, token: &str, purpose: &str) -> ServiceResult<EmailLinkRow> {
        let mut conn = self.db().conn().await?;
        let link = email_links::find_link(&mut conn, &Token::from_presented(token).hash(), purpose).await?;
        match link {
            Some(l) if l.used_at.is_none() && l.expires_at > self.now() => Ok(l),
            _ => Err(ServiceError::LinkInvalid),
        }
    }

    /// Finishes registration from the emailed link with a password, and signs the person in.
    pub async fn complete_registration_with_password(&self, token: &str, password: &str, client: &ClientInfo) -> ServiceResult<NewSession> {
        let link = self.usable_link(token, REGISTER).await?;
        let name = link.display_name.clone().unwrap_or_default();
        let password = self.acceptable_password(password, &[&name, &link.email])?;
        let phc = self.hasher().hash(&password).await?;
        let user = UserId::from_uuid(uuid::Uuid::new_v4());
        let mut tx = self.db().begin().await?;
        self.create_account_from_link(&mut tx, &link, user).await?;
        passwords::upsert_password(&mut tx, user, &phc, self.now()).await?;
        let session = sessions::start(self, &mut tx, user, Method::Password, client, None).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Starts registering a passkey from the emailed registration link.
    pub async fn start_registration_passkey(&self, token: &str) -> ServiceResult<PasskeyChallenge> {
        let link = self.usable_link(token, REGISTER).await?;
        let user = uuid::Uuid::new_v4();
        let name = link.display_name.clone().unwrap_or_default();
        let (options, state) = self.passkeys().start_registration(user, &link.email, &name, Vec::new())?;
        self.store_ceremony("register", Some(UserId::from_uuid(user)), Some(link.token_hash), &state, &options).await
    }

    /// Finishes registration with the passkey the browser made, and signs the person in.
    pub async fn finish_registration_passkey(
        &self,
        ceremony_id: &str,
        response_json: &str,
        client: &ClientInfo,
    ) -> ServiceResult<NewSession> {
        let (row, state): (CeremonyRow, PasskeyRegistration) = self.take_ceremony(ceremony_id, "register").await?;
        let (Some(user), Some(link_hash)) = (row.user_id, row.link_token_hash.as_deref()) else {
            return Err(ServiceError::PasskeyFailed);
        };
        let key = self.passkeys().finish_registration(response_json, &state)?;
        let mut tx = self.db().begin().await?;
        let link = email_links::find_link(&mut tx, link_hash, REGISTER).await?.ok_or(ServiceError::LinkInvalid)?;
        self.create_account_from_link(&mut tx, &link, user).await?;
        let passkey_id = self.insert_passkey(&mut tx, user, &key, &format!("Passkey on {}", client.device)).await?;
        let session = sessions::start(self, &mut tx, user, Method::Passkey(passkey_id), client, None).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Uses the link (exactly once) and makes the account it promised.
    async fn create_account_from_link(&self, tx: &mut store::Conn, link: &EmailLinkRow, user: UserId) -> ServiceResult<()> {
        let now = self.now();
        if !email_links::update_link_used(tx, &link.token_hash, REGISTER, now).await? {
            return Err(ServiceError::LinkInvalid);
        }
        let email = Email::parse(&link.email)?;
        let name = link.display_name.as_deref().unwrap_or("");
        match users::insert_user(tx, user, email.as_str(), &email.lookup_key(), name, now).await {
            Ok(()) => Ok(()),
            // Two registration links for one address, both opened: the second is spent.
            Err(StoreError::Conflict(c)) if c == "users_email_key_unique" => Err(ServiceError::LinkInvalid),
            Err(e) => Err(e.into()),
        }
    }

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

    /// Everything on the account page.
    pub async fn account_overview(&self, who: &SignedIn) -> ServiceResult<AccountView> {
        let mut conn = self.db().conn().await?;
        let user = users::find_user(&mut conn, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        let keys = passkeys::list_passkeys(&mut conn, who.user_id).await?;
        let password = passwords::find_password(&mut conn, who.user_id).await?;
        let list = store::sessions::list_sessions(&mut conn, who.user_id).await?;
        Ok(AccountView {
            display_name: user.display_name,
            email: user.email,
            passkeys: keys
                .into_iter()
                .map(|k| PasskeyView { id: k.id, name: k.name, created_at: k.created_at, last_used_at: k.last_used_at })
                .collect(),
            password_set_at: password.map(|(_, at)| at),
            sessions: list
                .into_iter()
                .map(|s| SessionView {
                    current: s.id == who.session_id,
                    id: s.id,
                    device: s.device,
                    method: s.auth_method,
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                })
                .collect(),
            recently_authenticated: self.require_recent_sign_in(who).is_ok(),
        })
    }

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

    /// Emails the account holder that something about their sign-in changed.
    pub(crate) async fn notify_change(&self, tx: &mut store::Conn, user: UserId, what: &str) -> ServiceResult<()> {
        let row = users::find_user(tx, user).await?.ok_or(ServiceError::NotFound)?;
        let body = format!(
            "{what}.\n\nIf this was you, there is nothing more to do.\n\
             If it was not you, get back into your account now at {} and check your account page.",
            self.config().link("/recover")
        );
        queue(self, tx, &row.email, what, &body).await
    }
}

fn passkey_name(name: &str) -> Result<String, ValidationError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(ValidationError::field("name", "Give the passkey a name, such as the device it is on."));
    }
    if n.chars().count() > MAX_PASSKEY_NAME || n.chars().any(char::is_control) {
        return Err(ValidationError::field("name", "Use 60 characters or fewer, with no control characters."));
    }
    Ok(n.to_owned())
}
