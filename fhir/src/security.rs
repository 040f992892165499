//! A synced resource's privacy label and confidentiality, from its `meta.security` codings,
//! matched by system and code (`access-rules.md`, "Labels of synced items"), and the reverse
//! mapping for what Carry serves. When in doubt Carry takes the more private answer: a code it
//! does not know never makes an item `general`, and never lets a carer see it.

use domain::care_record::Confidentiality;
use domain::PrivacyLabel;
use serde_json::Value;

/// HL7 v3 Confidentiality (`U`, `L`, `M`, `N`, `R`, `V`).
pub const V3_CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
/// HL7 v3 ActCode (the sensitivity codes, and `NOPAT`).
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// The same code systems under their OIDs and older URLs, which conformant servers still send.
const CONFIDENTIALITY_ALIASES: [&str; 3] = [V3_CONFIDENTIALITY, "urn:oid:2.16.840.1.113883.5.25", "http://hl7.org/fhir/v3/Confidentiality"];
const ACT_CODE_ALIASES: [&str; 3] = [V3_ACT_CODE, "urn:oid:2.16.840.1.113883.5.4", "http://hl7.org/fhir/v3/ActCode"];
/// Systems whose codes say how to handle an item, not who may see it: v3-ObservationValue
/// (integrity and handling), v3-PurposeOfUse and v3-ActReason.
const NON_RESTRICTING: [&str; 9] = [
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "urn:oid:2.16.840.1.113883.5.1063",
    "http://hl7.org/fhir/v3/ObservationValue",
    "http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse",
    "urn:oid:2.16.840.1.113883.1.11.20448",
    "http://hl7.org/fhir/v3/PurposeOfUse",
    "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "urn:oid:2.16.840.1.113883.5.8",
    "http://hl7.org/fhir/v3/ActReason",
];

const MENTAL_HEALTH: [&str; 8] = ["MH", "PSY", "PSYTHPN", "BH", "SUD", "ETH", "ETHUD", "OPIOIDUD"];
const SEXUAL_HEALTH: [&str; 3] = ["HIV", "STD", "SEX"];

/// The codes a connection treats as social care (none by default: `SOC` is a local convention,
/// not an HL7 code). Each is a system and a code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityRules {
    /// `(system, code)` pairs that mean "social care".
    pub social_care: Vec<(String, String)>,
}

impl SecurityRules {
    /// Reads `system|code` pairs separated by commas or white space (the setting's format).
    /// Errors name the pair that is not `system|code`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut social_care = Vec::new();
        for pair in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
            match pair.split_once('|') {
                Some((system, code)) if !system.is_empty() && !code.is_empty() && !code.contains('|') => {
                    social_care.push((system.to_owned(), code.to_owned()));
                }
                _ => return Err(format!("\u{201c}{pair}\u{201d} is not system|code")),
            }
        }
        Ok(Self { social_care })
    }
}

/// What a resource's security codings mean in Carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// Its privacy label.
    pub label: PrivacyLabel,
    /// Who beyond the label may see it.
    pub confidentiality: Confidentiality,
    /// The codings as the source gave them (`code (system)`), for clinicians and the patient.
    pub codes: Vec<String>,
}

/// Reads `resource.meta.security`. Codings are matched by system and code; a coding without a
/// system, with a system Carry does not know, or with a code Carry does not recognise in a
/// system it knows, makes the item restricted. Two sensitive labels at once (say mental health
/// and sexual health) cannot both be honoured by one label, so the item is also restricted.
pub fn read_security(resource: &Value, rules: &SecurityRules) -> Security {
    let codings = resource["meta"]["security"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut labels: Vec<PrivacyLabel> = Vec::new();
    let mut level = Confidentiality::Normal;
    let mut codes = Vec::new();
    for coding in codings {
        let system = coding["system"].as_str().unwrap_or_default();
        let Some(code) = coding["code"].as_str() else {
            // A coding with no code says nothing Carry can honour: the more private answer.
            raise(Confidentiality::Restricted, &mut level);
            continue;
        };
        codes.push(if system.is_empty() { code.to_owned() } else { format!("{code} ({system})") });
        if rules.social_care.iter().any(|(s, c)| s == system && c == code) {
            labels.push(PrivacyLabel::SocialCare);
        } else if CONFIDENTIALITY_ALIASES.contains(&system) {
            match code {
                "U" | "L" | "M" | "N" => {}
                _ => raise(Confidentiality::Restricted, &mut level),
            }
        } else if ACT_CODE_ALIASES.contains(&system) {
            match code {
                c if MENTAL_HEALTH.contains(&c) => labels.push(PrivacyLabel::MentalHealth),
                c if SEXUAL_HEALTH.contains(&c) => labels.push(PrivacyLabel::SexualHealth),
                "SDV" => {
                    labels.push(PrivacyLabel::SexualHealth);
                    raise(Confidentiality::Restricted, &mut level);
                }
                "NOPAT" => raise(Confidentiality::NoPatient, &mut level),
                _ => raise(Confidentiality::Restricted, &mut level),
            }
        } else if !NON_RESTRICTING.contains(&system) {
            raise(Confidentiality::Restricted, &mut level);
        }
    }
    labels.sort_by_key(|l| PrivacyLabel::ALL.iter().position(|a| a == l));
    labels.dedup();
    // The most private label wins; more than one cannot be honoured by one label alone.
    let label = [PrivacyLabel::SexualHealth, PrivacyLabel::MentalHealth, PrivacyLabel::SocialCare]
        .into_iter()
        .find(|l| labels.contains(l))
        .unwrap_or(PrivacyLabel::General);
    if labels.len() > 1 {
        raise(Confidentiality::Restricted, &mut level);
    }
    Security { label, confidentiality: level, codes }
}

fn raise(to: Confidentiality, level: &mut Confidentiality) {
    *level = (*level).max(to);
}

/// The security codings Carry serves for one of its own items (the reverse mapping in
/// `access-rules.md`): `general` is `N`; the sensitive labels are `R` with their sensitivity
/// code; social care is `R` with the configured social-care code, if any.
pub fn security_codings(label: PrivacyLabel, rules: &SecurityRules) -> Vec<Value> {
    let coding = |system: &str, code: &str| serde_json::json!({"system": system, "code": code});
    match label {
        PrivacyLabel::General => vec![coding(V3_CONFIDENTIALITY, "N")],
        PrivacyLabel::MentalHealth => vec![coding(V3_CONFIDENTIALITY, "R"), coding(V3_ACT_CODE, "MH")],
        PrivacyLabel::SexualHealth => vec![coding(V3_CONFIDENTIALITY, "R"), coding(V3_ACT_CODE, "SEX")],
        PrivacyLabel::SocialCare => {
            std::iter::once(coding(V3_CONFIDENTIALITY, "R")).chain(rules.social_care.first().map(|(s, c)| coding(s, c))).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Confidentiality::{NoPatient, Normal, Restricted};
    use PrivacyLabel::{General, MentalHealth, SexualHealth, SocialCare};

    const CONF: &str = V3_CONFIDENTIALITY;
    const ACT: &str = V3_ACT_CODE;

    fn with(codings: &[(&str, &str)]) -> Value {
        let security: Vec<Value> = codings.iter().map(|(s, c)| json!({"system": s, "code": c})).collect();
        json!({"resourceType": "Condition", "meta": {"security": security}})
    }

    fn soc() -> SecurityRules {
        SecurityRules { social_care: vec![("https://example.org/local-security".to_owned(), "SOC".to_owned())] }
    }

    /// A row of the table: the codings (system, code), and the expected label and level.
    type Row = (&'static [(&'static str, &'static str)], PrivacyLabel, Confidentiality);

    /// Every row of access-rules.md's table, expected answers written out by hand.
    #[test]
    fn every_row_of_the_synced_labels_table() {
        let rows: Vec<Row> = vec![
            // No security coding, or only U, L, M or N: general.
            (&[], General, Normal),
            (&[(CONF, "U")], General, Normal),
            (&[(CONF, "L")], General, Normal),
            (&[(CONF, "M")], General, Normal),
            (&[(CONF, "N")], General, Normal),
            // The mental health sensitivity codes.
            (&[(ACT, "MH")], MentalHealth, Normal),
            (&[(ACT, "PSY")], MentalHealth, Normal),
            (&[(ACT, "PSYTHPN")], MentalHealth, Normal),
            (&[(ACT, "BH")], MentalHealth, Normal),
            (&[(ACT, "SUD")], MentalHealth, Normal),
            (&[(ACT, "ETH")], MentalHealth, Normal),
            (&[(ACT, "ETHUD")], MentalHealth, Normal),
            (&[(ACT, "OPIOIDUD")], MentalHealth, Normal),
            // The sexual health ones.
            (&[(ACT, "HIV")], SexualHealth, Normal),
            (&[(ACT, "STD")], SexualHealth, Normal),
            (&[(ACT, "SEX")], SexualHealth, Normal),
            // Sexual or domestic violence: sexual health, and R whatever else it says.
            (&[(ACT, "SDV")], SexualHealth, Restricted),
            (&[(ACT, "SDV"), (CONF, "N")], SexualHealth, Restricted),
            // R and V keep the label the other codes give, restricted.
            (&[(CONF, "R")], General, Restricted),
            (&[(CONF, "V")], General, Restricted),
            (&[(CONF, "R"), (ACT, "PSY")], MentalHealth, Restricted),
            // NOPAT: clinicians only.
            (&[(ACT, "NOPAT")], General, NoPatient),
            (&[(ACT, "NOPAT"), (CONF, "R"), (ACT, "HIV")], SexualHealth, NoPatient),
            // Systems that do not restrict who may see change nothing.
            (&[("http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "CRYTOHASH")], General, Normal),
            (&[("http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse", "TREAT")], General, Normal),
            (&[("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST")], General, Normal),
            // Any other code, or a known system with a code Carry does not recognise: R.
            (&[(CONF, "X")], General, Restricted),
            (&[(ACT, "CEL")], General, Restricted),
            (&[("https://example.org/local-security", "VIP")], General, Restricted),
            // Codes are matched with their system: "PSY" in another system is not mental health,
            // and "R" with no system is not known, so both are restricted.
            (&[("https://example.org/other", "PSY")], General, Restricted),
            (&[("", "R")], General, Restricted),
            (&[("", "N")], General, Restricted),
            // Social care only where the connection is configured for it (not here).
            (&[("https://example.org/local-security", "SOC")], General, Restricted),
            // The OIDs of the same systems are the same systems.
            (&[("urn:oid:2.16.840.1.113883.5.25", "N")], General, Normal),
            (&[("urn:oid:2.16.840.1.113883.5.4", "ETH")], MentalHealth, Normal),
            // Two sensitive labels cannot both be honoured by one: the more private, restricted.
            (&[(ACT, "PSY"), (ACT, "HIV")], SexualHealth, Restricted),
        ];
        for (codings, label, level) in rows {
            let got = read_security(&with(codings), &SecurityRules::default());
            assert_eq!((got.label, got.confidentiality), (label, level), "{codings:?}");
        }
    }

    #[test]
    fn configured_social_care_codes_give_the_social_care_label() {
        let r = |codings: &[(&str, &str)]| {
            let s = read_security(&with(codings), &soc());
            (s.label, s.confidentiality)
        };
        assert_eq!(r(&[("https://example.org/local-security", "SOC")]), (SocialCare, Normal));
        assert_eq!(r(&[("https://example.org/other", "SOC")]), (General, Restricted));
        assert_eq!(r(&[("https://example.org/local-security", "SOC"), (ACT, "MH")]), (MentalHealth, Restricted));
    }

    #[test]
    fn codings_without_a_code_and_malformed_meta_are_the_more_private_answer() {
        let r = json!({"meta": {"security": [{"system": CONF}]}});
        assert_eq!(read_security(&r, &SecurityRules::default()).confidentiality, Restricted);
        let r = json!({"meta": {"security": "R"}});
        assert_eq!(read_security(&r, &SecurityRules::default()).label, General);
    }

    #[test]
    fn the_source_codes_are_kept_to_show() {
        let s = read_security(&with(&[(CONF, "R"), (ACT, "PSY")]), &SecurityRules::default());
        assert_eq!(s.codes, vec![format!("R ({CONF})"), format!("PSY ({ACT})")]);
    }

    #[test]
    fn the_setting_reads_system_code_pairs_and_names_a_bad_one() {
        let rules = SecurityRules::parse("https://a.example/s|SOC, https://b.example/t|CARE").unwrap();
        assert_eq!(rules.social_care.len(), 2);
        assert_eq!(SecurityRules::parse("").unwrap(), SecurityRules::default());
        assert!(SecurityRules::parse("SOC").unwrap_err().contains("SOC"));
    }

    #[test]
    fn what_carry_serves_carries_the_reverse_mapping() {
        let codes = |l| security_codings(l, &soc()).iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(codes(General), ["N"]);
        assert_eq!(codes(MentalHealth), ["R", "MH"]);
        assert_eq!(codes(SexualHealth), ["R", "SEX"]);
        assert_eq!(codes(SocialCare), ["R", "SOC"]);
        assert_eq!(security_codings(SocialCare, &SecurityRules::default()).len(), 1);
        // Read back, each gives the label it came from.
        for l in PrivacyLabel::ALL {
            let served = json!({"meta": {"security": security_codings(l, &soc())}});
            assert_eq!(read_security(&served, &soc()).label, l);
        }
    }
}
