//! cargo-fuzz target: see `fhir::fuzz::bundle`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fhir::fuzz::bundle(data));
