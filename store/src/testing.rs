//! Fresh databases for tests, on either backend. Only built with the `testing` feature.

use crate::{Backend, Db, DbOptions};
use sqlx::migrate::MigrateDatabase;

/// Where the test PostgreSQL server is; the test command starts it when it is down.
pub fn postgres_admin_url() -> String {
    std::env::var("CARRY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A migrated, empty database that is deleted when dropped.
pub struct TestDb {
    /// The handle under test.
    pub db: Db,
    /// The URL it was opened with (for a second pool on the same database).
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestDb {
    /// Makes a fresh database: a temporary SQLite file, or a new PostgreSQL database.
    ///
    /// # Panics
    /// When the database cannot be made: a test cannot go on without one.
    #[allow(clippy::expect_used)]
    pub async fn new(backend: Backend) -> Self {
        sqlx::any::install_default_drivers();
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = TempDir::new();
                (format!("sqlite://{}", dir.0.join("carry.db").display()), Some(dir))
            }
            Backend::Postgres => {
                let url = format!("{}/carry_test_{}", postgres_admin_url(), uuid::Uuid::new_v4().simple());
                sqlx::Any::create_database(&url).await.expect("create a PostgreSQL test database (is PostgreSQL running?)");
                (url, None)
            }
        };
        let db = Db::connect(&DbOptions::new(url.clone())).await.expect("open and migrate the test database");
        Self { db, url, _dir: dir }
    }

    /// Closes the pool and deletes the database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if self.db.backend() == Backend::Postgres {
            let _ = sqlx::Any::drop_database(&self.url).await;
        }
    }
}

/// A temporary folder removed on drop (no extra crate needed for something this small).
struct TempDir(std::path::PathBuf);

impl TempDir {
    #[allow(clippy::expect_used)]
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("carry-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("make a temporary folder");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a test body once per backend, as `#[tokio::test]`s named `<name>::on_sqlite` and
/// `<name>::on_postgres`. The body receives a `&Db`.
#[macro_export]
macro_rules! conformance {
    ($(#[$m:meta])* async fn $name:ident($db:ident) $body:block) => {
        pub mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$m])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let test_db = $crate::testing::TestDb::new($crate::Backend::Sqlite).await;
                {
                    let $db: &$crate::Db = &test_db.db;
                    $body
                }
                test_db.cleanup().await;
            }
            $(#[$m])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let test_db = $crate::testing::TestDb::new($crate::Backend::Postgres).await;
                {
                    let $db: &$crate::Db = &test_db.db;
                    $body
                }
                test_db.cleanup().await;
            }
        }
    };
}

/// Permits and refusals from the policy, for tests of the store's reads and of the access log:
/// the store takes nothing else, and these are asked of `domain::access::permit` like any other.
pub mod answers {
    use domain::access::{permit as ask, AccessRequest, Action, Actor, GrantFacts, Permit, PracticeLink, Refusal};
    use domain::grants::{AgeRules, GrantBasis, GrantStatus};
    use domain::practices::{LinkStatus, StaffRole};
    use domain::{GrantId, PatientId, PracticeId, PrivacyLabel, Span, Timestamp, UserId};
    use uuid::Uuid;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_790_000_000_000)
    }

    fn request(patient: PatientId, actor: Actor, owner: Option<UserId>, grants: &[GrantFacts], action: Action) -> AccessRequest<'_> {
        let link = match actor {
            Actor::Staff { practice, .. } => Some(PracticeLink { practice, status: LinkStatus::Requested }),
            _ => None,
        };
        AccessRequest {
            patient,
            actor,
            record_owner: owner,
            born_on: None,
            link,
            grants,
            action,
            now: now(),
            age_rules: AgeRules::default(),
        }
    }

    /// A permit to read `patient`'s record within exactly `labels`: the owner's for every
    /// label, a practice administrator's (which sees no label) for none, and otherwise a
    /// carer's, from a grant in force over those labels.
    ///
    /// # Panics
    /// When the policy refuses, which would be a bug in this helper.
    #[allow(clippy::expect_used)]
    pub fn permit(patient: PatientId, labels: &[PrivacyLabel]) -> Permit {
        let someone = UserId::from_uuid(Uuid::new_v4());
        if PrivacyLabel::ALL.iter().all(|l| labels.contains(l)) {
            return ask(&request(patient, Actor::Person(someone), Some(someone), &[], Action::ReadEntries)).expect("the owner reads");
        }
        if labels.is_empty() {
            let practice = PracticeId::from_uuid(Uuid::new_v4());
            let admin = Actor::Staff { user: someone, practice, job: StaffRole::Admin, passkey: false };
            return ask(&request(patient, admin, None, &[], Action::VerifyLink)).expect("an administrator verifies");
        }
        carer_permit(patient, someone, labels)
    }

    /// The permit of `owner`, whose record `patient` is, to do `action` (not the practice's
    /// work): every label.
    ///
    /// # Panics
    /// When the policy refuses, which would be a bug in this helper.
    #[allow(clippy::expect_used)]
    pub fn writer(patient: PatientId, owner: UserId, action: Action) -> Permit {
        ask(&request(patient, Actor::Person(owner), Some(owner), &[], action)).expect("the owner may")
    }

    /// A permit for `carer` to read `patient`'s record within `labels` (not empty), from a
    /// grant in force.
    ///
    /// # Panics
    /// When `labels` is empty.
    #[allow(clippy::expect_used)]
    pub fn carer_permit(patient: PatientId, carer: UserId, labels: &[PrivacyLabel]) -> Permit {
        let grant = GrantFacts {
            id: GrantId::from_uuid(Uuid::new_v4()),
            carer: Some(carer),
            status: GrantStatus::Active,
            basis: GrantBasis::PatientConsent,
            labels: labels.to_vec(),
            can_add: false,
            can_export: false,
            starts_at: now().minus(Span::days(1)),
            ends_at: now().plus(Span::days(1)),
            young_person_confirmed: false,
        };
        let owner = Some(UserId::from_uuid(Uuid::new_v4()));
        ask(&request(patient, Actor::Person(carer), owner, std::slice::from_ref(&grant), Action::ReadEntries))
            .expect("a carer in force reads")
    }

    /// The refusal of `who`, who has nothing to do with the record, asking to read it; with no
    /// record, the refusal of a request that named one Carry does not hold.
    ///
    /// # Panics
    /// When the policy allows, which would be a bug in this helper.
    #[allow(clippy::expect_used)]
    pub fn refusal(patient: Option<PatientId>, who: UserId) -> Refusal {
        match patient {
            Some(p) => {
                let owner = Some(UserId::from_uuid(Uuid::new_v4()));
                ask(&request(p, Actor::Person(who), owner, &[], Action::ReadEntries)).expect_err("a stranger is refused")
            }
            None => Refusal::unknown_record(Actor::Person(who), Action::ReadEntries),
        }
    }
}
