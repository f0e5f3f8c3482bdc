//! The host `compose run` uses: a resolved workload linked with WASI 0.2, the host's
//! plugins serving its backends, and each component's `wasi:config/store`.

use crate::define::define_host;
use crate::engine::{EngineOptions, HostEngine};
use crate::error::HostError;
use crate::grants::{GrantsView, Offer, OwnContexts};
use crate::invoke::Call;
use crate::plugin::{HostView, Plugins};
use compose_linker::{CompiledWorkload, WorkloadState};
use compose_resolver::Plan;
use wasmtime::Store;
use wasmtime::component::{ResourceTable, Val, wasm_wave};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The store data of a [`Host`]: the workload's instances, WASI's contexts (the
/// store-wide one and the components' own, [`crate::grants`]) and the resource table that
/// WASI and the plugins share.
pub struct HostState {
    /// The workload's instances in this store.
    pub workload: WorkloadState,
    wasi: WasiCtx,
    own: OwnContexts,
    table: ResourceTable,
}

impl HostState {
    /// Store data for `workload` with the store-wide WASI context `wasi` and the
    /// components' own contexts `own` (both from [`crate::grants::contexts`]).
    pub fn new(workload: &CompiledWorkload<HostState>, wasi: WasiCtx, own: OwnContexts) -> Self {
        Self {
            workload: workload.new_state(),
            wasi,
            own,
            table: ResourceTable::new(),
        }
    }
}

impl GrantsView for HostState {
    fn own(&mut self) -> (&mut OwnContexts, &mut ResourceTable) {
        (&mut self.own, &mut self.table)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostView for HostState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

/// A workload linked with this host: WASI 0.2, the plugins' backends and the components'
/// configuration. Cheap to clone; each call runs in a store from [`Host::new_store`].
#[derive(Clone)]
pub struct Host {
    workload: CompiledWorkload<HostState>,
    engine: HostEngine,
    plan: std::sync::Arc<Plan>,
}

impl Host {
    /// Links `plan` (best resolved with [`Plugins::profile`], which checks its host
    /// imports and backends first) with WASI 0.2, its backends served by `plugins` and
    /// each component's configuration as `wasi:config/store`.
    ///
    /// # Errors
    /// [`HostError::Backends`] with every backend that cannot be served (before anything
    /// runs); [`HostError::Build`] when linking fails (an import the host does not serve).
    pub fn link(plan: &Plan, plugins: &Plugins<HostState>) -> Result<Self, HostError> {
        Self::link_with(plan, plugins, &EngineOptions::default())
    }

    /// [`Host::link`] on an engine set up with `options`: its link mode, and for each store
    /// of [`Host::new_store`] the deadline (counted from its creation) and the components'
    /// memory caps.
    ///
    /// # Errors
    /// As [`Host::link`]; [`HostError::Engine`] when Wasmtime refuses the configuration.
    pub fn link_with(
        plan: &Plan,
        plugins: &Plugins<HostState>,
        options: &EngineOptions,
    ) -> Result<Self, HostError> {
        let engine = HostEngine::new(plan, options)?;
        let mut linker = engine.linker::<HostState>(plan);
        define_host(&mut linker, plan, plugins)?;
        let workload = linker.compile(|host| &mut host.workload)?;
        let plan = std::sync::Arc::new(plan.clone());
        Ok(Self {
            workload,
            engine,
            plan,
        })
    }

    /// The compiled workload.
    pub fn workload(&self) -> &CompiledWorkload<HostState> {
        &self.workload
    }

    /// A new store whose components see what `offer` holds as far as their grants allow
    /// ([`crate::grants`]; the host's standard output and error), its eager components
    /// instantiated (on a tokio runtime of its own when the workload is called async: it
    /// has async functions, or [`EngineOptions::execution`] is
    /// [`Execution::Async`](compose_linker::Execution::Async)).
    ///
    /// # Errors
    /// [`HostError::Grants`] when a granted directory cannot be opened or an offered one
    /// is granted to no component; an eager component fails to instantiate.
    pub fn new_store(&self, offer: &Offer) -> Result<Store<HostState>, HostError> {
        let mut store = self.empty_store(offer)?;
        if self.workload.is_async() {
            crate::runtime::block_on(self.workload.instantiate_async(&mut store))?;
        } else {
            self.workload.instantiate(&mut store)?;
        }
        Ok(store)
    }

    /// [`Host::new_store`] for a workload called async, from async code: its eager
    /// components are instantiated on the caller's runtime (`new_store` starts one of its
    /// own, which Tokio refuses inside another).
    ///
    /// # Errors
    /// As [`Host::new_store`].
    pub async fn new_store_async(&self, offer: &Offer) -> Result<Store<HostState>, HostError> {
        let mut store = self.empty_store(offer)?;
        if self.workload.is_async() {
            self.workload.instantiate_async(&mut store).await?;
        } else {
            self.workload.instantiate(&mut store)?;
        }
        Ok(store)
    }

    /// A store offered `offer`, its deadline armed, nothing instantiated yet.
    fn empty_store(&self, offer: &Offer) -> Result<Store<HostState>, HostError> {
        let (wasi, own) = crate::grants::contexts(&self.plan, offer)?;
        let state = HostState::new(&self.workload, wasi, own);
        let mut store = Store::new(self.workload.engine(), state);
        self.engine.arm(&self.workload, &mut store);
        Ok(store)
    }

    /// Calls `call` (parsed from `--invoke` syntax with [`Call::parse`]) on an export of the
    /// workload, or of `component` when given; returns its result in WAVE syntax (`None`
    /// for no result). A workload called async is called on a tokio runtime of its own.
    ///
    /// # Errors
    /// An invalid expression or arguments, an unknown function, or a failing call.
    pub fn invoke(
        &self,
        store: &mut Store<HostState>,
        component: Option<&str>,
        call: &Call,
    ) -> Result<Option<String>, HostError> {
        let workload = &self.workload;
        let func = match component {
            Some(component) => {
                workload.component_func(component, call.interface.as_deref(), &call.function)?
            }
            None => workload.func(call.interface.as_deref(), &call.function)?,
        };
        let invalid = |reason: String| HostError::InvalidArguments {
            function: func.name().to_string(),
            signature: wasm_wave::wasm::DisplayFunc(func.ty().clone()).to_string(),
            reason,
        };
        let types: Vec<_> = func.ty().params().map(|(_, ty)| ty).collect();
        let untyped = wasm_wave::untyped::UntypedFuncCall::parse(&call.expression)
            .map_err(|e| invalid(e.to_string()))?;
        let params: Vec<Val> = untyped
            .to_wasm_params(types.iter())
            .map_err(|e| invalid(e.to_string()))?;
        let mut results = vec![Val::Bool(false); func.ty().results().len()];
        if workload.is_async() {
            let call = workload.call_async(&mut *store, &func, &params, &mut results);
            crate::runtime::block_on(call)?;
        } else {
            workload.call(&mut *store, &func, &params, &mut results)?;
        }
        results
            .first()
            .map(|result| wasm_wave::to_string(result).map_err(HostError::PrintResult))
            .transpose()
    }
}
