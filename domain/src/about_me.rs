//! "About me / what matters to me": how the person wants to be addressed and contacted, what
//! helps them, and their goals in their own words. Shown first to anyone they let see it.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// Ways a person may ask to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactMethod {
    /// A phone call.
    Phone,
    /// Email.
    Email,
    /// A text message.
    Text,
    /// A letter.
    Letter,
}

impl ContactMethod {
    /// Every method, in the order forms list them.
    pub const ALL: [ContactMethod; 4] = [ContactMethod::Phone, ContactMethod::Email, ContactMethod::Text, ContactMethod::Letter];

    /// The stable text form (forms, JSON).
    pub fn slug(self) -> &'static str {
        match self {
            ContactMethod::Phone => "phone",
            ContactMethod::Email => "email",
            ContactMethod::Text => "text",
            ContactMethod::Letter => "letter",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            ContactMethod::Phone => "Phone call",
            ContactMethod::Email => "Email",
            ContactMethod::Text => "Text message",
            ContactMethod::Letter => "Letter",
        }
    }
}

/// What a person typed on the "about me" form, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutMeInput {
    /// What they like to be called.
    pub preferred_name: String,
    /// Their pronouns.
    pub pronouns: String,
    /// Languages they speak, in their words.
    pub languages: String,
    /// Slugs of the contact methods ticked.
    pub contact_methods: Vec<String>,
    /// The times that suit them.
    pub contact_times: String,
    /// Accessibility and communication needs.
    pub accessibility: String,
    /// Their main contact at the practice, if they have one.
    pub practice_contact: String,
    /// What matters to them: goals in their own words.
    pub goals: String,
}

/// A checked "about me". Every field is optional, but at least one must say something.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutMe {
    /// What they like to be called.
    pub preferred_name: String,
    /// Their pronouns.
    pub pronouns: String,
    /// Languages they speak.
    pub languages: String,
    /// How they like to be contacted, in the order [`ContactMethod::ALL`] lists them.
    pub contact_methods: Vec<ContactMethod>,
    /// The times that suit them.
    pub contact_times: String,
    /// Accessibility and communication needs.
    pub accessibility: String,
    /// Their main contact at the practice.
    pub practice_contact: String,
    /// What matters to them.
    pub goals: String,
}

/// (field, what people call it, most characters, may span lines)
const TEXT_FIELDS: [(&str, &str, usize, bool); 7] = [
    ("preferred_name", "preferred name", 100, false),
    ("pronouns", "pronouns", 40, false),
    ("languages", "languages", 200, false),
    ("contact_times", "times that suit you", 200, false),
    ("accessibility", "accessibility needs", 2000, true),
    ("practice_contact", "main contact at the practice", 100, false),
    ("goals", "what matters to you", 4000, true),
];

impl AboutMe {
    /// Checks the form; each error names its field.
    pub fn parse(input: &AboutMeInput) -> Result<Self, ValidationError> {
        let raw = [
            &input.preferred_name,
            &input.pronouns,
            &input.languages,
            &input.contact_times,
            &input.accessibility,
            &input.practice_contact,
            &input.goals,
        ];
        let mut errors = Vec::new();
        let mut clean: Vec<String> = Vec::with_capacity(raw.len());
        for ((field, what, max, multiline), text) in TEXT_FIELDS.iter().zip(raw) {
            let t = text.replace("\r\n", "\n").trim().to_owned();
            if t.chars().count() > *max {
                errors.extend(ValidationError::field(field, format!("Keep the {what} to {max} characters or fewer.")).0);
            } else if t.chars().any(|c| c.is_control() && !(*multiline && (c == '\n' || c == '\t'))) {
                errors.extend(
                    ValidationError::field(
                        field,
                        format!("The {what} contains characters that cannot be shown. Remove them and try again."),
                    )
                    .0,
                );
            }
            clean.push(t);
        }
        let mut methods = Vec::new();
        for slug in &input.contact_methods {
            match ContactMethod::ALL.into_iter().find(|m| m.slug() == slug.trim()) {
                Some(m) if !methods.contains(&m) => methods.push(m),
                Some(_) => {}
                None => errors.extend(ValidationError::field("contact_methods", "Choose from phone, email, text message or letter.").0),
            }
        }
        methods.sort_by_key(|m| ContactMethod::ALL.iter().position(|x| x == m));
        if !errors.is_empty() {
            return Err(ValidationError(errors));
        }
        let mut it = clean.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let about = AboutMe {
            preferred_name: next(),
            pronouns: next(),
            languages: next(),
            contact_times: next(),
            accessibility: next(),
            practice_contact: next(),
            goals: next(),
            contact_methods: methods,
        };
        if about.is_empty() {
            return Err(ValidationError::field("preferred_name", "Fill in at least one answer, such as what you like to be called."));
        }
        Ok(about)
    }

    /// Whether nothing at all is filled in.
    pub fn is_empty(&self) -> bool {
        self.contact_methods.is_empty()
            && [
                &self.preferred_name,
                &self.pronouns,
                &self.languages,
                &self.contact_times,
                &self.accessibility,
                &self.practice_contact,
                &self.goals,
            ]
            .iter()
            .all(|s| s.is_empty())
    }

    /// The form's starting values for an edit.
    pub fn as_input(&self) -> AboutMeInput {
        AboutMeInput {
            preferred_name: self.preferred_name.clone(),
            pronouns: self.pronouns.clone(),
            languages: self.languages.clone(),
            contact_methods: self.contact_methods.iter().map(|m| m.slug().to_owned()).collect(),
            contact_times: self.contact_times.clone(),
            accessibility: self.accessibility.clone(),
            practice_contact: self.practice_contact.clone(),
            goals: self.goals.clone(),
        }
    }

    /// The filled-in answers as (question, answer) pairs, in the order pages show them.
    pub fn answers(&self) -> Vec<(&'static str, String)> {
        let methods = self.contact_methods.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ");
        [
            ("Preferred name", self.preferred_name.clone()),
            ("Pronouns", self.pronouns.clone()),
            ("Languages", self.languages.clone()),
            ("Contact me by", methods),
            ("Times that suit me", self.contact_times.clone()),
            ("Accessibility and communication needs", self.accessibility.clone()),
            ("My main contact at the practice", self.practice_contact.clone()),
            ("What matters to me", self.goals.clone()),
        ]
        .into_iter()
        .filter(|(_, a)| !a.is_empty())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AboutMeInput {
        AboutMeInput {
            preferred_name: " Sam ".into(),
            pronouns: "they/them".into(),
            contact_methods: vec!["letter".into(), "phone".into(), "phone".into()],
            goals: "Walk to the shops\r\nwithout stopping.".into(),
            ..AboutMeInput::default()
        }
    }

    #[test]
    fn answers_are_trimmed_and_methods_kept_in_a_fixed_order() {
        let a = AboutMe::parse(&input()).unwrap();
        assert_eq!(a.preferred_name, "Sam");
        assert_eq!(a.contact_methods, [ContactMethod::Phone, ContactMethod::Letter]);
        assert_eq!(a.goals, "Walk to the shops\nwithout stopping.");
        assert_eq!(a.answers()[0], ("Preferred name", "Sam".to_owned()));
        assert_eq!(AboutMe::parse(&a.as_input()).unwrap(), a);
    }

    #[test]
    fn an_empty_form_and_bad_answers_are_refused_by_field() {
        assert!(AboutMe::parse(&AboutMeInput::default()).unwrap_err().message_for("preferred_name").is_some());
        let e = AboutMe::parse(&AboutMeInput {
            pronouns: "x".repeat(41),
            preferred_name: "Sam\nJones".into(),
            contact_methods: vec!["pigeon".into()],
            ..AboutMeInput::default()
        })
        .unwrap_err();
        for f in ["pronouns", "preferred_name", "contact_methods"] {
            assert!(e.message_for(f).is_some(), "{f}: {e}");
        }
    }
}
