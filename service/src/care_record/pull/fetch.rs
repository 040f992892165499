//! Fetching one kind of resource for one record: every resource changed since the watermark,
//! however the server pages.
//!
//! Paging is optional in FHIR. Carry follows `next` links as given; a server that gives none
//! although `Bundle.total` says more exist (or whose full page gives no total, then asked with
//! `_summary=count`) is read in `_lastUpdated` windows: from a page sorted oldest first, the next
//! window starts at the newest change seen; from an unsorted one, the window is split at its
//! middle change. A window whose resources all changed at one instant, more than a page of
//! them, cannot be narrowed: what it holds beyond a page is counted as missing. The kind is
//! complete only when the ids fetched agree with the first answer's total.

use super::{Pulling, Stop, MAX_REQUESTS, PAGE};
use crate::error::ServiceResult;
use crate::Services;
use domain::care_record::Section;
use fhir::pull::{self, when, PageEntry, SearchPage};
use std::collections::{HashMap, HashSet};
use store::synced;

/// What fetching one kind found.
pub(super) struct Fetched {
    /// Items stored or changed.
    pub changed: u64,
    /// The newest `meta.lastUpdated` seen.
    pub newest: Option<String>,
    /// The ids of every resource of the kind the searches matched.
    pub ids: HashSet<String>,
    /// What could not be fetched, in words.
    pub missing: Option<String>,
}

/// A `_lastUpdated` window: from (inclusive) and before (exclusive), as instants in the other
/// server's clock; `None` is open.
type Window = (Option<String>, Option<String>);

/// Ids asked for per page: an id-only entry is a few dozen bytes.
const IDS_PAGE: u32 = 1_000;

/// What a fetch asks the server for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Asking {
    /// Whole resources, stored as they come.
    Resources,
    /// Ids only (`_elements=id`), to compare with the ids held; nothing is stored.
    Ids,
}

impl Asking {
    fn page(self) -> u32 {
        match self {
            Asking::Resources => PAGE,
            Asking::Ids => IDS_PAGE,
        }
    }

    fn path(self, rtype: &str, remote: &str, from: Option<&str>, before: Option<&str>) -> String {
        match self {
            Asking::Resources => pull::search_path(rtype, remote, from, before, PAGE),
            Asking::Ids => pull::ids_path(rtype, remote, from, before, IDS_PAGE),
        }
    }
}

impl Services {
    /// Fetches every resource of `rtype` changed since `since` (all of them without it), or
    /// only their ids. A request that fails ends this kind with the failure in words; what was
    /// stored stays.
    pub(super) async fn fetch_type(
        &self,
        job: &Pulling<'_>,
        rtype: &str,
        since: Option<&str>,
        asking: Asking,
    ) -> ServiceResult<Result<Fetched, String>> {
        let mut found = Fetched { changed: 0, newest: None, ids: HashSet::new(), missing: None };
        let mut windows: Vec<Window> = vec![(since.map(str::to_owned), None)];
        let mut expected: Option<u64> = None;
        let mut unreadable_instants = 0u64;
        let mut requests = 0usize;
        // The versions held, read once the first page brings anything (most kinds bring
        // nothing new in an incremental pull).
        let mut held = None;
        while let Some((from, before)) = windows.pop() {
            if from.is_some() && before.is_some() && !from.as_deref().zip(before.as_deref()).is_some_and(|(f, b)| pull::later(b, f)) {
                continue;
            }
            let path = asking.path(rtype, &job.remote, from.as_deref(), before.as_deref());
            let mut page = match self.get_page(job, &path, &mut requests).await {
                Ok(p) => p,
                Err(stop) => return Ok(Err(stop.words())),
            };
            let first = expected.is_none() && requests == 1;
            let mut in_window = self.store_page(job, rtype, &page, asking, &mut held, &mut found).await?;
            if page.next_link().is_some() {
                // The server pages: follow it to the end of this window.
                if first {
                    expected = page.total;
                }
                while let Some(next) = page.next_link().map(str::to_owned) {
                    page = match self.get_page(job, &next, &mut requests).await {
                        Ok(p) => p,
                        Err(stop) => return Ok(Err(stop.words())),
                    };
                    self.store_page(job, rtype, &page, asking, &mut held, &mut found).await?;
                }
                continue;
            }
            let matched = u64::try_from(in_window.len()).unwrap_or(u64::MAX);
            let total = match page.total {
                Some(t) => Some(t),
                // A full page without a total may hide more: ask how many there are.
                None if matched >= u64::from(asking.page()) => {
                    let count_path = format!("{path}&_summary=count");
                    match self.get_page(job, &count_path, &mut requests).await {
                        Ok(c) => c.total,
                        Err(stop) => return Ok(Err(stop.words())),
                    }
                }
                None => Some(matched),
            };
            if first {
                expected = total;
            }
            if total.is_none_or(|t| matched >= t) {
                continue;
            }
            // More exist than this page holds, and the server gives no way to page: narrow.
            in_window.retain(|(millis, _)| millis.is_some());
            let from_millis = from.as_deref().and_then(when::instant_millis);
            let before_millis = before.as_deref().and_then(when::instant_millis);
            let outside = |m: &Option<i64>| from_millis.is_some_and(|f| *m < Some(f)) || before_millis.is_some_and(|b| *m >= Some(b));
            if in_window.iter().any(|(m, _)| outside(m)) {
                // The server answers outside the window it was asked for: windows cannot narrow it.
                unreadable_instants += total.unwrap_or(0).saturating_sub(matched);
                continue;
            }
            let sorted = in_window.windows(2).all(|w| w[0].0 <= w[1].0);
            let Some((newest_millis, newest_text)) = in_window.iter().max_by_key(|(m, _)| *m).cloned() else {
                // Nothing with a usable lastUpdated to narrow by.
                unreadable_instants += total.unwrap_or(0).saturating_sub(matched);
                continue;
            };
            if sorted {
                if newest_millis.is_some() && newest_millis == from_millis {
                    // A page of resources changed at one instant, and more besides: that instant
                    // cannot be read whole. Count what is beyond the page, and go on after it.
                    unreadable_instants += total.unwrap_or(0).saturating_sub(matched);
                    let after = newest_millis.map(|m| fhir::instant(domain::Timestamp::from_millis(m + 1)));
                    windows.push((after, before));
                } else {
                    windows.push((Some(newest_text), before));
                }
            } else {
                // Unsorted: split at the middle change seen, so each half holds fewer. When the
                // middle is the window's start, split just after it.
                let mut moments = in_window.clone();
                moments.sort_by_key(|(m, _)| *m);
                let (mid, mid_text) = moments[moments.len() / 2].clone();
                let split = if mid == from_millis { fhir::instant(domain::Timestamp::from_millis(mid.unwrap_or(0) + 1)) } else { mid_text };
                windows.push((Some(split.clone()), before));
                windows.push((from, Some(split)));
            }
        }
        // Short of the first total is what is missing. A window that could not be read whole
        // leaves the kind incomplete even when the ids reach that total (more may have come
        // since): what it held beyond a page is the best count then.
        let short = expected.map(|t| t.saturating_sub(u64::try_from(found.ids.len()).unwrap_or(u64::MAX)));
        let missing = match short {
            Some(0) | None => unreadable_instants,
            Some(n) => n,
        };
        if missing > 0 {
            let words = Section::of_resource(rtype).map_or(rtype, |s| s.heading());
            found.missing = Some(match expected {
                Some(t) => format!("{} of {t} {rtype} ({words}) could not be fetched", missing.min(t)),
                None => format!("{missing} {rtype} ({words}) could not be fetched"),
            });
        }
        Ok(Ok(found))
    }

    /// One page, counted against the kind's limit of requests.
    pub(super) async fn get_page(&self, job: &Pulling<'_>, path: &str, requests: &mut usize) -> Result<SearchPage, Stop> {
        *requests += 1;
        if *requests > MAX_REQUESTS {
            return Err(Stop::Failed(format!("GET {path}: more than {MAX_REQUESTS} requests for one kind of resource")));
        }
        Ok(job.client.search(path).await?)
    }

    /// Stores what a page holds (unless it holds ids only), in one transaction. A resource
    /// whose version Carry already holds (read as Carry reads them now) is not read again: an
    /// overlapping window brings many. Returns, for each resource of `rtype` it matched, its
    /// `meta.lastUpdated` (as an instant, and as written).
    async fn store_page(
        &self,
        job: &Pulling<'_>,
        rtype: &str,
        page: &SearchPage,
        asking: Asking,
        held: &mut Option<HashMap<String, String>>,
        found: &mut Fetched,
    ) -> ServiceResult<Vec<(Option<i64>, String)>> {
        let mut matched = Vec::new();
        let mut items = Vec::new();
        if asking == Asking::Ids {
            for entry in &page.entry {
                note_match(entry, rtype, found, &mut matched);
            }
            return Ok(matched);
        }
        if page.entry.is_empty() {
            return Ok(matched);
        }
        let held: &HashMap<String, String> = match held {
            Some(h) => h,
            None => {
                let mut conn = self.db().conn().await?;
                held.insert(synced::held_versions(&mut conn, job.patient, rtype).await?)
            }
        };
        for entry in &page.entry {
            let Some(raw) = entry.resource.as_ref().map(|r| r.get()) else { continue };
            let head = note_match(entry, rtype, found, &mut matched);
            if let Some(head) =
                head.as_ref().filter(|h| h.id.as_ref().zip(h.version_id.as_ref()).is_some_and(|(id, v)| held.get(id) == Some(v)))
            {
                // The version held: the same resource. Its time still counts for the watermark.
                if let Some(updated) = head.last_updated.as_ref().filter(|u| when::instant_millis(u).is_some()) {
                    if found.newest.as_deref().is_none_or(|n| pull::later(updated, n)) {
                        found.newest = Some(updated.clone());
                    }
                }
                continue;
            }
            let item = match pull::read_item(raw, &job.remote, &job.entry_system, &job.rules) {
                Ok(item) => item,
                Err(pull::PullError::NotShown(kind)) if kind == "OperationOutcome" => {
                    let outcome: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
                    tracing::warn!(patient_id = %job.patient, outcome = %pull::outcome_text(&outcome), "the shared care record's search answered with an outcome");
                    continue;
                }
                Err(pull::PullError::NotShown(kind)) => {
                    tracing::debug!(patient_id = %job.patient, kind, "an included resource of a kind Carry does not show; not kept");
                    continue;
                }
                Err(e) => {
                    // Without an id, or not JSON: counted as missing (the ids fall short of the
                    // total). Another patient's: never kept.
                    tracing::warn!(patient_id = %job.patient, error = %e, "a resource from the shared care record was not kept");
                    continue;
                }
            };
            if let Some(reason) = &item.quarantine_reason {
                tracing::warn!(patient_id = %job.patient, resource_type = %item.resource_type, remote_id = %item.remote_id, reason = %reason, "a resource from the shared care record is quarantined");
            }
            if let Some(updated) = &item.last_updated {
                if found.newest.as_deref().is_none_or(|n| pull::later(updated, n)) {
                    found.newest = Some(updated.clone());
                }
            }
            // The resource is kept exactly as the server sent it.
            items.push((item, raw));
        }
        if !items.is_empty() {
            let mut tx = self.db().begin().await?;
            found.changed += synced::upsert_items(&mut tx, job.patient, &items, self.now()).await?;
            tx.commit().await?;
        }
        Ok(matched)
    }
}

/// An entry's head when it is a resource of `rtype`; when the search matched it (it is not an
/// include), its id joins those found and its `meta.lastUpdated` those of the page.
fn note_match(entry: &PageEntry, rtype: &str, found: &mut Fetched, matched: &mut Vec<(Option<i64>, String)>) -> Option<pull::Head> {
    let head = entry.head().filter(|h| h.resource_type == rtype)?;
    if entry.is_match() {
        if let Some(id) = &head.id {
            found.ids.insert(id.clone());
        }
        let updated = head.last_updated.clone().unwrap_or_default();
        matched.push((when::instant_millis(&updated), updated));
    }
    Some(head)
}
