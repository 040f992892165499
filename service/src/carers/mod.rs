//! Carers: a patient invites someone by email to see (and perhaps add to) their record within
//! chosen labels and dates; the carer accepts with their own account; the patient changes or
//! ends it at any time. A parent can hold a grant for a child's record. Every step is logged,
//! recorded in the grant's history, and told to both sides in the portal and by an email that
//! carries only a link.
//!
//! One use case per file: `invite` (the patient invites), `invitation` (the carer answers),
//! `manage` (the patient changes, stops or confirms), `list` (who can see my record),
//! `caring` (the people a carer cares for), `child` (a parent makes a child's record). Beside
//! them: `forms` reads what the forms send, `describe` says how a grant stands, `notify` tells
//! people, and `reminders` is the worker that sends what is due. The demo's carer is made in
//! `crate::demo`; how a scope reads is `domain::grants::scope_words`.

mod caring;
mod child;
mod describe;
mod forms;
mod invitation;
mod invite;
mod list;
mod manage;
mod notify;
mod reminders;

pub(crate) use child::accepted_grant;
pub use forms::{InviteForm, ScopeForm};
