//! The engine a host runs a workload on — how the workload is linked, and Wasmtime's
//! pooling allocator for hosts that create a store per request — and the per-store set-up
//! of its limits: a per-call deadline (epoch interruption through [`compose_linker::Deadlines`]), each
//! component's `max-memory` (the linker's `ResourceLimiter`), and optionally Wasmtime's
//! pooling allocator for hosts that create a store per request.

use crate::error::HostError;
use compose_linker::{
    CompileOptions, CompiledWorkload, Deadlines, Execution, LinkMode, Meter, PoolSizing,
    WorkloadLinker,
};
use compose_resolver::Plan;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store};

/// How often the engine's epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How a host's engine is set up: how the workload is linked (which decides what one
/// instance is: a component, a fused cluster or the whole composition), how instances are
/// allocated, and what each store enforces.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Each call (`compose run`) or request (`compose serve`) ends after this long; `None`
    /// for no deadline.
    pub timeout: Option<Duration>,
    /// Pre-allocate instance slots with Wasmtime's pooling allocator for this many
    /// concurrent stores (requests); `None` allocates on demand.
    pub pooling: Option<u32>,
    /// How the workload's components are linked (default [`LinkMode::Clusters`]; see
    /// [`WorkloadLinker::link_mode`](compose_linker::WorkloadLinker::link_mode)).
    pub link: LinkMode,
    /// How they are compiled: through a cache of compiled code, telling an observer of
    /// each compilation (default: every time, telling no one).
    pub compile: CompileOptions,
    /// How the workload's calls run (default [`Execution::Sync`]; `compose serve` uses
    /// [`Execution::Async`] whatever this says). See
    /// [`WorkloadLinker::execution`](compose_linker::WorkloadLinker::execution).
    pub execution: Execution,
    /// Told of every call and instantiation that crosses the linker (default none; see
    /// [`WorkloadLinker::meter`](compose_linker::WorkloadLinker::meter)).
    pub meter: Option<Arc<dyn Meter>>,
}

/// An engine for a plan with its limits: the deadline thread (when there is a timeout),
/// shared by every store. Cheap to clone.
#[derive(Clone)]
pub struct HostEngine {
    engine: Engine,
    deadlines: Option<Arc<Deadlines>>,
    timeout: Option<Duration>,
    link: LinkMode,
    compile: CompileOptions,
    execution: Execution,
    meter: Option<Arc<dyn Meter>>,
}

impl HostEngine {
    /// An engine with [`compose_linker::config_for`]`(plan)`, epoch interruption when
    /// `options` has a timeout, and the pooling allocator when asked for.
    ///
    /// # Errors
    /// [`HostError::GrantsDiffer`] for [`LinkMode::Composed`] when the components' grants
    /// differ, [`HostError::RemoteNotComposable`] when a remote serves an import;
    /// [`HostError::Engine`] when Wasmtime refuses the configuration, or the
    /// deadline thread cannot start.
    pub fn new(plan: &Plan, options: &EngineOptions) -> Result<Self, HostError> {
        if options.link == compose_linker::LinkMode::Composed {
            plan.check_composable_grants("`--link composed`")
                .map_err(HostError::GrantsDiffer)?;
            plan.check_composable_remotes("`--link composed`")
                .map_err(HostError::RemoteNotComposable)?;
        }
        Self::configure(plan, options).map_err(|e| HostError::Engine(e.into_boxed_dyn_error()))
    }

    fn configure(plan: &Plan, options: &EngineOptions) -> Result<Self, wasmtime::Error> {
        let mut config = compose_linker::config_for(plan);
        if options.timeout.is_some() {
            Deadlines::configure(&mut config);
        }
        if let Some(stores) = options.pooling {
            pool(&mut config, plan, options.link, stores);
        }
        let engine = Engine::new(&config)?;
        let deadlines = match options.timeout {
            Some(_) => Some(Arc::new(Deadlines::start(&engine, EPOCH_TICK)?)),
            None => None,
        };
        Ok(Self {
            engine,
            deadlines,
            timeout: options.timeout,
            link: options.link,
            compile: options.compile.clone(),
            execution: options.execution,
            meter: options.meter.clone(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A linker for `plan` on this engine, with the link mode, the compile options, the
    /// execution and the meter of the options; the per-call timeout also bounds each call
    /// to a remote (which waits on the network, where epoch deadlines do not reach).
    pub fn linker<'p, T: 'static>(&self, plan: &'p Plan) -> WorkloadLinker<'p, T> {
        let mut linker = WorkloadLinker::new(&self.engine, plan);
        linker
            .link_mode(self.link)
            .compile_options(self.compile.clone())
            .execution(self.execution)
            .meter(self.meter.clone())
            .remote_timeout(self.timeout);
        linker
    }

    /// The per-call deadline, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets up a new store of `workload`: its memory caps, and its deadline counted from
    /// now (yielding to the async runtime at every tick until then when the workload is
    /// called on fibers, [`Deadlines::set_yielding`]).
    pub fn arm<T: Send + 'static>(&self, workload: &CompiledWorkload<T>, store: &mut Store<T>) {
        workload.limit_memory(store);
        let (Some(deadlines), Some(timeout)) = (&self.deadlines, self.timeout) else {
            return;
        };
        if workload.is_async() && !workload.is_concurrent() {
            deadlines.set_yielding(store, timeout);
        } else {
            deadlines.set(store, timeout);
        }
    }
}

/// Turns on the pooling allocator, sized for `stores` concurrent stores each holding one
/// instance of every component of `plan`, by the linker's units under `link`
/// ([`PoolSizing`]). A host must not hold more than `stores` stores at once (`compose
/// serve` waits for a free one), or instantiation fails when the pool is exhausted.
fn pool(config: &mut Config, plan: &Plan, link: LinkMode, stores: u32) {
    let pooling = PoolSizing::new(plan, link).pooling_config(stores);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
}
