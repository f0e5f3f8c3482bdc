//! Fuzz target `component`: see `compose_fuzz::component` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| compose_fuzz::component(data));
