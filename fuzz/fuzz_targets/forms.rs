//! cargo-fuzz target: see `domain::fuzz::forms`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| domain::fuzz::forms(data));
