//! Removing what the shared care record deleted. Search never returns a deleted resource, so
//! Carry learns of deletions from type-level `_history` where the server's CapabilityStatement
//! lists `history-type` (a 4xx there means it is not offered after all; one read serves the
//! records a pass pulls, see `history`), and otherwise, or when
//! the history cannot be read to its end (a full page without a `next` link), by comparing the
//! ids it holds with the ids the server holds: from a search answering ids only, paged as a full
//! pull is (by `next` links, or in `_lastUpdated` windows from a server that gives none), or,
//! from a server that refuses that search or whose id-only answers cannot be narrowed, from the
//! whole search. Nothing is removed on a comparison whose counts do not agree.

use super::fetch::Asking;
use super::Pulling;
use crate::care_record::client::RemoteError;
use crate::error::ServiceResult;
use crate::Services;
use std::collections::HashSet;
use store::synced;

/// What removing deletions did.
#[derive(Default)]
pub(super) struct Deleted {
    /// Items removed.
    pub removed: u64,
    /// Why deletions could not be checked, in words, when they could not.
    pub unchecked: Option<String>,
}

impl Services {
    /// Removes the record's items of `rtype` the server no longer holds. `since` is where an
    /// incremental pull starts; `fetched` the ids a full pull's complete search just gave
    /// (then nothing more is asked); `holds_any` whether the record holds any item of the type
    /// (when it holds none, nothing is asked).
    pub(super) async fn apply_deletions(
        &self,
        job: &Pulling<'_>,
        rtype: &str,
        since: Option<&str>,
        fetched: Option<&HashSet<String>>,
        holds_any: bool,
    ) -> ServiceResult<Result<Deleted, String>> {
        if !holds_any {
            return Ok(Ok(Deleted::default()));
        }
        if let (Some(since), None) = (since, fetched) {
            if job.client.offers_history(rtype).await {
                match super::history::deleted_since(job, rtype, since).await {
                    Ok(Some(gone)) => return Ok(Ok(Deleted { removed: self.remove(job, rtype, gone).await?, unchecked: None })),
                    Ok(None) => {
                        tracing::info!(
                            resource_type = rtype,
                            "the shared care record's _history ended on a full page without a next link; comparing ids instead"
                        );
                    }
                    Err(RemoteError::Permanent(why)) => {
                        tracing::info!(resource_type = rtype, error = %why, "the shared care record refused the _history it lists; comparing ids instead");
                        job.client.history_refused(rtype);
                    }
                    Err(e) => return Ok(Err(e.text().to_owned())),
                }
            }
        }
        let there = match fetched {
            Some(ids) => ids.clone(),
            None => match self.fetch_type(job, rtype, None, Asking::Ids).await? {
                Ok(ids) if ids.missing.is_none() => ids.ids,
                // A server that refuses `_elements`, or whose id-only answers cannot be read
                // whole: read the whole search as a full pull does.
                Ok(_) | Err(_) => match self.fetch_type(job, rtype, None, Asking::Resources).await? {
                    Ok(all) if all.missing.is_none() => all.ids,
                    Ok(_) => {
                        return Ok(Ok(Deleted { removed: 0, unchecked: Some(format!("deletions of {rtype} could not be checked")) }));
                    }
                    Err(why) => return Ok(Err(why)),
                },
            },
        };
        let held = {
            let mut conn = self.db().conn().await?;
            synced::list_item_ids(&mut conn, job.patient, rtype).await?
        };
        let gone: Vec<String> = held.into_iter().filter(|id| !there.contains(id)).collect();
        Ok(Ok(Deleted { removed: self.remove(job, rtype, gone).await?, unchecked: None }))
    }

    /// Removes the record's items of `rtype` with these ids (of any record: the type's history
    /// names every patient's). Returns how many there were.
    async fn remove(&self, job: &Pulling<'_>, rtype: &str, ids: Vec<String>) -> ServiceResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db().begin().await?;
        let held: HashSet<String> = synced::list_item_ids(&mut tx, job.patient, rtype).await?.into_iter().collect();
        let mut removed = 0;
        for id in ids.into_iter().filter(|id| held.contains(id)) {
            if synced::delete_item(&mut tx, job.patient, rtype, &id).await? {
                removed += 1;
            }
        }
        tx.commit().await?;
        Ok(removed)
    }
}
