//! Demo people, for demo mode only: made-up accounts with known passwords, created at start-up
//! when missing. The server never calls this outside demo mode.

use crate::error::ServiceResult;
use crate::Services;
use domain::{Email, PasswordText, PersonName, UserId};
use store::{passwords, users};

impl Services {
    /// Creates the person with this password unless the address already has an account.
    /// Returns whether it was created.
    pub async fn ensure_demo_person(&self, name: &str, email: &str, password: &str) -> ServiceResult<bool> {
        let name = PersonName::parse(name)?;
        let email = Email::parse(email)?;
        let password = PasswordText::parse(password, self.config().password_rules)?;
        {
            let mut conn = self.db().conn().await?;
            if users::find_user_by_email_key(&mut conn, &email.lookup_key()).await?.is_some() {
                return Ok(false);
            }
        }
        let phc = self.hasher().hash(&password).await?;
        let id = UserId::from_uuid(uuid::Uuid::new_v4());
        let now = self.now();
        let mut tx = self.db().begin().await?;
        users::insert_user(&mut tx, id, email.as_str(), &email.lookup_key(), name.as_str(), now).await?;
        passwords::upsert_password(&mut tx, id, &phc, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
