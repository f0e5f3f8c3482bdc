//! The graph model: a workload's components, host and exports as nodes, its bindings as
//! edges, in a `petgraph` graph whose order is the workload file's.

use crate::wiring::Wiring;
use compose_resolver::{
    ComponentSource, Instantiation, Plan, Problem, Provider, ResolveError, Rule, Severity, Workload,
};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::HashMap;
use std::path::Path;

/// A node of a [`WorkloadGraph`], as an index into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) NodeIndex);

impl NodeId {
    /// The node's position in [`WorkloadGraph::nodes`]: stable for a given workload file.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

/// A thing in the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A component of the workload.
    Component {
        /// Its name in the workload.
        name: String,
        /// Its file as the workload file writes it (relative to the workload file's folder),
        /// or the name given to in-memory bytes.
        file: String,
        /// Its size in bytes, when it could be read.
        size: Option<usize>,
        /// When the run-time linker instantiates it.
        instantiate: Instantiation,
        /// Why it could not be used (unreadable, not a component), if so.
        problem: Option<String>,
    },
    /// An interface the host serves (`[host] interfaces`), one node per import name served.
    HostInterface {
        /// The interface name, as imported (`wasi:cli/environment@0.2.0`).
        name: String,
    },
    /// A named backend of the host (`[host] backends`): the host serves this `implements` label.
    HostBackend {
        /// The label (`team-c-postgres`).
        label: String,
        /// The interface it implements (`acme:kv/store@0.1.0`).
        interface: String,
    },
    /// One of the workload's exports.
    Export {
        /// The workload's export name.
        name: String,
    },
    /// The loose end of a broken import: nothing (or nothing unique) serves it.
    Unresolved {
        /// Why, in a few words (`unsatisfied: nothing exports it, the host does not provide it`).
        reason: String,
    },
}

/// What an edge stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// An import bound to what serves it, by the matching rule that chose it.
    Binding(Rule),
    /// A workload export, served by the component's export `export`.
    Export {
        /// The component's export name.
        export: String,
    },
    /// A broken import, ending in a [`Node::Unresolved`].
    Problem {
        /// The problem's stable code (`compose::unsatisfied-import`).
        code: &'static str,
        /// The resolver's full message and help, for a tooltip.
        message: String,
    },
}

/// An edge, from the importing side to what serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// What it stands for.
    pub kind: EdgeKind,
    /// The import's name (the workload export's name for [`EdgeKind::Export`]).
    pub import: String,
    /// The interface an `implements`-labelled import implements.
    pub implements: Option<String>,
}

impl Edge {
    /// The edge's label: `name: interface` for a labelled import
    /// (`team-a-postgres: acme:kv/store@0.1.0`), the name for others; for a workload
    /// export, the component's export when it is named differently, else nothing.
    pub fn label(&self) -> String {
        match (&self.kind, &self.implements) {
            (EdgeKind::Export { export }, _) if *export == self.import => String::new(),
            (EdgeKind::Export { export }, _) => export.clone(),
            (_, Some(interface)) => format!("{}: {interface}", self.import),
            (_, None) => self.import.clone(),
        }
    }
}

impl Edge {
    /// A sentence for a tooltip: why the edge is there (the matching rule that chose the
    /// provider, or the resolver's message for a broken import).
    pub fn explanation(&self) -> String {
        match &self.kind {
            EdgeKind::Binding(rule) => match rule {
                Rule::Explicit => "bound explicitly in the workload file",
                Rule::Label => "the implements label names this backend",
                Rule::Name => "the only other component that exports it",
                Rule::Host => "the host serves it ([host] interfaces)",
            }
            .to_owned(),
            EdgeKind::Export { .. } => "a workload export".to_owned(),
            EdgeKind::Problem { message, .. } => message.replace('`', ""),
        }
    }
}

/// A problem that is not drawn on an edge or a component, for a note beside the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Error or warning.
    pub severity: Severity,
    /// The problem's stable code.
    pub code: &'static str,
    /// The one-line message.
    pub message: String,
}

/// The picture of one workload: what every renderer draws.
///
/// Built from the resolver's [`Plan`] (or, for a workload that does not resolve, from the
/// bindings that did resolve plus the problems). Nodes and edges are in a stable order:
/// exports, components in the order of the workload file, host backends as declared, host
/// interfaces as first imported, loose ends; edges component by component, import by import.
#[derive(Debug)]
pub struct WorkloadGraph {
    pub(crate) name: String,
    pub(crate) graph: DiGraph<Node, Edge>,
    pub(crate) host_patterns: Vec<String>,
    pub(crate) notes: Vec<Note>,
    pub(crate) wiring: Wiring,
}

impl WorkloadGraph {
    /// Resolves `workload` and builds its picture. Never fails: a workload that does not
    /// resolve is drawn with its broken imports as loose ends, and [`WorkloadGraph::error`]
    /// says why it does not resolve.
    pub fn new(workload: &Workload) -> Self {
        Self::build(Wiring::resolve(workload))
    }

    /// The picture of `workload`, which resolved to `plan` (component files are shown as
    /// the workload writes them, which the plan does not keep).
    pub fn from_plan(workload: &Workload, plan: Plan) -> Self {
        Self::build(Wiring::from_plan(workload, plan))
    }

    /// The workload's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the workload resolves.
    pub fn resolved(&self) -> bool {
        self.wiring.error.is_none()
    }

    /// Why the workload does not resolve (every problem, as the resolver reported them).
    pub fn error(&self) -> Option<&ResolveError> {
        self.wiring.error.as_ref()
    }

    /// The plan the picture was drawn from: the resolver's own for a workload that
    /// resolves; for one that does not, the resolver's partial plan of what did resolve
    /// (the bindings drawn as loose ends), or `None` when none could be had.
    pub fn plan(&self) -> Option<&Plan> {
        self.wiring.plan.as_ref()
    }

    /// The underlying `petgraph` graph.
    pub fn graph(&self) -> &DiGraph<Node, Edge> {
        &self.graph
    }

    /// Every node, in the stable order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.graph
            .node_indices()
            .map(|i| (NodeId(i), &self.graph[i]))
    }

    /// Every edge as `(from, to, edge)`, in the stable order.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId, &Edge)> {
        self.graph
            .edge_references()
            .map(|e| (NodeId(e.source()), NodeId(e.target()), e.weight()))
    }

    /// The node `id`.
    ///
    /// # Panics
    /// If `id` is not from this graph.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[id.0]
    }

    /// The host's interface patterns as `[host] interfaces` writes them (`wasi:cli/*@0.2.0`).
    pub fn host_patterns(&self) -> &[String] {
        &self.host_patterns
    }

    /// The problems not drawn on an edge or a component (a cycle, an export clash, an
    /// unused component), in the resolver's order.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    fn build(wiring: Wiring) -> Self {
        let workload = &wiring.workload;
        let mut graph = DiGraph::new();
        let plan = wiring.plan.as_ref();

        let exports: Vec<NodeIndex> = plan
            .map(|p| p.exports.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|e| {
                graph.add_node(Node::Export {
                    name: e.name.clone(),
                })
            })
            .collect();

        let mut components: HashMap<&str, NodeIndex> = HashMap::new();
        for (name, decl) in &workload.components {
            let planned = plan
                .and_then(|p| p.find(name))
                .map(|id| plan.unwrap().component(id));
            let (file, size) = match &decl.source.value {
                ComponentSource::Path(path) => (
                    display_path(path),
                    planned.map(|c| c.ty.bytes.len()).or_else(|| {
                        let full = workload.base_dir.join(path);
                        std::fs::metadata(full).ok().map(|m| m.len() as usize)
                    }),
                ),
                ComponentSource::Bytes { name, bytes } => (name.clone(), Some(bytes.len())),
            };
            let node = graph.add_node(Node::Component {
                name: name.clone(),
                file: file.clone(),
                size,
                instantiate: decl.instantiate,
                problem: wiring.removed.get(name).map(|p| unusable(p, &file)),
            });
            components.insert(name, node);
        }

        let mut backends: HashMap<String, NodeIndex> = HashMap::new();
        for (label, decl) in &workload.host.backends {
            let node = graph.add_node(Node::HostBackend {
                label: label.clone(),
                interface: decl.interface.value.clone(),
            });
            backends.insert(label.clone(), node);
        }
        let mut interfaces: HashMap<String, NodeIndex> = HashMap::new();

        let mut loose_ends = Vec::new();
        let mut drawn = std::collections::HashSet::new();
        for component in plan.map(|p| p.components.as_slice()).unwrap_or_default() {
            let from = components[component.name.as_str()];
            for import in &component.ty.imports {
                if let Some(problem) = wiring.problem(&component.name, &import.name) {
                    drawn.insert((component.name.clone(), import.name.clone()));
                    loose_ends.push((
                        from,
                        import.name.clone(),
                        import.implements.clone(),
                        problem,
                    ));
                    continue;
                }
                let Some(binding) = component
                    .bindings
                    .iter()
                    .find(|b| b.import.name == import.name)
                else {
                    continue;
                };
                let to = match &binding.provider {
                    Provider::Component { component, .. } => {
                        components[plan.unwrap().component(*component).name.as_str()]
                    }
                    Provider::HostInterface => {
                        *interfaces.entry(import.name.clone()).or_insert_with(|| {
                            graph.add_node(Node::HostInterface {
                                name: import.name.clone(),
                            })
                        })
                    }
                    Provider::HostBackend { label, interface } => {
                        *backends.entry(label.clone()).or_insert_with(|| {
                            graph.add_node(Node::HostBackend {
                                label: label.clone(),
                                interface: interface.clone(),
                            })
                        })
                    }
                };
                graph.add_edge(
                    from,
                    to,
                    Edge {
                        kind: EdgeKind::Binding(binding.rule),
                        import: import.name.clone(),
                        implements: import.implements.clone(),
                    },
                );
            }
        }
        // Without a plan, the broken imports are still known by name.
        for ((component, import), problem) in &wiring.broken {
            if !drawn.contains(&(component.clone(), import.clone()))
                && let Some(&from) = components.get(component.as_str())
            {
                loose_ends.push((from, import.clone(), None, problem));
            }
        }
        for (from, import, implements, problem) in loose_ends {
            let to = graph.add_node(Node::Unresolved {
                reason: reason(problem),
            });
            graph.add_edge(
                from,
                to,
                Edge {
                    kind: EdgeKind::Problem {
                        code: problem.code(),
                        message: match problem.help() {
                            Some(help) => format!("{problem}; help: {help}"),
                            None => problem.to_string(),
                        },
                    },
                    import,
                    implements,
                },
            );
        }

        for (node, export) in exports
            .iter()
            .zip(plan.map(|p| p.exports.as_slice()).unwrap_or_default())
        {
            let to = components[plan.unwrap().component(export.component).name.as_str()];
            graph.add_edge(
                *node,
                to,
                Edge {
                    kind: EdgeKind::Export {
                        export: export.export.name.clone(),
                    },
                    import: export.name.clone(),
                    implements: None,
                },
            );
        }

        let diagnostics = match (&wiring.error, plan) {
            (Some(error), _) => error.diagnostics.as_slice(),
            (None, Some(plan)) => plan.warnings.as_slice(),
            (None, None) => &[],
        };
        let notes = diagnostics
            .iter()
            .filter(|d| !wiring.drawn_in_place(&d.problem))
            .map(|d| Note {
                severity: d.severity(),
                code: d.problem.code(),
                message: d.problem.to_string(),
            })
            .collect();

        Self {
            name: workload.name.value.clone(),
            graph,
            host_patterns: workload
                .host
                .interfaces
                .iter()
                .map(|p| p.value.clone())
                .collect(),
            notes,
            wiring,
        }
    }
}

/// A path as written, with `/` separators on every platform.
pub(crate) fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Why a component could not be used, naming its file as the workload writes it (the
/// resolver's message has the full path, which would make pictures depend on the folder).
fn unusable(problem: &Problem, file: &str) -> String {
    match problem {
        Problem::ReadComponent { reason, .. } => format!("cannot read {file}: {reason}"),
        Problem::NotAComponent { reason, .. } => format!("not a component: {reason}"),
        other => other.to_string(),
    }
}

/// A few words on why an import is not bound, for the loose end of its edge.
fn reason(problem: &Problem) -> String {
    match problem {
        Problem::Unsatisfied { .. } => {
            "unsatisfied: no component exports it, the host does not provide it".into()
        }
        Problem::Ambiguous { candidates, .. } => {
            format!("ambiguous: exported by {}", candidates.join(", "))
        }
        Problem::MissingBackend { label, .. } => {
            format!("no component or host backend named {label}")
        }
        Problem::BackendMismatch { label, offer, .. } => offer.describe(label),
        Problem::TypeMismatch { server, export, .. } => {
            format!("does not type-check against export {export} of {server}")
        }
        Problem::UnknownComponent { target, .. } => {
            format!("bound to {target}, which is not a component")
        }
        Problem::UnknownExport { target, wanted, .. } => format!("{target} has no export {wanted}"),
        other => other.to_string(),
    }
    .replace('`', "")
}
