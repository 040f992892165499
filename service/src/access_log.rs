//! "Who has looked at my record": the patient's access log in plain words, and the check of
//! the whole log's hash chains that `carry audit verify` runs.

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::{describe, Category};
use domain::views::{AccessLogRow, AccessLogView};
use domain::{UserId, ValidationError};
use store::audit::{self, LogFilter, VerifyReport};

/// How many rows a page of the log shows.
pub const LOG_PAGE: i64 = 50;

/// The log page's filter as the form sent it.
#[derive(Debug, Clone, Default)]
pub struct AccessLogQuery {
    /// Whose actions: empty for other people, `all` for everyone (you too), or a person's id.
    pub who: String,
    /// `refused` for refusals only.
    pub outcome: String,
    /// The cursor of the page before.
    pub before: String,
}

impl Services {
    /// A page of the caller's access log, newest first. Errors name `who`, `outcome` or `before`.
    pub async fn access_log(&self, who: &SignedIn, q: &AccessLogQuery) -> ServiceResult<AccessLogView> {
        let mut filter = LogFilter::default();
        match q.who.trim() {
            "" | "others" => filter.not_actor = Some(who.user_id),
            "all" => {}
            id => filter.actor = Some(id.parse::<UserId>().map_err(|_| ValidationError::field("who", "Choose a person from the list."))?),
        }
        filter.refused_only = match q.outcome.trim() {
            "" | "all" => false,
            "refused" => true,
            _ => return Err(ValidationError::field("outcome", "Choose what to show from the list.").into()),
        };
        filter.before = match q.before.trim() {
            "" => None,
            t => Some(
                t.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| ValidationError::field("before", "That page does not exist."))?,
            ),
        };
        let (mut tx, access) = self.open_read(who, RecordRef::Own, Action::ReadAccessLog, Touch::of(Category::AccessLog)).await?;
        if access.patient().is_none() {
            return Ok(AccessLogView { rows: Vec::new(), next: None, people: Vec::new() });
        }
        let mut rows = audit::list_for_patient(&mut tx, access.permit()?, &filter, LOG_PAGE + 1).await?;
        let people = audit::actors_for_patient(&mut tx, access.permit()?)
            .await?
            .into_iter()
            .filter(|(id, _)| *id != who.user_id.to_string())
            .collect();
        tx.commit().await?;
        let next = if rows.len() > LOG_PAGE as usize {
            rows.truncate(LOG_PAGE as usize);
            rows.last().map(|r| r.seq.to_string())
        } else {
            None
        };
        let rows = rows
            .iter()
            .map(|r| {
                let ev = r.event()?;
                Ok(AccessLogRow {
                    at: ev.at,
                    words: describe(Some(who.user_id), ev.actor, &ev.actor_name, ev.role, ev.category, ev.action, ev.refused),
                    refused: ev.refused.is_some(),
                })
            })
            .collect::<Result<Vec<_>, store::StoreError>>()
            .map_err(|e| ServiceError::internal(&e))?;
        Ok(AccessLogView { rows, next, people })
    }

    /// Recomputes every chain of the access log (for `carry audit verify`).
    pub async fn verify_access_log(&self) -> ServiceResult<VerifyReport> {
        let mut conn = self.db().conn().await?;
        Ok(audit::verify(&mut conn).await?)
    }
}
