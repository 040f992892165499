//! Store errors. A broken named constraint is its own variant so the service can turn it into a
//! field error ("that name is taken") instead of a 500.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; carries the constraint's name as declared in the
    /// migrations (for example `users_email_key_unique`).
    #[error("unique constraint {0} violated")]
    Conflict(String),
    /// A value read back did not parse (a corrupt row, or a bug).
    #[error("corrupt value in column {column}")]
    Corrupt {
        /// Which column.
        column: &'static str,
    },
    /// The database itself failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A write the permit it came with does not allow (another record, a label or an action
    /// outside it, someone else's name): a bug in the caller, refused before any SQL runs.
    #[error("the permit does not allow {0}")]
    NotPermitted(&'static str),
    /// Migrations failed to apply.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(unique_constraint_name(db.as_ref()));
            }
        }
        StoreError::Database(e)
    }
}

/// PostgreSQL names the constraint; SQLite only says `UNIQUE constraint failed: table.column`,
/// so the name is rebuilt from our naming rule (`<table>_<column>_unique`).
fn unique_constraint_name(db: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(name) = db.constraint() {
        return name.to_owned();
    }
    let msg = db.message();
    match msg.strip_prefix("UNIQUE constraint failed: ") {
        Some(cols) => {
            let first = cols.split(',').next().unwrap_or(cols).trim();
            match first.split_once('.') {
                Some((table, column)) => format!("{table}_{column}_unique"),
                None => first.to_owned(),
            }
        }
        None => "unknown".to_owned(),
    }
}

/// Turns a text column into a typed id, naming the column when the text is not a UUID.
pub(crate) fn parse_id<T: std::str::FromStr>(column: &'static str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt { column })
}
