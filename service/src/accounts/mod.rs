//! Registration, sign-in and the account page.
//!
//! Registration never says whether an address has an account: it always answers "check your
//! email", and the email either carries a link to finish registering or, for an address that
//! already has an account, says so and points to sign-in and recovery. Finishing from the link
//! proves the address, so every account's email is verified.
//!
//! One use case per file: `register`, `sign_in`, `passkeys`, `password`, and `overview` (the
//! account page).

mod overview;
mod passkeys;
mod password;
mod register;
mod sign_in;

pub(crate) use register::REGISTER;
