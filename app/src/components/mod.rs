//! Pieces several pages use.

mod fields;
mod header;

pub use fields::{ErrorSummary, Field, Notice, TextArea};
pub use header::Header;
