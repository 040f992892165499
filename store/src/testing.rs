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
