//! The UCUM units Carry can convert between, so one trend plots one unit: "g/L" and "mg/dL"
//! are commensurable, "mmol/L" and "mg/dL" are not (converting those needs the substance's
//! molar mass, which is not Carry's to guess). Anything not listed is never converted.

/// `(UCUM code, kind, factor, offset)`: a value in the unit is `value * factor + offset` in the
/// kind's base unit.
const UNITS: [(&str, &str, f64, f64); 24] = [
    ("g", "mass", 1.0, 0.0),
    ("kg", "mass", 1000.0, 0.0),
    ("mg", "mass", 0.001, 0.0),
    ("ug", "mass", 0.000_001, 0.0),
    ("[lb_av]", "mass", 453.592_37, 0.0),
    ("[oz_av]", "mass", 28.349_523_125, 0.0),
    ("[stone_av]", "mass", 6_350.293_18, 0.0),
    ("m", "length", 1.0, 0.0),
    ("cm", "length", 0.01, 0.0),
    ("mm", "length", 0.001, 0.0),
    ("[in_i]", "length", 0.0254, 0.0),
    ("[ft_i]", "length", 0.3048, 0.0),
    ("mol/L", "substance concentration", 1.0, 0.0),
    ("mmol/L", "substance concentration", 0.001, 0.0),
    ("umol/L", "substance concentration", 0.000_001, 0.0),
    ("g/L", "mass concentration", 1.0, 0.0),
    ("mg/dL", "mass concentration", 0.01, 0.0),
    ("g/dL", "mass concentration", 10.0, 0.0),
    ("mg/L", "mass concentration", 0.001, 0.0),
    ("Cel", "temperature", 1.0, 0.0),
    ("[degF]", "temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    ("K", "temperature", 1.0, -273.15),
    ("mm[Hg]", "pressure", 1.0, 0.0),
    ("kPa", "pressure", 7.500_615_758, 0.0),
];

/// `value` in `from` converted to `to`, when both are UCUM codes of the same kind; `None` when
/// they are not commensurable (or not known here).
pub fn convert(value: f64, from: &str, to: &str) -> Option<f64> {
    if from == to {
        return Some(value);
    }
    let unit = |code: &str| UNITS.iter().find(|u| u.0 == code);
    let (f, t) = (unit(from)?, unit(to)?);
    if f.1 != t.1 {
        return None;
    }
    let base = value * f.2 + f.3;
    Some((base - t.3) / t.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-6)
    }

    #[test]
    fn commensurable_units_convert_and_others_do_not() {
        assert!(near(convert(1.0, "kg", "g"), 1000.0));
        assert!(near(convert(154.0, "[lb_av]", "kg"), 69.853_225));
        assert!(near(convert(98.6, "[degF]", "Cel"), 37.0));
        assert!(near(convert(37.0, "Cel", "[degF]"), 98.6));
        assert!(near(convert(120.0, "mg/dL", "g/L"), 1.2));
        assert_eq!(convert(5.5, "mmol/L", "mg/dL"), None, "needs a molar mass");
        assert_eq!(convert(1.0, "kg", "cm"), None);
        assert_eq!(convert(1.0, "stuff", "stuff"), Some(1.0));
        assert_eq!(convert(1.0, "stuff", "kg"), None);
    }
}
