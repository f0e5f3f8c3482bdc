//! Linking a plan: [`WorkloadLinker`] takes the host's definitions, compiles the
//! components (and the clusters it fuses) and defines the trampolines, which gives a
//! [`CompiledWorkload`].

use crate::cluster::{self, LinkMode};
use crate::compile::CompileOptions;
use crate::compiled::{CompiledWorkload, Info};
use crate::error::{BuildError, LookupError, boxed};
use crate::link::{ComponentHost, Linking};
use crate::meter::Meter;
use crate::runtime::{Execution, GetState};
use compose_resolver::Plan;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker, LinkerInstance};

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
    compile: CompileOptions,
    execution: Execution,
    remote_timeout: Option<std::time::Duration>,
    meter: Option<Arc<dyn Meter>>,
}

impl<'p, T: 'static> WorkloadLinker<'p, T> {
    /// A linker for `plan` with an empty host linker. The engine must have the component
    /// model's `implements` option on: use [`config`](fn@crate::config) or
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
            compile: CompileOptions::default(),
            execution: Execution::default(),
            remote_timeout: None,
            meter: None,
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
    /// use typed calls rather than dynamic [`Val`](wasmtime::component::Val)s (on by
    /// default; results are the same).
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

    /// How the calls of a workload without async functions run (default
    /// [`Execution::Sync`]): on the caller's thread, or on fibers from an async runtime
    /// ([`Execution::Async`], for hosts that run many stores on a few threads). A workload
    /// with async functions always runs concurrently, whatever this says. Under
    /// [`Execution::Async`], host functions that wait must be async ones
    /// (`func_new_async`, `wasmtime_wasi::p2::add_to_linker_async`), and the workload is
    /// called with [`CompiledWorkload::call_async`] and
    /// [`CompiledWorkload::instantiate_async`].
    pub fn execution(&mut self, execution: Execution) -> &mut Self {
        self.execution = execution;
        self
    }

    /// Whether the workload will be called async: linked for [`Execution::Async`], or with
    /// async functions (which always run concurrently). Host definitions must then not
    /// block the calling thread (see [`WorkloadLinker::execution`]).
    pub fn is_async(&self) -> bool {
        self.execution == Execution::Async || self.plan.needs_concurrency()
    }

    /// How long one call to a remote (`[remotes]`) may take, connecting included (default
    /// `None`: no limit). Epoch deadlines ([`Deadlines`](crate::Deadlines)) do not reach
    /// a call waiting on the network, so a host with a per-call timeout passes it here
    /// too; a call past it fails with [`RemoteFailure::Deadline`](crate::RemoteFailure).
    pub fn remote_timeout(&mut self, timeout: Option<std::time::Duration>) -> &mut Self {
        self.remote_timeout = timeout;
        self
    }

    /// Tells `meter` of every call between components, every call of the host into the
    /// workload and every instantiation: how long each took and how it ended (default
    /// none). The observers are made when the workload is compiled (and when the host
    /// looks up a function), so a call costs two clock reads and its observer. A fused
    /// cluster's calls inside it cross no trampoline and are not told, as they have no
    /// span (docs/tracing.md).
    pub fn meter(&mut self, meter: Option<Arc<dyn Meter>>) -> &mut Self {
        self.meter = meter;
        self
    }

    /// How [`WorkloadLinker::compile`] compiles (default: everything, every time): through
    /// a [`CodeCache`](crate::CodeCache), telling an observer of each compilation.
    pub fn compile_options(&mut self, options: CompileOptions) -> &mut Self {
        self.compile = options;
        self
    }

    /// Compiles the workload: every distinct component file once (components that share a
    /// file share their compiled code), a linker per component with a trampoline for every
    /// function of every import bound to another component, and an
    /// [`InstancePre`](wasmtime::component::InstancePre) per component. `get` finds the
    /// workload's [`WorkloadState`](crate::WorkloadState) in a store's data. Under [`LinkMode::Clusters`] (the
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
        let own: HashSet<usize> = self.per_component.keys().copied().collect();
        let fusion = cluster::fuse(plan, self.mode, &own);
        let files = self.compile_files(&fusion)?;
        let units = cluster::units(&self.engine, &self.compile, plan, &fusion, files)?;
        let mut linking = Linking::new(
            plan,
            &self.engine,
            &units,
            get,
            self.fast_paths,
            self.execution,
        );
        linking.remote_timeout = self.remote_timeout;
        linking.meter = self.meter.clone();
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
                let component = (self.compile)
                    .compile(&self.engine, &planned.name, bytes)
                    .map_err(|e| BuildError::Compile {
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
