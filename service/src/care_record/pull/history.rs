//! A type's `_history`, read once for the records one pass of the worker pulls.
//!
//! Type-level history spans every patient, so each record reading it for itself read the same
//! pages again, once per record. A pass keeps what it read (the newest version of each resource,
//! and when it was made) and answers later records from it, under two conditions:
//! - it was read from no later than the record's own start, so it holds every change the record
//!   needs;
//! - it is younger than [`KEEP_FOR`], which is shorter than the overlap each pull starts
//!   before its watermark: a deletion made after the history was read is then always inside
//!   the next pull's window, whatever watermark this pull saves.
//!
//! Records are claimed in the order their last pulls finished, so the first record of a pass
//! has the earliest start and its read serves the rest; a record whose start is earlier than
//! what was kept reads again, from its own start, and what it read is kept instead.

use super::{Pulling, OVERLAP_SECONDS, PAGE};
use crate::care_record::client::RemoteError;
use fhir::pull;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a history read serves other records: well inside the overlap.
const KEEP_FOR: Duration = Duration::from_secs(OVERLAP_SECONDS.unsigned_abs() / 3);
/// The most resources a kept history holds (a larger one serves only the record that read it).
const KEEP_AT_MOST: usize = 100_000;

/// The newest version of each resource changed since a time, newest first: the `Type/id` it
/// deleted (when it is a deletion) and when it was made. `None` when the history could not be
/// read to its end (a full page without a `next` link).
pub(super) type Changes = Option<Vec<(Option<String>, Option<String>)>>;

/// What one pass has read of each type's history.
#[derive(Default)]
pub(super) struct HistoryMemo {
    kept: Mutex<HashMap<String, Kept>>,
}

struct Kept {
    since: String,
    read_at: Instant,
    changes: Arc<Changes>,
}

impl HistoryMemo {
    /// What was kept of `rtype`'s history, when it can answer a pull starting at `since`.
    fn answer(&self, rtype: &str, since: &str) -> Option<Arc<Changes>> {
        let kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get(rtype).filter(|k| k.read_at.elapsed() < KEEP_FOR && !pull::later(&k.since, since)).map(|k| k.changes.clone())
    }

    fn keep(&self, rtype: &str, since: &str, read_at: Instant, changes: Arc<Changes>) {
        if changes.as_ref().as_ref().is_some_and(|c| c.len() > KEEP_AT_MOST) {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.insert(rtype.to_owned(), Kept { since: since.to_owned(), read_at, changes });
    }
}

/// The ids of `rtype` deleted since `since`, from what this pass read of the type's history,
/// or read now. `None` when the history could not be read to its end.
pub(super) async fn deleted_since(job: &Pulling<'_>, rtype: &str, since: &str) -> Result<Option<Vec<String>>, RemoteError> {
    let changes = match job.history.answer(rtype, since) {
        Some(changes) => changes,
        None => {
            let read_at = Instant::now();
            let changes = Arc::new(read(job, rtype, since).await?);
            job.history.keep(rtype, since, read_at, changes.clone());
            changes
        }
    };
    let Some(changes) = changes.as_ref() else { return Ok(None) };
    Ok(Some(
        changes
            .iter()
            .take_while(|(_, made)| !made.as_deref().is_some_and(|m| pull::later(since, m)))
            .filter_map(|(gone, _)| gone.as_ref().and_then(|k| k.split_once('/')).map(|(_, id)| id.to_owned()))
            .collect(),
    ))
}

/// Reads `rtype`'s history since `since`. History is newest first: the newest version of each
/// resource decides (a deletion undone since is no deletion), and paging stops at versions older
/// than `since` (some servers' `next` links drop `_since`).
async fn read(job: &Pulling<'_>, rtype: &str, since: &str) -> Result<Changes, RemoteError> {
    let mut next = Some(pull::history_path(rtype, since, PAGE));
    let mut seen = HashSet::new();
    let mut changes = Vec::new();
    let mut pages = 0;
    'pages: while let Some(path) = next.take() {
        pages += 1;
        if pages > super::MAX_REQUESTS {
            return Err(RemoteError::Transient(format!("GET {path}: the {rtype} history did not end"), None));
        }
        let page = job.client.history(&path).await?;
        for entry in &page.entry {
            let made = entry.last_modified();
            if made.is_some_and(|m| pull::later(since, m)) {
                break 'pages;
            }
            if entry.key().is_some_and(|k| seen.insert(k)) {
                changes.push((entry.deletion(), made.map(str::to_owned)));
            }
        }
        next = page.next_link().map(str::to_owned);
        if next.is_none() && page.entry.len() >= usize::try_from(PAGE).unwrap_or(usize::MAX) {
            return Ok(None);
        }
    }
    Ok(Some(changes))
}
