//! Proving who someone is: password hashing and passkeys.

pub mod passkey;
pub mod password;
