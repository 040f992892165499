//! Instants in time as UTC milliseconds, and how Carry shows them to people in the UK.
//!
//! Clocks live in the server (`service::Clock`); this module only does arithmetic and formatting,
//! so it stays pure and builds for wasm32.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A UTC instant, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

/// A length of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Span(i64);

impl Span {
    /// `n` seconds.
    pub const fn seconds(n: i64) -> Self {
        Self(n * 1000)
    }
    /// `n` minutes.
    pub const fn minutes(n: i64) -> Self {
        Self(n * 60_000)
    }
    /// `n` hours.
    pub const fn hours(n: i64) -> Self {
        Self(n * 3_600_000)
    }
    /// `n` days.
    pub const fn days(n: i64) -> Self {
        Self(n * 86_400_000)
    }
    /// `n` milliseconds.
    pub const fn millis(n: i64) -> Self {
        Self(n)
    }
    /// The span in milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

impl Timestamp {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    /// This instant plus `span` (saturating).
    pub fn plus(self, span: Span) -> Self {
        Self(self.0.saturating_add(span.0))
    }
    /// This instant minus `span` (saturating).
    pub fn minus(self, span: Span) -> Self {
        Self(self.0.saturating_sub(span.0))
    }
    /// `self - earlier`.
    pub fn since(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }

    /// UK civil time: "3 Nov 2026, 14:02" (GMT or BST as the date requires).
    pub fn to_uk_string(self) -> String {
        let local = self.0 + uk_offset_millis(self.0);
        let (y, m, d, hh, mm) = civil(local);
        format!("{d} {} {y}, {hh:02}:{mm:02}", MONTHS[(m - 1) as usize])
    }
}

impl Timestamp {
    /// The UK calendar date: "3 Nov 2026".
    pub fn to_uk_date(self) -> String {
        let (y, m, d, ..) = civil(self.0 + uk_offset_millis(self.0));
        format!("{d} {} {y}", MONTHS[(m - 1) as usize])
    }

    /// The value a `datetime-local` input shows for this instant in UK time: "2026-11-03T14:02".
    pub fn to_uk_input(self) -> String {
        let (y, m, d, hh, mm) = civil(self.0 + uk_offset_millis(self.0));
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}")
    }

    /// The value a `date` input shows for this instant's UK date: "2026-11-03".
    pub fn to_uk_date_input(self) -> String {
        let (y, m, d, ..) = civil(self.0 + uk_offset_millis(self.0));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Reads a `datetime-local` value ("2026-11-03T14:02", seconds allowed) as UK civil time.
    /// In the hour the clocks go back, the earlier (BST) instant is taken; a time in the hour
    /// skipped when they go forward is read as GMT.
    pub fn parse_uk_input(text: &str) -> Option<Self> {
        let t = text.trim();
        let (date, time) = t.split_once('T').or_else(|| t.split_once(' '))?;
        let (y, m, d) = parse_date(date)?;
        let mut parts = time.split(':');
        let hh: i64 = parse_digits(parts.next()?, 2)?;
        let mm: i64 = parse_digits(parts.next()?, 2)?;
        let ss: i64 = match parts.next() {
            Some(s) => parse_digits(s.split('.').next()?, 2)?,
            None => 0,
        };
        if parts.next().is_some() || hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        Some(from_uk_civil(days_from_civil(y, m, d) * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1000))
    }

    /// The UK calendar date of this instant as (year, month, day).
    pub fn uk_ymd(self) -> (i64, i64, i64) {
        let (y, m, d, ..) = civil(self.0 + uk_offset_millis(self.0));
        (y, m, d)
    }

    /// The start of a UK calendar day. A day past the month's end rolls into the next month
    /// (29 February in a common year is 1 March).
    pub fn uk_day_start(y: i64, m: i64, d: i64) -> Self {
        from_uk_civil((days_from_civil(y, m, 1) + d - 1) * 86_400_000)
    }

    /// Checks a `date` value ("2026-11-03") and gives (year, month, day).
    pub fn parse_ymd(text: &str) -> Option<(i64, i64, i64)> {
        parse_date(text.trim())
    }

    /// Reads a `date` value ("2026-11-03") as the start of that day in UK civil time.
    pub fn parse_uk_date(text: &str) -> Option<Self> {
        let (y, m, d) = parse_date(text.trim())?;
        Some(from_uk_civil(days_from_civil(y, m, d) * 86_400_000))
    }
}

/// The UTC instant of a UK civil time given as milliseconds of a naive local clock.
fn from_uk_civil(local: i64) -> Timestamp {
    let as_bst = local - 3_600_000;
    if uk_offset_millis(as_bst) == 3_600_000 {
        Timestamp(as_bst)
    } else {
        Timestamp(local)
    }
}

fn parse_digits(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// "YYYY-MM-DD", a real calendar date in years 1000 to 9999.
fn parse_date(s: &str) -> Option<(i64, i64, i64)> {
    let mut it = s.split('-');
    let y = parse_digits(it.next()?, 4)?;
    let m = parse_digits(it.next()?, 2)?;
    let d = parse_digits(it.next()?, 2)?;
    if it.next().is_some() || y < 1000 || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let days_in_month = days_from_civil(if m == 12 { y + 1 } else { y }, if m == 12 { 1 } else { m + 1 }, 1) - days_from_civil(y, m, 1);
    (d <= days_in_month).then_some((y, m, d))
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uk_string())
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day, hour, minute) of a millisecond instant read as UTC.
fn civil(ms: i64) -> (i64, i64, i64, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3_600_000, (rem / 60_000) % 60)
}

/// The last Sunday of a month at 01:00 UTC, in milliseconds.
fn last_sunday_0100_utc(y: i64, m: i64) -> i64 {
    let days_in_month = days_from_civil(if m == 12 { y + 1 } else { y }, if m == 12 { 1 } else { m + 1 }, 1) - days_from_civil(y, m, 1);
    let last = days_from_civil(y, m, days_in_month);
    let weekday = (last + 4).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Sunday
    (last - weekday) * 86_400_000 + 3_600_000
}

/// British Summer Time runs from the last Sunday of March to the last Sunday of October, 01:00 UTC.
fn uk_offset_millis(utc_ms: i64) -> i64 {
    let (y, ..) = civil(utc_ms);
    let start = last_sunday_0100_utc(y, 3);
    let end = last_sunday_0100_utc(y, 10);
    if (start..end).contains(&utc_ms) {
        3_600_000
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: i64, d: i64, h: i64, min: i64) -> Timestamp {
        Timestamp::from_millis(days_from_civil(y, m, d) * 86_400_000 + h * 3_600_000 + min * 60_000)
    }

    #[test]
    fn winter_times_are_gmt() {
        assert_eq!(at(2026, 11, 3, 14, 2).to_uk_string(), "3 Nov 2026, 14:02");
    }

    #[test]
    fn summer_times_are_bst() {
        assert_eq!(at(2026, 7, 1, 9, 30).to_uk_string(), "1 Jul 2026, 10:30");
    }

    #[test]
    fn clocks_change_at_one_in_the_morning_utc_on_the_last_sundays() {
        // 2026: BST starts Sunday 29 March, ends Sunday 25 October.
        assert_eq!(at(2026, 3, 29, 0, 59).to_uk_string(), "29 Mar 2026, 00:59");
        assert_eq!(at(2026, 3, 29, 1, 0).to_uk_string(), "29 Mar 2026, 02:00");
        assert_eq!(at(2026, 10, 25, 0, 59).to_uk_string(), "25 Oct 2026, 01:59");
        assert_eq!(at(2026, 10, 25, 1, 0).to_uk_string(), "25 Oct 2026, 01:00");
    }

    #[test]
    fn uk_input_values_round_trip_in_winter_and_summer() {
        for t in [at(2026, 11, 3, 14, 2), at(2026, 7, 1, 9, 30), at(2024, 2, 29, 23, 59)] {
            assert_eq!(Timestamp::parse_uk_input(&t.to_uk_input()), Some(t));
        }
        assert_eq!(at(2026, 7, 1, 9, 30).to_uk_input(), "2026-07-01T10:30");
        assert_eq!(Timestamp::parse_uk_input("2026-07-01T10:30:15"), Some(at(2026, 7, 1, 9, 30).plus(Span::seconds(15))));
        assert_eq!(Timestamp::parse_uk_date("2026-07-01"), Some(at(2026, 6, 30, 23, 0)));
        assert_eq!(at(2026, 7, 1, 9, 30).to_uk_date(), "1 Jul 2026");
    }

    #[test]
    fn impossible_dates_and_times_are_not_read() {
        for bad in ["", "2026-02-30T10:00", "2026-13-01T10:00", "2026-01-01T24:00", "2026-1-1T10:00", "yesterday", "2026-01-01T10:00:00:00"]
        {
            assert_eq!(Timestamp::parse_uk_input(bad), None, "{bad}");
        }
        assert_eq!(Timestamp::parse_uk_date("2025-02-29"), None);
    }

    #[test]
    fn epoch_is_the_first_of_january_1970() {
        assert_eq!(Timestamp::from_millis(0).to_uk_string(), "1 Jan 1970, 00:00");
    }
}
