//! The summary of a series of home blood pressure readings that a GP needs, as NICE guideline
//! NG136 describes home monitoring: readings twice a day for at least 4 (ideally 7) days; the
//! first day's are discarded; the average systolic and diastolic of the rest are compared with
//! the home threshold for hypertension, 135/85 mmHg.

use crate::{Span, Timestamp};
use serde::{Deserialize, Serialize};

/// The fewest days of readings that a summary may be based on.
pub const MIN_DAYS: usize = 4;
/// The days NICE would ideally like.
pub const IDEAL_DAYS: usize = 7;
/// The longest series considered, in days (older readings belong to an earlier series).
pub const MAX_DAYS: usize = 14;
/// Home blood pressure at or above this (systolic, diastolic) meets the threshold.
pub const THRESHOLD: (f64, f64) = (135.0, 85.0);

/// One home reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpReading {
    /// When it was taken.
    pub at: Timestamp,
    /// mmHg.
    pub systolic: u16,
    /// mmHg.
    pub diastolic: u16,
}

/// What the series shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Fewer than [`MIN_DAYS`] days: not enough to go on.
    TooFewDays,
    /// The average is below 135/85.
    BelowThreshold,
    /// The average systolic is at least 135 or the diastolic at least 85.
    AtOrAboveThreshold,
}

/// The summary of the latest series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeBpSummary {
    /// The first day of the series ("1 Nov 2026").
    pub from: String,
    /// The last day.
    pub to: String,
    /// Days in the series that have readings.
    pub days: usize,
    /// Readings in the series.
    pub readings: usize,
    /// Readings the average is based on (all but the first day's).
    pub used: usize,
    /// Days with at least two readings (morning and evening).
    pub days_twice: usize,
    /// The average systolic of the readings used, mmHg, to one decimal place.
    pub mean_systolic: f64,
    /// The average diastolic, mmHg.
    pub mean_diastolic: f64,
    /// What it shows.
    pub verdict: Verdict,
    /// When the series' readings were taken, oldest first, for the table behind the summary.
    pub series: Vec<Timestamp>,
}

impl HomeBpSummary {
    /// The summary in one sentence, for the inbox.
    pub fn words(&self) -> String {
        let days = if self.days == 1 { "1 day".to_owned() } else { format!("{} days", self.days) };
        let base =
            format!("{days} ({} to {}), {} readings, twice daily on {} of {days}", self.from, self.to, self.readings, self.days_twice);
        match self.verdict {
            Verdict::TooFewDays => {
                format!("{base}. Not enough for a diagnosis: home monitoring needs at least {MIN_DAYS} days, ideally {IDEAL_DAYS}.")
            }
            v => format!(
                "{base}. First day discarded; average of the other {}: {}/{} mmHg, {} the home threshold of 135/85.",
                self.used,
                one_place(self.mean_systolic),
                one_place(self.mean_diastolic),
                if v == Verdict::AtOrAboveThreshold { "at or above" } else { "below" }
            ),
        }
    }
}

/// A mean to one decimal place, without a trailing ".0" ("140", "134.6").
fn one_place(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// Summarises the latest series in `readings` (any order): the run of days with readings that
/// ends on the latest day, broken by any day without one, at most [`MAX_DAYS`] long. `None`
/// when there are no readings.
pub fn summarise(readings: &[BpReading]) -> Option<HomeBpSummary> {
    let mut sorted: Vec<BpReading> = readings.to_vec();
    sorted.sort_by_key(|r| r.at);
    let last = sorted.last()?;
    // Group into UK calendar days, newest first, while the days run on without a gap.
    // Numbered by the UK day's midday, so days stay one apart across a change of the clocks.
    let day_number = |t: Timestamp| {
        let (y, m, d) = t.uk_ymd();
        Timestamp::uk_day_start(y, m, d).plus(Span::hours(12)).as_millis().div_euclid(86_400_000)
    };
    let mut days: Vec<(i64, Vec<BpReading>)> = Vec::new();
    let mut expected = day_number(last.at);
    for r in sorted.iter().rev() {
        let day = day_number(r.at);
        if let Some((d, rs)) = days.last_mut().filter(|(d, _)| *d == day) {
            debug_assert_eq!(*d, day);
            rs.push(*r);
        } else if day == expected && days.len() < MAX_DAYS {
            days.push((day, vec![*r]));
            expected = day - 1;
        } else {
            break;
        }
    }
    days.reverse();
    let series: Vec<BpReading> = days.iter().flat_map(|(_, rs)| rs.iter().rev().copied()).collect();
    let used: Vec<&BpReading> = days.iter().skip(1).flat_map(|(_, rs)| rs.iter()).collect();
    let n = used.len().max(1) as f64;
    let mean = |f: fn(&BpReading) -> u16| used.iter().map(|r| f64::from(f(r))).sum::<f64>() / n;
    let (systolic, diastolic) = (mean(|r| r.systolic), mean(|r| r.diastolic));
    // Compared unrounded: a mean of 134.96 is below 135.
    let verdict = if days.len() < MIN_DAYS {
        Verdict::TooFewDays
    } else if systolic >= THRESHOLD.0 || diastolic >= THRESHOLD.1 {
        Verdict::AtOrAboveThreshold
    } else {
        Verdict::BelowThreshold
    };
    Some(HomeBpSummary {
        from: series.first()?.at.to_uk_date(),
        to: last.at.to_uk_date(),
        days: days.len(),
        readings: series.len(),
        used: used.len(),
        days_twice: days.iter().filter(|(_, rs)| rs.len() >= 2).count(),
        mean_systolic: (systolic * 10.0).round() / 10.0,
        mean_diastolic: (diastolic * 10.0).round() / 10.0,
        verdict,
        series: series.iter().map(|r| r.at).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn at(day: i64, hour: i64) -> Timestamp {
        Timestamp::uk_day_start(2026, 11, day).plus(Span::hours(hour))
    }

    fn r(day: i64, hour: i64, s: u16, d: u16) -> BpReading {
        BpReading { at: at(day, hour), systolic: s, diastolic: d }
    }

    /// A week twice a day, with a high first day that must not count.
    fn week(s: u16, d: u16) -> Vec<BpReading> {
        let mut v = vec![r(1, 8, 170, 100), r(1, 20, 168, 98)];
        for day in 2..=7 {
            v.push(r(day, 8, s, d));
            v.push(r(day, 20, s + 2, d + 2));
        }
        v
    }

    #[test]
    fn a_week_discards_day_one_and_averages_the_rest() {
        let s = summarise(&week(140, 80)).unwrap();
        assert_eq!((s.days, s.readings, s.used, s.days_twice), (7, 14, 12, 7));
        assert_eq!((s.mean_systolic, s.mean_diastolic), (141.0, 81.0));
        assert_eq!(s.verdict, Verdict::AtOrAboveThreshold);
        assert_eq!((s.from.as_str(), s.to.as_str()), ("1 Nov 2026", "7 Nov 2026"));
        assert!(s.words().contains("average of the other 12: 141/81 mmHg, at or above"), "{}", s.words());
    }

    #[test]
    fn below_the_threshold_on_both_counts_is_below() {
        let s = summarise(&week(128, 78)).unwrap();
        assert_eq!((s.mean_systolic, s.mean_diastolic), (129.0, 79.0));
        assert_eq!(s.verdict, Verdict::BelowThreshold);
        // The diastolic alone reaching 85 meets the threshold.
        assert_eq!(summarise(&week(120, 84)).unwrap().verdict, Verdict::AtOrAboveThreshold);
        // Exactly 135 systolic meets it.
        let exact: Vec<BpReading> = (1..=5).map(|d| r(d, 9, 135, 70)).collect();
        assert_eq!(summarise(&exact).unwrap().verdict, Verdict::AtOrAboveThreshold);
    }

    #[test]
    fn the_threshold_is_met_by_the_true_mean_not_a_rounded_one() {
        // Systolic mean 134.96 (below), shown with its decimal so it never reads as 135.
        let mut v: Vec<BpReading> = (1..=5).map(|d| r(d, 9, 120, 70)).collect();
        v[0] = r(1, 9, 200, 100);
        for (i, s) in [135, 135, 135, 134].into_iter().enumerate() {
            v[i + 1] = r(i as i64 + 2, 9, s, 70);
        }
        let s = summarise(&v).unwrap();
        assert_eq!(s.verdict, Verdict::BelowThreshold);
        assert!(s.words().contains("134.8/70 mmHg, below"), "{}", s.words());
    }

    #[test]
    fn fewer_than_four_days_is_not_enough() {
        let s = summarise(&[r(1, 8, 150, 95), r(2, 8, 150, 95), r(3, 8, 150, 95)]).unwrap();
        assert_eq!(s.verdict, Verdict::TooFewDays);
        assert!(s.words().contains("at least 4 days"));
        assert!(summarise(&[]).is_none());
    }

    #[test]
    fn a_gap_starts_a_new_series_and_old_readings_are_left_out() {
        let mut v = week(130, 80);
        // An earlier series, before a day with no readings, is not part of this one.
        v.push(r(-1, 6, 200, 120));
        let s = summarise(&v).unwrap();
        assert_eq!(s.days, 7);
        // Order of input does not matter.
        v.reverse();
        assert_eq!(summarise(&v).unwrap(), s);
        // A gap in the middle leaves only the days after it.
        let gappy = vec![r(1, 8, 150, 90), r(3, 8, 120, 70), r(4, 8, 120, 70)];
        assert_eq!(summarise(&gappy).unwrap().days, 2);
    }

    #[test]
    fn a_day_with_one_reading_is_counted_but_not_as_twice_daily() {
        let v = vec![r(1, 8, 130, 80), r(2, 8, 130, 80), r(2, 20, 130, 80), r(3, 8, 130, 80), r(4, 8, 130, 80)];
        let s = summarise(&v).unwrap();
        assert_eq!((s.days, s.days_twice, s.used), (4, 1, 4));
        assert!(s.words().contains("twice daily on 1 of 4 days"));
    }

    #[test]
    fn days_stay_consecutive_when_the_clocks_go_back() {
        // The clocks went back on 25 Oct 2026.
        let v: Vec<BpReading> = (23..=28)
            .map(|d| BpReading { at: Timestamp::uk_day_start(2026, 10, d).plus(Span::hours(8)), systolic: 130, diastolic: 80 })
            .collect();
        assert_eq!(summarise(&v).unwrap().days, 6);
    }
}
