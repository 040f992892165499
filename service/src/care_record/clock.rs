//! The shared care record's clock, as the `Date` headers of its answers tell it.
//!
//! A pull's watermark must be in the other server's clock (its `meta.lastUpdated` values are),
//! and should be when the pull started there: the newest change among a patient's own
//! resources can be months old for a quiet record, and the next pull would then read months of
//! the region's `_history` and the last minutes of whatever was written with that change. The
//! `Date` header (RFC 9110) is the server's time when it answered, to the second; Carry keeps
//! the latest one with the moment it arrived, and estimates the server's time at any other
//! moment from it. The estimate is never later than the truth (the header is rounded down and
//! the answer took time to arrive), so a watermark made from it never skips a change. Each
//! answer's `Date` is such a lower bound: a reading is replaced only by one that says later,
//! or once it is a minute old (so the two clocks' drift never adds up), which keeps the
//! estimate within the network's delay of the truth rather than within a second.
//!
//! A `Date` further than [`MAX_SKEW`] from Carry's own clock is not trusted (a proxy's clock,
//! or a server whose clock is wrong): with both clocks kept right the two agree to well under a
//! second, and a server whose `Date` disagrees may disagree with its own `lastUpdated` too.
//! Then, and before any answer has come, there is no estimate: pulls fall back to the newest
//! change they saw.

use domain::Timestamp;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How far the server's `Date` may be from Carry's clock and still be trusted: a fifth of the
/// overlap each pull starts before its watermark, so the rest covers changes committed late.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(60);

/// How long a reading stands against later ones that say less.
const KEEP_READING: Duration = Duration::from_secs(60);

/// The latest reading of the other server's clock.
#[derive(Default)]
pub(crate) struct ServerClock {
    reading: Mutex<Reading>,
}

#[derive(Default, Clone, Copy)]
enum Reading {
    /// No answer with a `Date` yet.
    #[default]
    None,
    /// Its time (milliseconds since the epoch) when an answer arrived at `at`.
    Trusted { millis: i64, at: Instant },
    /// The last `Date` was this far from Carry's clock, in seconds (positive: ahead).
    Skewed(i64),
}

impl ServerClock {
    /// Reads an answer's `Date` header, which arrived now. An answer without one (or with one
    /// that is not an HTTP date) changes nothing.
    pub(crate) fn observe(&self, date: Option<&str>) {
        self.observe_at(date, SystemTime::now(), Instant::now());
    }

    fn observe_at(&self, date: Option<&str>, here: SystemTime, at: Instant) {
        let Some(there) = date.and_then(|d| httpdate::parse_http_date(d.trim()).ok()) else { return };
        let (there_ms, here_ms) = (millis(there), millis(here));
        let skew_ms = there_ms - here_ms;
        let next = if skew_ms.unsigned_abs() > u64::try_from(MAX_SKEW.as_millis()).unwrap_or(u64::MAX) {
            Reading::Skewed(skew_ms / 1000)
        } else {
            Reading::Trusted { millis: there_ms, at }
        };
        let mut reading = self.reading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let (Reading::Trusted { millis, at: then }, Reading::Trusted { millis: now_ms, at: now }) = (*reading, next) {
            let since = now.saturating_duration_since(then);
            let carried = millis + i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
            if since < KEEP_READING && carried > now_ms {
                return;
            }
        }
        if let (Reading::Skewed(seconds), false) = (next, matches!(*reading, Reading::Skewed(_))) {
            tracing::warn!(
                skew_seconds = seconds,
                "the shared care record's clock (its Date header) is not Carry's: pulls start from the newest change they saw, which may read more"
            );
        }
        *reading = next;
    }

    /// The server's time at `moment` (a moment of this process), estimated from the latest
    /// trusted `Date`; `None` without one.
    pub(crate) fn at(&self, moment: Instant) -> Option<Timestamp> {
        let reading = *self.reading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Reading::Trusted { millis, at } = reading else { return None };
        let offset = match moment.checked_duration_since(at) {
            Some(after) => i64::try_from(after.as_millis()).ok()?,
            None => -i64::try_from(at.duration_since(moment).as_millis()).ok()?,
        };
        Some(Timestamp::from_millis(millis + offset))
    }
}

fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
    const DATE: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const THEN: u64 = 1_700_000_000;

    #[test]
    fn the_servers_time_is_its_date_plus_the_time_since_it_arrived() {
        let clock = ServerClock::default();
        let arrived = Instant::now();
        clock.observe_at(Some(DATE), at(THEN + 2), arrived);
        let millis = i64::try_from(THEN).unwrap() * 1000;
        assert_eq!(clock.at(arrived), Some(Timestamp::from_millis(millis)));
        assert_eq!(clock.at(arrived + Duration::from_millis(1500)), Some(Timestamp::from_millis(millis + 1500)));
        // A moment before the answer arrived (a pull that started before its first answer).
        let later = ServerClock::default();
        let arrived = Instant::now() + Duration::from_secs(5);
        later.observe_at(Some(DATE), at(THEN), arrived);
        assert_eq!(later.at(arrived - Duration::from_secs(5)), Some(Timestamp::from_millis(millis - 5000)));
    }

    #[test]
    fn the_reading_that_says_later_stands_for_a_minute() {
        let clock = ServerClock::default();
        let first = Instant::now();
        let millis = i64::try_from(THEN).unwrap() * 1000;
        // 22:13:20 arrives; 900 ms later another answer still says 22:13:20 (rounded down).
        clock.observe_at(Some(DATE), at(THEN), first);
        clock.observe_at(Some(DATE), at(THEN), first + Duration::from_millis(900));
        assert_eq!(clock.at(first + Duration::from_millis(900)), Some(Timestamp::from_millis(millis + 900)));
        // A minute on, the newest reading is taken even if it says a little less.
        let later = first + KEEP_READING + Duration::from_millis(500);
        clock.observe_at(Some("Tue, 14 Nov 2023 22:14:20 GMT"), at(THEN + 60), later);
        assert_eq!(clock.at(later), Some(Timestamp::from_millis(millis + 60_000)));
    }

    #[test]
    fn without_a_date_there_is_no_estimate_and_a_later_answer_without_one_keeps_the_last() {
        let clock = ServerClock::default();
        clock.observe_at(None, at(THEN), Instant::now());
        clock.observe_at(Some("yesterday"), at(THEN), Instant::now());
        assert_eq!(clock.at(Instant::now()), None);
        let arrived = Instant::now();
        clock.observe_at(Some(DATE), at(THEN), arrived);
        clock.observe_at(None, at(THEN + 10), Instant::now());
        clock.observe_at(Some("not a date"), at(THEN + 10), Instant::now());
        assert_eq!(clock.at(arrived), Some(Timestamp::from_millis(i64::try_from(THEN).unwrap() * 1000)));
    }

    #[test]
    fn a_date_further_than_the_skew_allowed_from_carrys_clock_is_not_trusted() {
        let clock = ServerClock::default();
        let skew = MAX_SKEW.as_secs();
        clock.observe_at(Some(DATE), at(THEN - skew), Instant::now());
        assert!(clock.at(Instant::now()).is_some(), "at the limit");
        clock.observe_at(Some(DATE), at(THEN - skew - 1), Instant::now());
        assert_eq!(clock.at(Instant::now()), None, "the server ahead");
        clock.observe_at(Some(DATE), at(THEN), Instant::now());
        assert!(clock.at(Instant::now()).is_some(), "agrees again");
        clock.observe_at(Some(DATE), at(THEN + skew + 1), Instant::now());
        assert_eq!(clock.at(Instant::now()), None, "the server behind");
    }
}
