//! Tests of `compose linker` (to be written).
