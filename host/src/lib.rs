//! `compose-host`: the host that runs workloads — what `compose run` and `compose check`
//! use, and what an embedding host can use as it is.
//!
//! It links a resolved [`Plan`](compose_resolver::Plan) with `compose-linker` and serves:
//! - WASI 0.2 (`wasmtime-wasi`, p2, sync) for `[host] interfaces` ([`interfaces`]);
//! - named backends (`[host.backends.LABEL]`) through host plugins ([`BackendPlugin`]):
//!   one plugin serves many labels, each with its own configuration, data and connection.
//!   Built in: `memory` ([`keyvalue::memory`]; the default for
//!   `wasi:keyvalue/store@0.2.0-draft`) and `postgres` ([`keyvalue::postgres`]);
//! - `wasi:config/store` ([`config`]), each component seeing only its own
//!   `[components.NAME.config]`.
//!
//! [`Plugins::profile`] describes the host to the resolver
//! ([`compose_resolver::resolve_with`]), which then checks every backend's plugin and
//! configuration, and every host import, before anything runs. [`check()`] says whether a workload's backends can be served now; [`Host::link`] refuses
//! to link one that cannot, with the same message, before anything runs; [`Host::invoke`]
//! calls an export with a `--invoke` expression ([`invoke`]).
//!
//! Hosts with store data of their own implement [`HostView`] and use [`Plugins::define`]
//! on their own [`WorkloadLinker`](compose_linker::WorkloadLinker), with the built-in
//! plugins or plugins of their own.
#![deny(missing_docs)]

pub mod check;
pub mod command;
pub mod config;
pub mod config_keys;
pub mod define;
pub mod host;
pub mod interfaces;
pub mod invoke;
pub mod keyvalue;
pub mod limits;
pub mod plugin;
pub mod plugins;
pub mod serve;
pub mod serve_p3;

pub use check::check;
pub use config_keys::{KeyRule, env_var_name};
pub use host::{Host, HostError, HostState};
pub use plugin::{BackendError, BackendPlugin, HostView, Unavailable};
pub use plugins::Plugins;
