//! Resolution: from a [`Workload`] to a [`Plan`], applying the matching rules of the README
//! to every import of every component and collecting every problem in one pass.

use crate::component::{ComponentType, Item};
use crate::diagnostic::{Diagnostic, Problem, ResolveError, Severity, Span};
use crate::names::{HostPattern, NameIndex, names_match};
use crate::plan::{
    Binding, ComponentId, PartialPlan, Plan, PlannedComponent, Provider, Rule, Unbound, Unreadable,
    WorkloadExport,
};
use crate::workload::{BindingTarget, ComponentDecl, ComponentSource, ExplicitBinding, Workload};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use wac_types::{ItemKind, SubtypeChecker, Types};

/// Resolves `workload`: binds every import of every component, type-checks each binding,
/// checks that the components form a DAG and works out the workload's exports.
///
/// Component files are read relative to [`Workload::base_dir`]; a file used by several
/// components is read and parsed once.
///
/// # Errors
/// A [`ResolveError`] with every problem found (and the warnings found with them) when any
/// is an error: unreadable or invalid components, unknown names in explicit bindings,
/// missing or mismatched backends, ambiguous or unsatisfied imports, type mismatches,
/// cycles and export clashes ([`Problem`] lists them all).
pub fn resolve(workload: &Workload) -> Result<Plan, ResolveError> {
    let mut resolver = Resolver::new(workload);
    resolver.check_host();
    resolver.load_components();
    resolver.index_exports();
    let bindings = resolver.bind_all();
    let order = resolver.order(&bindings);
    let exports = resolver.exports(&bindings);
    resolver.warn_unused(&bindings, &exports);
    resolver.finish(bindings, order, exports)
}

/// Resolves the workload file at `path`: [`Workload::from_file`], then [`resolve`].
///
/// # Errors
/// As [`Workload::from_file`] and [`resolve`].
pub fn resolve_file(path: impl AsRef<std::path::Path>) -> Result<Plan, ResolveError> {
    resolve(&Workload::from_file(path)?)
}

struct Resolver<'w> {
    workload: &'w Workload,
    names: Vec<&'w str>,
    by_name: HashMap<&'w str, ComponentId>,
    types: Types,
    /// The loaded type of each component; `None` where loading failed (already reported).
    loaded: Vec<Option<Arc<ComponentType>>>,
    paths: Vec<Option<PathBuf>>,
    host_patterns: Vec<HostPattern>,
    /// Every component export by name: (component, index into its exports).
    exports: NameIndex<(ComponentId, usize)>,
    checked: HashSet<(ItemKind, ItemKind)>,
    diagnostics: Vec<Diagnostic>,
    /// For each component that could not be loaded, the index of its diagnostic.
    load_failures: HashMap<ComponentId, usize>,
    /// The imports left unbound: (component, import index, index of the diagnostic why).
    unbound: Vec<(ComponentId, usize, Option<usize>)>,
    /// Why the last binding attempt failed without a diagnostic of its own: the load
    /// failure of the component it needed.
    cause: Option<usize>,
}

impl<'w> Resolver<'w> {
    fn new(workload: &'w Workload) -> Self {
        let names: Vec<&str> = workload.components.keys().map(String::as_str).collect();
        let by_name = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, ComponentId(i)))
            .collect();
        Self {
            workload,
            names,
            by_name,
            types: Types::default(),
            loaded: Vec::new(),
            paths: Vec::new(),
            host_patterns: Vec::new(),
            exports: NameIndex::default(),
            checked: HashSet::new(),
            diagnostics: Vec::new(),
            load_failures: HashMap::new(),
            unbound: Vec::new(),
            cause: None,
        }
    }

    fn report(&mut self, problem: Problem, span: Option<Span>, label: &str) {
        let diagnostic = self.workload.diagnostic(problem, span).with_label(label);
        self.diagnostics.push(diagnostic);
    }

    fn decl(&self, id: ComponentId) -> &'w ComponentDecl {
        &self.workload.components[id.0]
    }

    fn check_host(&mut self) {
        for pattern in &self.workload.host.interfaces {
            match HostPattern::parse(&pattern.value) {
                Some(p) => self.host_patterns.push(p),
                None => self.report(
                    Problem::InvalidHostInterface {
                        pattern: pattern.value.clone(),
                    },
                    pattern.span.clone(),
                    "not an interface name or pattern",
                ),
            }
        }
        for (label, backend) in &self.workload.host.backends {
            if self.by_name.contains_key(label.as_str()) {
                self.report(
                    Problem::DuplicateBackend {
                        label: label.clone(),
                    },
                    backend.label_span.clone(),
                    "also a component",
                );
            }
            if HostPattern::parse(&backend.interface.value)
                .is_none_or(|p| !matches!(p, HostPattern::Exact(_)))
            {
                self.report(
                    Problem::InvalidHostInterface {
                        pattern: backend.interface.value.clone(),
                    },
                    backend.interface.span.clone(),
                    "not an interface name",
                );
            }
        }
    }

    fn load_components(&mut self) {
        let mut by_file: HashMap<PathBuf, Arc<ComponentType>> = HashMap::new();
        for (name, decl) in &self.workload.components {
            let (path, bytes) = match &decl.source.value {
                ComponentSource::Bytes { bytes, .. } => (None, Ok(bytes.clone())),
                ComponentSource::Path(path) => {
                    let full = self.workload.base_dir.join(path);
                    let key = full.canonicalize().unwrap_or_else(|_| full.clone());
                    if let Some(ty) = by_file.get(&key) {
                        self.loaded.push(Some(ty.clone()));
                        self.paths.push(Some(full));
                        continue;
                    }
                    let bytes = std::fs::read(&full).map(Arc::<[u8]>::from).map_err(|e| {
                        Problem::ReadComponent {
                            component: name.clone(),
                            path: full.clone(),
                            reason: e.to_string(),
                        }
                    });
                    (Some((full, key)), bytes)
                }
            };
            let loaded = bytes.and_then(|bytes| {
                ComponentType::read(bytes, &mut self.types).map_err(|reason| {
                    Problem::NotAComponent {
                        component: name.clone(),
                        reason,
                    }
                })
            });
            match loaded {
                Ok(ty) => {
                    let ty = Arc::new(ty);
                    if let Some((_, key)) = &path {
                        by_file.insert(key.clone(), ty.clone());
                    }
                    self.loaded.push(Some(ty));
                }
                Err(problem) => {
                    let id = ComponentId(self.loaded.len());
                    self.load_failures.insert(id, self.diagnostics.len());
                    self.report(problem, decl.source.span.clone(), "this component");
                    self.loaded.push(None);
                }
            }
            self.paths.push(path.map(|(full, _)| full));
        }
    }

    fn index_exports(&mut self) {
        for (i, ty) in self.loaded.iter().enumerate() {
            for (e, export) in ty.iter().flat_map(|t| t.exports.iter().enumerate()) {
                self.exports.insert(&export.name, (ComponentId(i), e));
            }
        }
    }

    /// The type of component `id`; `None`, remembering its load failure as the cause, when
    /// it could not be loaded.
    fn needed(&mut self, id: ComponentId) -> Option<Arc<ComponentType>> {
        let ty = self.loaded[id.0].clone();
        if ty.is_none() {
            self.cause = self.load_failures.get(&id).copied();
        }
        ty
    }

    fn export_item(&self, id: ComponentId, index: usize) -> &Item {
        &self.loaded[id.0]
            .as_ref()
            .expect("indexed exports are loaded")
            .exports[index]
    }

    /// Binds every import of every loaded component; `None` where an import is not bound.
    fn bind_all(&mut self) -> Vec<Vec<Option<Binding>>> {
        (0..self.loaded.len())
            .map(|i| {
                let id = ComponentId(i);
                let Some(ty) = self.loaded[i].clone() else {
                    return Vec::new();
                };
                self.check_explicit_keys(id, &ty);
                ty.imports
                    .iter()
                    .enumerate()
                    .map(|(index, import)| {
                        let before = self.diagnostics.len();
                        let binding = self.bind(id, import);
                        let cause = self.cause.take();
                        if binding.is_none() {
                            let why = (self.diagnostics.len() > before)
                                .then_some(before)
                                .or(cause);
                            self.unbound.push((id, index, why));
                        }
                        binding
                    })
                    .collect()
            })
            .collect()
    }

    /// Every explicit binding must name an import of the component.
    fn check_explicit_keys(&mut self, id: ComponentId, ty: &ComponentType) {
        for (key, binding) in &self.decl(id).imports {
            if !ty.imports.iter().any(|i| names_match(key, &i.name)) {
                self.report(
                    Problem::UnknownImport {
                        component: self.names[id.0].to_owned(),
                        import: key.clone(),
                        available: ty.imports.iter().map(Item::describe).collect(),
                    },
                    binding.import_span.clone(),
                    "no such import",
                );
            }
        }
    }

    fn bind(&mut self, id: ComponentId, import: &Item) -> Option<Binding> {
        let decl = self.decl(id);
        let explicit = decl.imports.get(&import.name).or_else(|| {
            decl.imports
                .iter()
                .find(|(k, _)| names_match(k, &import.name))
                .map(|(_, b)| b)
        });
        let (provider, rule, span) = match explicit {
            Some(binding) => (
                self.bind_explicit(id, import, binding)?,
                Rule::Explicit,
                binding.target.span.clone(),
            ),
            None => {
                let (provider, rule) = match &import.implements {
                    Some(interface) => (self.bind_label(id, import, interface)?, Rule::Label),
                    None => self.bind_by_name(id, import)?,
                };
                (provider, rule, decl.name_span.clone())
            }
        };
        if let Provider::Component { component, export } = &provider {
            self.type_check(id, import, *component, export, span)?;
        }
        Some(Binding {
            import: import.clone(),
            provider,
            rule,
        })
    }

    /// Rule 1: an explicit binding.
    fn bind_explicit(
        &mut self,
        id: ComponentId,
        import: &Item,
        binding: &ExplicitBinding,
    ) -> Option<Provider> {
        let span = binding.target.span.clone();
        let (target, export) = match &binding.target.value {
            BindingTarget::Host => return Some(self.host_provider(import)),
            BindingTarget::Component { component, export } => (component, export),
        };
        let purpose = format!("import `{}` of `{}`", import.name, self.names[id.0]);
        let target_id = self.component_named(target, &purpose, span.clone())?;
        let ty = self.needed(target_id)?;
        let found = match export {
            Some(export) => ty
                .exports
                .iter()
                .find(|e| e.name == *export)
                .or_else(|| ty.exports.iter().find(|e| names_match(export, &e.name))),
            None => ty
                .exports
                .iter()
                .find(|e| names_match(&import.name, &e.name))
                .or_else(|| {
                    let interface = import.interface()?;
                    ty.exports
                        .iter()
                        .find(|e| e.interface().is_some_and(|i| names_match(interface, i)))
                }),
        };
        match found {
            Some(e) => Some(Provider::Component {
                component: target_id,
                export: e.name.clone(),
            }),
            None => {
                let wanted = match export {
                    Some(export) => format!("`{export}`"),
                    None => match import.interface() {
                        Some(i) if i != import.name => {
                            format!("`{}` or an instance of `{i}`", import.name)
                        }
                        _ => format!("`{}`", import.name),
                    },
                };
                self.report(
                    Problem::UnknownExport {
                        target: target.clone(),
                        wanted,
                        purpose,
                        available: ty.exports.iter().map(Item::describe).collect(),
                    },
                    span,
                    "no such export",
                );
                None
            }
        }
    }

    /// What `"host"` means for `import`: the host backend of its label, or a host interface.
    fn host_provider(&self, import: &Item) -> Provider {
        match &import.implements {
            Some(interface) => Provider::HostBackend {
                label: import.name.clone(),
                interface: self
                    .workload
                    .host
                    .backends
                    .get(&import.name)
                    .map_or_else(|| interface.clone(), |b| b.interface.value.clone()),
            },
            None => Provider::HostInterface,
        }
    }

    /// The component named `name`, reporting [`Problem::UnknownComponent`] if there is none.
    fn component_named(
        &mut self,
        name: &str,
        purpose: &str,
        span: Option<Span>,
    ) -> Option<ComponentId> {
        let found = self.by_name.get(name).copied();
        if found.is_none() {
            self.report(
                Problem::UnknownComponent {
                    purpose: purpose.to_owned(),
                    target: name.to_owned(),
                    known: self.names.iter().map(|n| n.to_string()).collect(),
                },
                span,
                "not a component",
            );
        }
        found
    }

    /// Rule 2: an `implements` label names its backend, a component or a host backend.
    fn bind_label(&mut self, id: ComponentId, import: &Item, interface: &str) -> Option<Provider> {
        let label = import.name.as_str();
        let component = self.names[id.0].to_owned();
        let span = self.decl(id).name_span.clone();
        if let Some(&backend) = self.by_name.get(label) {
            let ty = self.needed(backend)?;
            let export = ty.exports.iter().find(|e| {
                names_match(interface, &e.name)
                    || (e.name == label
                        && e.implements
                            .as_deref()
                            .is_some_and(|i| names_match(interface, i)))
            });
            if let Some(export) = export {
                return Some(Provider::Component {
                    component: backend,
                    export: export.name.clone(),
                });
            }
            let exports: Vec<String> = ty.exports.iter().map(Item::describe).collect();
            let serves = if exports.is_empty() {
                "exports nothing".to_owned()
            } else {
                format!("exports only {}", exports.join(", "))
            };
            self.report(
                Problem::BackendMismatch {
                    component,
                    label: label.to_owned(),
                    interface: interface.to_owned(),
                    backend: "component",
                    serves,
                },
                span,
                "imports it here",
            );
            return None;
        }
        if let Some(backend) = self.workload.host.backends.get(label) {
            if names_match(interface, &backend.interface.value) {
                return Some(Provider::HostBackend {
                    label: label.to_owned(),
                    interface: backend.interface.value.clone(),
                });
            }
            self.report(
                Problem::BackendMismatch {
                    component,
                    label: label.to_owned(),
                    interface: interface.to_owned(),
                    backend: "host backend",
                    serves: format!("implements `{}`", backend.interface.value),
                },
                backend.interface.span.clone(),
                "declared here",
            );
            return None;
        }
        self.report(
            Problem::MissingBackend {
                component,
                label: label.to_owned(),
                interface: interface.to_owned(),
            },
            span,
            "imports it here",
        );
        None
    }

    /// Rule 3: the unique other component exporting the import's name, else the host.
    fn bind_by_name(&mut self, id: ComponentId, import: &Item) -> Option<(Provider, Rule)> {
        let mut candidates: Vec<(ComponentId, usize)> = self
            .exports
            .matching(&import.name)
            .map(|(_, found)| *found)
            .filter(|(c, _)| *c != id)
            .collect();
        // One component may export several compatible versions of a name (exports are
        // indexed component by component, so they are adjacent): it is one candidate.
        candidates.dedup_by_key(|(c, _)| *c);
        match candidates.as_slice() {
            [(component, export)] => Some((
                Provider::Component {
                    component: *component,
                    export: self.export_item(*component, *export).name.clone(),
                },
                Rule::Name,
            )),
            [] if self.host_patterns.iter().any(|p| p.matches(&import.name)) => {
                Some((Provider::HostInterface, Rule::Host))
            }
            [] => {
                self.report(
                    Problem::Unsatisfied {
                        component: self.names[id.0].to_owned(),
                        import: import.name.clone(),
                    },
                    self.decl(id).name_span.clone(),
                    "imports it here",
                );
                None
            }
            several => {
                let candidates = several
                    .iter()
                    .map(|(c, _)| self.names[c.0].to_owned())
                    .collect();
                self.report(
                    Problem::Ambiguous {
                        component: self.names[id.0].to_owned(),
                        import: import.name.clone(),
                        candidates,
                    },
                    self.decl(id).name_span.clone(),
                    "imports it here",
                );
                None
            }
        }
    }

    /// Rule 4: the export must be a subtype of what the import expects (wac-types).
    fn type_check(
        &mut self,
        id: ComponentId,
        import: &Item,
        server: ComponentId,
        export: &str,
        span: Option<Span>,
    ) -> Option<()> {
        let ty = self.loaded[server.0].clone()?;
        let export = ty.exports.iter().find(|e| e.name == export)?;
        let result = SubtypeChecker::new(&mut self.checked).is_subtype(
            export.kind,
            &self.types,
            import.kind,
            &self.types,
        );
        match result {
            Ok(()) => Some(()),
            Err(e) => {
                self.report(
                    Problem::TypeMismatch {
                        component: self.names[id.0].to_owned(),
                        import: import.name.clone(),
                        provider: format!("export `{}` of `{}`", export.name, self.names[server.0]),
                        detail: crate::wit_text::first_difference(
                            &self.types,
                            export.kind,
                            import.kind,
                        )
                        .unwrap_or_else(|| format!("{e:#}")),
                    },
                    span,
                    "bound here",
                );
                None
            }
        }
    }

    /// Rule 5: the components must form a DAG. Returns them in topological order
    /// (servers before importers), or reports each cycle.
    fn order(&mut self, bindings: &[Vec<Option<Binding>>]) -> Vec<ComponentId> {
        let mut graph: DiGraph<ComponentId, ()> = DiGraph::with_capacity(self.names.len(), 0);
        for i in 0..self.names.len() {
            graph.add_node(ComponentId(i));
        }
        for (importer, servers) in bindings.iter().enumerate() {
            let mut seen = HashSet::new();
            for binding in servers.iter().flatten() {
                if let Provider::Component { component, .. } = binding.provider
                    && seen.insert(component)
                {
                    graph.add_edge(NodeIndex::new(component.0), NodeIndex::new(importer), ());
                }
            }
        }
        match petgraph::algo::toposort(&graph, None) {
            Ok(order) => order.into_iter().map(|n| graph[n]).collect(),
            Err(_) => {
                let mut sccs = petgraph::algo::tarjan_scc(&graph);
                sccs.iter_mut().for_each(|scc| scc.sort());
                sccs.sort();
                for scc in sccs {
                    let start = scc[0];
                    if scc.len() == 1 && graph.find_edge(start, start).is_none() {
                        continue;
                    }
                    let cycle = cycle_through(&graph, start, &scc);
                    let names = cycle
                        .iter()
                        .map(|n| self.names[n.index()].to_owned())
                        .collect();
                    self.report(
                        Problem::Cycle { cycle: names },
                        self.workload.component_span(self.names[start.index()]),
                        "part of the cycle",
                    );
                }
                Vec::new()
            }
        }
    }

    /// Rule 6: the workload's exports, from `[exports]` or from the components nothing imports from.
    fn exports(&mut self, bindings: &[Vec<Option<Binding>>]) -> Vec<WorkloadExport> {
        let Some(declared) = &self.workload.exports else {
            return self.implicit_exports(bindings);
        };
        let mut out = Vec::new();
        for (name, decl) in declared {
            let purpose = format!("workload export `{name}`");
            let Some(component) =
                self.component_named(&decl.value.component, &purpose, decl.span.clone())
            else {
                continue;
            };
            let Some(ty) = self.loaded[component.0].clone() else {
                continue;
            };
            let wanted = decl.value.export.as_deref().unwrap_or(name);
            let found = ty
                .exports
                .iter()
                .find(|e| e.name == wanted)
                .or_else(|| ty.exports.iter().find(|e| names_match(wanted, &e.name)));
            match found {
                Some(export) => out.push(WorkloadExport {
                    name: name.clone(),
                    component,
                    export: export.clone(),
                }),
                None => self.report(
                    Problem::UnknownExport {
                        target: decl.value.component.clone(),
                        wanted: format!("`{wanted}`"),
                        purpose,
                        available: ty.exports.iter().map(Item::describe).collect(),
                    },
                    decl.span.clone(),
                    "no such export",
                ),
            }
        }
        out
    }

    fn implicit_exports(&mut self, bindings: &[Vec<Option<Binding>>]) -> Vec<WorkloadExport> {
        let used = servers(bindings);
        let mut out: Vec<WorkloadExport> = Vec::new();
        let mut by_name: HashMap<String, ComponentId> = HashMap::new();
        for (i, ty) in self.loaded.iter().enumerate() {
            let id = ComponentId(i);
            let Some(ty) = ty.as_ref().filter(|_| !used.contains(&id)) else {
                continue;
            };
            for export in &ty.exports {
                if let Some(first) = by_name.insert(export.name.clone(), id) {
                    let problem = Problem::ExportClash {
                        export: export.name.clone(),
                        first: self.names[first.0].to_owned(),
                        second: self.names[i].to_owned(),
                    };
                    let diagnostic = self
                        .workload
                        .diagnostic(problem, self.decl(id).name_span.clone())
                        .with_label("exports it too");
                    self.diagnostics.push(diagnostic);
                    continue;
                }
                out.push(WorkloadExport {
                    name: export.name.clone(),
                    component: id,
                    export: export.clone(),
                });
            }
        }
        out
    }

    /// Rule 7: a component nothing uses and that contributes no workload export.
    fn warn_unused(&mut self, bindings: &[Vec<Option<Binding>>], exports: &[WorkloadExport]) {
        let mut used = servers(bindings);
        used.extend(exports.iter().map(|e| e.component));
        for i in 0..self.names.len() {
            if self.loaded[i].is_some() && !used.contains(&ComponentId(i)) {
                self.report(
                    Problem::UnusedComponent {
                        component: self.names[i].to_owned(),
                    },
                    self.decl(ComponentId(i)).name_span.clone(),
                    "not used",
                );
            }
        }
    }

    /// The plan, or every diagnostic with the partial plan of what did resolve.
    fn finish(
        self,
        bindings: Vec<Vec<Option<Binding>>>,
        order: Vec<ComponentId>,
        exports: Vec<WorkloadExport>,
    ) -> Result<Plan, ResolveError> {
        // Components that could not be loaded are left out; the others are renumbered
        // (without errors nothing is left out and the numbering stays as it is).
        let mut renumbered = Vec::with_capacity(self.loaded.len());
        let mut next = 0;
        for ty in &self.loaded {
            renumbered.push(ty.as_ref().map(|_| {
                next += 1;
                ComponentId(next - 1)
            }));
        }
        let new_id = |id: ComponentId| {
            renumbered[id.0].expect("bindings and exports name loaded components")
        };
        let components = self
            .workload
            .components
            .iter()
            .zip(self.loaded)
            .zip(self.paths)
            .zip(bindings)
            .filter_map(|((((name, decl), ty), path), bindings)| {
                Some(PlannedComponent {
                    name: name.clone(),
                    path,
                    ty: ty?,
                    instantiate: decl.instantiate,
                    max_memory: decl.max_memory,
                    bindings: bindings
                        .into_iter()
                        .flatten()
                        .map(|mut binding| {
                            if let Provider::Component { component, .. } = &mut binding.provider {
                                *component = new_id(*component);
                            }
                            binding
                        })
                        .collect(),
                })
            })
            .collect();
        let plan = Plan {
            name: self.workload.name.value.clone(),
            types: self.types,
            components,
            order: order
                .into_iter()
                .filter_map(|id| renumbered[id.0])
                .collect(),
            exports: exports
                .into_iter()
                .map(|export| WorkloadExport {
                    component: new_id(export.component),
                    ..export
                })
                .collect(),
            warnings: Vec::new(),
        };
        if !self
            .diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
        {
            return Ok(Plan {
                warnings: self.diagnostics,
                ..plan
            });
        }
        let unbound = self
            .unbound
            .into_iter()
            .map(|(id, index, diagnostic)| {
                let component = new_id(id);
                Unbound {
                    component,
                    import: plan.component(component).ty.imports[index].clone(),
                    diagnostic,
                }
            })
            .collect();
        let mut unreadable: Vec<Unreadable> = self
            .load_failures
            .into_iter()
            .map(|(id, diagnostic)| Unreadable {
                name: self.names[id.0].to_owned(),
                diagnostic,
            })
            .collect();
        unreadable.sort_by_key(|u| u.diagnostic);
        Err(ResolveError {
            diagnostics: self.diagnostics,
            partial: Some(Box::new(PartialPlan {
                plan,
                unbound,
                unreadable,
            })),
        })
    }
}

/// The components that serve at least one binding.
fn servers(bindings: &[Vec<Option<Binding>>]) -> HashSet<ComponentId> {
    bindings
        .iter()
        .flatten()
        .flatten()
        .filter_map(|b| match b.provider {
            Provider::Component { component, .. } => Some(component),
            _ => None,
        })
        .collect()
}

/// A cycle from `start` back to `start` inside the strongly connected component `scc`,
/// following edges from server to importer and printed in the direction of dependency
/// (`a → b` means `a` imports from `b`).
fn cycle_through(
    graph: &DiGraph<ComponentId, ()>,
    start: NodeIndex,
    scc: &[NodeIndex],
) -> Vec<NodeIndex> {
    let members: HashSet<NodeIndex> = scc.iter().copied().collect();
    // Breadth-first search for the shortest way back to `start`.
    let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    'search: while let Some(node) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph
            .neighbors(node)
            .filter(|n| members.contains(n))
            .collect();
        next.sort();
        for n in next {
            if n == start {
                parent.insert(start, node);
                break 'search;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(n) {
                e.insert(node);
                queue.push_back(n);
            }
        }
    }
    let mut path = vec![start];
    let mut node = parent[&start];
    while node != start {
        path.push(node);
        node = parent[&node];
    }
    path.push(start);
    // Edges run from server to importer; the path found walks them backwards from start,
    // which reads as "start imports from …".
    path
}
