//! What the trampolines and the host's calls reach at run time: the compiled workload's
//! components, ready to instantiate ([`Runtime`]), and what one trampoline forwards
//! ([`Route`]).

use crate::cluster::Renamed;
use crate::error::{CallError, FuncName, boxed};
use crate::meter::{Meter, Observe};
use crate::state::{Names, WorkloadState};
use std::sync::{Arc, OnceLock, Weak};
use wasmtime::component::{ComponentExportIndex, InstancePre};

/// A failed call, boxed: the hot paths return it and it is large.
pub(crate) type Failure = Box<CallError>;

/// The accessor from the host's store data to the workload's state.
pub(crate) type GetState<T> = fn(&mut T) -> &mut WorkloadState;

/// What lazy instantiation needs: the compiled workload, reached weakly from the
/// trampolines (which the workload's own linkers hold, so a strong reference would be a
/// cycle).
pub(crate) struct Runtime<T: 'static> {
    pub(crate) names: Arc<Names>,
    pub(crate) components: Vec<RuntimeComponent<T>>,
    pub(crate) get: GetState<T>,
    /// Whether the trampolines are concurrent ones (the plan has async functions).
    pub(crate) concurrent: bool,
    /// How the trampolines of synchronous functions call (for a plan without async
    /// functions).
    pub(crate) execution: Execution,
    /// Makes the observers of the functions the host looks up, when the host counts.
    pub(crate) meter: Option<Arc<dyn Meter>>,
}

impl<T: 'static> Runtime<T> {
    /// Whether the workload's exports must be called with `call_async`: its store runs
    /// concurrently (the plan has async functions) or on fibers ([`Execution::Async`]).
    pub(crate) fn is_async(&self) -> bool {
        self.concurrent || self.execution == Execution::Async
    }
}

/// How the calls of a workload without async functions run (a workload with async
/// functions always runs concurrently, see
/// [`CompiledWorkload::call_concurrent`](crate::CompiledWorkload::call_concurrent)).
///
/// Wasmtime's two ways of calling a component (the `wasmtime` crate's `Func::call` and
/// `Func::call_async`): [`Execution::Sync`] calls on the caller's thread, which a guest
/// waiting in a host call (a clock, a socket, a database) blocks;
/// [`Execution::Async`] runs guest code on a fiber of its own, which suspends when a host
/// function waits, so that a thread of an async runtime (tokio's workers) can run other
/// stores meanwhile. Under [`Execution::Async`] every trampoline is an async host function
/// (`LinkerInstance::func_new_async`) that calls the serving component with
/// `call_async` on a fiber nested in the caller's, and the host's own definitions must be
/// async ones as well wherever they wait (`wasmtime_wasi::p2::add_to_linker_async`): a
/// synchronous host function that blocks would block the worker thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Execution {
    /// Calls on the caller's thread ([`CompiledWorkload::call`](crate::CompiledWorkload::call)).
    #[default]
    Sync,
    /// Calls on fibers, from an async runtime
    /// ([`CompiledWorkload::call_async`](crate::CompiledWorkload::call_async)).
    Async,
}

/// One workload component, ready to instantiate.
pub(crate) struct RuntimeComponent<T: 'static> {
    pub(crate) pre: InstancePre<T>,
    pub(crate) eager: bool,
    /// How many routes lead into this component (the size of
    /// [`Live::funcs`](crate::state::Live::funcs)).
    pub(crate) routes: usize,
    /// The component's exported resource types that cross to importers: where each is in
    /// the component, and the host resource type that stands for it.
    pub(crate) resources: Vec<(ComponentExportIndex, u32)>,
    /// For a member of a fused cluster (whose `pre` is the cluster's): its exports as
    /// named in the cluster's component.
    pub(crate) renamed: Option<Renamed>,
    /// Told of each instantiation, when the host counts.
    pub(crate) meter: Option<Arc<dyn Observe>>,
}

/// Where [`Runtime`] will be once the workload is built.
pub(crate) type RuntimeCell<T> = Arc<OnceLock<Weak<Runtime<T>>>>;

/// One function of one import of one component, forwarded to an export of another.
pub(crate) struct Route<T: 'static> {
    pub(crate) names: Arc<Names>,
    pub(crate) caller: usize,
    pub(crate) server: usize,
    /// This route's place in the server's [`Live::funcs`](crate::state::Live::funcs).
    pub(crate) slot: usize,
    pub(crate) export: ComponentExportIndex,
    pub(crate) func: FuncName,
    /// The import's `implements` label, when it has one (its name is not the interface's).
    pub(crate) label: Option<Box<str>>,
    /// The host resource types standing for the server's resources in the caller, with
    /// their names; empty when no parameter or result can hold a handle.
    pub(crate) resources: Vec<(u32, String)>,
    pub(crate) has_resources: bool,
    pub(crate) runtime: RuntimeCell<T>,
    pub(crate) get: GetState<T>,
    /// Told of each call, when the host counts.
    pub(crate) meter: Option<Arc<dyn Observe>>,
}

impl<T: 'static> Route<T> {
    pub(crate) fn trap(&self, error: wasmtime::Error) -> Failure {
        Box::new(CallError::Trap {
            workload: self.names.workload.clone(),
            caller: self.names.components[self.caller].clone(),
            component: self.names.components[self.server].clone(),
            func: Box::new(self.func.clone()),
            source: boxed(self.names.explain(self.server, error)),
        })
    }
}
