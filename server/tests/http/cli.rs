//! `carry audit verify` as an operator runs it: on an intact log, and on one edited behind the
//! database's back, on both databases.

use domain::audit::{AuditEvent, Category, Door, Occasion, Touch};
use domain::{PatientId, PrivacyLabel, Timestamp, UserId};
use store::testing::answers;
use store::testing::TestDb;
use store::Backend;

fn verify(url: &str) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_carry")).args(["audit", "verify"]).env("DATABASE_URL", url).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn run(backend: Backend) {
    let db = TestDb::new(backend).await;
    let patient = PatientId::from_uuid(uuid::Uuid::new_v4());
    for n in 0..3 {
        let mut tx = db.db.begin().await.unwrap();
        let occasion = Occasion {
            at: Timestamp::from_millis(1_790_000_000_000 + n),
            actor_name: "Alex Smith".into(),
            door: Door::Page,
            request_id: format!("r{n}"),
        };
        let carer = UserId::from_uuid(uuid::Uuid::new_v4());
        let permit = answers::carer_permit(patient, carer, &[PrivacyLabel::General]);
        let ev = AuditEvent::allowed(&permit, &Touch::of(Category::Timeline), occasion);
        store::audit::append(&mut tx, &ev).await.unwrap();
        tx.commit().await.unwrap();
    }
    let (code, out) = verify(&db.url);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("access log intact: 3 rows in 1 chains"), "{out}");
    let lift = match backend {
        Backend::Sqlite => "drop trigger audit_log_no_update",
        Backend::Postgres => "alter table audit_log disable trigger user",
    };
    let mut conn = db.db.conn().await.unwrap();
    sqlx::raw_sql(lift).execute(&mut *conn).await.unwrap();
    sqlx::query("update audit_log set actor_name = 'Nobody' where seq = 2").execute(&mut *conn).await.unwrap();
    drop(conn);
    let (code, out) = verify(&db.url);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("chain {patient} at row 2")), "{out}");
    // A database that is not there is an error, never an empty log that looks intact.
    let missing = format!("sqlite://{}/carry-missing-{}.db", std::env::temp_dir().display(), uuid::Uuid::new_v4().simple());
    let (code, out) = verify(&missing);
    assert_eq!(code, 2, "{out}");
    let (code, out) = verify("mysql://nope");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("DATABASE_URL"), "{out}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_postgres() {
    run(Backend::Postgres).await;
}
