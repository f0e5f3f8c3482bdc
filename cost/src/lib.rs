//! What a workload costs in WebAssembly instances and memory, and how many calls a host
//! holds at once.
//!
//! ```no_run
//! let plan = compose_resolver::resolve_file("fixtures/shop/workload.toml").unwrap();
//! let report = compose_cost::report(&plan, &Default::default()).unwrap();
//! for entry in &report.entries {
//!     println!("{}: {:?}", entry.export, entry.modes[0].capacity.in_flight);
//! }
//! ```
//!
//! Static figures are counted from the binaries ([`count`]); which components a call
//! reaches comes from the plan's bindings ([`reached`]); the capacity is arithmetic over
//! both ([`capacity`]). Those figures are predicted; [`measure()`] calls one entry point for
//! real and measures what it holds.

#![deny(missing_docs)]

mod capacity;
mod compiled;
mod counts;
mod measure;
mod reach;
mod report;
mod text;

pub use capacity::{Capacity, Limits, capacity};
pub use compiled::{CompileError, compiled_sizes};
pub use compose_linker::LinkMode;
pub use counts::{Counts, PAGE, count};
pub use measure::{Entry, MeasureError, MeasureOptions, MeasuredComponent, Measurement, measure};
pub use reach::{export_named, reached};
pub use report::{ComponentCost, EntryCost, ModeCost, Report, ReportError, ReportOptions, report};
