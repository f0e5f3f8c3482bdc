//! `compose-host`: the host that runs workloads.
#![deny(missing_docs)]

pub mod command;
pub mod limits;
pub mod serve;
