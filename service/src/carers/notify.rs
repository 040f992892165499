//! Telling people: a notice in the portal with an email that carries only a link, the invited
//! carer's email, and the notices page.

use crate::error::ServiceResult;
use crate::mail::{mail_name, queue};
use crate::{Services, SignedIn};
use domain::views::NoticeView;
use domain::{NoticeId, UserId};
use store::grants::GrantRow;
use store::patients;
use store::{notices, users, Conn};

impl Services {
    /// Says something to a person in the portal, and by an email carrying only a link.
    pub(crate) async fn notify(&self, conn: &mut Conn, user: UserId, text: &str, link: &str) -> ServiceResult<()> {
        self.notify_about(conn, user, text, link, "about access to a health record ").await
    }

    /// Like [`Services::notify`], with the email's one line of subject matter ("about access to
    /// a health record ", or nothing): the email never says more.
    pub(crate) async fn notify_about(&self, conn: &mut Conn, user: UserId, text: &str, link: &str, about: &str) -> ServiceResult<()> {
        let now = self.now();
        notices::insert_notice(conn, NoticeId::from_uuid(uuid::Uuid::now_v7()), user, text, link, now).await?;
        if let Some(u) = users::find_user(conn, user).await? {
            let body = format!(
                "Hello {},\n\nThere is an update {about}in Carry. Sign in to see it:\n{}\n\n\
                 For your privacy, this email says nothing more.\n",
                mail_name(&u.display_name),
                self.config().link(link)
            );
            queue(self, conn, &u.email, "An update in Carry", &body).await?;
        }
        Ok(())
    }

    /// Emails someone without an account yet (an invited carer): only the link.
    pub(super) async fn mail_link(&self, conn: &mut Conn, to: &str, name: &str, inviter: &str, link: &str) -> ServiceResult<()> {
        // Both names were typed by the person inviting: quoted short, on one line, never a link.
        let (name, inviter) = (mail_name(name), mail_name(inviter));
        let body = format!(
            "Hello {name},\n\n{inviter} has invited you to help with their health record in Carry.\n\
             To accept, open this link within 7 days and sign in or make an account of your own:\n{}\n\n\
             If you were not expecting this, you can ignore this email.\n",
            self.config().link(link)
        );
        queue(self, conn, to, "An invitation to Carry", &body).await
    }

    pub(super) async fn tell_both(&self, conn: &mut Conn, g: &GrantRow, to_carer: &str, to_patient: &str) -> ServiceResult<usize> {
        let mut n = 0;
        if let Some(carer) = g.carer {
            self.notify(conn, carer, to_carer, "/caring").await?;
            n += 1;
        }
        if let Some(owner) = patients::find_patient(conn, g.patient_id).await?.and_then(|p| p.user_id) {
            self.notify(conn, owner, to_patient, "/record/people").await?;
            n += 1;
        }
        Ok(n)
    }

    /// The caller's newest notices. Reading them changes nothing (a page load must not); the
    /// person marks them read with [`Services::mark_notices_read`].
    pub async fn notices(&self, who: &SignedIn) -> ServiceResult<Vec<NoticeView>> {
        let mut conn = self.db().conn().await?;
        let rows = notices::list_notices(&mut conn, who.user_id, 20).await?;
        Ok(rows.into_iter().map(|n| NoticeView { text: n.text, link: n.link, at: n.created_at, unread: n.read_at.is_none() }).collect())
    }

    /// Marks every notice of the caller's read.
    pub async fn mark_notices_read(&self, who: &SignedIn) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        notices::mark_all_read(&mut tx, who.user_id, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}
