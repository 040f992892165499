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

/// Pages fetched and not yet stored, with the entries of each to read and store, and the
/// versions the record holds of the kind (read once the first page brings anything: most kinds
/// bring nothing new in an incremental pull). Pages are stored together, in one transaction,
/// once they hold [`STORE_EVERY`] resources and when the kind is done: each commit waits for the
/// disk (SQLite's `synchronous=full`, PostgreSQL's commit), and most pages are small.
#[derive(Default)]
struct Unstored {
    pages: Vec<(SearchPage, Vec<usize>)>,
    entries: usize,
    held: Option<HashMap<String, String>>,
}

/// Resources stored in one transaction at most (about 2 MB of text).
const STORE_EVERY: usize = 1_000;

/// How a kind's searches ended: the first answer's total, and how many resources could not be
/// read because they share an instant with more than a page of others.
struct Counts {
    expected: Option<u64>,
    unreadable_instants: u64,
}

impl Services {
    /// Fetches every resource of `rtype` changed since `since` (all of them without it), or
    /// only their ids. A request that fails ends this kind with the failure in words; what was
    /// fetched before it is stored.
    pub(super) async fn fetch_type(
        &self,
        job: &Pulling<'_>,
        rtype: &str,
        since: Option<&str>,
        asking: Asking,
    ) -> ServiceResult<Result<Fetched, String>> {
        let mut found = Fetched { changed: 0, newest: None, ids: HashSet::new(), missing: None };
        let mut unstored = Unstored::default();
        let searched = self.search_windows(job, rtype, since, asking, &mut unstored, &mut found).await;
        // What was fetched is stored, whether or not a later request failed.
        self.store_pages(job, &mut unstored, &mut found).await?;
        let counts = match searched? {
            Ok(counts) => counts,
            Err(why) => return Ok(Err(why)),
        };
        // Short of the first total is what is missing. A window that could not be read whole
        // leaves the kind incomplete even when the ids reach that total (more may have come
        // since): what it held beyond a page is the best count then.
        let Counts { expected, unreadable_instants } = counts;
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

    /// Searches `rtype` since `since`: by `next` links where the server gives them, else in
    /// narrowing `_lastUpdated` windows. Each page is noted in `found` and queued in `unstored`.
    async fn search_windows(
        &self,
        job: &Pulling<'_>,
        rtype: &str,
        since: Option<&str>,
        asking: Asking,
        unstored: &mut Unstored,
        found: &mut Fetched,
    ) -> ServiceResult<Result<Counts, String>> {
        let mut windows: Vec<Window> = vec![(since.map(str::to_owned), None)];
        let mut expected: Option<u64> = None;
        let mut unreadable_instants = 0u64;
        let mut requests = 0usize;
        while let Some((from, before)) = windows.pop() {
            if from.is_some() && before.is_some() && !from.as_deref().zip(before.as_deref()).is_some_and(|(f, b)| pull::later(b, f)) {
                continue;
            }
            let path = asking.path(rtype, &job.remote, from.as_deref(), before.as_deref());
            let page = match self.get_page(job, &path, &mut requests).await {
                Ok(p) => p,
                Err(stop) => return Ok(Err(stop.words())),
            };
            let first = expected.is_none() && requests == 1;
            let (total, mut next) = (page.total, page.next_link().map(str::to_owned));
            let mut in_window = self.take_page(job, rtype, page, asking, unstored, found).await?;
            if next.is_some() {
                // The server pages: follow it to the end of this window.
                if first {
                    expected = total;
                }
                while let Some(link) = next.take() {
                    let page = match self.get_page(job, &link, &mut requests).await {
                        Ok(p) => p,
                        Err(stop) => return Ok(Err(stop.words())),
                    };
                    next = page.next_link().map(str::to_owned);
                    self.take_page(job, rtype, page, asking, unstored, found).await?;
                }
                continue;
            }
            let matched = u64::try_from(in_window.len()).unwrap_or(u64::MAX);
            let total = match total {
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
        Ok(Ok(Counts { expected, unreadable_instants }))
    }

    /// One page, counted against the kind's limit of requests.
    pub(super) async fn get_page(&self, job: &Pulling<'_>, path: &str, requests: &mut usize) -> Result<SearchPage, Stop> {
        *requests += 1;
        if *requests > MAX_REQUESTS {
            return Err(Stop::Failed(format!("GET {path}: more than {MAX_REQUESTS} requests for one kind of resource")));
        }
        Ok(job.client.search(path).await?)
    }

    /// Notes what a page matched in `found` and, unless it holds ids only, queues it to be
    /// stored (storing what is queued once it is [`STORE_EVERY`] resources). A resource whose
    /// version Carry already holds (read as Carry reads them now) is not queued: an overlapping
    /// window brings many. Returns, for each resource of `rtype` it matched, its
    /// `meta.lastUpdated` (as an instant, and as written).
    async fn take_page(
        &self,
        job: &Pulling<'_>,
        rtype: &str,
        page: SearchPage,
        asking: Asking,
        unstored: &mut Unstored,
        found: &mut Fetched,
    ) -> ServiceResult<Vec<(Option<i64>, String)>> {
        let mut matched = Vec::new();
        if asking == Asking::Ids || page.entry.is_empty() {
            for entry in &page.entry {
                note_match(entry, rtype, found, &mut matched);
            }
            return Ok(matched);
        }
        let held: &HashMap<String, String> = match &mut unstored.held {
            Some(h) => h,
            held @ None => {
                let mut conn = self.db().conn().await?;
                held.insert(synced::held_versions(&mut conn, job.patient, rtype).await?)
            }
        };
        let mut to_read = Vec::new();
        for (i, entry) in page.entry.iter().enumerate() {
            if entry.resource.is_none() {
                continue;
            }
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
            to_read.push(i);
        }
        if !to_read.is_empty() {
            unstored.entries += to_read.len();
            unstored.pages.push((page, to_read));
            if unstored.entries >= STORE_EVERY {
                self.store_pages(job, unstored, found).await?;
            }
        }
        Ok(matched)
    }

    /// Reads and stores the queued resources, in one transaction. Each is kept exactly as the
    /// server sent it.
    async fn store_pages(&self, job: &Pulling<'_>, unstored: &mut Unstored, found: &mut Fetched) -> ServiceResult<()> {
        let pages = std::mem::take(&mut unstored.pages);
        unstored.entries = 0;
        let mut items = Vec::new();
        for (page, to_read) in &pages {
            for &i in to_read {
                let Some(raw) = page.entry[i].resource.as_ref().map(|r| r.get()) else { continue };
                if let Some(item) = read(job, raw) {
                    if let Some(updated) = &item.last_updated {
                        if found.newest.as_deref().is_none_or(|n| pull::later(updated, n)) {
                            found.newest = Some(updated.clone());
                        }
                    }
                    items.push((item, raw));
                }
            }
        }
        if !items.is_empty() {
            let mut tx = self.db().begin().await?;
            found.changed += synced::upsert_items(&mut tx, job.patient, &items, self.now()).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// What Carry reads from a resource the search gave, or `None` (with a log line saying why)
/// when it is not kept.
fn read(job: &Pulling<'_>, raw: &str) -> Option<domain::care_record::SyncedItem> {
    let item = match pull::read_item(raw, &job.remote, &job.entry_system, &job.rules) {
        Ok(item) => item,
        Err(pull::PullError::NotShown(kind)) if kind == "OperationOutcome" => {
            let outcome: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
            tracing::warn!(patient_id = %job.patient, outcome = %pull::outcome_text(&outcome), "the shared care record's search answered with an outcome");
            return None;
        }
        Err(pull::PullError::NotShown(kind)) => {
            tracing::debug!(patient_id = %job.patient, kind, "an included resource of a kind Carry does not show; not kept");
            return None;
        }
        Err(e) => {
            // Without an id, or not JSON: counted as missing (the ids fall short of the
            // total). Another patient's: never kept.
            tracing::warn!(patient_id = %job.patient, error = %e, "a resource from the shared care record was not kept");
            return None;
        }
    };
    if let Some(reason) = &item.quarantine_reason {
        tracing::warn!(patient_id = %job.patient, resource_type = %item.resource_type, remote_id = %item.remote_id, reason = %reason, "a resource from the shared care record is quarantined");
    }
    Some(item)
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
