//! The access log on both databases: appending, reading a patient's page, and tamper evidence.
//! Each tampering test gets past the append-only triggers the way someone with the database's
//! owner rights could, changes the log, and shows that `verify` names the first broken row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::access::DenyReason;
use domain::audit::{AuditEvent, Category, Door, Occasion, Touch};
use domain::{PatientId, PrivacyLabel, ReadingKind, Timestamp, UserId};
use store::audit::{self, LogFilter, NO_PATIENT_CHAIN};
use store::testing::answers;
use store::{conformance, Backend, Db};
use uuid::Uuid;

const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

fn event(patient: Option<PatientId>, actor: UserId, n: i64, refused: Option<DenyReason>) -> AuditEvent {
    let occasion = Occasion {
        at: Timestamp::from_millis(T0.as_millis() + n),
        actor_name: format!("Person {n}"),
        door: Door::Page,
        request_id: format!("req-{n}"),
    };
    let touch = Touch::of(Category::Readings(ReadingKind::BloodPressure));
    match (patient, refused) {
        (Some(p), None) => AuditEvent::allowed(&answers::carer_permit(p, actor, &[PrivacyLabel::General]), &touch, occasion),
        (p, Some(reason)) => {
            let refusal = answers::refusal(p, actor);
            assert_eq!(refusal.reason(), reason, "the helper gives the refusal the test names");
            AuditEvent::refused(&refusal, &touch, occasion)
        }
        (None, None) => unreachable!("an allowed look is at a record"),
    }
}

/// A chain of `n` rows for a new patient, plus some rows on another patient's chain.
async fn chain(db: &Db, n: i64) -> PatientId {
    let patient = PatientId::from_uuid(Uuid::new_v4());
    let other = PatientId::from_uuid(Uuid::new_v4());
    let actor = UserId::from_uuid(Uuid::new_v4());
    for i in 1..=n {
        let mut tx = db.begin().await.unwrap();
        audit::append(&mut tx, &event(Some(patient), actor, i, None)).await.unwrap();
        audit::append(&mut tx, &event(Some(other), actor, i, None)).await.unwrap();
        tx.commit().await.unwrap();
    }
    patient
}

/// Lifts the append-only triggers, as the database's owner could.
async fn lift_triggers(db: &Db) {
    let mut conn = db.conn().await.unwrap();
    let sql = match db.backend() {
        Backend::Sqlite => "drop trigger audit_log_no_update; drop trigger audit_log_no_delete;",
        Backend::Postgres => "alter table audit_log disable trigger user",
    };
    sqlx::raw_sql(sql).execute(&mut *conn).await.unwrap();
}

async fn exec(db: &Db, sql: &str) {
    let mut conn = db.conn().await.unwrap();
    sqlx::raw_sql(sql).execute(&mut *conn).await.unwrap();
}

async fn problem(db: &Db) -> Option<(String, i64, String)> {
    let mut conn = db.conn().await.unwrap();
    audit::verify(&mut conn).await.unwrap().first_problem.map(|p| (p.chain, p.seq, p.what))
}

conformance! {
    async fn rows_chain_per_patient_and_read_back_newest_first(db) {
        let patient = chain(db, 3).await;
        let stranger = UserId::from_uuid(Uuid::new_v4());
        let mut tx = db.begin().await.unwrap();
        let refused = audit::append(&mut tx, &event(Some(patient), stranger, 4, Some(DenyReason::NoRelationship))).await.unwrap();
        let nowhere = audit::append(&mut tx, &event(None, stranger, 5, Some(DenyReason::NoRelationship))).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((refused.seq, nowhere.chain.as_str(), nowhere.seq), (4, NO_PATIENT_CHAIN, 1));

        let mut conn = db.conn().await.unwrap();
        let report = audit::verify(&mut conn).await.unwrap();
        assert_eq!((report.rows, report.chains, report.first_problem), (3 + 1 + 3 + 1, 3, None));

        let all = audit::list_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL), &LogFilter::default(), 10).await.unwrap();
        assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![4, 3, 2, 1]);
        let ev = all[0].event().unwrap();
        assert_eq!((ev.refused, ev.actor, ev.category), (Some(DenyReason::NoRelationship), Some(stranger), Category::Readings(ReadingKind::BloodPressure)));
        let only_refused = audit::list_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL), &LogFilter { refused_only: true, ..LogFilter::default() }, 10).await.unwrap();
        assert_eq!(only_refused.len(), 1);
        let not_stranger = audit::list_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL), &LogFilter { not_actor: Some(stranger), ..LogFilter::default() }, 10).await.unwrap();
        assert_eq!(not_stranger.len(), 3);
        let page = audit::list_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL), &LogFilter { before: Some(3), ..LogFilter::default() }, 1).await.unwrap();
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2]);
        let people = audit::actors_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL)).await.unwrap();
        assert_eq!(people.len(), 2);
    }
}

conformance! {
    async fn the_database_refuses_to_change_or_remove_a_row(db) {
        let patient = chain(db, 2).await;
        let mut conn = db.conn().await.unwrap();
        let update = sqlx::query("update audit_log set actor_name = 'Nobody' where chain = $1").bind(patient.to_string()).execute(&mut *conn).await;
        assert!(update.is_err(), "an update must be refused");
        let delete = sqlx::query("delete from audit_log where chain = $1").bind(patient.to_string()).execute(&mut *conn).await;
        assert!(delete.is_err(), "a delete must be refused");
        let back = sqlx::query("update audit_heads set seq = seq - 1 where chain = $1").bind(patient.to_string()).execute(&mut *conn).await;
        assert!(back.is_err(), "a head must not move back");
        let drop_head = sqlx::query("delete from audit_heads where chain = $1").bind(patient.to_string()).execute(&mut *conn).await;
        assert!(drop_head.is_err(), "a head must not be removed");
        if db.backend() == Backend::Postgres {
            assert!(sqlx::raw_sql("truncate audit_log").execute(&mut *conn).await.is_err(), "truncate must be refused");
            assert!(sqlx::raw_sql("truncate audit_heads").execute(&mut *conn).await.is_err(), "truncate must be refused");
        }
        let report = audit::verify(&mut conn).await.unwrap();
        assert_eq!(report.first_problem, None);
    }
}

conformance! {
    async fn an_edited_row_is_found(db) {
        let patient = chain(db, 4).await;
        lift_triggers(db).await;
        exec(db, &format!("update audit_log set actor_name = 'Someone else' where chain = '{patient}' and seq = 2")).await;
        let (c, seq, what) = problem(db).await.expect("found");
        assert_eq!((c, seq), (patient.to_string(), 2));
        assert!(what.contains("changed"), "{what}");
    }
}

conformance! {
    async fn an_edit_that_recomputes_its_own_hash_is_found_at_the_next_row(db) {
        let patient = chain(db, 4).await;
        lift_triggers(db).await;
        let mut conn = db.conn().await.unwrap();
        let mut rows = audit::list_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL), &LogFilter::default(), 10).await.unwrap();
        rows.reverse();
        let mut forged = rows[1].clone();
        forged.outcome = "refused".into();
        forged.reason = Some("no-relationship".into());
        forged.hash = forged.compute_hash();
        sqlx::query("update audit_log set outcome = $1, reason = $2, hash = $3 where chain = $4 and seq = 2")
            .bind(&forged.outcome).bind(&forged.reason).bind(&forged.hash).bind(patient.to_string())
            .execute(&mut *conn).await.unwrap();
        drop(conn);
        let (_, seq, _) = problem(db).await.expect("found");
        assert_eq!(seq, 3);
    }
}

conformance! {
    async fn a_deleted_row_is_found(db) {
        let patient = chain(db, 4).await;
        lift_triggers(db).await;
        exec(db, &format!("delete from audit_log where chain = '{patient}' and seq = 3")).await;
        let (c, seq, what) = problem(db).await.expect("found");
        assert_eq!((c, seq), (patient.to_string(), 3));
        assert!(what.contains("missing"), "{what}");
    }
}

conformance! {
    async fn swapped_rows_are_found(db) {
        let patient = chain(db, 4).await;
        lift_triggers(db).await;
        // Rows 2 and 3 trade places: their numbers are exchanged, content and hashes intact.
        exec(db, &format!(
            "update audit_log set seq = -2 where chain = '{patient}' and seq = 2; \
             update audit_log set seq = 2 where chain = '{patient}' and seq = 3; \
             update audit_log set seq = 3 where chain = '{patient}' and seq = -2;"
        )).await;
        let (c, seq, _) = problem(db).await.expect("found");
        assert_eq!((c, seq), (patient.to_string(), 2));
    }
}

conformance! {
    async fn a_truncated_chain_is_found(db) {
        let patient = chain(db, 4).await;
        lift_triggers(db).await;
        exec(db, &format!("delete from audit_log where chain = '{patient}' and seq >= 3")).await;
        let (c, seq, what) = problem(db).await.expect("found");
        assert_eq!((c, seq), (patient.to_string(), 3));
        assert!(what.contains("removed from the end"), "{what}");
    }
}

conformance! {
    async fn an_emptied_log_is_found(db) {
        chain(db, 2).await;
        lift_triggers(db).await;
        exec(db, "delete from audit_log").await;
        let (_, seq, _) = problem(db).await.expect("found");
        assert_eq!(seq, 1);
    }
}

conformance! {
    async fn a_batch_appends_each_chain_in_order(db) {
        let patient = chain(db, 2).await;
        let other = PatientId::from_uuid(Uuid::new_v4());
        let actor = UserId::from_uuid(Uuid::new_v4());
        // Interleaved: the patient's rows continue their chain, the other's start a new one,
        // and a refusal naming no record goes on its own chain.
        let batch = vec![
            event(Some(patient), actor, 10, None),
            event(Some(other), actor, 11, None),
            event(Some(patient), actor, 12, None),
            event(None, actor, 13, Some(DenyReason::NoRelationship)),
            event(Some(patient), actor, 14, None),
        ];
        let mut tx = db.begin().await.unwrap();
        let rows = audit::append_all(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
        let placed: Vec<(bool, i64)> = rows.iter().map(|r| (r.chain == patient.to_string(), r.seq)).collect();
        assert_eq!(placed, vec![(true, 3), (false, 1), (true, 4), (false, 1), (true, 5)]);
        assert_eq!(rows[2].prev_hash, rows[0].hash, "rows of one chain link in the order given");
        assert_eq!(rows[4].prev_hash, rows[2].hash);
        assert_eq!(rows[3].chain, NO_PATIENT_CHAIN);
        let mut conn = db.conn().await.unwrap();
        let report = audit::verify(&mut conn).await.unwrap();
        assert!(report.first_problem.is_none(), "{:?}", report.first_problem);
        let page = audit::list_for_patient(&mut conn, &answers::permit(patient, &PrivacyLabel::ALL), &LogFilter::default(), 10).await.unwrap();
        let seqs: Vec<i64> = page.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![5, 4, 3, 2, 1]);
        drop(conn);
        // A later single append continues after the batch.
        let mut tx = db.begin().await.unwrap();
        let next = audit::append(&mut tx, &event(Some(patient), actor, 15, None)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((next.seq, next.prev_hash.as_str()), (6, rows[4].hash.as_str()));
    }
}
