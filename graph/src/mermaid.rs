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
        for (id, node) in self.nodes() {
            if matches!(node, Node::Component { .. } | Node::Export { .. }) {
                self.write_mermaid_node(w, id);
            }
        }
        let _ = writeln!(w, "  end");
        let host: Vec<NodeId> = self
            .nodes()
            .filter(|(_, n)| matches!(n, Node::HostInterface { .. } | Node::HostBackend { .. }))
            .map(|(id, _)| id)
            .collect();
        if !host.is_empty() || !self.host_patterns.is_empty() {
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
        for (id, node) in self.nodes() {
            if matches!(node, Node::Unresolved { .. }) {
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

        let mut styles: Vec<(usize, &str)> = Vec::new();
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
        let _ = writeln!(
            w,
            "  style workload fill:{},stroke:{}",
            style::WORKLOAD_FILL,
            if self.resolved() {
                style::WORKLOAD_LINE
            } else {
                style::PROBLEM
            }
        );
        if self
            .nodes()
            .any(|(_, n)| matches!(n, Node::HostInterface { .. } | Node::HostBackend { .. }))
            || !self.host_patterns.is_empty()
        {
            let _ = writeln!(
                w,
                "  style host fill:{},stroke:{}",
                style::HOST_FILL,
                style::HOST_LINE
            );
        }
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
            if !indices.is_empty() {
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
        out
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
