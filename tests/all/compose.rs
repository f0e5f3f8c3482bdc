//! Tests of `compose compose` (to be written).
