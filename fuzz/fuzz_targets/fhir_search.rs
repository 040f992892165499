//! cargo-fuzz target: see `fhir::fuzz::search`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fhir::fuzz::search(data));
