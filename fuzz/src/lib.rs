//! The fuzz targets' bodies (the binaries in `fuzz_targets/` only call them), so that a
//! crash found by libFuzzer can be replayed as a plain function call.
//!
//! The property of every target: no panic, no hang (libFuzzer's `-timeout=1`), and every
//! failure a diagnostic with a code (`compose::…`) — with a span inside the text when the
//! workload came from text.

mod check;
mod component;
mod fixtures;
mod invoke;
mod workload;

pub use component::component;
pub use invoke::invoke;
pub use workload::workload;
