//! Pulling the record the NHS holds from the shared care record.
//!
//! Each linked record has a pull (`care_record_sync`), claimed with a lease so two servers
//! never pull one record at once. A pull finds the record's Patient there by NHS number (a
//! match in doubt is held, never merged), then for each kind of resource:
//! - fetches what changed since the watermark less an overlap ([`fetch`]): by `next` links as
//!   given, or, from a server that gives none although `Bundle.total` says more exist, by
//!   narrowing `_lastUpdated` windows; upserting by id and version;
//! - removes what the server deleted ([`deletions`]): from type-level `_history` where the
//!   CapabilityStatement offers it (read once for the records one pass pulls: [`history`]),
//!   else by comparing the ids held with the ids it holds.
//!
//! A kind that fails does not stop the others. The watermark is saved only when every kind
//! succeeded, so a pull that failed part-way is done again, later each time. It is in the other
//! server's clock: when the pull started there, as the `Date` of its answers tells it (see
//! `clock`), so the next pull reads only what changed since (less the overlap), however long
//! ago the record last changed; from a server whose `Date` Carry does not trust, the largest
//! `meta.lastUpdated` the pull saw. A pull whose counts do not agree is saved as
//! incomplete, saying what is missing: the patient's page and the practice's administrators see it.

mod deletions;
mod fetch;
mod history;
mod reread;

use super::client::{CareRecordClient, RemoteError};
use super::push::MatchOutcome;
use crate::error::ServiceResult;
use crate::Services;
use domain::audit::{AuditEvent, CarryJob, Category, Touch};
use domain::{PatientId, Span};
use fhir::pull::{self, PULLED_TYPES};
use fhir::security::SecurityRules;
use rand::Rng;
use store::synced::{self, SyncRow};
use store::{care_record as outbox, links};

/// How long a claimed pull stays reserved (extended as each kind of resource is done).
pub const PULL_LEASE: Span = Span::minutes(5);
/// How often a record is pulled when nobody asks.
pub const PULL_EVERY: Span = Span::hours(6);
/// How long to wait after a first failed pull; doubled for each failure after it, up to
/// [`PULL_EVERY`].
const RETRY_AFTER: Span = Span::minutes(5);
/// How far before the watermark each search starts, in the other server's clock: resources
/// committed out of order around the watermark are still seen (the upsert makes repeats harmless).
pub const OVERLAP_SECONDS: i64 = 300;
/// How often a running pull saves how far it is (and extends its lease).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Resources asked for per page.
const PAGE: u32 = 100;
/// Requests per kind of resource at most (a server whose `next` links never end, or that
/// ignores `_lastUpdated`, cannot hold a worker).
const MAX_REQUESTS: usize = 2_000;

/// Why a pull stopped.
enum Stop {
    /// Try again later.
    Failed(String),
    /// Held for a person (the match is in doubt) or nothing to match (not linked).
    Held(String),
}

impl Stop {
    /// Its words, for the pull's list of failures.
    fn words(self) -> String {
        match self {
            Stop::Failed(why) | Stop::Held(why) => why,
        }
    }
}

impl From<RemoteError> for Stop {
    fn from(e: RemoteError) -> Self {
        Stop::Failed(e.text().to_owned())
    }
}

/// What one record's pull is about: the record here and there, and how to read what comes.
struct Pulling<'a> {
    client: &'a CareRecordClient,
    patient: PatientId,
    remote: String,
    entry_system: String,
    rules: SecurityRules,
    /// What this pass has read of each type's history, shared by the records it pulls.
    history: &'a history::HistoryMemo,
    /// The types the record held items of when its pull began (read once: an incremental
    /// pull of a record that holds no items of a type need not look for their deletions).
    held_types: std::collections::HashSet<String>,
}

/// What a pull that ran to its end found.
struct Pulled {
    /// The new watermark (None when something is missing, or when nothing was seen from a
    /// server without a trusted `Date`).
    watermark: Option<String>,
    /// What it could not fetch, in words (None when every count agreed).
    missing: Option<String>,
}

/// What pulling one kind of resource did.
struct Kind {
    changed: u64,
    newest: Option<String>,
    missing: Option<String>,
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
        let history = history::HistoryMemo::default();
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
            let result = self.pull_record(client, &row, &history).await?;
            let mut conn = self.db().conn().await?;
            let now = self.now();
            match result {
                Ok(pulled) => {
                    if let Some(missing) = &pulled.missing {
                        tracing::warn!(patient_id = %row.patient_id, missing = %missing, "care record pull incomplete: the counts do not agree");
                    }
                    synced::update_sync_done(
                        &mut conn,
                        row.patient_id,
                        pulled.watermark.as_deref(),
                        pulled.missing.as_deref(),
                        now.plus(PULL_EVERY),
                        now,
                    )
                    .await?;
                    finished += 1;
                }
                Err(Stop::Failed(why)) => {
                    let wait = retry_after(row.failures);
                    tracing::warn!(patient_id = %row.patient_id, failures = row.failures + 1, error = %why, "care record pull failed; will retry");
                    synced::update_sync_failed(&mut conn, row.patient_id, &why, now.plus(wait), now).await?;
                }
                Err(Stop::Held(why)) => {
                    synced::update_sync_failed(&mut conn, row.patient_id, &why, now.plus(PULL_EVERY), now).await?;
                }
            }
        }
    }

    /// One record's pull.
    async fn pull_record(
        &self,
        client: &CareRecordClient,
        row: &SyncRow,
        history: &history::HistoryMemo,
    ) -> ServiceResult<Result<Pulled, Stop>> {
        let patient = row.patient_id;
        let started = std::time::Instant::now();
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
        let held_types = synced::held_types(&mut conn, patient, &PULLED_TYPES).await?;
        drop(conn);
        let remote = match self.match_remote_patient(client, patient, &link).await? {
            MatchOutcome::Matched(id) => id,
            MatchOutcome::Retry(why, _) => return Ok(Err(Stop::Failed(why))),
            MatchOutcome::Held(why) => return Ok(Err(Stop::Held(why))),
        };
        let since = watermark.as_deref().and_then(|w| pull::minus_overlap(w, OVERLAP_SECONDS));
        let job = Pulling {
            client,
            patient,
            remote,
            entry_system: self.config().identifier_system("entry"),
            rules: self.security_rules(),
            history,
            held_types,
        };
        let mut newest = watermark.clone();
        let mut changed = 0u64;
        let mut missing = Vec::new();
        let mut failed = Vec::new();
        let mut progress_saved = std::time::Instant::now();
        for (done, rtype) in PULLED_TYPES.iter().enumerate() {
            match self.pull_kind(&job, rtype, since.as_deref()).await? {
                Ok(kind) => {
                    changed += kind.changed;
                    if let Some(seen) = kind.newest {
                        if newest.as_deref().is_none_or(|n| pull::later(&seen, n)) {
                            newest = Some(seen);
                        }
                    }
                    missing.extend(kind.missing);
                }
                Err(why) => failed.push(why),
            }
            // How far it is (the patient's page shows it) and a longer lease, at most once a
            // second: each is a commit, and most kinds take a few milliseconds.
            if progress_saved.elapsed() >= PROGRESS_EVERY {
                let mut conn = self.db().conn().await?;
                let now = self.now();
                synced::update_sync_progress(&mut conn, patient, i64::try_from(done + 1).unwrap_or(0), now.plus(PULL_LEASE), now).await?;
                progress_saved = std::time::Instant::now();
            }
        }
        if changed > 0 {
            self.log(sync_event(patient, self.now())).await?;
        }
        if !failed.is_empty() {
            return Ok(Err(Stop::Failed(failed.join("; "))));
        }
        if !missing.is_empty() {
            // What is missing is older than what was seen: the next pull starts where this one did.
            return Ok(Ok(Pulled { watermark: None, missing: Some(missing.join("; ")) }));
        }
        // Everything changed before the pull started there has been read (or is inside the
        // next pull's overlap): that is the watermark.
        let watermark = client.server_time_at(started).map(fhir::instant).or(newest);
        Ok(Ok(Pulled { watermark, missing: None }))
    }

    /// One kind of resource: what changed since `since`, then what was deleted.
    async fn pull_kind(&self, job: &Pulling<'_>, rtype: &str, since: Option<&str>) -> ServiceResult<Result<Kind, String>> {
        let fetched = match self.fetch_type(job, rtype, since, fetch::Asking::Resources).await? {
            Ok(f) => f,
            Err(why) => return Ok(Err(why)),
        };
        // A full pull's complete search already says which ids the server holds.
        let complete_ids = (since.is_none() && fetched.missing.is_none()).then_some(&fetched.ids);
        // Nothing held before and nothing stored now: nothing there could have been deleted.
        let holds_any = fetched.changed > 0 || job.held_types.contains(rtype);
        let deleted = match self.apply_deletions(job, rtype, since, complete_ids, holds_any).await? {
            Ok(d) => d,
            Err(why) => return Ok(Err(why)),
        };
        let missing: Vec<String> = fetched.missing.into_iter().chain(deleted.unchecked).collect();
        Ok(Ok(Kind {
            changed: fetched.changed + deleted.removed,
            newest: fetched.newest,
            missing: (!missing.is_empty()).then(|| missing.join("; ")),
        }))
    }

    /// The connection's security settings (which codes mean social care); the defaults when no
    /// shared care record is configured.
    pub(crate) fn security_rules(&self) -> SecurityRules {
        self.config().care_record.as_ref().map(|c| c.security.clone()).unwrap_or_default()
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

/// The wait after a pull's `failures`-th failure in a row: 5 minutes, doubled each time, at
/// most [`PULL_EVERY`], with up to a quarter more at random so records spread out.
fn retry_after(failures: i64) -> Span {
    let exp = u32::try_from(failures.clamp(0, 10)).unwrap_or(10);
    let base = RETRY_AFTER.as_millis().saturating_mul(1_i64 << exp).min(PULL_EVERY.as_millis());
    let jitter = rand::thread_rng().gen_range(0..=base / 4);
    Span::millis(base + jitter)
}

/// The patient's access log row for a pull that changed their NHS record in Carry.
fn sync_event(patient: PatientId, at: domain::Timestamp) -> AuditEvent {
    let request_id = format!("care-record-pull:{patient}:{}", at.as_millis());
    AuditEvent::carry_job(patient, CarryJob::CareRecordPull, &Touch::of(Category::NhsRecord), at, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_pulls_wait_longer_each_time_up_to_the_usual_interval() {
        for failures in 0..20 {
            let wait = retry_after(failures).as_millis();
            let base = (RETRY_AFTER.as_millis() << failures.min(10)).min(PULL_EVERY.as_millis());
            assert!((base..=base + base / 4).contains(&wait), "{failures}: {wait}");
        }
    }
}
