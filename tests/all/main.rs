//! The integration tests of the workspace, one module per feature, in one test binary.

mod async_linking;
mod backends;
mod cache;
mod command;
mod compose;
mod cost;
mod grants;
mod graph;
mod guest_output;
mod host;
mod hybrid;
mod limits;
mod linker;
mod linker_load;
mod registry;
mod remotes;
mod resolve;
mod robustness;
mod serve;
mod soundness;
mod target;
mod traces;
mod wrpc;
mod wrpc_backend;
