//! Carry's domain: the values and rules every other crate shares.
//!
//! Everything here is pure (no I/O, no clock, no randomness) and compiles for wasm32, so the
//! browser and the server validate input with the same code.

pub mod about_me;
pub mod access;
pub mod audit;
pub mod care_record;
pub mod charts;
pub mod demo;
pub mod email;
pub mod entries;
pub mod error;
pub mod exports;
#[doc(hidden)]
pub mod fuzz;
pub mod grants;
pub mod health_links;
pub mod home_bp;
pub mod ids;
pub mod labels;
pub mod name;
pub mod notes;
pub mod password;
pub mod practice_views;
pub mod practices;
pub mod readings;
pub mod summary;
pub mod time;
pub mod ucum;
pub mod views;

pub use email::Email;
pub use error::{FieldError, ValidationError};
pub use ids::{EntryId, GrantId, NoticeId, PasskeyId, PatientId, PracticeId, SessionId, UserId};
pub use labels::PrivacyLabel;
pub use name::PersonName;
pub use notes::Note;
pub use password::{PasswordRules, PasswordText};
pub use readings::{Concern, Reading, ReadingInput, ReadingKind};
pub use time::{Span, Timestamp};
