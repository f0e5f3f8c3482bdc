//! The integration tests of the workspace, one module per feature, in one test binary.

mod command;
mod compose;
mod graph;
mod limits;
mod linker;
mod resolve;
mod serve;
