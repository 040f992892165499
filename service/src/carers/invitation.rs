//! An invited carer reads, accepts or declines the invitation.

use crate::error::{ServiceError, ServiceResult};
use crate::tokens::hash_text;
use crate::{Services, SignedIn};
use domain::grants::GrantStatus;
use domain::views::InvitationView;
use domain::{PatientId, ValidationError};
use store::grants::{self, GrantRow};
use store::patients;
use store::{audit, users, Conn};

impl Services {
    /// The usable grant behind an invitation link.
    pub(super) async fn invitation_row(&self, conn: &mut Conn, token: &str) -> ServiceResult<GrantRow> {
        let g = grants::find_by_invite(conn, &hash_text(token.trim())).await?.ok_or(ServiceError::LinkInvalid)?;
        if g.status != GrantStatus::Invited || g.invite_expires_at.is_none_or(|t| t <= self.now()) {
            return Err(ServiceError::LinkInvalid);
        }
        Ok(g)
    }

    /// What an invitation link offers, or `LinkInvalid`.
    pub async fn invitation(&self, token: &str) -> ServiceResult<InvitationView> {
        let mut conn = self.db().conn().await?;
        let g = self.invitation_row(&mut conn, token).await?;
        Ok(InvitationView {
            patient_name: g.patient_name,
            invited_name: g.invited_name,
            relationship: g.relationship,
            labels: g.labels,
            can_add: g.can_add,
            can_export: g.can_export,
            starts_at: g.starts_at,
            ends_at: g.ends_at,
        })
    }

    /// Accepts an invitation with the caller's own account. The link then stops working.
    pub async fn accept_invitation(&self, who: &SignedIn, token: &str) -> ServiceResult<PatientId> {
        self.answer_invitation(who, token, true).await
    }

    /// Declines an invitation.
    pub async fn decline_invitation(&self, who: &SignedIn, token: &str) -> ServiceResult<PatientId> {
        self.answer_invitation(who, token, false).await
    }

    pub(super) async fn answer_invitation(&self, who: &SignedIn, token: &str, accept: bool) -> ServiceResult<PatientId> {
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let mut g = self.invitation_row(&mut tx, token).await?;
        let patient = patients::find_patient(&mut tx, g.patient_id).await?.ok_or(ServiceError::LinkInvalid)?;
        if patient.user_id == Some(who.user_id) {
            return Err(ValidationError::field(
                "token",
                "This invitation is to your own record: the person you invited must open it with their own account.",
            )
            .into());
        }
        // Only the account of the address the patient chose may take it up: a forwarded or
        // mistyped invitation gives nobody else access.
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        if me.email.to_lowercase() != g.invited_email.to_lowercase() {
            return Err(ValidationError::field(
                "token",
                "This invitation was sent to another email address. Sign in with the account for that address to answer it.",
            )
            .into());
        }
        g.invite_token_hash = None;
        g.status = if accept { GrantStatus::Active } else { GrantStatus::Declined };
        if accept {
            g.carer = Some(who.user_id);
        } else {
            g.ended_at = Some(now);
            g.ended_by = Some(who.user_id);
        }
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::LinkInvalid);
        }
        let word = if accept { "accepted" } else { "declined" };
        grants::insert_change(&mut tx, g.id, g.version + 1, who.user_id, word, "", g.basis, now).await?;
        audit::append(&mut tx, &self.grant_event(who, patient.id, g.id)).await?;
        if let Some(owner) = patient.user_id {
            self.notify(&mut tx, owner, &format!("{} {word} your invitation.", who.display_name), "/record/people").await?;
        }
        if accept {
            self.notify(&mut tx, who.user_id, &format!("You can now help {} with their record.", patient.name), "/caring").await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(g.patient_id)
    }
}
