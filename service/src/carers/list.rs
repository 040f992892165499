//! The patient's list of who can see their record.

use super::describe::{confirmable, state_words};
use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::grants::{BirthDate, GrantStatus};
use domain::views::GrantView;
use domain::Timestamp;
use store::grants::{self};
use store::patients;

impl Services {
    /// Every grant and invitation on the caller's record, newest first.
    pub async fn grants(&self, who: &SignedIn) -> ServiceResult<Vec<GrantView>> {
        let (mut tx, access) = self.open_read(who, RecordRef::Own, Action::ReadAccessLog, Touch::of(Category::Access)).await?;
        let Some(patient) = access.patient() else { return Ok(Vec::new()) };
        let row = patients::find_patient(&mut tx, patient).await?.ok_or(ServiceError::NotFound)?;
        let born = row.born_on.as_deref().and_then(BirthDate::from_text);
        let now = self.now();
        let mut out = Vec::new();
        for g in grants::list_for_patient(&mut tx, patient).await? {
            let (state, in_force) = state_words(&g, born, now, &self.config().age_rules);
            let history = grants::list_changes(&mut tx, g.id)
                .await?
                .into_iter()
                .map(|c| {
                    format!(
                        "{}: {} by {}{}",
                        Timestamp::from_millis(c.at),
                        c.change,
                        c.changed_by_name,
                        if c.details.is_empty() { String::new() } else { format!(" ({})", c.details) }
                    )
                })
                .collect();
            let open = in_force || matches!(g.status, GrantStatus::Invited) || (g.status == GrantStatus::Active && g.ends_at > now);
            out.push(GrantView {
                id: g.id,
                version: g.version,
                carer_name: g.carer_name().to_owned(),
                email: g.invited_email.clone(),
                relationship: g.relationship,
                basis: g.basis,
                labels: g.labels.clone(),
                can_add: g.can_add,
                can_export: g.can_export,
                starts_at: g.starts_at,
                ends_at: g.ends_at,
                state,
                open,
                invited: g.status == GrantStatus::Invited,
                can_confirm: confirmable(&g, born, now, &self.config().age_rules),
                history,
            });
        }
        tx.commit().await?;
        Ok(out)
    }
}
