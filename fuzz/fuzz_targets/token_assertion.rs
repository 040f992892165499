//! cargo-fuzz target: see `service::fhir_api::fuzz_assertion`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| service::fhir_api::fuzz_assertion(data));
