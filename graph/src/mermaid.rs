//! Mermaid flowcharts, which GitHub draws in Markdown (```` ```mermaid ```` blocks).

use crate::model::{EdgeKind, Node, NodeId, WorkloadGraph};
use crate::style;
use compose_resolver::Instantiation;
use std::fmt::Write;

impl WorkloadGraph {
    /// The picture as a Mermaid flowchart (without the Markdown fence). Node ids are
    /// `n<index>` in the stable node order, so the same workload always gives the same text.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "flowchart LR");
        self.write_mermaid_workload(w);
        self.write_mermaid_host(w);
        for (id, node) in self.nodes() {
            if matches!(node, Node::Unresolved { .. } | Node::Remote { .. }) {
                self.write_mermaid_node(w, id);
            }
        }
        if !self.notes.is_empty() {
            let lines: Vec<String> = self
                .notes
                .iter()
                .map(|n| format!("{}: {}", crate::dot::severity(n.severity), text(&n.message)))
                .collect();
            let _ = writeln!(w, "  notes[\"{}\"]:::problem", lines.join("<br/>"));
        }
        let styles = self.write_mermaid_edges(w);
        self.write_mermaid_classes(w);
        write_mermaid_link_styles(w, &styles);
        out
    }

    /// The workload's box: its components and exports.
    fn write_mermaid_workload(&self, w: &mut String) {
        let status = if self.resolved() {
            ""
        } else {
            " (does not resolve)"
        };
        let _ = writeln!(
            w,
            "  subgraph workload[\"{}\"]",
            text(&format!("workload {}{status}", self.name))
        );
        let clusters = self.clusters();
        for (i, (name, members)) in clusters.iter().enumerate() {
            let _ = writeln!(
                w,
                "  subgraph fused{i}[\"{}\"]",
                text(&format!("cluster {name}"))
            );
            for id in members {
                self.write_mermaid_node(w, *id);
            }
            let _ = writeln!(w, "  end");
        }
        let clustered = |id: &NodeId| clusters.iter().any(|(_, m)| m.contains(id));
        for (id, node) in self.nodes() {
            if matches!(node, Node::Component { .. } | Node::Export { .. }) && !clustered(&id) {
                self.write_mermaid_node(w, id);
            }
        }
        let _ = writeln!(w, "  end");
    }

    /// The host's box, when it serves anything: its interfaces and backends.
    fn write_mermaid_host(&self, w: &mut String) {
        let host: Vec<NodeId> = self
            .nodes()
            .filter(|(_, n)| matches!(n, Node::HostInterface { .. } | Node::HostBackend { .. }))
            .map(|(id, _)| id)
            .collect();
        if host.is_empty() && self.host_patterns.is_empty() {
            return;
        }
        let mut label = String::from("host");
        if !self.host_patterns.is_empty() {
            let _ = write!(label, ": serves {}", self.host_patterns.join(", "));
        }
        let _ = writeln!(w, "  subgraph host[\"{}\"]", text(&label));
        if host.is_empty() {
            let _ = writeln!(w, "    hostempty[\" \"]");
        }
        for id in host {
            self.write_mermaid_node(w, id);
        }
        let _ = writeln!(w, "  end");
    }

    /// Every edge; returns the index and style class of each edge drawn differently.
    fn write_mermaid_edges(&self, w: &mut String) -> Vec<(usize, &'static str)> {
        let mut styles = Vec::new();
        for (index, (from, to, edge)) in self.edges().enumerate() {
            let arrow = match &edge.kind {
                EdgeKind::Binding(_) if edge.implements.is_some() => {
                    styles.push((index, "labelled"));
                    "-.->"
                }
                EdgeKind::Problem { .. } => {
                    styles.push((index, "problem"));
                    "--x"
                }
                EdgeKind::Export { .. } => {
                    styles.push((index, "export"));
                    "-->"
                }
                EdgeKind::Binding(_) => "-->",
            };
            let label = edge.label();
            let label = if label.is_empty() {
                String::new()
            } else {
                format!("|\"{}\"|", text(&label))
            };
            let _ = writeln!(w, "  n{} {arrow}{label} n{}", from.index(), to.index());
        }
        styles
    }

    /// The node classes and the two boxes' styles.
    fn write_mermaid_classes(&self, w: &mut String) {
        for (name, fill, line) in [
            ("component", style::COMPONENT_FILL, style::COMPONENT_LINE),
            ("export", style::EXPORT_FILL, style::EXPORT_LINE),
            ("host", style::HOST_NODE_FILL, style::HOST_LINE),
            ("backend", style::BACKEND_FILL, style::BACKEND_LINE),
            ("problem", style::PROBLEM_FILL, style::PROBLEM),
        ] {
            let _ = writeln!(
                w,
                "  classDef {name} fill:{fill},stroke:{line},color:{}",
                style::TEXT
            );
        }
        // Only pictures with remotes have the class (the others stay as they were).
        if self.nodes().any(|(_, n)| matches!(n, Node::Remote { .. })) {
            let _ = writeln!(
                w,
                "  classDef remote fill:{},stroke:{},color:{}",
                style::REMOTE_FILL,
                style::REMOTE_LINE,
                style::TEXT
            );
        }
        let line = if self.resolved() {
            style::WORKLOAD_LINE
        } else {
            style::PROBLEM
        };
        let _ = writeln!(
            w,
            "  style workload fill:{},stroke:{line}",
            style::WORKLOAD_FILL
        );
        let has_host = self
            .nodes()
            .any(|(_, n)| matches!(n, Node::HostInterface { .. } | Node::HostBackend { .. }));
        if has_host || !self.host_patterns.is_empty() {
            let _ = writeln!(
                w,
                "  style host fill:{},stroke:{}",
                style::HOST_FILL,
                style::HOST_LINE
            );
        }
    }

    fn write_mermaid_node(&self, w: &mut String, id: NodeId) {
        let n = id.index();
        let line = match self.node(id) {
            Node::Component {
                name,
                file,
                size,
                instantiate,
                problem,
            } => {
                let mut label = format!("<b>{}</b><br/>{}", text(name), text(file));
                if let Some(facts) =
                    style::component_facts(*size, *instantiate == Instantiation::Eager)
                {
                    let _ = write!(label, "<br/>{facts}");
                }
                let class = match problem {
                    Some(problem) => {
                        let _ = write!(label, "<br/>{}", text(problem));
                        "problem"
                    }
                    None => "component",
                };
                format!("n{n}[\"{label}\"]:::{class}")
            }
            Node::Export { name } => format!("n{n}[[\"{}\"]]:::export", text(name)),
            Node::HostInterface { name } => format!("n{n}([\"{}\"]):::host", text(name)),
            Node::HostBackend { label, interface } => format!(
                "n{n}[(\"<b>{}</b><br/>backend: {}\")]:::backend",
                text(label),
                text(interface)
            ),
            Node::Unresolved { reason } => format!("n{n}[\"{}\"]:::problem", text(reason)),
            Node::Remote { name, url } => format!(
                "n{n}[/\"<b>{}</b><br/>remote: {}\"/]:::remote",
                text(name),
                text(url)
            ),
        };
        let _ = writeln!(w, "    {line}");
    }
}

/// Text inside a quoted Mermaid label: entity codes for the characters Mermaid would read.
fn text(s: &str) -> String {
    s.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('`', "")
}

/// One `linkStyle` line per style class, listing the edges drawn in it.
fn write_mermaid_link_styles(w: &mut String, styles: &[(usize, &str)]) {
    for (kind, color) in [
        ("labelled", style::LABELLED),
        ("problem", style::PROBLEM),
        ("export", style::EXPORT_LINE),
    ] {
        let indices: Vec<String> = styles
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(i, _)| i.to_string())
            .collect();
        if indices.is_empty() {
            continue;
        }
        let dash = if kind == "labelled" {
            ",stroke-dasharray:5 4"
        } else {
            ""
        };
        let _ = writeln!(
            w,
            "  linkStyle {} stroke:{color},color:{color},stroke-width:1.6px{dash}",
            indices.join(",")
        );
    }
}
