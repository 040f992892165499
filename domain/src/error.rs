//! Validation errors that name the field at fault, so a form can tie each message to its input.

use serde::{Deserialize, Serialize};

/// One problem with one field, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name (`email`, `name`, `password`, ...).
    pub field: String,
    /// What is wrong and how to fix it, in plain words.
    pub message: String,
}

/// One or more field errors from validating a form or a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationError(pub Vec<FieldError>);

impl ValidationError {
    /// A single error for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }

    /// The message for `field`, if there is one.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}
