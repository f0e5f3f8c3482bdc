//! Fuzz target `invoke`: see `compose_fuzz::invoke` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| compose_fuzz::invoke(data));
