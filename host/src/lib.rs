//! `compose-host`: the host that runs workloads — what `compose run`, `compose serve` and
//! `compose check` use, and what an embedding host can use as it is.
//!
//! It links a resolved [`Plan`](compose_resolver::Plan) with `compose-linker` and serves:
//! - WASI 0.2 (`wasmtime-wasi`, p2) for `[host] interfaces`, and WASI 0.3 to workloads
//!   with async functions ([`served`]);
//! - named backends (`[host.backends.LABEL]`) through host plugins ([`BackendPlugin`]):
//!   one plugin serves many labels, each with its own configuration, data and connection.
//!   Built in: `memory` ([`keyvalue::MemoryPlugin`], the default for
//!   `wasi:keyvalue/store@0.2.0-draft`), with the `postgres` feature `postgres`, and with
//!   the `wrpc` feature `wrpc` (a key-value store on another machine, over wRPC);
//! - `wasi:config/store`, each component seeing only its own `[components.NAME.config]`;
//! - `wasi:logging/logging@0.1.0-draft`, each call a `tracing` event naming the component
//!   ([`telemetry::GUEST_TARGET`]);
//! - with the `serve` feature, `wasi:http` over HTTP/1.1 ([`serve`]).
//!
//! [`Plugins::profile`] describes the host to the resolver
//! ([`compose_resolver::resolve_with`]), which then checks every backend's plugin and
//! configuration, and every host import, before anything runs. [`check()`] says whether a
//! workload's backends can be served now; [`Host::link`] refuses to link one that cannot,
//! with the same message, before anything runs; [`Host::invoke`] calls an export with a
//! `--invoke` expression ([`Call`]); [`run_command`] runs a `wasi:cli/run` export.
//!
//! The example workload, resolved for this host, linked and called (its formatter counts
//! the calls it has served, in its store):
//!
//! ```
//! use compose_host::{Call, Host, HostState, Plugins};
//! use compose_host::grants::Offer;
//! use compose_resolver::resolve_file_with;
//!
//! let plugins = Plugins::<HostState>::builtin();
//! let workload = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/shop/workload.toml");
//! let plan = resolve_file_with(workload, &plugins.profile())?;
//! let host = Host::link(&plan, &plugins)?;
//! // Deny by default: the shop's `[allow]` grants GREETING to its components.
//! let mut store = host.new_store(&Offer::default().env("GREETING", "Hi"))?;
//! let greet = Call::parse(r#"handler#greet("ann")"#)?;
//! assert_eq!(host.invoke(&mut store, None, &greet)?.as_deref(), Some(r#""Hi, ann! (#1)""#));
//! assert_eq!(host.invoke(&mut store, None, &greet)?.as_deref(), Some(r#""Hi, ann! (#2)""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Hosts with store data of their own implement [`HostView`], [`grants::GrantsView`] (and
//! `wasmtime_wasi`'s `WasiView`) and call [`define_host`] on their own
//! [`WorkloadLinker`](compose_linker::WorkloadLinker), with the built-in plugins or
//! plugins of their own.
//!
//! Cargo features (all on by default): `serve` (the HTTP server: hyper and
//! wasmtime-wasi-http, and `--wrpc`), `postgres` (the `postgres` plugin and its client) and
//! `wrpc` (the `wrpc` plugin and its client).
#![deny(missing_docs)]

mod check;
mod command;
mod define;
mod engine;
mod error;
pub mod grants;
mod host;
mod interfaces;
mod invoke;
mod plugin;
mod runtime;
#[cfg(feature = "serve")]
pub mod serve;
pub mod telemetry;
mod wasi_config;
mod wasi_logging;
#[cfg(feature = "serve")]
pub mod wrpc;

pub use check::{check, check_remotes};
pub use command::{CommandError, CommandOptions, RUN, RUN_P3, run_command};
pub use define::define_host;
pub use engine::{EPOCH_TICK, EngineOptions, HostEngine};
pub use error::HostError;
pub use host::{Host, HostState};
pub use interfaces::{WASI_P3_PACKAGES, WASI_PACKAGES, served};
pub use invoke::{Call, InvalidCall};
pub use plugin::{
    BackendError, BackendPlugin, HostView, KeyRule, KeyType, Plugins, Unavailable, env_var_name,
    validate_keys,
};

/// `wasi:keyvalue/store@0.2.0-draft`, `atomics` and `batch` served per label over a
/// [`KeyValue`](keyvalue::KeyValue) store, and the built-in plugins that serve them:
/// `memory`, (with the `postgres` feature) `postgres` and (with the `wrpc` feature) `wrpc`.
pub mod keyvalue {
    pub use crate::plugin::keyvalue::{
        ATOMICS, BATCH, Bucket, Entry, Error, INTERFACE, KeyResponse, KeyValue, PAGE_SIZE, Served,
        define, define_blocking, interfaces,
    };
    pub use crate::plugin::memory::{MemoryPlugin, MemoryStore};
    #[cfg(feature = "postgres")]
    pub use crate::plugin::postgres::{
        DEFAULT_POOL_SIZE, MAX_POOL_SIZE, PostgresPlugin, PostgresStore,
    };
    #[cfg(feature = "wrpc")]
    pub use crate::plugin::wrpc::{DEFAULT_TIMEOUT, WrpcPlugin};
}
