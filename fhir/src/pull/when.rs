//! FHIR's `date`, `dateTime` and `instant`, read strictly: "yesterday" is not a date, and two
//! instants written in different offsets compare as the moments they are.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// Milliseconds since 1970 (UTC) of a full instant (`2026-11-20T10:00:00.000+01:00`).
pub fn instant_millis(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Reads a FHIR `dateTime` (`2019`, `2019-03`, `2019-03-01`, or a date and time with seconds
/// and an offset, as R4 writes it). Returns its first moment as milliseconds since 1970 in UTC (a date is taken
/// at midnight UTC), or `None` when it is not a valid `dateTime`.
pub fn date_time_millis(text: &str) -> Option<i64> {
    if let Some((day, _)) = text.split_once('T') {
        // With a time, R4 asks for seconds and an offset: RFC 3339 exactly.
        date_only(day)?;
        return instant_millis(text);
    }
    let day = date_only(text)?;
    let midnight = day.midnight().assume_utc();
    i64::try_from(midnight.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A FHIR `date` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), its first day.
fn date_only(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, len: usize| (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u16>().ok()).flatten();
    let year = i32::from(number(parts.first()?, 4)?);
    let month = match parts.get(1) {
        Some(m) => Month::try_from(u8::try_from(number(m, 2)?).ok()?).ok()?,
        None => Month::January,
    };
    let day = match parts.get(2) {
        Some(d) => u8::try_from(number(d, 2)?).ok()?,
        None => 1,
    };
    if parts.len() > 3 {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_every_precision_are_read_and_nonsense_is_not() {
        assert_eq!(date_time_millis("1970-01-02"), Some(86_400_000));
        assert_eq!(date_time_millis("1970"), Some(0));
        assert_eq!(date_time_millis("1970-02"), Some(31 * 86_400_000));
        for bad in ["yesterday", "2026-02-30", "2026-13", "26-01-01", "2026-1-1", "2026-01-01T10:00:00", "", "2026-01-01-01"] {
            assert_eq!(date_time_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_in_different_offsets_are_the_same_moment() {
        assert_eq!(date_time_millis("2026-11-20T11:00:00+01:00"), date_time_millis("2026-11-20T10:00:00Z"));
        assert_eq!(date_time_millis("2026-11-20T10:00:00+00:00"), date_time_millis("2026-11-20T10:00:00.000Z"));
        assert_eq!(date_time_millis("2026-11-20T10:00+00:00"), None, "R4 asks for seconds");
        assert!(instant_millis("2026-11-20T10:00:00.5Z").is_some());
    }
}
