//! The FHIR R4 side of Carry: the resources it exchanges with the shared care record, what it
//! sends when a practice accepts an entry, and how it reads the other server's answers.
//!
//! Pure: no I/O, no clock. The service layer does the HTTP and decides what to do with the
//! outcomes this crate reads.

pub mod api;
pub mod export;
#[doc(hidden)]
pub mod fuzz;
pub mod ips;
pub mod model;
pub mod patient;
pub mod pull;
pub mod push;
pub mod response;
pub mod security;

use domain::Timestamp;

/// The NHS number's identifier system.
pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// A FHIR `instant` (UTC, milliseconds): `2026-12-05T10:00:00.000Z`.
pub fn instant(t: Timestamp) -> String {
    let nanos = i128::from(t.as_millis()) * 1_000_000;
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|dt| dt.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_utc_with_milliseconds() {
        assert_eq!(instant(Timestamp::from_millis(0)), "1970-01-01T00:00:00.000Z");
        // 2026-07-01 12:34:56.789 UTC (summer: still written in UTC, never BST).
        assert_eq!(instant(Timestamp::from_millis(1_782_909_296_789)), "2026-07-01T12:34:56.789Z");
    }
}
