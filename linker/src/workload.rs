//! Linking a plan: [`WorkloadLinker`] compiles the components and defines the trampolines;
//! [`CompiledWorkload`] instantiates and calls in stores.

use crate::call::{GetState, Runtime, check_poison, ensure_instance, enter_instance, exit, state};
use crate::cluster::{self, LinkMode, unit_export};
use crate::error::{BuildError, CallError, FuncName, InstantiateError, LookupError, boxed};
use crate::link::Linking;
use crate::state::{Names, WorkloadState};
use compose_resolver::{InterfaceName, Plan, names_match};
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Linker, LinkerInstance, Val};
use wasmtime::{AsContextMut, Engine};

/// Links a resolved [`Plan`] into Wasmtime: the host's own definitions (WASI, plugins,
/// named backends) plus, for every import that the plan binds to another workload
/// component, a trampoline that instantiates the serving component on first use and
/// forwards the call.
///
/// The host's definitions go into [`WorkloadLinker::host`] (a Wasmtime [`Linker`]) and
/// [`WorkloadLinker::backend`]; [`WorkloadLinker::compile`] then compiles every distinct
/// component file once and pre-instantiates every workload component.
pub struct WorkloadLinker<'p, T: 'static> {
    engine: Engine,
    plan: &'p Plan,
    linker: Linker<T>,
    fast_paths: bool,
    /// Host definitions for one component only, by the component's index in the plan.
    per_component: HashMap<usize, Vec<ComponentHost<T>>>,
    mode: LinkMode,
}

/// Host definitions that one component is linked against (see
/// [`WorkloadLinker::component_host`]).
pub(crate) type ComponentHost<T> = Box<dyn Fn(&mut Linker<T>) -> wasmtime::Result<()>>;

impl<'p, T: 'static> WorkloadLinker<'p, T> {
    /// A linker for `plan` with an empty host linker. The engine must have the component
    /// model's `implements` option on: use [`config`](crate::config) or
    /// [`config_for`](crate::config_for).
    pub fn new(engine: &Engine, plan: &'p Plan) -> Self {
        Self::with_linker(engine, plan, Linker::new(engine))
    }

    /// A linker for `plan` whose host definitions start as `linker`'s.
    pub fn with_linker(engine: &Engine, plan: &'p Plan, linker: Linker<T>) -> Self {
        Self {
            engine: engine.clone(),
            plan,
            linker,
            fast_paths: true,
            per_component: HashMap::new(),
            mode: LinkMode::default(),
        }
    }

    /// The host's definitions: what the plan's host interfaces and backends resolve to.
    /// Every workload component is linked against a copy of it (in which the trampolines
    /// shadow any definition of the same name).
    pub fn host(&mut self) -> &mut Linker<T> {
        &mut self.linker
    }

    /// Registers the backend for `label`: `define` defines the functions (and resources)
    /// of the interface the label implements, for example with
    /// [`LinkerInstance::func_wrap`]. Every component that imports `label` and whose plan
    /// binds it to the host reaches this backend; two labels of one interface reach two
    /// different backends.
    ///
    /// # Errors
    /// [`BuildError::Backend`] when `define` (or Wasmtime) fails.
    pub fn backend(
        &mut self,
        label: &str,
        define: impl FnOnce(&mut LinkerInstance<'_, T>) -> wasmtime::Result<()>,
    ) -> Result<&mut Self, BuildError> {
        let error = |e: wasmtime::Error| BuildError::Backend {
            workload: self.plan.name.clone(),
            label: label.to_owned(),
            source: boxed(e),
        };
        let mut instance = self.linker.instance(label).map_err(error)?;
        define(&mut instance).map_err(error)?;
        Ok(self)
    }

    /// Adds host definitions that only workload component `component` is linked against,
    /// on top of (and shadowing) [`WorkloadLinker::host`]'s: for an interface whose
    /// answer depends on which component calls it, such as `wasi:config/store` serving
    /// each component its own configuration. `define` runs on the component's copy of
    /// the host linker each time the workload is compiled.
    ///
    /// # Errors
    /// [`LookupError::UnknownComponent`] when the plan has no component `component`; an
    /// error of `define` surfaces from [`WorkloadLinker::compile`] as
    /// [`BuildError::Link`] naming the component.
    pub fn component_host(
        &mut self,
        component: &str,
        define: impl Fn(&mut Linker<T>) -> wasmtime::Result<()> + 'static,
    ) -> Result<&mut Self, LookupError> {
        let id = self
            .plan
            .find(component)
            .ok_or_else(|| LookupError::UnknownComponent {
                workload: self.plan.name.clone(),
                component: component.to_owned(),
                available: self
                    .plan
                    .components
                    .iter()
                    .map(|c| c.name.clone())
                    .collect(),
            })?;
        self.per_component
            .entry(id.index())
            .or_default()
            .push(Box::new(define));
        Ok(self)
    }

    /// Whether trampolines of common signatures (`u32 -> u32`, `string -> string`, ...)
    /// use typed calls rather than dynamic [`Val`]s (on by default; results are the same).
    pub fn typed_fast_paths(&mut self, enable: bool) -> &mut Self {
        self.fast_paths = enable;
        self
    }

    /// How to link the components (default [`LinkMode::Clusters`]): each on its own, the
    /// plan's clusters fused into one component each, or the whole workload composed.
    /// A cluster is left linked per component when fusing it would change what the
    /// workload does ([`CompiledWorkload::unfused_clusters`] says why).
    pub fn link_mode(&mut self, mode: LinkMode) -> &mut Self {
        self.mode = mode;
        self
    }

    /// Compiles the workload: every distinct component file once (components that share a
    /// file share their compiled code), a linker per component with a trampoline for every
    /// function of every import bound to another component, and an
    /// [`InstancePre`](wasmtime::component::InstancePre) per component. `get` finds the
    /// workload's [`WorkloadState`] in a store's data. Under [`LinkMode::Clusters`] (the
    /// default) or [`LinkMode::Composed`], each cluster to fuse is composed with
    /// compose-static first and compiled as one component, linked as one.
    ///
    /// # Errors
    /// [`BuildError::Compile`] when a component (or a cluster's composition, naming its
    /// members) does not compile, [`BuildError::Link`] when
    /// an import is left unsatisfied (a host interface or backend the host did not define)
    /// or its type does not match, [`BuildError::Unsupported`] for a bound import that is
    /// neither an instance nor a function, [`BuildError::MissingExport`] when the plan
    /// does not match the component bytes.
    pub fn compile(&self, get: GetState<T>) -> Result<CompiledWorkload<T>, BuildError>
    where
        T: Send,
    {
        let plan = self.plan;
        let fusion = cluster::fuse(plan, self.mode, &self.per_component);
        let files = self.compile_files(&fusion)?;
        let units = cluster::units(&self.engine, plan, &fusion, files)?;
        let mut linking = Linking::new(plan, &self.engine, &units, get, self.fast_paths);
        let own = |id: usize| self.per_component.get(&id).map_or(&[][..], Vec::as_slice);
        let mut pres = vec![None; plan.components.len()];
        for fused in &fusion.fused {
            let owns: Vec<_> = fused.members.iter().map(|m| own(m.index())).collect();
            let pre = linking.link_cluster(&self.linker, &owns, &fused.members)?;
            for member in &fused.members {
                pres[member.index()] = Some(pre.clone());
            }
        }
        for (caller, planned) in plan.components() {
            if pres[caller.index()].is_none() {
                let pre =
                    linking.link_component(&self.linker, own(caller.index()), caller, planned)?;
                pres[caller.index()] = Some(pre);
            }
        }
        let runtime = linking.finish(pres.into_iter().flatten().collect());
        Ok(CompiledWorkload {
            runtime,
            info: Arc::new(Info {
                engine: self.engine.clone(),
                order: plan.order.iter().map(|id| id.index()).collect(),
                exports: plan
                    .exports
                    .iter()
                    .map(|e| (e.name.clone(), e.component.index(), e.export.name.clone()))
                    .collect(),
                files: plan.files.len(),
                fused: fusion
                    .fused
                    .iter()
                    .map(|f| {
                        f.members
                            .iter()
                            .map(|m| plan.component(*m).name.clone())
                            .collect()
                    })
                    .collect(),
                unfused: fusion.unfused,
                mode: self.mode,
            }),
        })
    }

    /// Compiles each distinct component file once (components from one file share it),
    /// except for the members of fused clusters (`None`), which their cluster's
    /// composition stands for.
    fn compile_files(
        &self,
        fusion: &cluster::Fusion,
    ) -> Result<Vec<Option<Component>>, BuildError> {
        let fused: std::collections::HashSet<usize> = fusion
            .fused
            .iter()
            .flat_map(|f| f.members.iter().map(|m| m.index()))
            .collect();
        let mut compiled: Vec<Option<Component>> = vec![None; self.plan.files.len()];
        let mut components = Vec::with_capacity(self.plan.components.len());
        for (id, planned) in self.plan.components.iter().enumerate() {
            if fused.contains(&id) {
                components.push(None);
                continue;
            }
            let slot = &mut compiled[planned.file.index()];
            if slot.is_none() {
                let bytes = &self.plan.file(planned.file).ty.bytes;
                let component =
                    Component::new(&self.engine, bytes).map_err(|e| BuildError::Compile {
                        workload: self.plan.name.clone(),
                        component: planned.name.clone(),
                        source: boxed(e),
                    })?;
                *slot = Some(component);
            }
            components.push(slot.clone());
        }
        Ok(components)
    }
}

/// What the compiled workload knows beyond what trampolines need.
struct Info {
    engine: Engine,
    order: Vec<usize>,
    /// `(workload export name, component, the component's export name)`.
    exports: Vec<(String, usize, String)>,
    files: usize,
    /// The members of each fused cluster.
    fused: Vec<Vec<String>>,
    /// The members of each cluster left per component, and why.
    unfused: Vec<(Vec<String>, String)>,
    mode: LinkMode,
}

/// A compiled, linked workload: `Send + Sync` and cheap to clone, so that many threads can
/// each run their own [`Store`](wasmtime::Store) against it.
///
/// Each store keeps the workload's instances in a [`WorkloadState`] made by
/// [`CompiledWorkload::new_state`]. Instances are created lazily, in the store of the call
/// that needs them; [`CompiledWorkload::instantiate`] creates the eager ones.
pub struct CompiledWorkload<T: 'static> {
    pub(crate) runtime: Arc<Runtime<T>>,
    info: Arc<Info>,
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

    /// The clusters fused into one component each, by their members' names (see
    /// [`WorkloadLinker::link_mode`]).
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
    /// where the accessor given to [`WorkloadLinker::compile`] finds it. The state keeps
    /// the compiled workload alive, so a store may outlive this handle.
    pub fn new_state(&self) -> WorkloadState {
        WorkloadState::new(self.runtime.names.clone(), self.runtime.clone())
    }

    /// Makes `store` enforce the components' memory caps (`max-memory`): installs the
    /// store's [`WorkloadState`] (found with the accessor given to
    /// [`WorkloadLinker::compile`]) as its [`ResourceLimiter`](wasmtime::ResourceLimiter).
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
    /// [`InstantiateError::Instantiate`] when an eager component fails to instantiate.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> Result<(), InstantiateError> {
        let mut store = store.as_context_mut();
        let runtime = &self.runtime;
        for &id in &self.info.order {
            if !runtime.components[id].eager {
                continue;
            }
            let func = FuncName {
                interface: None,
                function: "(instantiation)".into(),
            };
            ensure_instance(&mut store, runtime, id, "host", &func).map_err(|e| match *e {
                CallError::ForeignState { workload } => InstantiateError::ForeignState { workload },
                other => InstantiateError::Instantiate {
                    workload: runtime.names.workload.clone(),
                    component: runtime.names.components[id].clone(),
                    source: Box::new(other),
                },
            })?;
        }
        Ok(())
    }

    /// The workload's exported function `function` of the export `interface` (or the
    /// workload's export named `function` that is a function when `interface` is `None`).
    /// `interface` may be the export's full name, a semver-compatible name, or its short
    /// name (`handler` for `acme:app/handler@0.1.0`) when that names one export.
    ///
    /// # Errors
    /// [`LookupError::UnknownExport`] or [`LookupError::UnknownFunction`], listing what
    /// there is.
    pub fn func(
        &self,
        interface: Option<&str>,
        function: &str,
    ) -> Result<WorkloadFunc, LookupError> {
        let owner = format!("workload `{}`", self.name());
        let exports = &self.info.exports;
        let wanted = interface.unwrap_or(function);
        let names = exports.iter().map(|e| e.0.as_str());
        let found = find_name(names.clone(), wanted)
            .map_err(|matching| lookup_error(&owner, wanted, matching, names))?;
        let (name, component, export) = &exports[found];
        self.lookup(*component, export, name, interface.map(|_| function), owner)
    }

    /// Function `function` of export `interface` of component `component` (or its export
    /// named `function` when `interface` is `None`), whether or not the workload exports it.
    /// `interface` is matched as in [`CompiledWorkload::func`].
    ///
    /// # Errors
    /// [`LookupError::UnknownComponent`], [`LookupError::UnknownExport`] or
    /// [`LookupError::UnknownFunction`], listing what there is.
    pub fn component_func(
        &self,
        component: &str,
        interface: Option<&str>,
        function: &str,
    ) -> Result<WorkloadFunc, LookupError> {
        let names = &self.runtime.names;
        let id = names
            .components
            .iter()
            .position(|c| c == component)
            .ok_or_else(|| LookupError::UnknownComponent {
                workload: names.workload.clone(),
                component: component.to_owned(),
                available: names.components.clone(),
            })?;
        let owner = format!("component `{component}`");
        let exports: Vec<String> = match &self.runtime.components[id].renamed {
            Some(renamed) => renamed.iter().map(|(own, _)| own.clone()).collect(),
            None => {
                let ty = self.runtime.components[id].pre.component().component_type();
                let exports = ty.exports(&self.info.engine);
                exports.map(|(n, _)| n.to_owned()).collect()
            }
        };
        let wanted = interface.unwrap_or(function);
        let names = exports.iter().map(String::as_str);
        let found = find_name(names.clone(), wanted)
            .map_err(|matching| lookup_error(&owner, wanted, matching, names))?;
        let export = &exports[found];
        self.lookup(id, export, export, interface.map(|_| function), owner)
    }

    fn lookup(
        &self,
        id: usize,
        export: &str,
        shown: &str,
        function: Option<&str>,
        owner: String,
    ) -> Result<WorkloadFunc, LookupError> {
        let engine = &self.info.engine;
        let unit = &self.runtime.components[id];
        let component = unit.pre.component();
        let ty = component.component_type();
        let inner = unit_export(unit.renamed.as_ref(), export);
        let unknown = |available: Vec<String>| LookupError::UnknownFunction {
            owner: owner.clone(),
            export: shown.to_owned(),
            function: function.unwrap_or(shown).to_owned(),
            available,
        };
        let item = ty
            .get_export(engine, inner)
            .ok_or_else(|| unknown(Vec::new()))?;
        let export_index = component
            .get_export_index(None, inner)
            .ok_or_else(|| unknown(Vec::new()))?;
        let (index, func_ty, name) = match (item.ty, function) {
            (ComponentItem::ComponentInstance(instance), Some(function)) => {
                let funcs = || {
                    instance
                        .exports(engine)
                        .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
                        .map(|(n, _)| n.to_owned())
                        .collect::<Vec<_>>()
                };
                let Some(ComponentItem::ComponentFunc(func_ty)) =
                    instance.get_export(engine, function).map(|e| e.ty)
                else {
                    return Err(unknown(funcs()));
                };
                let index = component
                    .get_export_index(Some(&export_index), function)
                    .ok_or_else(|| unknown(funcs()))?;
                let name = FuncName {
                    interface: Some(export.to_owned()),
                    function: function.to_owned(),
                };
                (index, func_ty, name)
            }
            (ComponentItem::ComponentFunc(func_ty), None) => {
                let name = FuncName {
                    interface: None,
                    function: export.to_owned(),
                };
                (export_index, func_ty, name)
            }
            _ => return Err(unknown(Vec::new())),
        };
        Ok(WorkloadFunc {
            names: self.runtime.names.clone(),
            component: id,
            index,
            name,
            ty: func_ty,
        })
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
    /// ([`CompiledWorkload::is_concurrent`]) fails every call here: call it with
    /// [`CompiledWorkload::call_async`] or [`CompiledWorkload::call_concurrent`].
    pub fn call(
        &self,
        mut store: impl AsContextMut<Data = T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        let mut store = store.as_context_mut();
        let runtime = &self.runtime;
        self.check_call(func, params, results)?;
        let trap = |source: wasmtime::Error| self.host_trap(func, source);
        if runtime.concurrent {
            return Err(trap(wasmtime::format_err!(
                "workload `{}` has async functions: call it with `call_async` or `call_concurrent`",
                runtime.names.workload
            )));
        }
        ensure_instance(&mut store, runtime, func.component, "host", &func.name).map_err(|e| *e)?;
        let state = state(store.data_mut(), runtime.get, &runtime.names).map_err(|e| *e)?;
        check_poison(state, func.component, &func.name).map_err(|e| *e)?;
        let outer = state.current;
        let (instance, generation) =
            enter_instance(state, func.component, &func.name).map_err(|e| *e)?;
        let outcome = match instance.get_func(&mut store, func.index) {
            Some(f) => f.call(&mut store, params, results),
            None => Err(wasmtime::format_err!("the export is not a function")),
        };
        exit(
            store.data_mut(),
            runtime.get,
            (func.component, generation),
            outer,
            outcome.is_err().then_some(&func.name),
        );
        outcome.map_err(trap)
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

/// The one name among `names` that `wanted` names: the name itself, else the one
/// semver-compatible name, else the one interface whose short name it is
/// (`handler` for `acme:app/handler@0.1.0`). `Err` lists the names that matched when more
/// than one did (an ambiguity, never a silent pick), and is empty when none did.
fn find_name<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    wanted: &str,
) -> Result<usize, Vec<String>> {
    if let Some(i) = names.clone().position(|n| n == wanted) {
        return Ok(i);
    }
    let short = |name: &str| InterfaceName::parse(name).is_some_and(|n| n.interface == wanted);
    for matches in [
        &(|n: &str| names_match(wanted, n)) as &dyn Fn(&str) -> bool,
        &short,
    ] {
        let found: Vec<(usize, &str)> = names
            .clone()
            .enumerate()
            .filter(|(_, n)| matches(n))
            .collect();
        match found.as_slice() {
            [] => continue,
            [(i, _)] => return Ok(*i),
            several => return Err(several.iter().map(|(_, n)| n.to_string()).collect()),
        }
    }
    Err(Vec::new())
}

/// Why `wanted` names no single export of `owner`.
fn lookup_error<'a>(
    owner: &str,
    wanted: &str,
    matching: Vec<String>,
    names: impl Iterator<Item = &'a str>,
) -> LookupError {
    if matching.is_empty() {
        LookupError::UnknownExport {
            owner: owner.to_owned(),
            export: wanted.to_owned(),
            available: names.map(str::to_owned).collect(),
        }
    } else {
        LookupError::AmbiguousExport {
            owner: owner.to_owned(),
            export: wanted.to_owned(),
            matching,
        }
    }
}
