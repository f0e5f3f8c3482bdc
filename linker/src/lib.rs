//! `compose-linker`: runs a resolved workload in Wasmtime with every component separately
//! instantiated, linked by trampolines that instantiate the serving component lazily.
//!
//! The host gives a [`WorkloadLinker`] its own definitions (WASI, plugins, named
//! backends) and the resolver's [`Plan`](compose_resolver::Plan). For every import that the
//! plan binds to another workload component, the linker defines a trampoline which, on the
//! first call in a store, instantiates the serving component *in the caller's store* (its
//! own imports stay lazy in turn), keeps that instance for later calls from any component
//! of the same store, and forwards the call. Components that no call reaches are never
//! instantiated. A trap in a callee reaches the caller as an error naming the workload,
//! the serving component, the interface and the function; the trapped instance is
//! discarded and never entered again. Wasmtime 48 then refuses every further call into
//! the store (a store-wide flag, `CannotEnterComponent`), so later calls in that store fail
//! with [`CallError::Poisoned`] naming the first trap; a new store on the same
//! [`CompiledWorkload`] gets fresh instances. An instance that is already on the call
//! stack is never entered again ([`CallError::Reentrance`]). Resource handles of a
//! resource exported by one component and used by another are forwarded both ways, and
//! dropping the user's handle runs the owner's destructor.
//!
//! [`WorkloadLinker::compile`] gives a [`CompiledWorkload`] (`Send + Sync`, cheap to clone)
//! which runs in any number of stores; each store keeps a [`WorkloadState`] in its data.
//!
//! Hybrid linking ([`LinkMode`], default [`LinkMode::Clusters`]): each cluster of the plan
//! ([`Plan::clusters`](compose_resolver::Plan::clusters): a `[clusters]` entry, or eager
//! components that import from each other) is composed into one component with
//! compose-static at compile time, so calls inside it are fused adapters that never leave
//! Wasmtime's code; clusters are linked to each other, to lazy components and to the host
//! with trampolines. A cluster is one instance in a store: the first call into any member
//! instantiates all of them. [`LinkMode::PerComponent`] links every component on its own;
//! [`LinkMode::Composed`] composes the whole workload.
//!
//! ```
//! use compose_linker::{CompiledWorkload, WorkloadLinker, WorkloadState};
//! use wasmtime::component::{Resource, ResourceTable, ResourceType, Val};
//! use wasmtime::{Engine, Store};
//! use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
//!
//! /// The host's store data: its own state and the workload's.
//! struct Host {
//!     workload: WorkloadState,
//!     wasi: WasiCtx,
//!     table: ResourceTable,
//! }
//!
//! impl WasiView for Host {
//!     fn ctx(&mut self) -> WasiCtxView<'_> {
//!         WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
//!     }
//! }
//!
//! /// A bucket of the host's key-value backend (which holds no keys).
//! struct Bucket;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/shop/workload.toml");
//! // `path`: the workload file, `fixtures/shop/workload.toml`.
//! let plan = compose_resolver::resolve_file(path)?;
//! let engine = Engine::new(&compose_linker::config_for(&plan))?;
//!
//! let mut linker = WorkloadLinker::<Host>::new(&engine, &plan);
//! // The host's interfaces go into the Wasmtime linker: WASI 0.2 here.
//! wasmtime_wasi::p2::add_to_linker_sync(linker.host())?;
//! // A backend serves the label `team-c-postgres` (implements wasi:keyvalue/store): any
//! // definitions in its `LinkerInstance` do. Here an empty store, with what the reporter
//! // imports of the interface: the `bucket` resource, `open` and `list-keys`.
//! linker.backend("team-c-postgres", |instance| {
//!     instance.resource("bucket", ResourceType::host::<Bucket>(), |_, _| Ok(()))?;
//!     instance.func_new("open", |mut store, _, _, results| {
//!         let bucket = Resource::<Bucket>::new_own(0).try_into_resource_any(&mut store)?;
//!         results[0] = Val::Result(Ok(Some(Box::new(Val::Resource(bucket)))));
//!         Ok(())
//!     })?;
//!     instance.func_new("[method]bucket.list-keys", |mut store, _, params, results| {
//!         // The bucket is lent for the call: a dynamic function hands it back.
//!         if let Val::Resource(bucket) = &params[0] {
//!             bucket.resource_drop(&mut store)?;
//!         }
//!         let no_keys = [("keys", Val::List(Vec::new())), ("cursor", Val::Option(None))];
//!         let page = no_keys.map(|(name, val)| (name.to_owned(), val)).to_vec();
//!         results[0] = Val::Result(Ok(Some(Box::new(Val::Record(page)))));
//!         Ok(())
//!     })
//! })?;
//! let workload: CompiledWorkload<Host> = linker.compile(|host| &mut host.workload)?;
//!
//! // One store per request or thread; the compiled workload is shared.
//! let host = Host {
//!     workload: workload.new_state(),
//!     wasi: WasiCtx::builder().build(),
//!     table: ResourceTable::new(),
//! };
//! let mut store = Store::new(&engine, host);
//! workload.instantiate(&mut store)?; // only the eager components
//!
//! let put = workload.func(Some("acme:app/handler@0.1.0"), "put")?;
//! let args = ["a", "k", "v"].map(|s| Val::String(s.into()));
//! workload.call(&mut store, &put, &args, &mut [])?;
//!
//! let get = workload.func(Some("handler"), "get")?;
//! let mut results = [Val::Bool(false)];
//! let args = ["a", "k"].map(|s| Val::String(s.into()));
//! workload.call(&mut store, &get, &args, &mut results)?;
//! assert_eq!(results[0], Val::Option(Some(Box::new(Val::String("v".into())))));
//!
//! // Only what the calls reached (and the eager reporter) was instantiated; the formatter
//! // with the frontend, as they are one cluster (`[clusters] hot`).
//! let live: Vec<_> = store.data().workload.live_instances().map(|i| i.component).collect();
//! assert_eq!(live, ["frontend", "team-a-postgres", "formatter", "reporter"]);
//!
//! // The reporter reads the host's backend: an empty bucket.
//! let summary = workload.func(Some("report"), "summary")?;
//! let mut results = [Val::Bool(false)];
//! workload.call(&mut store, &summary, &[], &mut results)?;
//! assert_eq!(results[0], Val::String("".into()));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

// The modules, each using only those listed before it (`scripts/module-cycles.sh linker`):
// `limits` (deadlines, the errors of passed limits), `error` (remote calls' included),
// `state` (a store's `WorkloadState`), `limiter` (its memory caps), `cluster` (link
// modes, fused clusters), `meter` (what a host counts of calls and instantiations),
// `runtime` (what trampolines reach: `Runtime`, `Route`), `trace` (spans), `instance` (instantiation,
// entering and leaving instances, poisoning), `resources` (handles that cross components),
// `trampoline` (synchronous trampolines), `error_context`, `compiled` (`CompiledWorkload`),
// `lookup` (its functions by name), `async_call` (concurrent trampolines and calls),
// `wave` (wRPC's value encoding), `remote` (calls to remotes over wRPC),
// `config` (the engine), `pool` (the pooling allocator's sizing by units), `link` (one
// component's linker), `builder` (`WorkloadLinker`).
#[cfg(feature = "component-model-async")]
mod async_call;
#[cfg(not(feature = "component-model-async"))]
#[path = "async_off.rs"]
mod async_call;
mod builder;
mod cache;
mod cluster;
mod compile;
mod compiled;
mod engine;
mod error;
#[cfg(feature = "component-model-async")]
mod error_context;
mod instance;
mod limiter;
mod limits;
mod link;
mod lookup;
mod meter;
mod pool;
mod remote;
mod resources;
mod runtime;
mod state;
mod trace;
mod trampoline;
pub mod wave;

pub use builder::WorkloadLinker;
pub use cache::{CacheLookup, CodeCache};
pub use cluster::LinkMode;
pub use compile::{CompileEvent, CompileObserver, CompileOptions};
pub use compiled::{CompiledWorkload, WorkloadFunc};
pub use engine::{config, config_for, has_async_functions};
pub use error::{
    BoxError, BuildError, CallError, FuncName, InstantiateError, LookupError, RemoteCallError,
    RemoteFailure,
};
pub use limits::{DeadlineExceeded, Deadlines, MemoryLimitExceeded};
pub use meter::{Meter, Observe, Outcome};
pub use pool::PoolSizing;
pub use remote::wait_on_remote_runtime;
pub use runtime::Execution;
pub use state::{LiveInstance, Usage, WorkloadState};
pub use trace::{CALL_SPAN, INSTANTIATE_SPAN};
