//! The patient changes, stops or (as a young person) confirms a carer's access.

use super::describe::{confirmable, last_day};
use super::forms::{parse_scope, ScopeForm};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::grants::{scope_words, BirthDate, GrantStatus};
use domain::{GrantId, PatientId};
use store::grants::{self, GrantRow};
use store::patients;
use store::Conn;

impl Services {
    /// Loads a grant on the caller's own record for a change, checking the version seen.
    pub(super) async fn own_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64) -> ServiceResult<(store::Tx, GrantRow)> {
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::item(Category::Access, id)).await?;
        let g = grants::find_grant(&mut tx, id).await?.filter(|g| Some(g.patient_id) == access.patient()).ok_or(ServiceError::NotFound)?;
        if g.version != seen_version {
            return Err(ServiceError::Stale);
        }
        Ok((tx, g))
    }

    /// Changes what a carer may see and do, and until when. Errors name `labels`, `starts_on`
    /// or `ends_on`.
    pub async fn change_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64, form: &ScopeForm) -> ServiceResult<()> {
        let now = self.now();
        self.require_recent_sign_in(who)?;
        let (mut tx, mut g) = self.own_grant(who, id, seen_version).await?;
        if !matches!(g.status, GrantStatus::Invited | GrantStatus::Active) || g.ends_at <= now {
            return Err(ServiceError::NotFound);
        }
        // The start stays as it was: the change form does not move it.
        let scope = parse_scope(form, now, Some(g.starts_at))?;
        let before = scope_words(&g.labels, g.can_add, g.can_export);
        let before_end = last_day(g.ends_at);
        g.labels = scope.labels;
        g.can_add = scope.can_add;
        g.can_export = scope.can_export;
        g.starts_at = scope.starts_at;
        g.ends_at = scope.ends_at;
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::Stale);
        }
        let details = format!(
            "was {before} until {before_end}; now {} until {}",
            scope_words(&g.labels, g.can_add, g.can_export),
            last_day(g.ends_at)
        );
        grants::insert_change(&mut tx, id, g.version + 1, who.user_id, "changed", &details, g.basis, now).await?;
        if let Some(carer) = g.carer {
            self.notify(&mut tx, carer, &format!("{} changed your access to their record.", who.display_name), "/caring").await?;
        }
        self.notify(&mut tx, who.user_id, &format!("You changed {}'s access to your record.", g.carer_name()), "/record/people").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// Ends a carer's access at once (or withdraws an invitation). Their very next request is
    /// refused, also in a session already open.
    pub async fn revoke_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64) -> ServiceResult<()> {
        let now = self.now();
        let (mut tx, mut g) = self.own_grant(who, id, seen_version).await?;
        let change = match g.status {
            GrantStatus::Invited => GrantStatus::Cancelled,
            GrantStatus::Active => GrantStatus::Revoked,
            GrantStatus::Declined | GrantStatus::Revoked | GrantStatus::Cancelled => return Ok(()),
        };
        g.status = change;
        g.invite_token_hash = None;
        g.ended_at = Some(now);
        g.ended_by = Some(who.user_id);
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::Stale);
        }
        let word = if change == GrantStatus::Cancelled { "withdrew the invitation" } else { "stopped access" };
        grants::insert_change(&mut tx, id, g.version + 1, who.user_id, word, "", g.basis, now).await?;
        if let Some(carer) = g.carer {
            self.notify(&mut tx, carer, &format!("{} stopped your access to their record.", who.display_name), "/caring").await?;
        }
        self.notify(&mut tx, who.user_id, &format!("You stopped {}'s access to your record.", g.carer_name()), "/record/people").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    pub(super) async fn born_on(&self, conn: &mut Conn, patient: PatientId) -> ServiceResult<Option<BirthDate>> {
        Ok(patients::find_patient(conn, patient).await?.and_then(|p| p.born_on.as_deref().and_then(BirthDate::from_text)))
    }

    /// The young person, holding their own record, confirms a parent's access so that it
    /// continues past the suspension age. Needs a recent sign-in, like giving access.
    pub async fn confirm_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64) -> ServiceResult<()> {
        let now = self.now();
        self.require_recent_sign_in(who)?;
        let (mut tx, mut g) = self.own_grant(who, id, seen_version).await?;
        if !confirmable(&g, self.born_on(&mut tx, g.patient_id).await?, now, &self.config().age_rules) {
            return Err(ServiceError::NotFound);
        }
        if g.young_person_confirmed_at.is_some() {
            return Ok(());
        }
        g.young_person_confirmed_at = Some(now);
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::Stale);
        }
        let details = format!("continues after {}, until {}", self.config().age_rules.suspend_at, last_day(g.ends_at));
        grants::insert_change(&mut tx, id, g.version + 1, who.user_id, "confirmed by the young person", &details, g.basis, now).await?;
        if let Some(parent) = g.carer {
            self.notify(&mut tx, parent, &format!("{} confirmed your access to their record.", who.display_name), "/caring").await?;
        }
        self.notify(&mut tx, who.user_id, &format!("You confirmed {}'s access to your record.", g.carer_name()), "/record/people").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }
}
