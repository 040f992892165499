//! The account page, and telling a person when their way of signing in changed.

use crate::error::{ServiceError, ServiceResult};
use crate::mail::queue;
use crate::sessions::SignedIn;
use crate::views::{AccountView, PasskeyView, SessionView};
use crate::Services;
use domain::UserId;
use store::passkeys::{self};
use store::{passwords, users};

impl Services {
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
