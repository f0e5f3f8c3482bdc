//! Tests of `compose graph` (to be written).
