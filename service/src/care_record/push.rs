//! Sending accepted entries to the shared care record: the outbox worker.
//!
//! A row is claimed with a lease, its entry's accepted version is read, the record's Patient
//! there is found (or checked), and one idempotent transaction is sent (see `fhir::push`).
//! Whatever happens to the answer, a retry can never duplicate the entry there. Failures back
//! off exponentially with jitter; after [`MAX_ATTEMPTS`] (or at once, for an answer that a
//! retry cannot change) the row goes to the dead-letter list. Nothing is ever dropped.

use super::client::{CareRecordClient, RemoteError};
use crate::error::ServiceResult;
use crate::Services;
use domain::access::{Permit, Refusal};
use domain::audit::{AuditEvent, Category, Door, Touch, CARE_RECORD_NAME};
use domain::{PatientId, Span};
use fhir::patient::Match;
use fhir::push::{EnteredBy, PushEntry};
use rand::Rng;
use std::time::Duration;
use store::care_record::{self as outbox, CareRecordPatientRow, OutboxRow};
use store::links::LinkRow;
use store::{entries, grants, links, patients};

/// How long a claimed row stays reserved for the worker that claimed it.
pub const LEASE: Span = Span::seconds(60);
/// Tries before a row goes to the dead-letter list.
pub const MAX_ATTEMPTS: i64 = 10;
/// The longest wait between tries.
const MAX_BACKOFF: Span = Span::hours(1);

/// What became of one try.
enum Outcome {
    /// Sent, with the remote reference, under the permit the policy gave the shared care record.
    Sent(Option<String>, Box<Permit>),
    Retry(String, Option<Duration>),
    Fail(String),
}

impl Services {
    /// Sends every outbox row that is due now, one at a time. Returns how many were sent.
    /// Without a shared care record configured it does nothing (rows wait).
    pub async fn send_due_to_care_record(&self) -> ServiceResult<usize> {
        let Some(client) = self.care_record_client() else { return Ok(0) };
        let mut sent = 0;
        loop {
            let now = self.now();
            let claimed = {
                let mut tx = self.db().begin().await?;
                let row = outbox::claim_due_outbox(&mut tx, now, now.plus(LEASE)).await?;
                tx.commit().await?;
                row
            };
            let Some(row) = claimed else { return Ok(sent) };
            let outcome = self.push_one(client, &row).await?;
            let mut tx = self.db().begin().await?;
            let now = self.now();
            match outcome {
                Outcome::Sent(remote, permit) => {
                    outbox::update_outbox_sent(&mut tx, &row.id, remote.as_deref(), now).await?;
                    store::audit::append(&mut tx, &self.sent_event(&row, Ok(&permit))).await?;
                    sent += 1;
                }
                Outcome::Retry(error, _) if row.attempts >= MAX_ATTEMPTS => {
                    tracing::warn!(outbox_id = %row.id, attempts = row.attempts, "care record send gave up; in the dead-letter list");
                    outbox::update_outbox_failed(&mut tx, &row.id, &error, now).await?;
                }
                Outcome::Retry(error, asked) => {
                    let next = now.plus(backoff(row.attempts, asked));
                    tracing::info!(outbox_id = %row.id, attempts = row.attempts, "care record send failed; will retry");
                    outbox::update_outbox_retry(&mut tx, &row.id, &error, next, now).await?;
                }
                Outcome::Fail(error) => {
                    tracing::warn!(outbox_id = %row.id, "care record send refused; in the dead-letter list");
                    outbox::update_outbox_failed(&mut tx, &row.id, &error, now).await?;
                }
            }
            tx.commit().await?;
        }
    }

    /// Runs the care record worker until the task is dropped: sends what is due, pulls the
    /// records that are due, then sleeps until woken (an acceptance, a patient asking for an
    /// update) or for a few seconds (retries, other servers' rows).
    pub async fn run_care_record_worker(self) {
        // Items pulled before Carry read them as it does now are hidden until read again, with
        // or without a shared care record connected now.
        match self.reread_synced_items().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(items = n, "synced items read again as Carry reads them now"),
            Err(e) => tracing::error!(error = %e, "synced items could not be read again; they stay hidden"),
        }
        if self.care_record_client().is_none() {
            return;
        }
        let wakeup = self.inner_care_record_wakeup();
        loop {
            if let Err(e) = self.send_due_to_care_record().await {
                tracing::error!(error = %e, "care record send pass failed");
            }
            if let Err(e) = self.pull_due_from_care_record().await {
                tracing::error!(error = %e, "care record pull pass failed");
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), wakeup.notified()).await;
        }
    }

    async fn push_one(&self, client: &CareRecordClient, row: &OutboxRow) -> ServiceResult<Outcome> {
        let mut conn = self.db().conn().await?;
        // The shared care record reads what the patient shared with a practice the record is
        // linked to, by the same policy as every other reader.
        let permit = match self.open_for_system(&mut conn, row.patient_id).await? {
            Ok(permit) => permit,
            Err(refusal) => {
                drop(conn);
                self.log(self.sent_event(row, Err(&refusal))).await?;
                return Ok(Outcome::Fail(format!("the record may not be sent: {}", refusal.reason().words())));
            }
        };
        let versions = entries::list_versions(&mut conn, &permit, row.entry_id).await?;
        let Some(version) = versions.into_iter().find(|v| v.version == row.entry_version) else {
            return Ok(Outcome::Fail("the accepted version of the entry is missing".to_owned()));
        };
        let Some(entry) = entries::find_entry(&mut conn, &permit, row.entry_id).await? else {
            return Ok(Outcome::Fail("the entry is missing".to_owned()));
        };
        let patient = match self.remote_patient(client, &mut conn, row).await? {
            Ok(id) => id,
            Err(outcome) => return Ok(outcome),
        };
        let owner = patients::find_patient(&mut conn, row.patient_id).await?.and_then(|p| p.user_id);
        let entered_by = who_entered(&mut conn, row.patient_id, owner, entry.entered_by, &entry.entered_by_name).await?;
        let changed_by = who_entered(&mut conn, row.patient_id, owner, version.changed_by, &version.changed_by_name).await?;
        drop(conn);
        let entry_system = self.config().identifier_system("entry");
        let carer_system = self.config().identifier_system("carer");
        let bundle = match fhir::push::transaction(&PushEntry {
            entry_system: &entry_system,
            carer_system: &carer_system,
            entry_id: row.entry_id,
            first: !row.earlier_sent,
            version: row.entry_version,
            patient_id: &patient,
            body: &version.state.body,
            occurred_at: version.state.occurred_at,
            entered_by: &entered_by,
            changed_by: &changed_by,
            accepted_by: &row.accepted_by_name,
            accepted_at: row.accepted_at,
        }) {
            Ok(b) => b,
            Err(e) => return Ok(Outcome::Fail(e.to_string())),
        };
        // The claim counts this try, so a first try has 1. Only after an earlier try (one that
        // failed, or a worker killed in flight) is there anything to look for.
        if row.attempts > 1 || row.last_error.is_some() {
            // That try may have been committed although its answer never came (a slow server,
            // a lost connection): then it is sent, and is not written again.
            if let Some(sent) = self.already_sent(client, row, &entry_system, &bundle).await {
                tracing::info!(outbox_id = %row.id, "the shared care record already holds this version; not sent again");
                return Ok(Outcome::Sent(sent, Box::new(permit)));
            }
        }
        let main = bundle.entry.iter().position(|e| e.full_url.as_deref() == Some(&format!("urn:uuid:{}", row.entry_id)));
        Ok(match client.transaction(&bundle).await {
            Ok(body) => match fhir::response::read_transaction_response(&body, bundle.entry.len()) {
                Ok(refs) => Outcome::Sent(main.and_then(|i| refs.get(i).cloned().flatten()), Box::new(permit)),
                // A 200 whose body is not the answer it should be: the server may or may not have
                // committed. A retry is safe either way.
                Err(e) => Outcome::Retry(e.to_string(), None),
            },
            Err(RemoteError::Transient(e, wait)) => Outcome::Retry(e, wait),
            Err(RemoteError::Permanent(e)) => Outcome::Fail(e),
        })
    }

    /// Whether an earlier try of this version was committed: its Provenance (whose id Carry
    /// chose, one per version, written in the same transaction) is there. Returns the entry's
    /// reference there. `None` when it is not there, or when that cannot be told (then sending
    /// again is safe: every write in the transaction is conditional or by Carry's own id).
    async fn already_sent(
        &self,
        client: &CareRecordClient,
        row: &OutboxRow,
        entry_system: &str,
        bundle: &fhir::model::Bundle,
    ) -> Option<Option<String>> {
        let provenance = fhir::push::provenance_id(row.entry_id, row.entry_version);
        let found = client.get(&format!("Provenance/{provenance}")).await.ok()?;
        if found["resourceType"].as_str() != Some("Provenance") {
            return None;
        }
        let rtype = bundle.entry.iter().find_map(|e| {
            let r = e.resource.as_ref()?;
            (e.full_url.as_deref() == Some(&format!("urn:uuid:{}", row.entry_id))).then(|| r["resourceType"].as_str().map(str::to_owned))?
        })?;
        let search = format!(
            "{rtype}?identifier={}",
            url::form_urlencoded::byte_serialize(format!("{entry_system}|{}", row.entry_id).as_bytes()).collect::<String>()
        );
        let page = client.get(&search).await.ok()?;
        let id = page["entry"].as_array()?.first()?["resource"]["id"].as_str()?.to_owned();
        Some(Some(format!("{rtype}/{id}")))
    }

    /// The record's Patient id on the shared care record, for a send of `row`'s practice.
    async fn remote_patient(
        &self,
        client: &CareRecordClient,
        conn: &mut store::Conn,
        row: &OutboxRow,
    ) -> ServiceResult<Result<String, Outcome>> {
        let link = links::find_link(conn, row.patient_id)
            .await?
            .filter(|l| l.practice.id == row.practice_id && l.status == domain::practices::LinkStatus::Linked);
        let Some(link) = link else {
            return Ok(Err(Outcome::Fail("the record is no longer linked to this practice".to_owned())));
        };
        Ok(match self.match_remote_patient(client, row.patient_id, &link).await? {
            MatchOutcome::Matched(id) => Ok(id),
            MatchOutcome::Retry(e, wait) => Err(Outcome::Retry(e, wait)),
            MatchOutcome::Held(reason) => Err(Outcome::Fail(reason)),
        })
    }

    /// The record's Patient id on the shared care record: known, or found now by NHS number
    /// and checked on name and date of birth. A match in doubt is quarantined: nothing is sent
    /// or pulled for that record until a person has resolved it.
    pub(crate) async fn match_remote_patient(
        &self,
        client: &CareRecordClient,
        patient: PatientId,
        link: &LinkRow,
    ) -> ServiceResult<MatchOutcome> {
        // NHS number, date of birth and full name, never fewer: a link verified before Carry
        // asked for a date of birth waits for the patient to give one.
        let Some(born_on) = link.born_on.clone() else {
            return Ok(MatchOutcome::Held(NO_BIRTH_DATE.to_owned()));
        };
        {
            let mut conn = self.db().conn().await?;
            // A match is reused only if it was made on these details (one made without a date
            // of birth, before Carry kept one, is made again).
            if let Some(known) = outbox::find_care_record_patient(&mut conn, patient)
                .await?
                .filter(|k| k.nhs_number == link.nhs_number && k.born_on.as_deref() == Some(&born_on))
            {
                return Ok(match (known.remote_id, known.quarantine_reason) {
                    (Some(id), None) => MatchOutcome::Matched(id),
                    (_, reason) => MatchOutcome::Held(format!("held for a person to check: {}", reason.unwrap_or_default())),
                });
            }
        }
        let search = format!("Patient?identifier={}|{}", fhir::NHS_NUMBER, link.nhs_number);
        let bundle = match client.get(&search).await {
            Ok(json) => match serde_json::from_value::<fhir::model::Bundle>(json) {
                Ok(b) => b,
                Err(_) => return Ok(MatchOutcome::Retry("the patient search answer is not a Bundle".to_owned(), None)),
            },
            Err(RemoteError::Transient(e, wait)) => return Ok(MatchOutcome::Retry(e, wait)),
            Err(RemoteError::Permanent(e)) => return Ok(MatchOutcome::Held(e)),
        };
        let now = self.now();
        let mut record = CareRecordPatientRow {
            patient_id: patient,
            nhs_number: link.nhs_number.clone(),
            born_on: Some(born_on.clone()),
            remote_id: None,
            quarantine_reason: None,
            checked_at: now,
        };
        let mut conn = self.db().conn().await?;
        match fhir::patient::match_patient(&bundle, &link.nhs_number, &link.patient_name, &born_on) {
            Match::Same { id } => {
                record.remote_id = Some(id.clone());
                outbox::upsert_care_record_patient(&mut conn, &record, now).await?;
                Ok(MatchOutcome::Matched(id))
            }
            Match::Quarantined { reason } => {
                tracing::warn!(patient_id = %patient, "shared care record match quarantined");
                record.quarantine_reason = Some(reason.clone());
                outbox::upsert_care_record_patient(&mut conn, &record, now).await?;
                Ok(MatchOutcome::Held(format!("held for a person to check: {reason}")))
            }
            // Not there yet (a new registration can take a while to reach it): keep trying.
            Match::NotFound => Ok(MatchOutcome::Retry("no patient with this NHS number in the shared care record yet".to_owned(), None)),
        }
    }
}

/// Why a record verified before Carry asked for a date of birth is neither pulled nor sent.
pub(crate) const NO_BIRTH_DATE: &str = "waiting for the patient to give their date of birth on their practice page";

/// What looking up a record's Patient on the shared care record gave.
pub(crate) enum MatchOutcome {
    /// The Patient's id there.
    Matched(String),
    /// Not now (the network, the server, or no such patient yet): try again later.
    Retry(String, Option<Duration>),
    /// Held for a person (the match is in doubt).
    Held(String),
}

/// How the shared care record names someone who wrote to the record: the patient (the record's
/// owner), or a carer under their own name, as a RelatedPerson keyed by their grant.
async fn who_entered(
    conn: &mut store::Conn,
    patient: domain::PatientId,
    owner: Option<domain::UserId>,
    user: domain::UserId,
    name: &str,
) -> ServiceResult<EnteredBy> {
    if Some(user) == owner {
        return Ok(EnteredBy::Patient);
    }
    let held = grants::held_on_record(conn, patient, user).await?;
    Ok(match held.first() {
        Some(g) => EnteredBy::Carer { key: g.id.to_string(), name: name.to_owned(), relationship: g.relationship.code().to_owned() },
        // Neither the owner nor a carer (a parent's record for a child before the young person
        // took it): the person who entered it is still a related person.
        None => EnteredBy::Patient,
    })
}

/// 2^attempts seconds (at most an hour), or what the server asked for if longer, with up to a
/// quarter more at random so that many rows failing together do not retry together.
fn backoff(attempts: i64, asked: Option<Duration>) -> Span {
    let exp = u32::try_from(attempts.clamp(0, 12)).unwrap_or(12);
    let base = Span::seconds(1i64 << exp).min(MAX_BACKOFF);
    let asked = asked.map_or(Span::millis(0), |d| Span::millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).min(MAX_BACKOFF));
    let base = base.max(asked);
    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() / 4);
    Span::millis(base.as_millis() + jitter)
}

impl Services {
    /// The patient's access log row for a sent entry: the regional care record system received
    /// it (or was refused it).
    fn sent_event(&self, row: &OutboxRow, answer: Result<&Permit, &Refusal>) -> AuditEvent {
        let touch = Touch::item(Category::Entry, row.entry_id);
        self.system_event(CARE_RECORD_NAME, Door::Sync, format!("care-record-outbox:{}", row.id), answer, &touch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_with_at_most_a_quarter_of_jitter() {
        for attempts in 0..20 {
            let exp = attempts.min(12);
            let base = (1000i64 << exp).min(3_600_000);
            let wait = backoff(attempts, None).as_millis();
            assert!(wait >= base && wait <= base + base / 4, "attempt {attempts}: {wait} ms");
        }
    }

    #[test]
    fn backoff_waits_at_least_as_long_as_the_server_asked() {
        let wait = backoff(0, Some(Duration::from_secs(120))).as_millis();
        assert!((120_000..=150_000).contains(&wait), "{wait}");
    }
}
