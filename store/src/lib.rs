//! The one place with SQL.
//!
//! Every query is written once, in lower-case SQL with `$n` placeholders, and runs unchanged on
//! SQLite and PostgreSQL through sqlx's `Any` driver. Ids are UUID text and times are UTC
//! milliseconds (`bigint`), the types both backends decode alike. The service layer owns
//! transactions: repository functions take a `&mut Conn` that is either a pooled connection or
//! a transaction.

pub mod audit;
pub mod care_record;
pub mod ceremonies;
mod db;
pub mod email_links;
pub mod entries;
mod error;
pub mod exports;
pub mod fhir_api;
pub mod grants;
pub mod health_links;
pub mod links;
pub mod mail;
pub mod notices;
pub mod passkeys;
pub mod passwords;
pub mod patients;
pub mod practices;
pub mod reviews;
pub mod sessions;
pub mod shared;
pub mod synced;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;
pub mod users;

pub use db::{Backend, Conn, Db, DbOptions, Tx};
pub use error::StoreError;

/// The result of every store function.
pub type StoreResult<T> = Result<T, StoreError>;
