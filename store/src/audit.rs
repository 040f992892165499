//! The access log: append-only, one SHA-256 hash chain per patient.
//!
//! Each row's hash covers every other column of the row and the hash of the row before it in
//! its chain; `audit_heads` keeps each chain's newest sequence number and hash. Appending takes
//! the chain's head row for update (a row lock on PostgreSQL; SQLite's single writer), so two
//! servers never fork a chain. The database refuses updates and deletions by trigger, and
//! [`verify`] recomputes every chain, so tampering by someone who gets past the triggers is
//! found: an edited row fails its own hash, a deleted or swapped row breaks the links, and a
//! truncated chain no longer reaches its head.

use crate::error::parse_id;
use crate::{Conn, StoreError, StoreResult};
use domain::access::Permit;
use domain::access::{DenyReason, Role};
use domain::audit::{action_from_slug, action_slug, AuditEvent, Category, Door, LoggedEvent};
use domain::{Timestamp, UserId};
use sha2::{Digest, Sha256};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The chain of refusals that named no existing record.
pub const NO_PATIENT_CHAIN: &str = "none";

/// A row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// The patient's id, or [`NO_PATIENT_CHAIN`].
    pub chain: String,
    /// 1, 2, 3... within the chain.
    pub seq: i64,
    /// UTC milliseconds.
    pub at: i64,
    /// The account that asked.
    pub actor_user_id: Option<String>,
    /// Their name then.
    pub actor_name: String,
    /// `domain::access::Role` slug.
    pub role: String,
    /// The patient a carer acted for.
    pub on_behalf_of: Option<String>,
    /// The record.
    pub patient_id: Option<String>,
    /// `domain::audit::Category` slug.
    pub category: String,
    /// The item.
    pub item_id: Option<String>,
    /// Action slug.
    pub action: String,
    /// Door slug.
    pub door: String,
    /// `allowed` or `refused`.
    pub outcome: String,
    /// The refusal's reason slug.
    pub reason: Option<String>,
    /// The request's id.
    pub request_id: String,
    /// The hash of the row before (or [`GENESIS`]).
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

impl AuditRow {
    /// Recomputes the row's hash from its fields and `prev_hash`. Every field is written with
    /// its length, so no two different rows encode alike.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let none = "\u{0}";
        let fields: [&str; 16] = [
            &self.chain,
            &self.seq.to_string(),
            &self.at.to_string(),
            self.actor_user_id.as_deref().unwrap_or(none),
            &self.actor_name,
            &self.role,
            self.on_behalf_of.as_deref().unwrap_or(none),
            self.patient_id.as_deref().unwrap_or(none),
            &self.category,
            self.item_id.as_deref().unwrap_or(none),
            &self.action,
            &self.door,
            &self.outcome,
            self.reason.as_deref().unwrap_or(none),
            &self.request_id,
            &self.prev_hash,
        ];
        h.update(b"carry-audit-v1");
        for f in fields {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The event the row records, if every column reads back.
    pub fn event(&self) -> StoreResult<LoggedEvent> {
        Ok(LoggedEvent {
            at: Timestamp::from_millis(self.at),
            actor: self.actor_user_id.as_deref().map(|u| parse_id("audit_log.actor_user_id", u)).transpose()?,
            actor_name: self.actor_name.clone(),
            role: Role::from_slug(&self.role).ok_or(StoreError::Corrupt { column: "audit_log.role" })?,
            on_behalf_of: self.on_behalf_of.as_deref().map(|p| parse_id("audit_log.on_behalf_of", p)).transpose()?,
            patient: self.patient_id.as_deref().map(|p| parse_id("audit_log.patient_id", p)).transpose()?,
            category: Category::from_slug(&self.category).ok_or(StoreError::Corrupt { column: "audit_log.category" })?,
            item: self.item_id.clone(),
            action: action_from_slug(&self.action).ok_or(StoreError::Corrupt { column: "audit_log.action" })?,
            door: Door::from_slug(&self.door).ok_or(StoreError::Corrupt { column: "audit_log.door" })?,
            refused: match self.outcome.as_str() {
                "allowed" => None,
                "refused" => {
                    Some(self.reason.as_deref().and_then(DenyReason::from_slug).ok_or(StoreError::Corrupt { column: "audit_log.reason" })?)
                }
                _ => return Err(StoreError::Corrupt { column: "audit_log.outcome" }),
            },
            request_id: self.request_id.clone(),
        })
    }
}

/// Appends an event to its patient's chain, in the caller's transaction.
pub async fn append(conn: &mut Conn, ev: &AuditEvent) -> StoreResult<AuditRow> {
    let mut rows = append_all(conn, std::slice::from_ref(ev)).await?;
    rows.pop().ok_or(StoreError::Corrupt { column: "audit_heads.seq" })
}

/// Appends events in the caller's transaction, each chain's in the order given. Each chain's
/// head moves once for all of that chain's events (its row lock is taken once), which is what
/// lets one commit carry many requests' rows.
pub async fn append_all(conn: &mut Conn, events: &[AuditEvent]) -> StoreResult<Vec<AuditRow>> {
    let mut rows: Vec<AuditRow> = events.iter().map(unsealed).collect();
    // Heads are locked in one order (by chain), so two servers appending batches at once
    // cannot deadlock on PostgreSQL; each chain's rows keep the order given.
    let mut chains: Vec<String> = rows.iter().map(|r| r.chain.clone()).collect();
    chains.sort();
    chains.dedup();
    for chain in chains {
        let members: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| r.chain == chain).map(|(i, _)| i).collect();
        let count = i64::try_from(members.len()).map_err(|_| StoreError::Corrupt { column: "audit_heads.seq" })?;
        sqlx::query("insert into audit_heads (chain, seq, hash) values ($1, 0, $2) on conflict do nothing")
            .bind(&chain)
            .bind(GENESIS)
            .execute(&mut *conn)
            .await?;
        // Moving the head first takes its row lock, so the chain cannot fork.
        let (last, mut prev_hash): (i64, String) =
            sqlx::query_as("update audit_heads set seq = seq + $2 where chain = $1 returning seq, hash")
                .bind(&chain)
                .bind(count)
                .fetch_one(&mut *conn)
                .await?;
        let mut seq = last - count;
        for i in members {
            seq += 1;
            let row = &mut rows[i];
            row.seq = seq;
            row.prev_hash = prev_hash;
            row.hash = row.compute_hash();
            prev_hash = row.hash.clone();
            insert_row(conn, row).await?;
        }
        sqlx::query("update audit_heads set hash = $2 where chain = $1").bind(&chain).bind(&prev_hash).execute(&mut *conn).await?;
    }
    Ok(rows)
}

/// The row for an event before its place in the chain is known.
fn unsealed(ev: &AuditEvent) -> AuditRow {
    let ev = ev.logged();
    AuditRow {
        chain: ev.patient.map_or_else(|| NO_PATIENT_CHAIN.to_owned(), |p| p.to_string()),
        seq: 0,
        at: ev.at.as_millis(),
        actor_user_id: ev.actor.map(|u| u.to_string()),
        actor_name: ev.actor_name.clone(),
        role: ev.role.slug().to_owned(),
        on_behalf_of: ev.on_behalf_of.map(|p| p.to_string()),
        patient_id: ev.patient.map(|p| p.to_string()),
        category: ev.category.slug(),
        item_id: ev.item.clone(),
        action: action_slug(ev.action).to_owned(),
        door: ev.door.slug().to_owned(),
        outcome: if ev.refused.is_some() { "refused" } else { "allowed" }.to_owned(),
        reason: ev.refused.map(|r| r.slug().to_owned()),
        request_id: ev.request_id.clone(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

async fn insert_row(conn: &mut Conn, row: &AuditRow) -> StoreResult<()> {
    sqlx::query(
        "insert into audit_log (chain, seq, at, actor_user_id, actor_name, role, on_behalf_of, patient_id, category, item_id, \
         action, door, outcome, reason, request_id, prev_hash, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&row.chain)
    .bind(row.seq)
    .bind(row.at)
    .bind(row.actor_user_id.as_deref())
    .bind(&row.actor_name)
    .bind(&row.role)
    .bind(row.on_behalf_of.as_deref())
    .bind(row.patient_id.as_deref())
    .bind(&row.category)
    .bind(row.item_id.as_deref())
    .bind(&row.action)
    .bind(&row.door)
    .bind(&row.outcome)
    .bind(row.reason.as_deref())
    .bind(&row.request_id)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const SELECT: &str = "select chain, seq, at, actor_user_id, actor_name, role, on_behalf_of, patient_id, category, item_id, action, door, \
                      outcome, reason, request_id, prev_hash, hash from audit_log ";

/// What the patient's log page asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this person's rows.
    pub actor: Option<UserId>,
    /// Everyone's rows but this person's (the patient reading their log, by default).
    pub not_actor: Option<UserId>,
    /// Only refusals.
    pub refused_only: bool,
    /// Only rows before this sequence number (the page before ended there).
    pub before: Option<i64>,
}

/// A page of the permit's record's log, newest first.
pub async fn list_for_patient(conn: &mut Conn, permit: &Permit, filter: &LogFilter, limit: i64) -> StoreResult<Vec<AuditRow>> {
    let sql = format!(
        "{SELECT} where chain = $1 and ($2 = '' or actor_user_id = $2) and ($3 = 0 or outcome = 'refused') and seq < $4 \
         and ($6 = '' or actor_user_id is null or actor_user_id <> $6) order by seq desc limit $5"
    );
    Ok(sqlx::query_as(&sql)
        .bind(permit.patient().to_string())
        .bind(filter.actor.map(|u| u.to_string()).unwrap_or_default())
        .bind(i64::from(filter.refused_only))
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(limit)
        .bind(filter.not_actor.map(|u| u.to_string()).unwrap_or_default())
        .fetch_all(conn)
        .await?)
}

/// The newest `limit` rows of the permit's record's log about one item of one category (a
/// health link's uses), newest first.
pub async fn list_for_item(conn: &mut Conn, permit: &Permit, category: &str, item: &str, limit: i64) -> StoreResult<Vec<AuditRow>> {
    let sql = format!("{SELECT} where chain = $1 and category = $2 and item_id = $3 order by seq desc limit $4");
    Ok(sqlx::query_as(&sql).bind(permit.patient().to_string()).bind(category).bind(item).bind(limit).fetch_all(conn).await?)
}

/// How many rows the permit's record's log holds.
pub async fn count_for_patient(conn: &mut Conn, permit: &Permit) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from audit_log where chain = $1").bind(permit.patient().to_string()).fetch_one(conn).await?;
    Ok(n)
}

/// Everyone who appears in the permit's record's log (for the filter), with the latest name
/// each used.
pub async fn actors_for_patient(conn: &mut Conn, permit: &Permit) -> StoreResult<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select a.actor_user_id, a.actor_name from audit_log a \
         join (select actor_user_id, max(seq) as seq from audit_log where chain = $1 and actor_user_id is not null group by actor_user_id) m \
         on a.chain = $1 and a.seq = m.seq order by a.actor_name",
    )
    .bind(permit.patient().to_string())
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows whose hashes were recomputed.
    pub rows: u64,
    /// Chains checked.
    pub chains: u64,
    /// The first problem, if any: which chain, at which sequence number, and what.
    pub first_problem: Option<Problem>,
}

/// A break in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The chain (a patient's id, or `none`).
    pub chain: String,
    /// The sequence number where it breaks.
    pub seq: i64,
    /// What is wrong.
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chain {} at row {}: {}", self.chain, self.seq, self.what)
    }
}

/// Recomputes every chain, a page of rows at a time, and reports the first break. It reads one
/// snapshot (a read-only repeatable-read transaction), so rows appended while it runs do not
/// look like a break.
pub async fn verify(conn: &mut Conn) -> StoreResult<VerifyReport> {
    use sqlx::Connection;
    let postgres = conn.backend_name() == "PostgreSQL";
    let mut tx = conn.begin().await?;
    if postgres {
        sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
    }
    let report = verify_in(&mut tx).await?;
    tx.rollback().await?;
    Ok(report)
}

async fn verify_in(conn: &mut Conn) -> StoreResult<VerifyReport> {
    let heads: Vec<(String, i64, String)> =
        sqlx::query_as("select chain, seq, hash from audit_heads order by chain").fetch_all(&mut *conn).await?;
    let mut report = VerifyReport { rows: 0, chains: 0, first_problem: None };
    let page = 1000_i64;
    // Rows of a chain with no head are found by walking the log's chains too.
    let log_chains: Vec<(String,)> = sqlx::query_as("select distinct chain from audit_log order by chain").fetch_all(&mut *conn).await?;
    for (chain,) in &log_chains {
        if !heads.iter().any(|(c, ..)| c == chain) {
            report.first_problem = Some(Problem { chain: chain.clone(), seq: 1, what: "rows exist but the chain has no head".into() });
            return Ok(report);
        }
    }
    for (chain, head_seq, head_hash) in heads {
        report.chains += 1;
        let mut expected_seq = 1_i64;
        let mut prev = GENESIS.to_owned();
        loop {
            let rows: Vec<AuditRow> = sqlx::query_as(&format!("{SELECT} where chain = $1 and seq >= $2 order by seq limit $3"))
                .bind(&chain)
                .bind(expected_seq)
                .bind(page)
                .fetch_all(&mut *conn)
                .await?;
            let n = rows.len();
            for row in rows {
                let problem = |what: &str| Some(Problem { chain: chain.clone(), seq: expected_seq, what: what.to_owned() });
                if row.seq != expected_seq {
                    report.first_problem = problem("a row is missing");
                } else if row.prev_hash != prev {
                    report.first_problem = problem("it does not follow the row before it (a row was removed, moved or changed)");
                } else if row.compute_hash() != row.hash {
                    report.first_problem = problem("its contents do not match its hash (the row was changed)");
                }
                if report.first_problem.is_some() {
                    return Ok(report);
                }
                report.rows += 1;
                prev = row.hash;
                expected_seq += 1;
            }
            if n < page as usize {
                break;
            }
        }
        if expected_seq - 1 != head_seq || prev != head_hash {
            report.first_problem = Some(Problem {
                chain: chain.clone(),
                seq: expected_seq,
                what: format!("the chain ends at row {} but its head says {head_seq} (rows were removed from the end)", expected_seq - 1),
            });
            return Ok(report);
        }
    }
    Ok(report)
}
