//! Pulling the record the NHS holds from the shared care record.
//!
//! Each linked record has a pull (`care_record_sync`), claimed with a lease so two servers
//! never pull one record at once. A pull finds the record's Patient there by NHS number (a
//! match in doubt is held, never merged), then for each kind of resource: applies deletions
//! from `_history` since the watermark, and searches by patient and `_lastUpdated` from the
//! watermark less an overlap, following `next` links as given and upserting by id and version.
//! The watermark is the largest `meta.lastUpdated` seen, in the other server's clock, saved
//! only when the whole pull succeeded, so a pull that fails part-way is simply done again.

use super::client::{CareRecordClient, RemoteError};
use super::push::MatchOutcome;
use crate::error::ServiceResult;
use crate::Services;
use domain::audit::{AuditEvent, CarryJob, Category, Touch};
use domain::care_record::Confidentiality;
use domain::{PatientId, Span};
use fhir::model::Bundle;
use fhir::pull::{self, PulledItem, PULLED_TYPES};
use fhir::security::SecurityRules;
use rand::Rng;
use std::collections::HashSet;
use store::synced::{self, ItemRow, SyncRow};
use store::{care_record as outbox, links};

/// How long a claimed pull stays reserved (extended as each kind of resource is done).
pub const PULL_LEASE: Span = Span::minutes(5);
/// How often a record is pulled when nobody asks.
pub const PULL_EVERY: Span = Span::hours(6);
/// How long to wait after a failed pull.
const RETRY_AFTER: Span = Span::minutes(5);
/// How far before the watermark each search starts, in the other server's clock: resources
/// committed out of order around the watermark are still seen (the upsert makes repeats harmless).
pub const OVERLAP_SECONDS: i64 = 300;
/// Resources asked for per page.
const PAGE: u32 = 100;
/// Pages followed per search at most (a server whose `next` links never end cannot hold a worker).
const MAX_PAGES: usize = 2_000;

/// Why a pull stopped.
enum Stop {
    /// Try again later.
    Failed(String),
    /// Held for a person (the match is in doubt) or nothing to match (not linked).
    Held(String),
}

impl From<RemoteError> for Stop {
    fn from(e: RemoteError) -> Self {
        Stop::Failed(e.text().to_owned())
    }
}

impl Services {
    /// Pulls every record whose pull is due, one at a time. Returns how many finished. Without
    /// a shared care record configured it does nothing.
    pub async fn pull_due_from_care_record(&self) -> ServiceResult<usize> {
        let Some(client) = self.care_record_client() else { return Ok(0) };
        {
            let mut conn = self.db().conn().await?;
            synced::insert_missing_syncs(&mut conn, self.now()).await?;
        }
        let total = i64::try_from(PULLED_TYPES.len()).unwrap_or(i64::MAX);
        let mut finished = 0;
        loop {
            let now = self.now();
            let claimed = {
                let mut tx = self.db().begin().await?;
                let row = synced::claim_due_sync(&mut tx, now, now.plus(PULL_LEASE), total).await?;
                tx.commit().await?;
                row
            };
            let Some(row) = claimed else { return Ok(finished) };
            let result = self.pull_record(client, &row).await?;
            let mut conn = self.db().conn().await?;
            let now = self.now();
            match result {
                Ok(watermark) => {
                    synced::update_sync_done(&mut conn, row.patient_id, watermark.as_deref(), now.plus(PULL_EVERY), now).await?;
                    finished += 1;
                }
                Err(Stop::Failed(why)) => {
                    tracing::info!(patient_id = %row.patient_id, "care record pull failed; will retry");
                    let jitter = rand::thread_rng().gen_range(0..=RETRY_AFTER.as_millis() / 4);
                    synced::update_sync_failed(&mut conn, row.patient_id, &why, now.plus(RETRY_AFTER).plus(Span::millis(jitter)), now)
                        .await?;
                }
                Err(Stop::Held(why)) => {
                    synced::update_sync_failed(&mut conn, row.patient_id, &why, now.plus(PULL_EVERY), now).await?;
                }
            }
        }
    }

    /// One record's pull. Returns the new watermark (None when nothing was seen).
    async fn pull_record(&self, client: &CareRecordClient, row: &SyncRow) -> ServiceResult<Result<Option<String>, Stop>> {
        let patient = row.patient_id;
        let mut conn = self.db().conn().await?;
        let Some(link) = links::find_link(&mut conn, patient).await?.filter(|l| l.status == domain::practices::LinkStatus::Linked) else {
            // No longer linked: what was pulled can no longer be vouched for.
            synced::delete_items_of(&mut conn, patient).await?;
            synced::reset_sync(&mut conn, patient, self.now()).await?;
            return Ok(Err(Stop::Held("the record is not linked to a GP practice".to_owned())));
        };
        let known = outbox::find_care_record_patient(&mut conn, patient).await?;
        let mut watermark = row.watermark.clone();
        if known.as_ref().is_some_and(|k| k.nhs_number != link.nhs_number) {
            // The NHS number changed: start again from nothing.
            synced::delete_items_of(&mut conn, patient).await?;
            outbox::delete_care_record_patient(&mut conn, patient).await?;
            watermark = None;
        }
        drop(conn);
        let remote = match self.match_remote_patient(client, patient, &link).await? {
            MatchOutcome::Matched(id) => id,
            MatchOutcome::Retry(why, _) => return Ok(Err(Stop::Failed(why))),
            MatchOutcome::Held(why) => return Ok(Err(Stop::Held(why))),
        };
        let since = watermark.as_deref().and_then(|w| pull::minus_overlap(w, OVERLAP_SECONDS));
        let entry_system = self.config().identifier_system("entry");
        let rules = self.security_rules();
        let mut newest = watermark.clone();
        let mut changed = 0u64;
        for (done, rtype) in PULLED_TYPES.iter().enumerate() {
            if let Some(since) = &since {
                match self.apply_deletions(client, patient, rtype, since).await? {
                    Ok(n) => changed += n,
                    Err(stop) => return Ok(Err(stop)),
                }
            }
            let mut next = Some(pull::search_path(rtype, &remote, since.as_deref(), PAGE));
            let mut pages = 0;
            while let Some(path) = next.take() {
                pages += 1;
                if pages > MAX_PAGES {
                    return Ok(Err(Stop::Failed(format!("the {rtype} search did not end after {MAX_PAGES} pages"))));
                }
                let bundle = match client.get(&path).await.map(serde_json::from_value::<Bundle>) {
                    Ok(Ok(b)) => b,
                    Ok(Err(_)) => return Ok(Err(Stop::Failed(format!("the {rtype} search answer is not a Bundle")))),
                    Err(e) => return Ok(Err(e.into())),
                };
                let mut tx = self.db().begin().await?;
                let now = self.now();
                for resource in bundle.entry.iter().filter_map(|e| e.resource.as_ref()) {
                    let item = match pull::read_item(resource, &remote, &entry_system, &rules) {
                        Ok(item) => item,
                        Err(pull::PullError::OtherPatient(kind)) => {
                            tracing::warn!(patient_id = %patient, kind, "the shared care record answered with another patient's resource; ignored");
                            continue;
                        }
                        // Included resources of other kinds, OperationOutcomes: not shown.
                        Err(_) => continue,
                    };
                    if let Some(updated) = &item.last_updated {
                        if newest.as_deref().is_none_or(|n| pull::later(updated, n)) {
                            newest = Some(updated.clone());
                        }
                    }
                    let json = serde_json::to_string(resource).unwrap_or_default();
                    if synced::upsert_item(&mut tx, patient, &item_row(item), &json, now).await? {
                        changed += 1;
                    }
                }
                tx.commit().await?;
                next = bundle.next_link().map(str::to_owned);
            }
            let mut conn = self.db().conn().await?;
            let now = self.now();
            synced::update_sync_progress(&mut conn, patient, i64::try_from(done + 1).unwrap_or(0), now.plus(PULL_LEASE), now).await?;
        }
        if changed > 0 {
            self.log(sync_event(patient, self.now())).await?;
        }
        Ok(Ok(newest))
    }

    /// Removes what the shared care record deleted since `since` (one kind). History is newest
    /// first: the newest version of each id decides, and paging stops at versions older than
    /// `since` (some servers' `next` links drop `_since`).
    async fn apply_deletions(
        &self,
        client: &CareRecordClient,
        patient: PatientId,
        rtype: &str,
        since: &str,
    ) -> ServiceResult<Result<u64, Stop>> {
        let mut next = Some(pull::history_path(rtype, since, PAGE));
        let mut seen = HashSet::new();
        let mut gone = Vec::new();
        let mut pages = 0;
        'pages: while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Ok(Err(Stop::Failed(format!("the {rtype} history did not end after {MAX_PAGES} pages"))));
            }
            let bundle = match client.get(&path).await.map(serde_json::from_value::<Bundle>) {
                Ok(Ok(b)) => b,
                Ok(Err(_)) => return Ok(Err(Stop::Failed(format!("the {rtype} history answer is not a Bundle")))),
                Err(e) => return Ok(Err(e.into())),
            };
            for entry in &bundle.entry {
                let modified = entry.response.as_ref().and_then(|r| r.last_modified.as_deref());
                if modified.is_some_and(|m| pull::later(since, m)) {
                    break 'pages;
                }
                let key = entry
                    .request
                    .as_ref()
                    .and_then(|r| fhir::response::type_and_id(&r.url))
                    .or_else(|| entry.full_url.as_deref().and_then(fhir::response::type_and_id));
                // The newest version of each resource decides: a deletion undone since is kept.
                if key.is_some_and(|k| seen.insert(k)) {
                    gone.extend(pull::deletion(entry));
                }
            }
            next = bundle.next_link().map(str::to_owned);
        }
        let mut tx = self.db().begin().await?;
        let mut removed = 0;
        for key in gone {
            if let Some((t, id)) = key.split_once('/') {
                if synced::delete_item(&mut tx, patient, t, id).await? {
                    removed += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(Ok(removed))
    }

    /// The connection's security settings (which codes mean social care); the defaults when no
    /// shared care record is configured.
    fn security_rules(&self) -> SecurityRules {
        self.config().care_record.as_ref().map(|c| c.security.clone()).unwrap_or_default()
    }

    /// Reads again, with the full mapping of security codes, every item pulled before Carry
    /// kept who may see it. Until then nobody sees those items. Returns how many were read.
    pub async fn reclassify_synced_items(&self) -> ServiceResult<usize> {
        const BATCH: i64 = 500;
        let rules = self.security_rules();
        let mut done = 0;
        loop {
            let mut tx = self.db().begin().await?;
            let rows = synced::list_unchecked_items(&mut tx, BATCH).await?;
            if rows.is_empty() {
                return Ok(done);
            }
            let now = self.now();
            for (patient, rtype, id, json) in &rows {
                // A stored resource that no longer parses is kept from everyone but clinicians.
                let security = match serde_json::from_str::<serde_json::Value>(json) {
                    Ok(resource) => {
                        let s = fhir::security::read_security(&resource, &rules);
                        synced::ItemSecurity { label: s.label, confidentiality: s.confidentiality, codes: s.codes }
                    }
                    Err(_) => {
                        tracing::warn!(patient_id = %patient, resource_type = %rtype, "a stored synced resource does not parse; kept from all but clinicians");
                        synced::ItemSecurity {
                            label: domain::PrivacyLabel::General,
                            confidentiality: Confidentiality::NoPatient,
                            codes: Vec::new(),
                        }
                    }
                };
                synced::update_item_security(&mut tx, *patient, rtype, id, &security, now).await?;
            }
            tx.commit().await?;
            done += rows.len();
        }
    }

    /// Makes a record's pull due now and wakes the worker.
    pub(crate) async fn request_pull(&self, patient: PatientId) -> ServiceResult<()> {
        let mut conn = self.db().conn().await?;
        synced::request_sync(&mut conn, patient, self.now()).await?;
        drop(conn);
        self.wake_care_record();
        Ok(())
    }
}

fn item_row(i: PulledItem) -> ItemRow {
    ItemRow {
        resource_type: i.resource_type,
        remote_id: i.id,
        version_id: i.version_id,
        last_updated: i.last_updated,
        section: i.section,
        title: i.title,
        detail: i.detail,
        occurred: i.date,
        source: i.source,
        origin: i.origin,
        label: i.label,
        confidentiality: i.confidentiality,
        security_codes: i.security_codes,
        measure: i.measure.map(|m| (m.code, m.value, m.unit)),
    }
}

/// The patient's access log row for a pull that changed their NHS record in Carry.
fn sync_event(patient: PatientId, at: domain::Timestamp) -> AuditEvent {
    let request_id = format!("care-record-pull:{patient}:{}", at.as_millis());
    AuditEvent::carry_job(patient, CarryJob::CareRecordPull, &Touch::of(Category::NhsRecord), at, request_id)
}
