//! Carry's own FHIR API: the client assertions seen (against replay), the access tokens issued
//! (hashed), and the entries a system client may read: shared with the practice, not deleted,
//! with a label the client may see, one patient at a time, by the time they last changed.

use crate::entries::{entry_select, EntryRow, RawEntry};
use crate::error::parse_id;
use crate::shared::{bind_shared, shared_with_practice, AnyQuery};
use crate::{Conn, StoreError, StoreResult};
use domain::access::Permit;
use domain::entries::EntryKind;
use domain::practices::LinkStatus;
use domain::{EntryId, PatientId, PracticeId, Timestamp};

/// Records a client assertion's `jti` until it expires. `false` when it was seen before (a
/// replay): the caller refuses the assertion.
pub async fn record_assertion(conn: &mut Conn, client_id: &str, jti: &str, expires_at: Timestamp, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query(
        "insert into fhir_assertions (client_id, jti, expires_at, created_at, updated_at) values ($1, $2, $3, $4, $4) \
         on conflict (client_id, jti) do nothing",
    )
    .bind(client_id)
    .bind(jti)
    .bind(expires_at.as_millis())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores an issued access token (its hash) with the scope granted.
pub async fn insert_token(
    conn: &mut Conn,
    token_hash: &str,
    client_id: &str,
    scope: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "insert into fhir_tokens (token_hash, client_id, scope, expires_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)",
    )
    .bind(token_hash)
    .bind(client_id)
    .bind(scope)
    .bind(expires_at.as_millis())
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The client and scope of an access token that has not expired.
pub async fn find_token(conn: &mut Conn, token_hash: &str, now: Timestamp) -> StoreResult<Option<(String, String)>> {
    Ok(sqlx::query_as("select client_id, scope from fhir_tokens where token_hash = $1 and expires_at > $2")
        .bind(token_hash)
        .bind(now.as_millis())
        .fetch_optional(conn)
        .await?)
}

/// Forgets expired tokens and the `jti`s of expired assertions (which can no longer be replayed).
pub async fn delete_expired(conn: &mut Conn, now: Timestamp) -> StoreResult<u64> {
    let tokens = sqlx::query("delete from fhir_tokens where expires_at <= $1").bind(now.as_millis()).execute(&mut *conn).await?;
    let jtis = sqlx::query("delete from fhir_assertions where expires_at <= $1").bind(now.as_millis()).execute(&mut *conn).await?;
    Ok(tokens.rows_affected() + jtis.rows_affected())
}

/// A record's link to a practice, found by the NHS number it was linked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkByNhs {
    /// The record.
    pub patient_id: PatientId,
    /// The practice.
    pub practice_id: PracticeId,
    /// Where the link stands.
    pub status: LinkStatus,
}

/// Every record linked (or asked to be) with this NHS number, verified links first.
pub async fn links_by_nhs_number(conn: &mut Conn, nhs_number: &str) -> StoreResult<Vec<LinkByNhs>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select patient_id, practice_id, status from practice_links where nhs_number = $1 \
         order by case when status = 'linked' then 0 else 1 end, patient_id",
    )
    .bind(nhs_number)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(patient, practice, status)| {
            Ok(LinkByNhs {
                patient_id: parse_id("practice_links.patient_id", &patient)?,
                practice_id: parse_id("practice_links.practice_id", &practice)?,
                status: LinkStatus::from_slug(&status).ok_or(StoreError::Corrupt { column: "practice_links.status" })?,
            })
        })
        .collect()
}

/// Which of a record's shared entries a search asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedQuery<'a> {
    /// The record and the labels the client may see.
    pub permit: &'a Permit,
    /// The kinds of entry.
    pub kinds: &'a [EntryKind],
    /// Changed at or after this.
    pub since: Option<Timestamp>,
    /// Changed before this.
    pub before: Option<Timestamp>,
}

/// The three kind slots: the kinds' slugs, with the empty text (no kind has it) in unused slots.
fn kind_slots(kinds: &[EntryKind]) -> [&'static str; 3] {
    let mut slots = [""; 3];
    for (slot, k) in slots.iter_mut().zip(kinds) {
        *slot = k.slug();
    }
    slots
}

/// The conditions every query here shares: what the practice may see of the record
/// (parameters $1 to $5), of the kinds and in the time asked for ($6 to $10), bound by
/// [`bind_served`].
macro_rules! served_where {
    () => {
        concat!(" where ", shared_with_practice!(), " and e.kind in ($6, $7, $8) and e.updated_at >= $9 and e.updated_at < $10")
    };
}

fn bind_served<'q, O>(query: AnyQuery<'q, O>, q: &ServedQuery<'_>) -> AnyQuery<'q, O> {
    let [k1, k2, k3] = kind_slots(q.kinds);
    bind_shared(query, q.permit)
        .bind(k1)
        .bind(k2)
        .bind(k3)
        .bind(q.since.map_or(i64::MIN, Timestamp::as_millis))
        .bind(q.before.map_or(i64::MAX, Timestamp::as_millis))
}

/// One page of the matching entries, by the time they last changed and then id, after `after`.
pub async fn list_served(
    conn: &mut Conn,
    q: &ServedQuery<'_>,
    after: Option<(Timestamp, EntryId)>,
    limit: i64,
) -> StoreResult<Vec<EntryRow>> {
    let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |(at, id)| (at.as_millis(), id.to_string()));
    let query = sqlx::query_as(concat!(
        entry_select!(),
        served_where!(),
        " and (e.updated_at > $11 or (e.updated_at = $11 and e.id > $12)) order by e.updated_at, e.id limit $13"
    ));
    let rows: Vec<RawEntry> = bind_served(query, q).bind(after_at).bind(after_id).bind(limit).fetch_all(conn).await?;
    rows.into_iter().map(EntryRow::try_from).collect()
}

/// How many entries match (the search's `total`).
pub async fn count_served(conn: &mut Conn, q: &ServedQuery<'_>) -> StoreResult<i64> {
    let query = sqlx::query_as(concat!("select count(*) from entries e", served_where!()));
    let (n,): (i64,) = bind_served(query, q).fetch_one(conn).await?;
    Ok(n)
}

/// One matching entry by id (a read), or none when it does not match.
pub async fn find_served(conn: &mut Conn, q: &ServedQuery<'_>, id: EntryId) -> StoreResult<Option<EntryRow>> {
    let query = sqlx::query_as(concat!(entry_select!(), served_where!(), " and e.id = $11"));
    let raw: Option<RawEntry> = bind_served(query, q).bind(id.to_string()).fetch_optional(conn).await?;
    raw.map(EntryRow::try_from).transpose()
}

/// The records with shared entries of these kinds that changed (or were deleted) at or after
/// `since` and after the cursor, by their first such change, at most `limit`: which records a
/// history page may draw from. Ids only: each record's entries are read under its own permit.
pub async fn list_changed_records(
    conn: &mut Conn,
    kinds: &[EntryKind],
    since: Option<Timestamp>,
    after: Option<(Timestamp, EntryId)>,
    limit: i64,
) -> StoreResult<Vec<PatientId>> {
    let [k1, k2, k3] = kind_slots(kinds);
    let from = since.map_or(i64::MIN, Timestamp::as_millis).max(after.map_or(i64::MIN, |(at, _)| at.as_millis()));
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select patient_id, min(updated_at) as first from entries where shared_with_practice = 1 and kind in ($1, $2, $3) \
         and updated_at >= $4 group by patient_id order by first, patient_id limit $5",
    )
    .bind(k1)
    .bind(k2)
    .bind(k3)
    .bind(from)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|(p, _)| parse_id("entries.patient_id", &p)).collect()
}

/// The entries the query would have served that were deleted, by the time they were deleted
/// and then id, after `after`, at most `limit`: each one's id and when.
pub async fn list_gone(
    conn: &mut Conn,
    q: &ServedQuery<'_>,
    after: Option<(Timestamp, EntryId)>,
    limit: i64,
) -> StoreResult<Vec<(EntryId, Timestamp)>> {
    let (after_at, after_id) = after.map_or((i64::MIN, String::new()), |(at, id)| (at.as_millis(), id.to_string()));
    let [k1, k2, k3] = kind_slots(q.kinds);
    let query = sqlx::query_as(
        "select e.id, e.updated_at from entries e where e.patient_id = $1 and e.shared_with_practice = 1 and e.deleted_at is not null \
         and e.label in ($2, $3, $4, $5) and e.kind in ($6, $7, $8) and e.updated_at >= $9 \
         and (e.updated_at > $10 or (e.updated_at = $10 and e.id > $11)) order by e.updated_at, e.id limit $12",
    );
    let rows: Vec<(String, i64)> = bind_shared(query, q.permit)
        .bind(k1)
        .bind(k2)
        .bind(k3)
        .bind(q.since.map_or(i64::MIN, Timestamp::as_millis))
        .bind(after_at)
        .bind(after_id)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(|(id, at)| Ok((parse_id("entries.id", &id)?, Timestamp::from_millis(at)))).collect()
}

/// Whether the entry was one the query would serve until it was deleted (shared with the
/// practice, within the permit's labels, of the query's kinds): a read of it is told it is gone.
pub async fn was_served(conn: &mut Conn, q: &ServedQuery<'_>, id: EntryId) -> StoreResult<bool> {
    let query = sqlx::query_as(
        "select count(*) from entries e where e.patient_id = $1 and e.shared_with_practice = 1 and e.deleted_at is not null \
         and e.label in ($2, $3, $4, $5) and e.kind in ($6, $7, $8) and e.id = $9",
    );
    let [k1, k2, k3] = kind_slots(q.kinds);
    let (n,): (i64,) = bind_shared(query, q.permit).bind(k1).bind(k2).bind(k3).bind(id.to_string()).fetch_one(conn).await?;
    Ok(n > 0)
}

/// The record an entry belongs to, whatever its state (a read by id names no patient).
pub async fn entry_patient(conn: &mut Conn, id: EntryId) -> StoreResult<Option<PatientId>> {
    let row: Option<(String,)> =
        sqlx::query_as("select patient_id from entries where id = $1").bind(id.to_string()).fetch_optional(conn).await?;
    row.map(|(p,)| parse_id("entries.patient_id", &p)).transpose()
}
