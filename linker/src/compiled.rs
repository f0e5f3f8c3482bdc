//! The compiled workload: [`CompiledWorkload`] makes the state of a store, instantiates
//! the eager components in it and calls the workload's functions ([`WorkloadFunc`]); the
//! trampolines instantiate the others in the same store on first use.

use crate::cluster::LinkMode;
use crate::error::{CallError, FuncName, InstantiateError, boxed};
use crate::instance::{
    check_poison, ensure_instance, ensure_instance_async, enter_instance, exit, state,
};
use crate::meter::Observe;
use crate::runtime::Runtime;
use crate::state::{Names, WorkloadState};
use crate::trace;
use std::sync::Arc;
use tracing::Instrument;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{Component, ComponentExportIndex, Func, Val};
use wasmtime::{AsContextMut, Engine, Store, StoreContextMut};

/// What the compiled workload knows beyond what trampolines need.
pub(crate) struct Info {
    pub(crate) engine: Engine,
    pub(crate) order: Vec<usize>,
    /// `(workload export name, component, the component's export name)`.
    pub(crate) exports: Vec<(String, usize, String)>,
    pub(crate) files: usize,
    /// The members of each fused cluster.
    pub(crate) fused: Vec<Vec<String>>,
    /// The members of each cluster left per component, and why.
    pub(crate) unfused: Vec<(Vec<String>, String)>,
    pub(crate) mode: LinkMode,
}

/// A compiled, linked workload: `Send + Sync` and cheap to clone, so that many threads can
/// each run their own [`Store`](wasmtime::Store) against it.
///
/// Each store keeps the workload's instances in a [`WorkloadState`] made by
/// [`CompiledWorkload::new_state`]. Instances are created lazily, in the store of the call
/// that needs them; [`CompiledWorkload::instantiate`] creates the eager ones.
pub struct CompiledWorkload<T: 'static> {
    pub(crate) runtime: Arc<Runtime<T>>,
    pub(crate) info: Arc<Info>,
}

impl<T: 'static> Clone for CompiledWorkload<T> {
    fn clone(&self) -> Self {
        Self {
            runtime: self.runtime.clone(),
            info: self.info.clone(),
        }
    }
}

impl<T: 'static> std::fmt::Debug for CompiledWorkload<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledWorkload")
            .field("name", &self.runtime.names.workload)
            .field("components", &self.runtime.names.components)
            .finish_non_exhaustive()
    }
}

/// A function of the workload that the host can call with [`CompiledWorkload::call`]:
/// an export of the workload ([`CompiledWorkload::func`]) or of one of its components
/// ([`CompiledWorkload::component_func`]).
#[derive(Debug, Clone)]
pub struct WorkloadFunc {
    pub(crate) names: Arc<Names>,
    pub(crate) component: usize,
    pub(crate) index: ComponentExportIndex,
    pub(crate) name: FuncName,
    pub(crate) ty: ComponentFunc,
    /// Told of each of the host's calls, when the workload was linked with a meter.
    pub(crate) meter: Option<Arc<dyn Observe>>,
}

impl WorkloadFunc {
    /// The function's type: its parameters and results.
    pub fn ty(&self) -> &ComponentFunc {
        &self.ty
    }

    /// The interface (the component's export) and the function's name.
    pub fn name(&self) -> &FuncName {
        &self.name
    }

    /// The component that serves it.
    pub fn component(&self) -> &str {
        &self.names.components[self.component]
    }
}

impl<T: 'static> CompiledWorkload<T> {
    /// The workload's name.
    pub fn name(&self) -> &str {
        &self.runtime.names.workload
    }

    /// The engine the workload is compiled for.
    pub fn engine(&self) -> &Engine {
        &self.info.engine
    }

    /// The workload's components, in the plan's order.
    pub fn components(&self) -> &[String] {
        &self.runtime.names.components
    }

    /// How many distinct component files were compiled (components that share a file
    /// share one compilation).
    pub fn compiled_files(&self) -> usize {
        self.info.files
    }

    /// How the workload was linked.
    pub fn link_mode(&self) -> LinkMode {
        self.info.mode
    }

    /// Whether the workload must be called with [`CompiledWorkload::call_async`] (and
    /// instantiated with [`CompiledWorkload::instantiate_async`]): it has async functions
    /// ([`CompiledWorkload::is_concurrent`]) or was linked for
    /// [`Execution::Async`](crate::Execution::Async).
    pub fn is_async(&self) -> bool {
        self.runtime.is_async()
    }

    /// The clusters fused into one component each, by their members' names (see
    /// [`WorkloadLinker::link_mode`](crate::WorkloadLinker::link_mode)).
    pub fn fused_clusters(&self) -> &[Vec<String>] {
        &self.info.fused
    }

    /// The clusters of more than one component that the link mode would fuse but that are
    /// linked per component instead, each with why: fusing them would change what the
    /// workload does (a member with a `max-memory`; two members with host definitions of
    /// their own; two members importing one name from different providers), or the
    /// composition failed.
    pub fn unfused_clusters(&self) -> &[(Vec<String>, String)] {
        &self.info.unfused
    }

    /// The compiled Wasmtime component of workload component `name`: components from one
    /// file share one, and the members of a fused cluster share the cluster's.
    pub fn component(&self, name: &str) -> Option<&Component> {
        let id = self
            .runtime
            .names
            .components
            .iter()
            .position(|c| c == name)?;
        Some(self.runtime.components[id].pre.component())
    }

    /// A new, empty state for a store that runs this workload: put it in the store's data
    /// where the accessor given to
    /// [`WorkloadLinker::compile`](crate::WorkloadLinker::compile) finds it. The state keeps
    /// the compiled workload alive, so a store may outlive this handle.
    pub fn new_state(&self) -> WorkloadState {
        WorkloadState::new(self.runtime.names.clone(), self.runtime.clone())
    }

    /// Makes `store` enforce the components' memory caps (`max-memory`): installs the
    /// store's [`WorkloadState`] (found with the accessor given to
    /// [`WorkloadLinker::compile`](crate::WorkloadLinker::compile)) as its
    /// [`ResourceLimiter`](wasmtime::ResourceLimiter).
    /// A component whose memory would grow past its cap fails the call with
    /// [`MemoryLimitExceeded`](crate::MemoryLimitExceeded) in the error's causes. A host
    /// with a limiter of its own can call `WorkloadState`'s from it instead.
    pub fn limit_memory(&self, store: &mut wasmtime::Store<T>) {
        let get = self.runtime.get;
        store.limiter(move |data| get(data));
    }

    /// Instantiates the workload's eager components in `store` (in dependency order); the
    /// others wait for the first call that needs them.
    ///
    /// # Errors
    /// [`InstantiateError::ForeignState`] when the store's state is not this workload's;
    /// [`InstantiateError::Instantiate`] when an eager component fails to instantiate, or
    /// the workload was linked for [`Execution::Async`](crate::Execution::Async) (use
    /// [`CompiledWorkload::instantiate_async`]).
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> Result<(), InstantiateError> {
        let mut store = store.as_context_mut();
        for id in self.eager() {
            ensure_instance(&mut store, &self.runtime, id, "host", &instantiation())
                .map_err(|e| self.instantiate_error(id, *e))?;
        }
        Ok(())
    }

    /// The eager components, in dependency order.
    fn eager(&self) -> impl Iterator<Item = usize> + '_ {
        let components = &self.runtime.components;
        (self.info.order.iter().copied()).filter(|&id| components[id].eager)
    }

    /// The error of instantiating component `id`, which failed with `error`.
    fn instantiate_error(&self, id: usize, error: CallError) -> InstantiateError {
        match error {
            CallError::ForeignState { workload } => InstantiateError::ForeignState { workload },
            other => InstantiateError::Instantiate {
                workload: self.runtime.names.workload.clone(),
                component: self.runtime.names.components[id].clone(),
                source: Box::new(other),
            },
        }
    }

    /// Calls `func` in `store`, instantiating its component first if the store has no
    /// instance of it. `results` must have as many elements as the function has results.
    ///
    /// # Errors
    /// [`CallError::ForeignState`] when `func` or the store's state belongs to another
    /// workload; [`CallError::Instantiate`] when the component cannot be instantiated;
    /// [`CallError::Reentrance`] when the component is already on the call stack (the host
    /// called from inside a host function); [`CallError::Trap`] when the function traps or
    /// a component it calls does (the chain of causes names each component on the way) or
    /// when the arguments do not match its type. A component that traps is discarded and
    /// instantiated afresh by the next call. A workload with async functions
    /// ([`CompiledWorkload::is_concurrent`]) or linked for
    /// [`Execution::Async`](crate::Execution::Async) fails every call here: call it with
    /// [`CompiledWorkload::call_async`] (or [`CompiledWorkload::call_concurrent`]).
    pub fn call(
        &self,
        mut store: impl AsContextMut<Data = T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        let hop = self.host_hop(func);
        let _entered = hop.span.enter();
        let called = self.call_in(store.as_context_mut(), func, params, results);
        hop.finish(&called);
        called
    }

    /// [`CompiledWorkload::call`] inside its span.
    fn call_in(
        &self,
        mut store: StoreContextMut<'_, T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        let runtime = &self.runtime;
        self.check_call(func, params, results)?;
        if runtime.is_async() {
            let why = if runtime.concurrent {
                "has async functions"
            } else {
                "is linked for async execution"
            };
            return Err(self.host_trap(
                func,
                wasmtime::format_err!(
                    "workload `{}` {why}: call it with `call_async`",
                    runtime.names.workload
                ),
            ));
        }
        ensure_instance(&mut store, runtime, func.component, "host", &func.name).map_err(|e| *e)?;
        let (export, outer, generation) = self.enter_host(&mut store, func)?;
        let outcome = export.call(&mut store, params, results);
        self.leave_host(&mut store, func, (outer, generation), outcome)
    }

    /// The hop of the host's call of `func` ([`trace::host_call`]).
    #[inline]
    pub(crate) fn host_hop<'f>(&self, func: &'f WorkloadFunc) -> trace::Hop<'f> {
        let component = &self.runtime.names.components[func.component];
        let name = &func.name;
        let meter = func.meter.as_deref();
        trace::host_call(component, name.interface.as_deref(), &name.function, meter)
    }

    /// Enters the live instance of `func`'s component for a call by the host: the export,
    /// the instance current before and the instance's generation.
    fn enter_host(
        &self,
        store: &mut StoreContextMut<'_, T>,
        func: &WorkloadFunc,
    ) -> Result<(Func, Option<usize>, u32), CallError> {
        let runtime = &self.runtime;
        let state = state(store.data_mut(), runtime.get, &runtime.names).map_err(|e| *e)?;
        check_poison(state, func.component, &func.name).map_err(|e| *e)?;
        let outer = state.current;
        let (instance, generation) =
            enter_instance(state, func.component, &func.name).map_err(|e| *e)?;
        match instance.get_func(&mut *store, func.index) {
            Some(export) => Ok((export, outer, generation)),
            None => {
                self.exit_host(store, func, (outer, generation), true);
                let missing = wasmtime::format_err!("the export is not a function");
                Err(self.host_trap(func, missing))
            }
        }
    }

    /// Leaves `func`'s instance (entered at `generation`, with `outer` current before)
    /// after the host's call ended with `outcome`.
    fn leave_host(
        &self,
        store: &mut StoreContextMut<'_, T>,
        func: &WorkloadFunc,
        (outer, generation): (Option<usize>, u32),
        outcome: wasmtime::Result<()>,
    ) -> Result<(), CallError> {
        self.exit_host(store, func, (outer, generation), outcome.is_err());
        outcome.map_err(|e| self.host_trap(func, e))
    }

    /// Leaves `func`'s instance; `failed`: discards it and poisons the store.
    fn exit_host(
        &self,
        store: &mut StoreContextMut<'_, T>,
        func: &WorkloadFunc,
        (outer, generation): (Option<usize>, u32),
        failed: bool,
    ) {
        let entered = (func.component, generation);
        let failed = failed.then_some(&func.name);
        exit(store.data_mut(), self.runtime.get, entered, outer, failed);
    }
}

/// The function name of an eager instantiation, for errors.
fn instantiation() -> FuncName {
    FuncName {
        interface: None,
        function: "(instantiation)".into(),
    }
}

impl<T: Send + 'static> CompiledWorkload<T> {
    /// [`CompiledWorkload::instantiate`] on fibers: the way to instantiate the eager
    /// components of a workload linked for [`Execution::Async`](crate::Execution::Async)
    /// (it works for any workload).
    ///
    /// # Errors
    /// As [`CompiledWorkload::instantiate`].
    pub async fn instantiate_async(&self, store: &mut Store<T>) -> Result<(), InstantiateError> {
        let mut store = store.as_context_mut();
        for id in self.eager() {
            ensure_instance_async(&mut store, &self.runtime, id, "host", &instantiation())
                .await
                .map_err(|e| self.instantiate_error(id, *e))?;
        }
        Ok(())
    }

    /// Calls `func` in `store` from an async runtime: on a fiber for a workload linked for
    /// [`Execution::Async`](crate::Execution::Async) (or [`Execution::Sync`]), in a
    /// [`Store::run_concurrent`] of its own for a workload with async functions (see
    /// [`CompiledWorkload::call_concurrent`]). A guest waiting in an async host function
    /// suspends its fiber, not the thread.
    ///
    /// # Errors
    /// As [`CompiledWorkload::call`]; a trap anywhere on the way fails this call with an
    /// error naming the component and function where it started, discards that instance
    /// and poisons the store.
    ///
    /// [`Execution::Sync`]: crate::Execution::Sync
    pub async fn call_async(
        &self,
        store: &mut Store<T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        let hop = self.host_hop(func);
        let called = self
            .call_async_in(store, func, params, results)
            .instrument(hop.span.clone())
            .await;
        hop.finish(&called);
        called
    }

    /// [`CompiledWorkload::call_async`] inside its span.
    async fn call_async_in(
        &self,
        store: &mut Store<T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        if self.runtime.concurrent {
            return self.call_run_concurrent(store, func, params, results).await;
        }
        self.check_call(func, params, results)?;
        let mut store = store.as_context_mut();
        let runtime = &self.runtime;
        ensure_instance_async(&mut store, runtime, func.component, "host", &func.name)
            .await
            .map_err(|e| *e)?;
        let (export, outer, generation) = self.enter_host(&mut store, func)?;
        let outcome = export.call_async(&mut store, params, results).await;
        self.leave_host(&mut store, func, (outer, generation), outcome)
    }
}

impl<T: 'static> CompiledWorkload<T> {
    /// Checks that `func` is this workload's and that `params` and `results` fit it.
    pub(crate) fn check_call(
        &self,
        func: &WorkloadFunc,
        params: &[Val],
        results: &[Val],
    ) -> Result<(), CallError> {
        if !Arc::ptr_eq(&func.names, &self.runtime.names) {
            return Err(CallError::ForeignState {
                workload: self.runtime.names.workload.clone(),
            });
        }
        if params.len() != func.ty.params().len() || results.len() != func.ty.results().len() {
            return Err(self.host_trap(
                func,
                wasmtime::format_err!(
                    "{} takes {} argument(s) and returns {} result(s); given {} argument(s) and room for {} result(s)",
                    func.name,
                    func.ty.params().len(),
                    func.ty.results().len(),
                    params.len(),
                    results.len()
                ),
            ));
        }
        Ok(())
    }

    /// The error of a call of `func` by the host that failed with `source`.
    pub(crate) fn host_trap(&self, func: &WorkloadFunc, source: wasmtime::Error) -> CallError {
        CallError::Trap {
            workload: self.runtime.names.workload.clone(),
            caller: "host".into(),
            component: self.runtime.names.components[func.component].clone(),
            func: Box::new(func.name.clone()),
            source: boxed(self.runtime.names.explain(func.component, source)),
        }
    }
}
