//! Building a [`WorkloadGraph`] from its [`Wiring`]: nodes in a stable order (exports,
//! components in the order of the workload file, host backends as declared, host
//! interfaces as first imported, loose ends) and edges component by component, import by
//! import.

use crate::model::{Edge, EdgeKind, Node, Note, WorkloadGraph};
use crate::wiring::Wiring;
use compose_resolver::{Binding, Item, Plan, PlannedComponent, Problem, Provider};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// The graph under construction, with the nodes it has made, by name.
struct Builder<'w> {
    wiring: &'w Wiring,
    graph: DiGraph<Node, Edge>,
    components: HashMap<&'w str, NodeIndex>,
    backends: HashMap<String, NodeIndex>,
    remotes: HashMap<String, NodeIndex>,
    interfaces: HashMap<String, NodeIndex>,
    /// Broken imports: (importer, import, problem), drawn after the bindings.
    loose_ends: Vec<(NodeIndex, &'w Item, &'w Problem)>,
}

impl WorkloadGraph {
    pub(crate) fn build(wiring: Wiring) -> Self {
        let mut builder = Builder {
            wiring: &wiring,
            graph: DiGraph::new(),
            components: HashMap::new(),
            backends: HashMap::new(),
            remotes: HashMap::new(),
            interfaces: HashMap::new(),
            loose_ends: Vec::new(),
        };
        let plan = wiring.plan.as_ref();
        let exports = builder.add_exports(plan);
        builder.add_components();
        if let Some(plan) = plan {
            builder.add_backends(plan);
            for component in &plan.components {
                builder.add_bindings(plan, component);
            }
        }
        builder.add_loose_ends();
        if let Some(plan) = plan {
            builder.add_export_edges(plan, &exports);
        }
        let graph = builder.graph;
        Self {
            name: plan.map(|p| p.name.clone()).unwrap_or_default(),
            graph,
            host_patterns: plan.map_or_else(Vec::new, |p| {
                p.host.interfaces.iter().map(ToString::to_string).collect()
            }),
            notes: notes(&wiring),
            wiring,
        }
    }
}

impl<'w> Builder<'w> {
    fn add_exports(&mut self, plan: Option<&Plan>) -> Vec<NodeIndex> {
        let exports = plan.map(|p| p.exports.as_slice()).unwrap_or_default();
        exports
            .iter()
            .map(|e| {
                self.graph.add_node(Node::Export {
                    name: e.name.clone(),
                })
            })
            .collect()
    }

    fn add_components(&mut self) {
        for component in self.wiring.components() {
            let node = self.graph.add_node(Node::Component {
                name: component.name.to_owned(),
                file: component.file.to_owned(),
                size: component.size,
                instantiate: component.instantiate,
                problem: component.problem.map(|p| unusable(p, component.file)),
            });
            self.components.insert(component.name, node);
        }
    }

    fn add_backends(&mut self, plan: &Plan) {
        for backend in plan.host.backends.values() {
            self.backend_node(&backend.label, &backend.interface);
        }
    }

    fn backend_node(&mut self, label: &str, interface: &str) -> NodeIndex {
        let graph = &mut self.graph;
        *self.backends.entry(label.to_owned()).or_insert_with(|| {
            graph.add_node(Node::HostBackend {
                label: label.to_owned(),
                interface: interface.to_owned(),
            })
        })
    }

    /// An edge for each bound import of `component`; its broken imports become loose ends.
    fn add_bindings(&mut self, plan: &'w Plan, component: &'w PlannedComponent) {
        let from = self.components[component.name.as_str()];
        let mut bindings = component.bindings.iter().peekable();
        for import in &component.ty.imports {
            if let Some(problem) = self.wiring.problem(&component.name, &import.name) {
                self.loose_ends.push((from, import, problem));
                continue;
            }
            let Some(binding) = bindings.next_if(|b| b.import.name == import.name) else {
                continue;
            };
            let to = self.provider_node(plan, binding);
            let edge = Edge {
                kind: EdgeKind::Binding(binding.rule),
                import: import.name.clone(),
                implements: import.implements.clone(),
            };
            self.graph.add_edge(from, to, edge);
        }
    }

    fn provider_node(&mut self, plan: &Plan, binding: &Binding) -> NodeIndex {
        match &binding.provider {
            Provider::Component { component, .. } => {
                self.components[plan.component(*component).name.as_str()]
            }
            Provider::HostInterface => {
                let name = &binding.import.name;
                let graph = &mut self.graph;
                *self
                    .interfaces
                    .entry(name.clone())
                    .or_insert_with(|| graph.add_node(Node::HostInterface { name: name.clone() }))
            }
            Provider::HostBackend { label, interface } => self.backend_node(label, interface),
            Provider::Remote { remote, .. } => {
                let remote = plan.remote(*remote);
                let graph = &mut self.graph;
                *self.remotes.entry(remote.name.clone()).or_insert_with(|| {
                    graph.add_node(Node::Remote {
                        name: remote.name.clone(),
                        url: remote.url.to_string(),
                    })
                })
            }
        }
    }

    fn add_loose_ends(&mut self) {
        for (from, import, problem) in std::mem::take(&mut self.loose_ends) {
            let to = self.graph.add_node(Node::Unresolved {
                reason: reason(problem),
            });
            let message = match problem.help() {
                Some(help) => format!("{problem}; help: {help}"),
                None => problem.to_string(),
            };
            let edge = Edge {
                kind: EdgeKind::Problem {
                    code: problem.code(),
                    message,
                },
                import: import.name.clone(),
                implements: import.implements.clone(),
            };
            self.graph.add_edge(from, to, edge);
        }
    }

    fn add_export_edges(&mut self, plan: &Plan, exports: &[NodeIndex]) {
        for (node, export) in exports.iter().zip(&plan.exports) {
            let to = self.components[plan.component(export.component).name.as_str()];
            let edge = Edge {
                kind: EdgeKind::Export {
                    export: export.export.name.clone(),
                },
                import: export.name.clone(),
                implements: None,
            };
            self.graph.add_edge(*node, to, edge);
        }
    }
}

/// The problems not drawn on an edge or a component, in the resolver's order.
fn notes(wiring: &Wiring) -> Vec<Note> {
    let diagnostics = match (&wiring.error, &wiring.plan) {
        (Some(error), _) => error.diagnostics.as_slice(),
        (None, Some(plan)) => plan.warnings.as_slice(),
        (None, None) => &[],
    };
    diagnostics
        .iter()
        .filter(|d| !wiring.drawn_in_place(&d.problem))
        .map(|d| Note {
            severity: d.severity(),
            code: d.problem.code(),
            message: d.problem.to_string(),
        })
        .collect()
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

/// A few words on why an import is not bound, for the loose end of its edge, from the
/// problem's data (no backticks: the picture quotes nothing).
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
        Problem::BackendMismatch { label, offer, .. } => offer.describe(label).replace('`', ""),
        Problem::TypeMismatch { server, export, .. } => {
            format!("does not type-check against export {export} of {server}")
        }
        Problem::UnknownComponent { target, .. } => {
            format!("bound to {target}, which is not a component")
        }
        Problem::UnknownExport { target, wanted, .. } => {
            format!(
                "{target} has no export {}",
                wanted.to_string().replace('`', "")
            )
        }
        other => other.to_string().replace('`', ""),
    }
}
