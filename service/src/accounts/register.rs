//! Registering: an email link proves the address, then a password or a passkey finishes it.

use crate::error::{ServiceError, ServiceResult};
use crate::mail::queue;
use crate::sessions::{self, ClientInfo, Method, NewSession};
use crate::throttle;
use crate::tokens::Token;
use crate::views::{LinkView, PasskeyChallenge};
use crate::Services;
use domain::{Email, PersonName, UserId, ValidationError};
use store::ceremonies::CeremonyRow;
use store::email_links::{self, EmailLinkRow};
use store::{passwords, users, StoreError};
use webauthn_rs::prelude::PasskeyRegistration;

pub(crate) const REGISTER: &str = "register";

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
    pub(super) async fn create_account_from_link(&self, tx: &mut store::Conn, link: &EmailLinkRow, user: UserId) -> ServiceResult<()> {
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
}
