//! Chart geometry for readings over a period: pure arithmetic, so the server can render an SVG
//! that needs no JavaScript and the numbers are tested here.

use crate::{Reading, ReadingKind, Span, Timestamp};
use serde::{Deserialize, Serialize};

/// The period a chart covers, ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Period {
    /// The last 7 days.
    Week,
    /// The last 30 days.
    #[default]
    Month,
    /// The last 90 days.
    Quarter,
    /// The last 365 days.
    Year,
    /// Everything.
    All,
}

impl Period {
    /// Every period, in the order the chooser lists them.
    pub const ALL: [Period; 5] = [Period::Week, Period::Month, Period::Quarter, Period::Year, Period::All];

    /// The stable text form used in URLs.
    pub fn slug(self) -> &'static str {
        match self {
            Period::Week => "7d",
            Period::Month => "30d",
            Period::Quarter => "90d",
            Period::Year => "1y",
            Period::All => "all",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Period::Week => "Last 7 days",
            Period::Month => "Last 30 days",
            Period::Quarter => "Last 90 days",
            Period::Year => "Last year",
            Period::All => "All time",
        }
    }

    /// Parses [`Period::slug`]; an empty text is the default.
    pub fn from_slug(s: &str) -> Option<Self> {
        match s.trim() {
            "" => Some(Period::default()),
            s => Self::ALL.into_iter().find(|p| p.slug() == s),
        }
    }

    /// Where the period starts, for a chart drawn at `now` (`None`: from the beginning).
    pub fn start(self, now: Timestamp) -> Option<Timestamp> {
        let days = match self {
            Period::Week => 7,
            Period::Month => 30,
            Period::Quarter => 90,
            Period::Year => 365,
            Period::All => return None,
        };
        Some(now.minus(Span::days(days)))
    }
}

/// The drawing's size in SVG user units.
pub const WIDTH: f64 = 640.0;
/// The drawing's height.
pub const HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// One line on the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// What it shows ("Systolic").
    pub name: String,
    /// The polyline's `points` attribute.
    pub points: String,
    /// Each reading's position.
    pub dots: Vec<(f64, f64)>,
}

/// A shaded usual range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// What it is ("Usual range for systolic: 90 to 135 mmHg").
    pub label: String,
    /// Top edge.
    pub y: f64,
    /// Height.
    pub height: f64,
}

/// An axis mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    /// Where along its axis.
    pub at: f64,
    /// Its words.
    pub text: String,
    /// How the words sit on the mark (`start`, `middle`, `end`), so none runs off the drawing.
    pub anchor: String,
}

/// Everything an SVG needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plot {
    /// The lines.
    pub series: Vec<Series>,
    /// The usual ranges.
    pub bands: Vec<Band>,
    /// Marks on the value axis.
    pub y_ticks: Vec<Tick>,
    /// Marks on the time axis.
    pub x_ticks: Vec<Tick>,
    /// Left edge of the plotting area.
    pub left: f64,
    /// Right edge.
    pub right: f64,
    /// Top edge.
    pub top: f64,
    /// Bottom edge.
    pub bottom: f64,
}

/// The usual ranges to shade: one for most kinds, systolic and diastolic for blood pressure.
pub fn usual_ranges(kind: ReadingKind) -> Vec<(&'static str, f64, f64)> {
    match kind {
        ReadingKind::BloodPressure => vec![("systolic", 90.0, 135.0), ("diastolic", 60.0, 85.0)],
        k => k.normal_range().map(|(lo, hi)| vec![("", lo, hi)]).unwrap_or_default(),
    }
}

/// The values plotted for a reading: systolic and diastolic for blood pressure, else one.
pub fn values(reading: &Reading) -> Vec<f64> {
    match *reading {
        Reading::BloodPressure { systolic, diastolic, .. } => vec![f64::from(systolic), f64::from(diastolic)],
        ref r => vec![r.primary()],
    }
}

/// A step of 1, 2 or 5 times a power of ten that cuts `span` into about five parts.
fn nice_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(f64::EPSILON);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

fn fmt_value(v: f64, step: f64) -> String {
    if step < 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Lays out `points` (oldest first) of `kind` between `from` and `to`.
pub fn plot(kind: ReadingKind, points: &[(Timestamp, Reading)], from: Timestamp, to: Timestamp) -> Plot {
    let ranges = usual_ranges(kind);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in points.iter().flat_map(|(_, r)| values(r)).chain(ranges.iter().flat_map(|(_, a, b)| [*a, *b])) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1.0 {
        hi = lo + 1.0;
    }
    let step = nice_step(hi - lo);
    let y_min = (lo / step).floor() * step;
    let y_max = (hi / step).ceil() * step;
    let (left, right, top, bottom) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let span_ms = (to.as_millis() - from.as_millis()).max(1) as f64;
    let x = |t: Timestamp| left + (t.as_millis() - from.as_millis()) as f64 / span_ms * (right - left);
    let y = |v: f64| bottom - (v - y_min) / (y_max - y_min) * (bottom - top);
    let round = |v: f64| (v * 10.0).round() / 10.0;

    let names: Vec<&str> = match kind {
        ReadingKind::BloodPressure => vec!["Systolic", "Diastolic"],
        k => vec![k.label()],
    };
    let series = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let dots: Vec<(f64, f64)> = points.iter().filter_map(|(t, r)| values(r).get(i).map(|v| (round(x(*t)), round(y(*v))))).collect();
            let points = dots.iter().map(|(a, b)| format!("{a},{b}")).collect::<Vec<_>>().join(" ");
            Series { name: (*name).to_owned(), points, dots }
        })
        .collect();
    let bands = ranges
        .iter()
        .map(|(which, a, b)| Band {
            label: if which.is_empty() {
                format!("Usual range: {a} to {b} {}", kind.unit())
            } else {
                format!("Usual range for {which}: {a} to {b} {}", kind.unit())
            },
            y: round(y(*b)),
            height: round(y(*a) - y(*b)),
        })
        .collect();
    let mut y_ticks = Vec::new();
    let mut v = y_min;
    while v <= y_max + step / 2.0 {
        y_ticks.push(Tick { at: round(y(v)), text: fmt_value(v, step), anchor: "end".to_owned() });
        v += step;
    }
    let x_ticks = (0..=3)
        .map(|i| {
            let t = Timestamp::from_millis(from.as_millis() + (to.as_millis() - from.as_millis()) * i / 3);
            let anchor = match i {
                0 => "start",
                3 => "end",
                _ => "middle",
            };
            Tick { at: round(x(t)), text: t.to_uk_date(), anchor: anchor.to_owned() }
        })
        .collect();
    Plot { series, bands, y_ticks, x_ticks, left, right, top, bottom }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReadingInput;

    fn bp(s: &str, d: &str) -> Reading {
        Reading::parse(ReadingKind::BloodPressure, &ReadingInput { value: s.into(), diastolic: Some(d.into()), pulse: None }).unwrap()
    }

    #[test]
    fn points_span_the_plot_and_the_usual_range_is_inside_the_axis() {
        let from = Timestamp::from_millis(0);
        let to = from.plus(Span::days(30));
        let p = plot(ReadingKind::BloodPressure, &[(from, bp("150", "95")), (to, bp("120", "80"))], from, to);
        assert_eq!(p.series.len(), 2);
        assert_eq!(p.series[0].dots[0].0, p.left);
        assert_eq!(p.series[0].dots[1].0, p.right);
        // Higher values sit higher on the page (smaller y).
        assert!(p.series[0].dots[0].1 < p.series[0].dots[1].1);
        assert_eq!(p.bands.len(), 2);
        for b in &p.bands {
            assert!(b.y >= p.top && b.y + b.height <= p.bottom + 0.1, "{b:?}");
        }
        assert_eq!(p.y_ticks.first().unwrap().text, "60");
        assert_eq!(p.y_ticks.last().unwrap().text, "160");
        assert_eq!(p.x_ticks.len(), 4);
    }

    #[test]
    fn an_empty_chart_still_has_axes() {
        let from = Timestamp::from_millis(0);
        let p = plot(ReadingKind::Weight, &[], from, from.plus(Span::days(7)));
        assert!(p.series[0].dots.is_empty() && p.bands.is_empty() && p.y_ticks.len() >= 2);
    }

    #[test]
    fn periods_round_trip_and_default_to_thirty_days() {
        for p in Period::ALL {
            assert_eq!(Period::from_slug(p.slug()), Some(p));
        }
        assert_eq!(Period::from_slug(""), Some(Period::Month));
        assert_eq!(Period::from_slug("forever"), None);
    }
}
