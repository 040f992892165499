//! The carer's side: the people they care for, and what they may do in one record.

use super::describe::state_words;
use crate::access::{RecordRef, Touch};
use crate::error::ServiceResult;
use crate::{Services, SignedIn};
use domain::access::{grant_in_force, Role};
use domain::audit::Category;
use domain::grants::{BirthDate, GrantBasis, GrantStatus};
use domain::views::{CaredForView, RecordContext};
use store::grants::{self};
use store::patients;

impl Services {
    /// The people the caller cares for, with what they may do for each now.
    pub async fn caring_for(&self, who: &SignedIn) -> ServiceResult<Vec<CaredForView>> {
        let now = self.now();
        let mut conn = self.db().conn().await?;
        let held = grants::held_by(&mut conn, who.user_id).await?;
        let mut out: Vec<CaredForView> = Vec::new();
        for g in held {
            let Some(record) = patients::find_patient(&mut conn, g.patient_id).await? else { continue };
            let born = record.born_on.as_deref().and_then(BirthDate::from_text);
            let (state, in_force) = state_words(&g, born, now, &self.config().age_rules);
            let labels = grant_in_force(&g.facts(), born, now, &self.config().age_rules).unwrap_or_default();
            // A parent keeps a child's record until the young person takes it over.
            let can_hand_over = record.user_id.is_none()
                && born.is_some_and(|b| b.age_at(now) >= self.config().age_rules.review_at)
                && g.basis == GrantBasis::ParentalResponsibility
                && g.status == GrantStatus::Active
                && g.ends_at > now;
            let offered_to = if can_hand_over {
                patients::find_handover_for_patient(&mut conn, g.patient_id).await?.filter(|h| h.expires_at > now).map(|h| h.email)
            } else {
                None
            };
            let view = CaredForView {
                patient_id: g.patient_id,
                name: g.patient_name.clone(),
                labels,
                can_add: in_force && g.can_add,
                can_export: in_force && g.can_export,
                ends_at: g.ends_at,
                state,
                in_force,
                can_hand_over,
                offered_to,
            };
            // Several grants on one record show as one person: the one in force, if any.
            match out.iter_mut().find(|c| c.patient_id == g.patient_id) {
                Some(seen) if in_force && !seen.in_force => {
                    let (can_hand_over, offered_to) = (seen.can_hand_over, seen.offered_to.take());
                    *seen = CaredForView {
                        can_hand_over: view.can_hand_over || can_hand_over,
                        offered_to: view.offered_to.or(offered_to),
                        ..view
                    };
                }
                Some(seen) => {
                    seen.can_hand_over |= view.can_hand_over;
                    seen.offered_to = seen.offered_to.take().or(view.offered_to);
                }
                None => out.push(view),
            }
        }
        Ok(out)
    }

    /// Whose record a page shows and what the caller may do there. Decided by the policy like
    /// every request; a refusal is logged, an allowed look is not (it shows the caller only the
    /// patient's name and their own access, which the pages then log as they read).
    pub async fn record_context(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<RecordContext> {
        let access = self.peek(who, record, Touch::of(Category::Record)).await?;
        let can_change = access.role() == Role::Patient;
        let also = access.also;
        Ok(RecordContext {
            acting_for: match record {
                RecordRef::Own => None,
                RecordRef::Patient(id) => Some(id),
            },
            labels: access.labels().to_vec(),
            name: access.patient_name,
            can_add: also.add,
            can_export: also.export,
            can_change,
        })
    }
}
