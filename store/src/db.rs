//! Connecting, migrating and transactions.

use crate::{StoreError, StoreResult};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor};
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A connection repository functions run on: pooled, or inside a transaction.
pub type Conn = sqlx::AnyConnection;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, WAL, `synchronous=FULL`.
    Sqlite,
    /// For deployments with several Carry servers.
    Postgres,
}

impl Backend {
    /// Picks the backend from a `DATABASE_URL`, or says why it cannot.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err("must start with sqlite: or postgres://".to_owned())
        }
    }

    /// A short name for logs and the health check.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
}

impl DbOptions {
    /// Defaults for a URL: a small pool.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), max_connections: 8 }
    }
}

/// The database handle: a pool, its backend, and (for SQLite) the single-writer lock.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; taking this lock before `begin` turns what would be
    /// `SQLITE_BUSY` errors on lock upgrade into an orderly queue. PostgreSQL does not use it.
    write_lock: Arc<Mutex<()>>,
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    tx: sqlx::Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    /// Makes the transaction's writes durable.
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(StoreError::from)
    }
}

impl Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

impl Db {
    /// Opens the pool, sets SQLite's durability pragmas on every connection, and applies the
    /// backend's migrations.
    pub async fn connect(options: &DbOptions) -> StoreResult<Self> {
        let db = Self::open(options, true).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Opens a database that must already exist, without creating or migrating anything (for
    /// commands that inspect it, such as `carry audit verify`).
    pub async fn connect_existing(options: &DbOptions) -> StoreResult<Self> {
        Self::open(options, false).await
    }

    async fn open(options: &DbOptions, create: bool) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(&options.url).map_err(|m| StoreError::Database(sqlx::Error::Configuration(m.into())))?;
        let url = match backend {
            Backend::Sqlite if create => sqlite_url_creating_file(&options.url)?,
            Backend::Sqlite if options.url.contains("mode=") => options.url.clone(),
            Backend::Sqlite => format!("{}{}mode=rw", options.url, if options.url.contains('?') { '&' } else { '?' }),
            Backend::Postgres => options.url.clone(),
        };
        let connect_options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // Readers run in parallel under WAL; one writer at a time is enforced by write_lock.
                Backend::Sqlite => options.max_connections.max(2),
                Backend::Postgres => options.max_connections,
            })
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // Durability first: every acknowledged write survives a crash or power cut.
                        conn.execute(
                            "pragma journal_mode = wal; pragma synchronous = full; pragma foreign_keys = on; pragma busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect_options)
            .await?;
        Ok(Self { pool, backend, write_lock: Arc::new(Mutex::new(())) })
    }

    /// Applies migrations that have not run yet (forward only).
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> StoreResult<Tx> {
        let writer = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        // SQLite: take the write lock at BEGIN, so a transaction that reads and then writes never
        // fails on upgrading its lock while an autocommit write from another connection runs.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { tx, _writer: writer })
    }

    /// Starts a read-only transaction: one consistent view of the data that does not take the
    /// writer's turn (under WAL, SQLite's readers run beside its one writer). Nothing may be
    /// written in it.
    pub async fn begin_read(&self) -> StoreResult<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin deferred").await?,
            Backend::Postgres => self.pool.begin_with("begin transaction isolation level repeatable read, read only").await?,
        };
        Ok(Tx { tx, _writer: None })
    }

    /// A pooled connection for reads (and single-statement writes that need no transaction).
    pub async fn conn(&self) -> StoreResult<sqlx::pool::PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Checks the database answers; used by `/health`.
    pub async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    /// Closes every connection (at shutdown, and before a test drops its database).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLite URLs get `mode=rwc` so a new file is created, and the file's folder is made if missing.
fn sqlite_url_creating_file(url: &str) -> StoreResult<String> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}
