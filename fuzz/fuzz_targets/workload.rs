//! Fuzz target `workload`: see `compose_fuzz::workload` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| compose_fuzz::workload(data));
