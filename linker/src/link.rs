//! Linking each workload component: a copy of the host's linker in which every import the
//! plan binds to another component is shadowed by trampolines (one per function), and the
//! resource types that cross components get one host type each.

use crate::cluster::{Renamed, Units, unit_export};
use crate::error::{BuildError, FuncName, boxed};
use crate::meter::Meter;
use crate::remote::{self, RemoteFunc};
use crate::resources::{drop_handle, drop_handle_async, func_holds_resources};
use crate::runtime::{Execution, GetState, Route, Runtime, RuntimeCell, RuntimeComponent};
use crate::state::Names;
use crate::trampoline::define_func;
use compose_resolver::wac_types::ItemKind;
use compose_resolver::{Binding, ComponentId, Instantiation, Plan, PlannedComponent, Provider};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use wasmtime::Engine;
use wasmtime::component::types::{
    ComponentExtern, ComponentFunc, ComponentInstance, ComponentItem,
};
use wasmtime::component::{
    Component, ComponentExportIndex, InstancePre, Linker, LinkerInstance, ResourceType,
};

/// Host definitions that one component is linked against (see
/// [`WorkloadLinker::component_host`](crate::WorkloadLinker::component_host)).
pub(crate) type ComponentHost<T> = Box<dyn Fn(&mut Linker<T>) -> wasmtime::Result<()>>;

/// What linking the components of one plan builds up.
pub(crate) struct Linking<'a, T: 'static> {
    plan: &'a Plan,
    engine: &'a Engine,
    /// The compiled component of each workload component (a fused member's: its cluster's).
    components: &'a [Component],
    /// A fused member's exports as named in its cluster's component.
    renamed: &'a [Option<Renamed>],
    get: GetState<T>,
    fast_paths: bool,
    /// Whether the plan has async functions: then every trampoline is a concurrent one
    /// (see `async_call`).
    concurrent: bool,
    /// How the trampolines of synchronous functions call (without async functions).
    execution: Execution,
    names: Arc<Names>,
    cell: RuntimeCell<T>,
    /// How many trampolines route to each server (its number of function slots).
    routes: Vec<usize>,
    /// The resources of each server that cross into other components: (export index,
    /// host resource type payload).
    crossing: Vec<Vec<(ComponentExportIndex, u32)>>,
    /// The host resource type payload of each (server, export, resource name).
    resource_ids: HashMap<(usize, String, String), u32>,
    /// How long a call to a remote may take ([`WorkloadLinker::remote_timeout`]).
    ///
    /// [`WorkloadLinker::remote_timeout`]: crate::WorkloadLinker::remote_timeout
    pub(crate) remote_timeout: Option<std::time::Duration>,
    /// Makes the observers of the calls and instantiations ([`WorkloadLinker::meter`]).
    ///
    /// [`WorkloadLinker::meter`]: crate::WorkloadLinker::meter
    pub(crate) meter: Option<Arc<dyn Meter>>,
}

/// Where one bound import goes: its names, for errors, and the serving component.
/// The names of the functions an import needs.
type Needed = HashSet<String>;

/// A binding to link: the importing component's index, its plan, the binding, the server
/// and the server's export.
type BindingAt<'b> = (
    usize,
    &'b PlannedComponent,
    &'b Binding,
    ComponentId,
    &'b str,
);

/// For each instance import that `members` of a fused cluster take from outside it, the
/// functions their own import types list (see [`Linking::stub_unneeded`]).
fn needed_functions(plan: &Plan, members: &[ComponentId]) -> HashMap<String, Needed> {
    let mut needed: HashMap<String, Needed> = HashMap::new();
    for &id in members {
        for binding in &plan.component(id).bindings {
            let inside = matches!(&binding.provider,
                Provider::Component { component, .. } if members.contains(component));
            let ItemKind::Instance(interface) = binding.import.kind else {
                continue;
            };
            if inside {
                continue;
            }
            let functions = (plan.types[interface].exports.iter())
                .filter(|(_, kind)| matches!(kind, ItemKind::Func(_)))
                .map(|(name, _)| name.clone());
            needed
                .entry(binding.import.name.clone())
                .or_default()
                .extend(functions);
        }
    }
    needed
}

struct Target<'b> {
    caller: usize,
    planned: &'b PlannedComponent,
    import: &'b str,
    server: usize,
    export: &'b str,
    export_index: ComponentExportIndex,
    /// For an import of a fused cluster: the functions its members import (the others
    /// are stubbed, see [`Linking::stub_unneeded`]); `None`: every function.
    needed: Option<&'b Needed>,
}

impl<'a, T: Send + 'static> Linking<'a, T> {
    pub(crate) fn new(
        plan: &'a Plan,
        engine: &'a Engine,
        units: &'a Units,
        get: GetState<T>,
        fast_paths: bool,
        execution: Execution,
    ) -> Self {
        let count = plan.components.len();
        Self {
            plan,
            engine,
            components: &units.components,
            renamed: &units.renamed,
            get,
            fast_paths,
            concurrent: plan.needs_concurrency(),
            execution,
            names: Arc::new(Names {
                workload: plan.name.clone(),
                components: plan.components.iter().map(|c| c.name.clone()).collect(),
                max_memory: plan.components.iter().map(|c| c.max_memory).collect(),
                mates: units.mates.clone(),
            }),
            cell: Arc::new(OnceLock::new()),
            routes: vec![0; count],
            crossing: vec![Vec::new(); count],
            resource_ids: HashMap::new(),
            remote_timeout: None,
            meter: None,
        }
    }

    fn link_error(&self, planned: &PlannedComponent, e: wasmtime::Error) -> BuildError {
        BuildError::Link {
            workload: self.plan.name.clone(),
            component: planned.name.clone(),
            source: boxed(e),
        }
    }

    fn missing(
        &self,
        planned: &PlannedComponent,
        import: &str,
        server: usize,
        what: &str,
    ) -> BuildError {
        BuildError::MissingExport {
            workload: self.plan.name.clone(),
            component: planned.name.clone(),
            import: import.to_owned(),
            server: self.names.components[server].clone(),
            export: what.to_owned(),
        }
    }

    /// Links one component: the host's definitions and the component's `own` ones,
    /// shadowed by a trampoline for every import the plan binds to another component;
    /// pre-instantiated.
    pub(crate) fn link_component(
        &mut self,
        host: &Linker<T>,
        own: &[ComponentHost<T>],
        caller: ComponentId,
        planned: &PlannedComponent,
    ) -> Result<InstancePre<T>, BuildError> {
        let mut linker = host.clone();
        linker.allow_shadowing(true);
        for define in own {
            define(&mut linker).map_err(|e| self.link_error(planned, e))?;
        }
        for (binding, server, export) in planned.component_bindings() {
            let target = (caller.index(), planned, binding, server, export);
            self.link_binding(&mut linker, target, None)?;
        }
        self.link_remotes(&mut linker, caller.index(), planned, &mut HashSet::new())?;
        linker
            .instantiate_pre(&self.components[caller.index()])
            .map_err(|e| self.link_error(planned, e))
    }

    /// Links a fused cluster: the host's definitions and its members' `own` ones, shadowed
    /// by a trampoline for every import its members take from components outside it (one
    /// per import name); pre-instantiated once for all its members.
    pub(crate) fn link_cluster(
        &mut self,
        host: &Linker<T>,
        own: &[&[ComponentHost<T>]],
        members: &[ComponentId],
    ) -> Result<InstancePre<T>, BuildError> {
        let first = self.plan.component(members[0]);
        let mut linker = host.clone();
        linker.allow_shadowing(true);
        for define in own.iter().flat_map(|defines| defines.iter()) {
            define(&mut linker).map_err(|e| self.link_error(first, e))?;
        }
        let needed = needed_functions(self.plan, members);
        let mut linked = HashSet::new();
        for &caller in members {
            let planned = self.plan.component(caller);
            for (binding, server, export) in planned.component_bindings() {
                let import = binding.import.name.as_str();
                if members.contains(&server) || !linked.insert(import) {
                    continue;
                }
                let wanted = needed.get(import);
                let target = (caller.index(), planned, binding, server, export);
                self.link_binding(&mut linker, target, wanted)?;
            }
        }
        let mut remote_imports = HashSet::new();
        for &caller in members {
            let planned = self.plan.component(caller);
            self.link_remotes(&mut linker, caller.index(), planned, &mut remote_imports)?;
        }
        let component = &self.components[members[0].index()];
        // Stubs only when needed: reopening an instance the host defined under a
        // semver-compatible name would shadow it.
        linker.instantiate_pre(component).or_else(|error| {
            self.stub_unneeded(&mut linker, component, &needed)
                .and_then(|()| linker.instantiate_pre(component))
                .map_err(|_| self.link_error(first, error))
        })
    }

    /// Defines a trapping stand-in for each function of a fused cluster's instance imports
    /// that none of its members imports. wac gives every import of one interface in a
    /// composition the merged type of all of them (its type aggregator merges interfaces
    /// by name), so the composition's `team-c-postgres` can list functions that only the
    /// member importing `team-a-postgres` uses, and that neither the host nor the server
    /// need provide; no member calls them. Async functions are left alone (a synchronous
    /// stand-in cannot satisfy them).
    fn stub_unneeded(
        &self,
        linker: &mut Linker<T>,
        component: &Component,
        needed: &HashMap<String, Needed>,
    ) -> wasmtime::Result<()> {
        for (import, item) in component.component_type().imports(self.engine) {
            let (Some(needed), ComponentItem::ComponentInstance(ty)) =
                (needed.get(import), item.ty)
            else {
                continue;
            };
            let unneeded: Vec<&str> = (ty.exports(self.engine))
                .filter(|(name, item)| match &item.ty {
                    ComponentItem::ComponentFunc(func) => !needed.contains(*name) && !func.async_(),
                    _ => false,
                })
                .map(|(name, _)| name)
                .collect();
            if unneeded.is_empty() {
                continue;
            }
            let mut instance = linker.instance(import)?;
            for name in unneeded {
                let what = format!("{import}#{name}");
                instance.func_new(name, move |_, _, _, _| {
                    wasmtime::bail!("`{what}` is imported by no component of the cluster")
                })?;
            }
        }
        Ok(())
    }

    fn link_binding(
        &mut self,
        linker: &mut Linker<T>,
        (caller, planned, binding, server, export): BindingAt<'_>,
        needed: Option<&Needed>,
    ) -> Result<(), BuildError> {
        let import = binding.import.name.as_str();
        let unit_name = unit_export(self.renamed[server.index()].as_ref(), export);
        let export_index = self.components[server.index()]
            .get_export_index(None, unit_name)
            .ok_or_else(|| self.missing(planned, import, server.index(), export))?;
        let target = Target {
            caller,
            planned,
            import,
            server: server.index(),
            export,
            export_index,
            needed,
        };
        let component_type = self.components[caller].component_type();
        let Some(item) = component_type.get_import(self.engine, import) else {
            let e = wasmtime::format_err!("the component has no import `{import}`");
            return Err(self.link_error(planned, e));
        };
        match item.ty {
            ComponentItem::ComponentInstance(ty) => {
                let mut instance = linker
                    .instance(import)
                    .map_err(|e| self.link_error(planned, e))?;
                self.link_instance(&mut instance, &target, &ty)
            }
            ComponentItem::ComponentFunc(ty) => {
                let function = FuncName {
                    interface: None,
                    function: export.to_owned(),
                };
                let route = self.route(&target, function, target.export_index, Vec::new(), &ty);
                self.define(&mut linker.root(), import, &ty, route)
                    .map_err(|e| self.link_error(planned, e))
            }
            other => Err(BuildError::Unsupported {
                workload: self.plan.name.clone(),
                component: planned.name.clone(),
                import: import.to_owned(),
                server: self.names.components[target.server].clone(),
                reason: format!("it is {}", item_desc(&other)),
            }),
        }
    }

    /// Defines every function of each import of `planned` that the plan binds to a
    /// remote (once per import name in `linked`) as a wRPC call (see `remote`).
    fn link_remotes(
        &self,
        linker: &mut Linker<T>,
        caller: usize,
        planned: &PlannedComponent,
        linked: &mut HashSet<String>,
    ) -> Result<(), BuildError> {
        for binding in &planned.bindings {
            let Provider::Remote { remote, export } = &binding.provider else {
                continue;
            };
            let import = binding.import.name.as_str();
            if !linked.insert(import.to_owned()) {
                continue;
            }
            let remote = self.plan.remote(*remote);
            let func = |instance: &str, func: &str| RemoteFunc {
                workload: self.plan.name.clone(),
                remote: remote.name.clone(),
                url: remote.url.clone(),
                instance: instance.to_owned(),
                func: func.to_owned(),
                timeout: self.remote_timeout,
            };
            let component_type = self.components[caller].component_type();
            let defined = match component_type.get_import(self.engine, import).map(|i| i.ty) {
                Some(ComponentItem::ComponentInstance(ty)) => {
                    linker.instance(import).and_then(|mut instance| {
                        for (name, item) in ty.exports(self.engine) {
                            if let ComponentItem::ComponentFunc(ty) = item.ty {
                                let f = func(export, name);
                                let waits = self.remote_wait(&ty);
                                remote::define(&mut instance, name, f, waits)?;
                            }
                        }
                        Ok(())
                    })
                }
                Some(ComponentItem::ComponentFunc(ty)) => {
                    let waits = self.remote_wait(&ty);
                    remote::define(&mut linker.root(), import, func("", export), waits)
                }
                _ => Err(wasmtime::format_err!(
                    "import `{import}`, bound to remote `{}`, is not an instance or a function",
                    remote.name
                )),
            };
            defined.map_err(|e| self.link_error(planned, e))?;
        }
        Ok(())
    }

    /// How the caller of remote function `ty` waits for its invocation.
    fn remote_wait(&self, ty: &wasmtime::component::types::ComponentFunc) -> remote::Wait {
        if ty.async_() {
            remote::Wait::Task
        } else if self.concurrent || self.execution == Execution::Async {
            remote::Wait::Fiber
        } else {
            remote::Wait::Thread
        }
    }

    /// An imported instance: its resources, then a trampoline per function.
    fn link_instance(
        &mut self,
        instance: &mut LinkerInstance<'_, T>,
        target: &Target<'_>,
        ty: &ComponentInstance,
    ) -> Result<(), BuildError> {
        let exports: Vec<_> = ty.exports(self.engine).collect();
        let resources = self.link_resources(instance, target, &exports)?;
        for (name, item) in &exports {
            let ComponentItem::ComponentFunc(ty) = &item.ty else {
                continue;
            };
            if target.needed.is_some_and(|needed| !needed.contains(*name)) {
                continue;
            }
            let index = self.export_index(target, name)?;
            let function = FuncName {
                interface: Some(target.export.to_owned()),
                function: (*name).to_owned(),
            };
            let crossing = if func_holds_resources(ty) {
                resources.clone()
            } else {
                Vec::new()
            };
            let route = self.route(target, function, index, crossing, ty);
            self.define(instance, name, ty, route)
                .map_err(|e| self.link_error(target.planned, e))?;
        }
        Ok(())
    }

    /// Defines one trampoline: a concurrent one in a workload with async functions.
    fn define(
        &self,
        instance: &mut LinkerInstance<'_, T>,
        name: &str,
        ty: &ComponentFunc,
        route: Route<T>,
    ) -> wasmtime::Result<()> {
        if self.concurrent {
            crate::async_call::define(instance, name, ty, route)
        } else {
            define_func(instance, name, ty, route, self.fast_paths, self.execution)
        }
    }

    fn export_index(
        &self,
        target: &Target<'_>,
        name: &str,
    ) -> Result<ComponentExportIndex, BuildError> {
        self.components[target.server]
            .get_export_index(Some(&target.export_index), name)
            .ok_or_else(|| {
                let what = format!("{}#{name}", target.export);
                self.missing(target.planned, target.import, target.server, &what)
            })
    }

    /// One host resource type per resource of the serving instance, shared by every
    /// component that imports it; dropping a handle runs the owner's destructor.
    fn link_resources(
        &mut self,
        instance: &mut LinkerInstance<'_, T>,
        target: &Target<'_>,
        exports: &[(&str, ComponentExtern<'_>)],
    ) -> Result<Vec<(u32, String)>, BuildError> {
        let mut resources = Vec::new();
        for (name, item) in exports {
            if !matches!(item.ty, ComponentItem::Resource(_)) {
                continue;
            }
            let index = self.export_index(target, name)?;
            let key = (target.server, target.export.to_owned(), (*name).to_owned());
            let crossing = &mut self.crossing[target.server];
            let id = *self.resource_ids.entry(key).or_insert_with(|| {
                let id = next_resource_id();
                crossing.push((index, id));
                id
            });
            self.define_resource(instance, name, id)
                .map_err(|e| self.link_error(target.planned, e))?;
            resources.push((id, (*name).to_owned()));
        }
        Ok(resources)
    }

    /// Defines resource `name` as host resource type `id`, whose destructor drops the
    /// server's handle (on a fiber under [`Execution::Async`]).
    fn define_resource(
        &self,
        instance: &mut LinkerInstance<'_, T>,
        name: &str,
        id: u32,
    ) -> wasmtime::Result<()> {
        let (names, resource, get) = (self.names.clone(), name.to_owned(), self.get);
        let ty = ResourceType::host_dynamic(id);
        if self.execution == Execution::Async && !self.concurrent {
            return instance.resource_async(name, ty, move |mut store, rep| {
                let (names, resource) = (names.clone(), resource.clone());
                Box::new(
                    async move { drop_handle_async(&mut store, get, &names, &resource, rep).await },
                )
            });
        }
        instance.resource(name, ty, move |mut store, rep| {
            drop_handle(&mut store, get, &names, &resource, rep)
        })
    }

    fn route(
        &mut self,
        target: &Target<'_>,
        func: FuncName,
        export: ComponentExportIndex,
        resources: Vec<(u32, String)>,
        ty: &ComponentFunc,
    ) -> Route<T> {
        let meter = (self.meter.as_ref()).map(|meter| {
            meter.calls(
                &self.names.components[target.server],
                func.interface.as_deref(),
            )
        });
        let slot = &mut self.routes[target.server];
        let route = Route {
            names: self.names.clone(),
            caller: target.caller,
            server: target.server,
            slot: *slot,
            export,
            label: (target.import != target.export).then(|| target.import.into()),
            func,
            resources,
            has_resources: func_holds_resources(ty),
            runtime: self.cell.clone(),
            get: self.get,
            meter,
        };
        *slot += 1;
        route
    }

    /// The runtime of the linked components, which the trampolines reach weakly.
    pub(crate) fn finish(self, pres: Vec<InstancePre<T>>) -> Arc<Runtime<T>> {
        let components = pres
            .into_iter()
            .zip(self.crossing)
            .zip(&self.plan.components)
            .zip(self.routes)
            .zip(self.renamed)
            .map(
                |((((pre, resources), planned), routes), renamed)| RuntimeComponent {
                    pre,
                    eager: planned.instantiate == Instantiation::Eager,
                    routes,
                    resources,
                    renamed: renamed.clone(),
                    meter: (self.meter.as_ref()).map(|meter| meter.instantiations(&planned.name)),
                },
            )
            .collect();
        let runtime = Arc::new(Runtime {
            names: self.names,
            components,
            get: self.get,
            concurrent: self.concurrent,
            execution: self.execution,
            meter: self.meter,
        });
        // The cell is new and set only here.
        let _ = self.cell.set(Arc::downgrade(&runtime));
        runtime
    }
}

fn item_desc(item: &ComponentItem) -> &'static str {
    match item {
        ComponentItem::ComponentFunc(_) => "a function",
        ComponentItem::CoreFunc(_) => "a core function",
        ComponentItem::Module(_) => "a module",
        ComponentItem::Component(_) => "a component",
        ComponentItem::ComponentInstance(_) => "an instance",
        ComponentItem::Type(_) => "a type",
        ComponentItem::Resource(_) => "a resource",
    }
}

/// A fresh payload for a host resource type standing for a component's resource type.
fn next_resource_id() -> u32 {
    // Start far from small numbers that hosts may use for their own dynamic resources.
    static NEXT: AtomicU32 = AtomicU32::new(0x434f_0000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
