//! The graph model: a workload's components, host and exports as nodes, its bindings as
//! edges, in a `petgraph` graph whose order is the workload file's.

use crate::wiring::Wiring;
use compose_resolver::{Instantiation, Plan, ResolveError, Rule, Severity, Workload, resolve};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

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
    /// A remote (`[remotes]`): a provider on another machine, reached over wRPC; drawn
    /// outside the workload and the host.
    Remote {
        /// Its name (the label it serves).
        name: String,
        /// Its address (`tcp://10.0.0.5:7761`).
        url: String,
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
    /// Resolves `workload` ([`resolve`]) and builds its picture. Never fails: a workload
    /// that does not resolve is drawn with its broken imports as loose ends, and
    /// [`WorkloadGraph::error`] says why it does not resolve.
    pub fn new(workload: &Workload) -> Self {
        Self::from_outcome(resolve(workload))
    }

    /// The picture of what resolving gave: a plan, or an error with its partial plan.
    pub fn from_outcome(outcome: Result<Plan, ResolveError>) -> Self {
        Self::build(Wiring::new(outcome))
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

    /// The clusters of more than one component ([`Plan::clusters`]: what the run-time
    /// linker fuses into one component), each as its name and its members' nodes; the
    /// renderers draw each as a box inside the workload's. Empty when the workload does
    /// not resolve.
    pub fn clusters(&self) -> Vec<(&str, Vec<NodeId>)> {
        let Some(plan) = self.plan().filter(|_| self.resolved()) else {
            return Vec::new();
        };
        let node = |name: &str| {
            self.nodes()
                .find(|(_, n)| matches!(n, Node::Component { name: n, .. } if n == name))
                .map(|(id, _)| id)
        };
        (plan.clusters.iter())
            .filter(|c| c.members.len() > 1)
            .map(|c| {
                let members = c.members.iter();
                let nodes = members.filter_map(|m| node(&plan.component(*m).name));
                (c.name.as_str(), nodes.collect())
            })
            .collect()
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
}
