//! Resolution: from a [`Workload`] to a [`Plan`], applying the matching rules of docs/workload.md
//! to every import of every component and collecting every problem in one pass.
//!
//! The rules live in their own modules: the host section and what the host serves in
//! [`crate::host`], the workload's exports in [`crate::exports`], assembling the plan in
//! [`crate::finish`]; this module reads the components and binds imports (rules 1–5).

use crate::component::find_export;
use crate::component::{ComponentType, Item};
use crate::diagnostic::{Diagnostic, Problem, Referrer, Span, WantedExport};
use crate::error::ResolveError;
use crate::names::{NameIndex, names_match};
use crate::plan::{Binding, ComponentFile, ComponentId, FileId, HostSection, Provider, Rule};
use crate::plan::{PlannedRemote, RemoteId};
use crate::plugin::HostProfile;
use crate::workload::{BindingTarget, ComponentDecl, ComponentSource, ExplicitBinding, Workload};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use wac_types::{ItemKind, SubtypeChecker, Types};

/// Resolves `workload` for a host that serves whatever `[host]` declares
/// ([`HostProfile::any`]): binds every import of every component, type-checks each binding,
/// checks that the components form a DAG and works out the workload's exports.
///
/// Component files are read relative to [`Workload::base_dir`]; a file used by several
/// components is read and parsed once.
///
/// # Errors
/// A [`ResolveError`] with every problem found (and the warnings found with them) when any
/// is an error: unreadable or invalid components, unknown names in explicit bindings,
/// missing or mismatched backends, ambiguous or unsatisfied imports, type mismatches,
/// host imports that cannot be merged, invalid export names, cycles and export clashes
/// ([`Problem`] lists them all).
pub fn resolve(workload: &Workload) -> Result<crate::Plan, ResolveError> {
    resolve_with(workload, &HostProfile::any())
}

/// Resolves `workload` for the host `profile` describes: as [`resolve`], and every host
/// backend must be served by one of the profile's plugins (named, or the default of its
/// interface) that serves its interface and accepts its configuration, and every import
/// left to the host must be one the profile serves.
///
/// # Errors
/// As [`resolve`], plus [`Problem::UnknownPlugin`], [`Problem::PluginMismatch`],
/// [`Problem::NoPlugin`], [`Problem::InvalidBackendConfig`] and
/// [`Problem::HostCannotServe`].
pub fn resolve_with(
    workload: &Workload,
    profile: &HostProfile,
) -> Result<crate::Plan, ResolveError> {
    let mut resolver = Resolver::new(workload, profile);
    resolver.check_host();
    resolver.load_components();
    resolver.load_remotes();
    resolver.index_exports();
    let bindings = resolver.bind_all();
    let order = resolver.order(&bindings);
    resolver.check_host_imports(&bindings, &order);
    let exports = resolver.exports(&bindings);
    resolver.warn_unused(&bindings, &exports);
    resolver.check_target(&bindings, &exports);
    resolver.warn_unusable_grants();
    let clusters = resolver.clusters(&bindings);
    resolver.warn_calls_the_linker_cannot_forward(&bindings, &clusters);
    resolver.finish(bindings, order, exports, clusters)
}

/// Resolves the workload file at `path`: [`Workload::from_file`], then [`resolve`].
///
/// # Errors
/// As [`Workload::from_file`] and [`resolve`].
pub fn resolve_file(path: impl AsRef<std::path::Path>) -> Result<crate::Plan, ResolveError> {
    resolve(&Workload::from_file(path)?)
}

/// Resolves the workload file at `path` for the host `profile` describes:
/// [`Workload::from_file`], then [`resolve_with`].
///
/// # Errors
/// As [`Workload::from_file`] and [`resolve_with`].
pub fn resolve_file_with(
    path: impl AsRef<std::path::Path>,
    profile: &HostProfile,
) -> Result<crate::Plan, ResolveError> {
    resolve_with(&Workload::from_file(path)?, profile)
}

/// The bindings of every component, by component index and import index; `None` where an
/// import is not bound.
pub(crate) type Bindings = Vec<Vec<Option<Binding>>>;

pub(crate) struct Resolver<'w> {
    pub(crate) workload: &'w Workload,
    pub(crate) profile: &'w HostProfile,
    pub(crate) names: Vec<&'w str>,
    pub(crate) by_name: HashMap<&'w str, ComponentId>,
    pub(crate) types: Types,
    /// Every file read, once each.
    pub(crate) files: Vec<ComponentFile>,
    /// The file of each component; `None` where loading failed (already reported).
    pub(crate) loaded: Vec<Option<FileId>>,
    /// Every component export by name: (component, index into its exports).
    exports_index: NameIndex<(ComponentId, usize)>,
    /// The remotes, in the order of `[remotes]`, with the exports that could be typed.
    pub(crate) remotes: Vec<PlannedRemote>,
    /// Every remote export by name: (remote, index into its exports).
    remote_index: NameIndex<(RemoteId, usize)>,
    /// The exports remotes list but could not serve (unreadable types, unknown or refused
    /// exports), with the index of the diagnostic why: the cause of imports left unbound
    /// for want of them, reported once.
    pub(crate) refused_remote_exports: Vec<(String, usize)>,
    /// `[host]`, as checked so far.
    pub(crate) host: HostSection,
    pub(crate) checked: HashSet<(ItemKind, ItemKind)>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// For each component that could not be loaded, the index of its diagnostic and the
    /// size of its file, if it could be read.
    pub(crate) load_failures: HashMap<ComponentId, (usize, Option<usize>)>,
    /// The imports left unbound: (component, import index, index of the diagnostic why).
    pub(crate) unbound: Vec<(ComponentId, usize, Option<usize>)>,
    /// Why the last binding attempt failed without a diagnostic of its own: the load
    /// failure of the component it needed.
    cause: Option<usize>,
}

impl<'w> Resolver<'w> {
    fn new(workload: &'w Workload, profile: &'w HostProfile) -> Self {
        let names: Vec<&str> = workload.components.keys().map(String::as_str).collect();
        let by_name = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, ComponentId(i)))
            .collect();
        Self {
            workload,
            profile,
            names,
            by_name,
            types: Types::default(),
            files: Vec::new(),
            loaded: Vec::new(),
            exports_index: NameIndex::default(),
            remotes: Vec::new(),
            remote_index: NameIndex::default(),
            refused_remote_exports: Vec::new(),
            host: HostSection::default(),
            checked: HashSet::new(),
            diagnostics: Vec::new(),
            load_failures: HashMap::new(),
            unbound: Vec::new(),
            cause: None,
        }
    }

    pub(crate) fn report(&mut self, problem: Problem, span: Option<Span>, label: &str) {
        let diagnostic = self.workload.diagnostic(problem, span).with_label(label);
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn decl(&self, id: ComponentId) -> &'w ComponentDecl {
        &self.workload.components[id.0]
    }

    pub(crate) fn name(&self, id: ComponentId) -> String {
        self.names[id.0].to_owned()
    }

    /// The type of a loaded component.
    pub(crate) fn ty(&self, id: ComponentId) -> Option<Arc<ComponentType>> {
        self.loaded[id.0].map(|file| self.files[file.0].ty.clone())
    }

    fn load_components(&mut self) {
        let mut by_file: HashMap<PathBuf, FileId> = HashMap::new();
        for (i, decl) in self.workload.components.values().enumerate() {
            let id = ComponentId(i);
            let (written, path) = match &decl.source.value {
                ComponentSource::Bytes { name, .. } => (name.clone(), None),
                ComponentSource::Oci(oci) => (
                    oci.reference.to_string(),
                    oci.pulled.as_ref().map(|pulled| pulled.path.clone()),
                ),
                ComponentSource::Path(path) => (
                    path.to_string_lossy().replace('\\', "/"),
                    Some(self.workload.base_dir.join(path)),
                ),
            };
            let key = path
                .as_ref()
                .map(|full| full.canonicalize().unwrap_or_else(|_| full.clone()));
            if let Some(file) = key.as_ref().and_then(|k| by_file.get(k)) {
                self.loaded.push(Some(*file));
                continue;
            }
            let file = self.load(id, decl, written, path);
            if let (Some(file), Some(key)) = (file, key) {
                by_file.insert(key, file);
            }
            self.loaded.push(file);
        }
    }

    /// Reads and parses one component's file; `None`, reported, when that fails.
    fn load(
        &mut self,
        id: ComponentId,
        decl: &ComponentDecl,
        written: String,
        path: Option<PathBuf>,
    ) -> Option<FileId> {
        let bytes = match (&decl.source.value, &path) {
            (ComponentSource::Bytes { bytes, .. }, _) => bytes.clone(),
            (ComponentSource::Oci(oci), _) => match &oci.pulled {
                Some(pulled) => pulled.bytes.clone(),
                None => {
                    let problem = Problem::NotCached {
                        component: self.name(id),
                        reference: oci.reference.to_string(),
                        reason: "it was not pulled before resolving".into(),
                    };
                    return self.load_failed(id, decl, problem, None);
                }
            },
            (ComponentSource::Path(_), full) => {
                let full = full.as_ref().expect("load_components joins every path");
                match read_regular_file(full) {
                    Ok(bytes) => Arc::<[u8]>::from(bytes),
                    Err(e) => {
                        let problem = Problem::ReadComponent {
                            component: self.name(id),
                            path: full.clone(),
                            reason: e.to_string(),
                        };
                        return self.load_failed(id, decl, problem, None);
                    }
                }
            }
        };
        let size = bytes.len();
        match ComponentType::read(bytes, &mut self.types) {
            Ok(ty) => {
                let ty = Arc::new(ty);
                self.files.push(ComponentFile { written, path, ty });
                Some(FileId(self.files.len() - 1))
            }
            Err(reason) => {
                let problem = Problem::NotAComponent {
                    component: self.name(id),
                    reason,
                };
                self.load_failed(id, decl, problem, Some(size))
            }
        }
    }

    /// Reports why component `id` could not be loaded; `size` is its file's, if read.
    fn load_failed(
        &mut self,
        id: ComponentId,
        decl: &ComponentDecl,
        problem: Problem,
        size: Option<usize>,
    ) -> Option<FileId> {
        self.load_failures
            .insert(id, (self.diagnostics.len(), size));
        self.report(problem, decl.source.span.clone(), "this component");
        None
    }

    fn index_exports(&mut self) {
        for i in 0..self.loaded.len() {
            let Some(ty) = self.ty(ComponentId(i)) else {
                continue;
            };
            for (e, export) in ty.exports.iter().enumerate() {
                self.exports_index.insert(&export.name, (ComponentId(i), e));
            }
        }
        for (r, remote) in self.remotes.iter().enumerate() {
            for (e, export) in remote.exports.iter().enumerate() {
                self.remote_index.insert(&export.name, (RemoteId(r), e));
            }
        }
    }

    /// The diagnostic of a remote that lists `name` in `exports` but could not serve it.
    fn refused_remote(&self, name: &str) -> Option<usize> {
        (self.refused_remote_exports.iter())
            .find(|(export, _)| names_match(name, export))
            .map(|(_, diagnostic)| *diagnostic)
    }

    /// The remote named `name`, if the workload has one.
    fn remote_named(&self, name: &str) -> Option<RemoteId> {
        self.remotes
            .iter()
            .position(|r| r.name == name)
            .map(RemoteId)
    }

    /// The type of component `id`; `None`, remembering its load failure as the cause, when
    /// it could not be loaded.
    fn needed(&mut self, id: ComponentId) -> Option<Arc<ComponentType>> {
        let ty = self.ty(id);
        if ty.is_none() {
            self.cause = self.load_failures.get(&id).map(|(d, _)| *d);
        }
        ty
    }

    /// Binds every import of every loaded component.
    fn bind_all(&mut self) -> Bindings {
        (0..self.loaded.len())
            .map(|i| {
                let id = ComponentId(i);
                let Some(ty) = self.ty(id) else {
                    return Vec::new();
                };
                self.check_explicit_keys(id, &ty);
                ty.imports
                    .iter()
                    .enumerate()
                    .map(|(index, import)| self.bind_or_record(id, index, import))
                    .collect()
            })
            .collect()
    }

    /// Binds one import; an import left unbound is recorded with the diagnostic why.
    fn bind_or_record(&mut self, id: ComponentId, index: usize, import: &Item) -> Option<Binding> {
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
    }

    /// Every explicit binding must name an import of the component.
    fn check_explicit_keys(&mut self, id: ComponentId, ty: &ComponentType) {
        for (key, binding) in &self.decl(id).imports {
            if !ty.imports.iter().any(|i| names_match(key, &i.name)) {
                self.report(
                    Problem::UnknownImport {
                        component: self.name(id),
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
        match &provider {
            Provider::Component { component, export } => {
                self.type_check(id, import, *component, export, span)?;
            }
            Provider::Remote { remote, export } => {
                self.type_check_remote(id, import, *remote, export, span)?;
            }
            Provider::HostInterface | Provider::HostBackend { .. } => {}
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
            BindingTarget::Host => return self.bind_explicit_host(id, import, span),
            BindingTarget::Component { component, export } => (component, export),
        };
        if !self.by_name.contains_key(target.as_str())
            && let Some(remote) = self.remote_named(target)
        {
            return self.bind_explicit_remote(id, import, remote, export.as_deref(), span);
        }
        let referrer = Referrer::Import {
            component: self.name(id),
            import: import.name.clone(),
        };
        let target_id = self.component_named(target, &referrer, span.clone())?;
        let ty = self.needed(target_id)?;
        let (found, wanted) = match export {
            Some(export) => (
                find_export(&ty.exports, export),
                WantedExport::Name(export.clone()),
            ),
            None => (
                find_export(&ty.exports, &import.name).or_else(|| {
                    let interface = import.interface()?;
                    ty.exports
                        .iter()
                        .find(|e| e.interface().is_some_and(|i| names_match(interface, i)))
                }),
                WantedExport::ForImport {
                    import: import.name.clone(),
                    implements: import.implements.clone(),
                },
            ),
        };
        if let Some(e) = found {
            return Some(Provider::Component {
                component: target_id,
                export: e.name.clone(),
            });
        }
        let problem = Problem::UnknownExport {
            target: target.clone(),
            wanted,
            referrer,
            available: ty.exports.iter().map(Item::describe).collect(),
        };
        self.report(problem, span, "no such export");
        None
    }

    /// The component named `name`, reporting [`Problem::UnknownComponent`] if there is none.
    pub(crate) fn component_named(
        &mut self,
        name: &str,
        referrer: &Referrer,
        span: Option<Span>,
    ) -> Option<ComponentId> {
        let found = self.by_name.get(name).copied();
        if found.is_none() {
            self.report(
                Problem::UnknownComponent {
                    referrer: referrer.clone(),
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
        let Some(&backend) = self.by_name.get(label) else {
            if let Some(remote) = self.remote_named(label) {
                return self.bind_label_remote(id, import, remote, interface);
            }
            let span = self.decl(id).name_span.clone();
            return self.host_backend(id, import, interface, span);
        };
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
        let problem = Problem::BackendMismatch {
            component: self.name(id),
            label: label.to_owned(),
            interface: interface.to_owned(),
            offer: crate::diagnostic::BackendOffer::Component {
                exports: ty.exports.iter().map(Item::describe).collect(),
            },
        };
        self.report(problem, self.decl(id).name_span.clone(), "imports it here");
        None
    }

    /// Rule 3: the unique other component exporting the import's name, else the host.
    fn bind_by_name(&mut self, id: ComponentId, import: &Item) -> Option<(Provider, Rule)> {
        let mut candidates: Vec<(ComponentId, usize)> = self
            .exports_index
            .matching(&import.name)
            .map(|(_, found)| *found)
            .filter(|(c, _)| *c != id)
            .collect();
        // One component may export several compatible versions of a name (exports are
        // indexed component by component, so they are adjacent): it is one candidate.
        candidates.dedup_by_key(|(c, _)| *c);
        let mut remotes: Vec<(RemoteId, usize)> = self
            .remote_index
            .matching(&import.name)
            .map(|(_, found)| *found)
            .collect();
        remotes.dedup_by_key(|(r, _)| *r);
        let span = self.decl(id).name_span.clone();
        match (candidates.as_slice(), remotes.as_slice()) {
            ([], [(remote, export)]) => {
                let provider = Provider::Remote {
                    remote: *remote,
                    export: self.remotes[remote.0].exports[*export].name.clone(),
                };
                return Some((provider, Rule::Name));
            }
            (_, []) => {}
            (components, remotes) => {
                let names = components.iter().map(|(c, _)| self.name(*c));
                let problem = Problem::Ambiguous {
                    component: self.name(id),
                    import: import.name.clone(),
                    candidates: names
                        .chain(remotes.iter().map(|(r, _)| self.remotes[r.0].name.clone()))
                        .collect(),
                };
                self.report(problem, span, "imports it here");
                return None;
            }
        }
        match candidates.as_slice() {
            [(component, export)] => {
                let ty = self.ty(*component).expect("indexed exports are loaded");
                let provider = Provider::Component {
                    component: *component,
                    export: ty.exports[*export].name.clone(),
                };
                Some((provider, Rule::Name))
            }
            [] if self.host_declares(&import.name) => Some((Provider::HostInterface, Rule::Host)),
            [] if self.refused_remote(&import.name).is_some() => {
                self.cause = self.refused_remote(&import.name);
                None
            }
            [] => {
                let problem = Problem::Unsatisfied {
                    component: self.name(id),
                    import: import.name.clone(),
                };
                self.report(problem, span, "imports it here");
                None
            }
            several => {
                let problem = Problem::Ambiguous {
                    component: self.name(id),
                    import: import.name.clone(),
                    candidates: several.iter().map(|(c, _)| self.name(*c)).collect(),
                };
                self.report(problem, span, "imports it here");
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
        let ty = self.ty(server)?;
        let export = ty.exports.iter().find(|e| e.name == export)?;
        self.check_subtype(id, import, self.name(server), export, span)
    }

    /// Rule 4 for any provider (`server` names it): `export` must be a subtype of what the
    /// import expects.
    pub(crate) fn check_subtype(
        &mut self,
        id: ComponentId,
        import: &Item,
        server: String,
        export: &Item,
        span: Option<Span>,
    ) -> Option<()> {
        let result = SubtypeChecker::new(&mut self.checked).is_subtype(
            export.kind,
            &self.types,
            import.kind,
            &self.types,
        );
        let Err(e) = result else { return Some(()) };
        let detail = crate::wit_text::first_difference(&self.types, export.kind, import.kind)
            .unwrap_or_else(|| format!("{e:#}"));
        let problem = Problem::TypeMismatch {
            component: self.name(id),
            import: import.name.clone(),
            server,
            export: export.name.clone(),
            detail,
        };
        self.report(problem, span, "bound here");
        None
    }

    /// Rule 5: the components must form a DAG. Returns them in topological order
    /// (servers before importers), or reports each cycle.
    fn order(&mut self, bindings: &Bindings) -> Vec<ComponentId> {
        let graph = dependency_graph(self.names.len(), bindings);
        match petgraph::algo::toposort(&graph, None) {
            Ok(order) => order.into_iter().map(|n| graph[n]).collect(),
            Err(_) => {
                self.report_cycles(&graph);
                Vec::new()
            }
        }
    }

    fn report_cycles(&mut self, graph: &DiGraph<ComponentId, ()>) {
        let mut sccs = petgraph::algo::tarjan_scc(graph);
        sccs.iter_mut().for_each(|scc| scc.sort());
        sccs.sort();
        for scc in sccs {
            let start = scc[0];
            if scc.len() == 1 && graph.find_edge(start, start).is_none() {
                continue;
            }
            let cycle = cycle_through(graph, start, &scc)
                .iter()
                .map(|n| self.names[n.index()].to_owned())
                .collect();
            let span = self.workload.component_span(self.names[start.index()]);
            self.report(Problem::Cycle { cycle }, span, "part of the cycle");
        }
    }

    /// Rule 8: a component nothing uses and that contributes no workload export.
    fn warn_unused(&mut self, bindings: &Bindings, exports: &[crate::WorkloadExport]) {
        let mut used = servers(bindings);
        used.extend(exports.iter().map(|e| e.component));
        for i in 0..self.names.len() {
            let id = ComponentId(i);
            if self.loaded[i].is_some() && !used.contains(&id) {
                let problem = Problem::UnusedComponent {
                    component: self.name(id),
                };
                self.report(problem, self.decl(id).name_span.clone(), "not used");
            }
        }
    }
}

/// The graph of dependencies: an edge from each server to each of its importers.
fn dependency_graph(components: usize, bindings: &Bindings) -> DiGraph<ComponentId, ()> {
    let mut graph: DiGraph<ComponentId, ()> = DiGraph::with_capacity(components, 0);
    for i in 0..components {
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
    graph
}

/// The components that serve at least one binding.
pub(crate) fn servers(bindings: &Bindings) -> HashSet<ComponentId> {
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
/// following edges from server to importer, found by breadth-first search (the shortest).
/// Read in order it says "start imports from …".
fn cycle_through(
    graph: &DiGraph<ComponentId, ()>,
    start: NodeIndex,
    scc: &[NodeIndex],
) -> Vec<NodeIndex> {
    let members: HashSet<NodeIndex> = scc.iter().copied().collect();
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
    path
}

/// The bytes of the file at `path`, which must be a regular file: reading a FIFO would
/// block forever and a device such as `/dev/zero` would never end (found by fuzzing).
pub(crate) fn read_regular_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        let kind = if metadata.is_dir() {
            "a folder"
        } else {
            "not a regular file"
        };
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, kind));
    }
    std::fs::read(path)
}
