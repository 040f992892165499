//! Black-box HTTP tests of the whole server on port 0, with a real SMTP server, on SQLite and
//! PostgreSQL. One test binary (quicker to link than one per file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod accounts;
mod carers;
mod cli;
mod exports;
mod fhir;
mod modes;
mod passkeys;
mod practices;
mod record;
mod recovery;
mod security;
mod sessions;
mod sign_in;
