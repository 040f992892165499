//! Home readings: what a person can measure at home, coded as fhir.md says (LOINC + UCUM).
//!
//! A [`Reading`] can only be made through [`Reading::parse`], which refuses values outside a
//! plausible range with a message naming the field and the range. Values that are plausible
//! but concerning are kept and carry a [`Concern`] with plain advice.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// The kinds of home reading Carry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadingKind {
    /// Systolic and diastolic pressure, with an optional pulse.
    BloodPressure,
    /// Pulse at rest.
    HeartRate,
    /// Body weight.
    Weight,
    /// Body height.
    Height,
    /// Body temperature.
    Temperature,
    /// Oxygen saturation by pulse oximeter.
    OxygenSaturation,
    /// Capillary blood glucose (UK units).
    BloodGlucose,
    /// Peak expiratory flow.
    PeakFlow,
}

impl ReadingKind {
    /// Every kind, in the order pages list them.
    pub const ALL: [ReadingKind; 8] = [
        ReadingKind::BloodPressure,
        ReadingKind::HeartRate,
        ReadingKind::Weight,
        ReadingKind::Height,
        ReadingKind::Temperature,
        ReadingKind::OxygenSaturation,
        ReadingKind::BloodGlucose,
        ReadingKind::PeakFlow,
    ];

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            ReadingKind::BloodPressure => "Blood pressure",
            ReadingKind::HeartRate => "Heart rate",
            ReadingKind::Weight => "Weight",
            ReadingKind::Height => "Height",
            ReadingKind::Temperature => "Temperature",
            ReadingKind::OxygenSaturation => "Oxygen saturation",
            ReadingKind::BloodGlucose => "Blood glucose",
            ReadingKind::PeakFlow => "Peak flow",
        }
    }

    /// The stable text form used in URLs and the database.
    pub fn slug(self) -> &'static str {
        match self {
            ReadingKind::BloodPressure => "blood-pressure",
            ReadingKind::HeartRate => "heart-rate",
            ReadingKind::Weight => "weight",
            ReadingKind::Height => "height",
            ReadingKind::Temperature => "temperature",
            ReadingKind::OxygenSaturation => "oxygen-saturation",
            ReadingKind::BloodGlucose => "blood-glucose",
            ReadingKind::PeakFlow => "peak-flow",
        }
    }

    /// Parses [`ReadingKind::slug`].
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == s)
    }

    /// The LOINC code of the observation (for blood pressure, the panel).
    pub fn loinc(self) -> &'static str {
        match self {
            ReadingKind::BloodPressure => "85354-9",
            ReadingKind::HeartRate => "8867-4",
            ReadingKind::Weight => "29463-7",
            ReadingKind::Height => "8302-2",
            ReadingKind::Temperature => "8310-5",
            ReadingKind::OxygenSaturation => "59408-5",
            ReadingKind::BloodGlucose => "14743-9",
            ReadingKind::PeakFlow => "19935-6",
        }
    }

    /// The UCUM unit code of the value (for blood pressure, of each component).
    pub fn ucum(self) -> &'static str {
        match self {
            ReadingKind::BloodPressure => "mm[Hg]",
            ReadingKind::HeartRate => "/min",
            ReadingKind::Weight => "kg",
            ReadingKind::Height => "cm",
            ReadingKind::Temperature => "Cel",
            ReadingKind::OxygenSaturation => "%",
            ReadingKind::BloodGlucose => "mmol/L",
            ReadingKind::PeakFlow => "L/min",
        }
    }

    /// The unit as people write it.
    pub fn unit(self) -> &'static str {
        match self {
            ReadingKind::BloodPressure => "mmHg",
            ReadingKind::HeartRate => "beats a minute",
            ReadingKind::Weight => "kg",
            ReadingKind::Height => "cm",
            ReadingKind::Temperature => "°C",
            ReadingKind::OxygenSaturation => "%",
            ReadingKind::BloodGlucose => "mmol/L",
            ReadingKind::PeakFlow => "litres a minute",
        }
    }

    /// The usual range for an adult at rest, shaded on charts (for blood pressure, systolic).
    pub fn normal_range(self) -> Option<(f64, f64)> {
        match self {
            ReadingKind::BloodPressure => Some((90.0, 135.0)),
            ReadingKind::HeartRate => Some((60.0, 100.0)),
            ReadingKind::Temperature => Some((36.0, 37.8)),
            ReadingKind::OxygenSaturation => Some((95.0, 100.0)),
            ReadingKind::BloodGlucose => Some((4.0, 7.0)),
            ReadingKind::Weight | ReadingKind::Height | ReadingKind::PeakFlow => None,
        }
    }
}

/// A measured value, in the kind's unit. Deserialising checks it exactly as [`Reading::parse`]
/// does, so no invalid reading can exist, whatever the JSON said.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", try_from = "UncheckedReading")]
pub enum Reading {
    /// mmHg, with an optional pulse in beats a minute.
    BloodPressure {
        /// Systolic, mmHg.
        systolic: u16,
        /// Diastolic, mmHg.
        diastolic: u16,
        /// Pulse, beats a minute.
        pulse: Option<u16>,
    },
    /// Beats a minute.
    HeartRate {
        /// Beats a minute.
        bpm: u16,
    },
    /// Kilograms, to 0.1 kg.
    Weight {
        /// Kilograms.
        kg: f64,
    },
    /// Centimetres, to 0.1 cm.
    Height {
        /// Centimetres.
        cm: f64,
    },
    /// Degrees Celsius, to 0.1 °C.
    Temperature {
        /// Degrees Celsius.
        celsius: f64,
    },
    /// Percent.
    OxygenSaturation {
        /// Percent.
        percent: u8,
    },
    /// mmol/L, to 0.1.
    BloodGlucose {
        /// mmol/L.
        mmol_per_l: f64,
    },
    /// Litres a minute.
    PeakFlow {
        /// Litres a minute.
        litres_per_min: u16,
    },
}

/// The same shape as [`Reading`], before checking (serde's way in).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum UncheckedReading {
    BloodPressure { systolic: u16, diastolic: u16, pulse: Option<u16> },
    HeartRate { bpm: u16 },
    Weight { kg: f64 },
    Height { cm: f64 },
    Temperature { celsius: f64 },
    OxygenSaturation { percent: u8 },
    BloodGlucose { mmol_per_l: f64 },
    PeakFlow { litres_per_min: u16 },
}

impl TryFrom<UncheckedReading> for Reading {
    type Error = ValidationError;
    fn try_from(r: UncheckedReading) -> Result<Self, Self::Error> {
        let one = |kind, v: String| Reading::parse(kind, &ReadingInput { value: v, ..ReadingInput::default() });
        match r {
            UncheckedReading::BloodPressure { systolic, diastolic, pulse } => Reading::parse(
                ReadingKind::BloodPressure,
                &ReadingInput { value: systolic.to_string(), diastolic: Some(diastolic.to_string()), pulse: pulse.map(|p| p.to_string()) },
            ),
            UncheckedReading::HeartRate { bpm } => one(ReadingKind::HeartRate, bpm.to_string()),
            UncheckedReading::Weight { kg } => one(ReadingKind::Weight, kg.to_string()),
            UncheckedReading::Height { cm } => one(ReadingKind::Height, cm.to_string()),
            UncheckedReading::Temperature { celsius } => one(ReadingKind::Temperature, celsius.to_string()),
            UncheckedReading::OxygenSaturation { percent } => one(ReadingKind::OxygenSaturation, percent.to_string()),
            UncheckedReading::BloodGlucose { mmol_per_l } => one(ReadingKind::BloodGlucose, mmol_per_l.to_string()),
            UncheckedReading::PeakFlow { litres_per_min } => one(ReadingKind::PeakFlow, litres_per_min.to_string()),
        }
    }
}

/// What a person typed, field by field, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingInput {
    /// The main value (systolic for blood pressure).
    pub value: String,
    /// Diastolic, for blood pressure.
    pub diastolic: Option<String>,
    /// Pulse, optional with blood pressure.
    pub pulse: Option<String>,
}

/// A plausible value that a person should act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// What is unusual, in plain words.
    pub summary: String,
    /// What to do.
    pub advice: String,
}

const CALL_TODAY: &str = "Contact your GP practice today, or NHS 111 if the practice is closed. If you feel very unwell, call 999.";

fn number(field: &str, text: &str, label: &str) -> Result<f64, ValidationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ValidationError::field(field, format!("Enter the {label}.")));
    }
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| ValidationError::field(field, format!("Enter the {label} as a number, like 120 or 36.8.")))
}

fn in_range(field: &str, label: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<f64, ValidationError> {
    if v < lo || v > hi {
        return Err(ValidationError::field(
            field,
            format!("The {label} must be between {lo} and {hi} {unit}. Check the reading and try again."),
        ));
    }
    Ok(v)
}

fn whole(field: &str, label: &str, v: f64) -> Result<f64, ValidationError> {
    if v.fract() != 0.0 {
        return Err(ValidationError::field(field, format!("Enter the {label} as a whole number.")));
    }
    Ok(v)
}

/// Rounds to one decimal place, the precision home devices show.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_u16(v: f64) -> u16 {
    v as u16
}

impl Reading {
    /// Checks what a person typed for a reading of `kind`. Errors name the field (`value`,
    /// `diastolic`, `pulse`) and the plausible range.
    pub fn parse(kind: ReadingKind, input: &ReadingInput) -> Result<Self, ValidationError> {
        match kind {
            ReadingKind::BloodPressure => {
                let sys = number("value", &input.value, "systolic pressure (the top number)")
                    .and_then(|v| whole("value", "systolic pressure", v))
                    .and_then(|v| in_range("value", "systolic pressure", v, 50.0, 300.0, "mmHg"));
                let dia = number("diastolic", input.diastolic.as_deref().unwrap_or(""), "diastolic pressure (the bottom number)")
                    .and_then(|v| whole("diastolic", "diastolic pressure", v))
                    .and_then(|v| in_range("diastolic", "diastolic pressure", v, 20.0, 200.0, "mmHg"));
                let pulse = match input.pulse.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                    None => Ok(None),
                    Some(p) => number("pulse", p, "pulse")
                        .and_then(|v| whole("pulse", "pulse", v))
                        .and_then(|v| in_range("pulse", "pulse", v, 20.0, 250.0, "beats a minute"))
                        .map(Some),
                };
                let (sys, dia, pulse) = match (sys, dia, pulse) {
                    (Ok(s), Ok(d), Ok(p)) => (s, d, p),
                    (s, d, p) => {
                        return Err(ValidationError(s.err().into_iter().chain(d.err()).chain(p.err()).flat_map(|e| e.0).collect()))
                    }
                };
                if sys <= dia {
                    return Err(ValidationError::field(
                        "diastolic",
                        "The diastolic pressure (bottom number) must be lower than the systolic (top number).",
                    ));
                }
                Ok(Reading::BloodPressure { systolic: to_u16(sys), diastolic: to_u16(dia), pulse: pulse.map(to_u16) })
            }
            ReadingKind::HeartRate => {
                let v = number("value", &input.value, "heart rate")
                    .and_then(|v| whole("value", "heart rate", v))
                    .and_then(|v| in_range("value", "heart rate", v, 20.0, 250.0, "beats a minute"))?;
                Ok(Reading::HeartRate { bpm: to_u16(v) })
            }
            ReadingKind::Weight => {
                let v = number("value", &input.value, "weight").and_then(|v| in_range("value", "weight", v, 0.5, 500.0, "kg"))?;
                Ok(Reading::Weight { kg: tenth(v) })
            }
            ReadingKind::Height => {
                let v = number("value", &input.value, "height").and_then(|v| in_range("value", "height", v, 20.0, 280.0, "cm"))?;
                Ok(Reading::Height { cm: tenth(v) })
            }
            ReadingKind::Temperature => {
                let v = number("value", &input.value, "temperature").and_then(|v| in_range("value", "temperature", v, 25.0, 45.0, "°C"))?;
                Ok(Reading::Temperature { celsius: tenth(v) })
            }
            ReadingKind::OxygenSaturation => {
                let v = number("value", &input.value, "oxygen saturation")
                    .and_then(|v| whole("value", "oxygen saturation", v))
                    .and_then(|v| in_range("value", "oxygen saturation", v, 50.0, 100.0, "%"))?;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(Reading::OxygenSaturation { percent: v as u8 })
            }
            ReadingKind::BloodGlucose => {
                let v = number("value", &input.value, "blood glucose")
                    .and_then(|v| in_range("value", "blood glucose", v, 0.5, 50.0, "mmol/L"))?;
                Ok(Reading::BloodGlucose { mmol_per_l: tenth(v) })
            }
            ReadingKind::PeakFlow => {
                let v = number("value", &input.value, "peak flow")
                    .and_then(|v| whole("value", "peak flow", v))
                    .and_then(|v| in_range("value", "peak flow", v, 30.0, 1000.0, "litres a minute"))?;
                Ok(Reading::PeakFlow { litres_per_min: to_u16(v) })
            }
        }
    }

    /// Which kind this is.
    pub fn kind(&self) -> ReadingKind {
        match self {
            Reading::BloodPressure { .. } => ReadingKind::BloodPressure,
            Reading::HeartRate { .. } => ReadingKind::HeartRate,
            Reading::Weight { .. } => ReadingKind::Weight,
            Reading::Height { .. } => ReadingKind::Height,
            Reading::Temperature { .. } => ReadingKind::Temperature,
            Reading::OxygenSaturation { .. } => ReadingKind::OxygenSaturation,
            Reading::BloodGlucose { .. } => ReadingKind::BloodGlucose,
            Reading::PeakFlow { .. } => ReadingKind::PeakFlow,
        }
    }

    /// The number charts plot (systolic for blood pressure).
    pub fn primary(&self) -> f64 {
        match *self {
            Reading::BloodPressure { systolic, .. } => f64::from(systolic),
            Reading::HeartRate { bpm } => f64::from(bpm),
            Reading::Weight { kg } => kg,
            Reading::Height { cm } => cm,
            Reading::Temperature { celsius } => celsius,
            Reading::OxygenSaturation { percent } => f64::from(percent),
            Reading::BloodGlucose { mmol_per_l } => mmol_per_l,
            Reading::PeakFlow { litres_per_min } => f64::from(litres_per_min),
        }
    }

    /// The value as people read it: "142/91 mmHg, pulse 72".
    pub fn display(&self) -> String {
        match *self {
            Reading::BloodPressure { systolic, diastolic, pulse } => match pulse {
                Some(p) => format!("{systolic}/{diastolic} mmHg, pulse {p}"),
                None => format!("{systolic}/{diastolic} mmHg"),
            },
            Reading::HeartRate { bpm } => format!("{bpm} beats a minute"),
            Reading::Weight { kg } => format!("{kg:.1} kg"),
            Reading::Height { cm } => format!("{cm:.1} cm"),
            Reading::Temperature { celsius } => format!("{celsius:.1} °C"),
            Reading::OxygenSaturation { percent } => format!("{percent}%"),
            Reading::BloodGlucose { mmol_per_l } => format!("{mmol_per_l:.1} mmol/L"),
            Reading::PeakFlow { litres_per_min } => format!("{litres_per_min} litres a minute"),
        }
    }

    /// Whether the value is plausible but concerning, with plain advice.
    pub fn concern(&self) -> Option<Concern> {
        let c = |summary: &str, advice: &str| Some(Concern { summary: summary.to_owned(), advice: advice.to_owned() });
        match *self {
            Reading::BloodPressure { systolic, diastolic, .. } if systolic >= 180 || diastolic >= 120 => {
                c("This blood pressure is very high.", CALL_TODAY)
            }
            Reading::BloodPressure { systolic, .. } if systolic < 90 => c(
                "This blood pressure is low.",
                "If you feel dizzy, faint or unwell, contact your GP practice or NHS 111.",
            ),
            Reading::HeartRate { bpm } if !(40..=130).contains(&bpm) => c("This heart rate is outside the usual range at rest.", CALL_TODAY),
            Reading::Temperature { celsius } if celsius >= 39.0 => c("This is a high temperature.", CALL_TODAY),
            Reading::Temperature { celsius } if celsius < 35.0 => c("This temperature is low.", CALL_TODAY),
            Reading::OxygenSaturation { percent } if percent < 92 => c("This oxygen level is low.", CALL_TODAY),
            Reading::BloodGlucose { mmol_per_l } if mmol_per_l < 4.0 => c(
                "This blood glucose is low (a hypo).",
                "Treat a hypo now with a sugary drink or glucose tablets, as your care plan says. If it does not come up, or you feel very unwell, call 999.",
            ),
            Reading::BloodGlucose { mmol_per_l } if mmol_per_l > 15.0 => c("This blood glucose is high.", CALL_TODAY),
            _ => None,
        }
    }
}

/// Body mass index from a weight and a height, to one decimal place. Derived, never typed.
pub fn bmi(weight_kg: f64, height_cm: f64) -> f64 {
    let m = height_cm / 100.0;
    tenth(weight_kg / (m * m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: &str) -> ReadingInput {
        ReadingInput { value: v.to_owned(), ..ReadingInput::default() }
    }

    fn bp(s: &str, d: &str, p: Option<&str>) -> Result<Reading, ValidationError> {
        Reading::parse(ReadingKind::BloodPressure, &ReadingInput { value: s.into(), diastolic: Some(d.into()), pulse: p.map(Into::into) })
    }

    #[test]
    fn every_kind_has_its_loinc_and_ucum_code_from_the_design() {
        let codes: Vec<(&str, &str)> = ReadingKind::ALL.iter().map(|k| (k.loinc(), k.ucum())).collect();
        assert_eq!(
            codes,
            [
                ("85354-9", "mm[Hg]"),
                ("8867-4", "/min"),
                ("29463-7", "kg"),
                ("8302-2", "cm"),
                ("8310-5", "Cel"),
                ("59408-5", "%"),
                ("14743-9", "mmol/L"),
                ("19935-6", "L/min"),
            ]
        );
        for k in ReadingKind::ALL {
            assert_eq!(ReadingKind::from_slug(k.slug()), Some(k));
        }
    }

    #[test]
    fn an_ordinary_blood_pressure_is_accepted_without_a_concern() {
        let r = bp("128", "82", Some("70")).unwrap();
        assert_eq!(r, Reading::BloodPressure { systolic: 128, diastolic: 82, pulse: Some(70) });
        assert_eq!(r.display(), "128/82 mmHg, pulse 70");
        assert!(r.concern().is_none());
    }

    #[test]
    fn impossible_values_are_refused_naming_the_field_and_range() {
        let e = bp("400", "80", None).unwrap_err();
        assert_eq!(e.message_for("value"), Some("The systolic pressure must be between 50 and 300 mmHg. Check the reading and try again."));
        let e = bp("120", "10", Some("999")).unwrap_err();
        assert!(e.message_for("diastolic").unwrap().contains("between 20 and 200 mmHg"));
        assert!(e.message_for("pulse").unwrap().contains("between 20 and 250"));
        let e = bp("80", "90", None).unwrap_err();
        assert!(e.message_for("diastolic").unwrap().contains("lower than the systolic"));
        for (kind, v, field_text) in [
            (ReadingKind::OxygenSaturation, "101", "between 50 and 100 %"),
            (ReadingKind::Temperature, "50", "between 25 and 45 °C"),
            (ReadingKind::BloodGlucose, "0.1", "between 0.5 and 50 mmol/L"),
            (ReadingKind::Weight, "0", "between 0.5 and 500 kg"),
            (ReadingKind::Height, "300", "between 20 and 280 cm"),
            (ReadingKind::PeakFlow, "5000", "between 30 and 1000"),
            (ReadingKind::HeartRate, "7", "between 20 and 250"),
        ] {
            let e = Reading::parse(kind, &input(v)).unwrap_err();
            assert!(e.message_for("value").unwrap().contains(field_text), "{kind:?} {v}: {e}");
        }
    }

    #[test]
    fn text_empty_and_fractional_whole_numbers_are_refused() {
        assert!(Reading::parse(ReadingKind::HeartRate, &input(""))
            .unwrap_err()
            .message_for("value")
            .unwrap()
            .starts_with("Enter the heart rate"));
        assert!(Reading::parse(ReadingKind::HeartRate, &input("fast")).unwrap_err().message_for("value").unwrap().contains("as a number"));
        assert!(Reading::parse(ReadingKind::HeartRate, &input("72.5")).unwrap_err().message_for("value").unwrap().contains("whole number"));
        assert!(Reading::parse(ReadingKind::Weight, &input("NaN")).is_err());
        assert!(Reading::parse(ReadingKind::Weight, &input("inf")).is_err());
    }

    #[test]
    fn concerning_values_are_accepted_and_flagged_with_advice() {
        let very_high = bp("180", "120", None).unwrap();
        let concern = very_high.concern().unwrap();
        assert!(concern.summary.contains("very high") && concern.advice.contains("NHS 111"));
        assert!(bp("150", "121", None).unwrap().concern().is_some());
        assert!(bp("179", "119", None).unwrap().concern().is_none());
        let low_oxygen = Reading::parse(ReadingKind::OxygenSaturation, &input("91")).unwrap();
        assert!(low_oxygen.concern().unwrap().summary.contains("oxygen"));
        assert!(Reading::parse(ReadingKind::OxygenSaturation, &input("92")).unwrap().concern().is_none());
        assert!(Reading::parse(ReadingKind::BloodGlucose, &input("3.2")).unwrap().concern().unwrap().summary.contains("hypo"));
        assert!(Reading::parse(ReadingKind::Temperature, &input("39.4")).unwrap().concern().is_some());
    }

    #[test]
    fn decimals_keep_one_place() {
        assert_eq!(Reading::parse(ReadingKind::Weight, &input(" 72.46 ")).unwrap(), Reading::Weight { kg: 72.5 });
        assert_eq!(Reading::parse(ReadingKind::Temperature, &input("36.84")).unwrap().display(), "36.8 °C");
    }

    #[test]
    fn bmi_is_derived_from_weight_and_height() {
        assert_eq!(bmi(70.0, 175.0), 22.9);
    }

    #[test]
    fn readings_round_trip_through_json() {
        let r = bp("140", "90", None).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"kind":"blood-pressure","systolic":140,"diastolic":90,"pulse":null}"#);
        assert_eq!(serde_json::from_str::<Reading>(&json).unwrap(), r);
    }

    #[test]
    fn deserialising_cannot_make_an_invalid_reading() {
        assert!(serde_json::from_str::<Reading>(r#"{"kind":"blood-pressure","systolic":900,"diastolic":90,"pulse":null}"#).is_err());
        assert!(serde_json::from_str::<Reading>(r#"{"kind":"oxygen-saturation","percent":140}"#).is_err());
        assert!(serde_json::from_str::<Reading>(r#"{"kind":"heart-rate","bpm":70,"extra":1}"#).is_err(), "unknown fields");
    }
}
