//! The integration tests of the workspace, one module per feature, in one test binary.

mod compose;
mod graph;
mod host;
mod linker;
mod linker_load;
mod resolve;
mod robustness;
mod soundness;
