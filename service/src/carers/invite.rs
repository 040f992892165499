//! A patient invites a carer.

use super::forms::{parse_scope, InviteForm, PATIENT_BASES};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::throttle;
use crate::tokens::Token;
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::grants::{scope_words, CarerRelationship, GrantBasis, GrantStatus, INVITATION_VALID};
use domain::{Email, GrantId, NoticeId, PersonName, ValidationError};
use store::grants::{self, GrantRow};
use store::{notices, users};

impl Services {
    /// Invites a carer to the caller's own record. Errors name `name`, `email`,
    /// `relationship`, `basis`, `labels`, `starts_on` or `ends_on`.
    pub async fn invite_carer(&self, who: &SignedIn, form: &InviteForm) -> ServiceResult<GrantId> {
        let now = self.now();
        let name = PersonName::parse(&form.name);
        let email = Email::parse(&form.email);
        let relationship = CarerRelationship::parse("relationship", &form.relationship);
        let basis = match form.basis.trim() {
            "" => Ok(GrantBasis::PatientConsent),
            s => GrantBasis::from_slug(s)
                .filter(|b| PATIENT_BASES.contains(b))
                .ok_or_else(|| ValidationError::field("basis", "Choose the basis from the list.")),
        };
        let scope = parse_scope(&form.scope, now, None);
        let (name, email, relationship, basis, scope) = match (name, email, relationship, basis, scope) {
            (Ok(n), Ok(e), Ok(r), Ok(b), Ok(s)) => (n, e, r, b, s),
            (n, e, r, b, s) => {
                let errors = [n.err(), e.err(), r.err(), b.err(), s.err()].into_iter().flatten().flat_map(|e| e.0).collect();
                return Err(ValidationError(errors).into());
            }
        };
        self.require_recent_sign_in(who)?;
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::of(Category::Access)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        if me.email.to_lowercase() == email.lookup_key() {
            return Err(ValidationError::field("email", "That is your own address: a carer needs an account of their own.").into());
        }
        let token = Token::generate();
        let id = GrantId::from_uuid(uuid::Uuid::now_v7());
        let grant = GrantRow {
            id,
            patient_id: patient,
            patient_name: access.patient_name.clone(),
            carer: None,
            carer_account_name: None,
            invited_email: email.as_str().to_owned(),
            invited_name: name.as_str().to_owned(),
            relationship,
            basis,
            labels: scope.labels,
            can_add: scope.can_add,
            can_export: scope.can_export,
            starts_at: scope.starts_at,
            ends_at: scope.ends_at,
            status: GrantStatus::Invited,
            invite_token_hash: Some(token.hash()),
            invite_expires_at: Some(now.plus(INVITATION_VALID)),
            decided_by: who.user_id,
            young_person_confirmed_at: None,
            ended_at: None,
            ended_by: None,
            version: 1,
            created_at: now,
        };
        grants::insert_grant(&mut tx, &grant, now).await?;
        grants::insert_change(
            &mut tx,
            id,
            1,
            who.user_id,
            "invited",
            &scope_words(&grant.labels, grant.can_add, grant.can_export),
            basis,
            now,
        )
        .await?;
        throttle::invitation_allowed(self, &mut tx, who.user_id, &email.lookup_key()).await?;
        self.mail_link(&mut tx, email.as_str(), name.as_str(), &who.display_name, &format!("/invitations/{}", token.expose())).await?;
        notices::insert_notice(
            &mut tx,
            NoticeId::from_uuid(uuid::Uuid::now_v7()),
            who.user_id,
            &format!("You invited {} to help with your record.", name.as_str()),
            "/record/people",
            now,
        )
        .await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(id)
    }
}
