//! Graphviz DOT: the workload in one cluster (with a dashed box around the members of each
//! of its own clusters), the host in another, the broken imports as red loose ends. The SVG renderer lays out this same text.

use crate::model::{EdgeKind, Node, NodeId, WorkloadGraph};
use crate::style;
use compose_resolver::Instantiation;
use std::fmt::Write;

impl WorkloadGraph {
    /// The picture as Graphviz DOT text (`dot -Tsvg` draws it). The same workload always
    /// gives the same text.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        let font = style::FONT;
        let _ = writeln!(w, "digraph {} {{", quote(&self.name));
        let _ = writeln!(
            w,
            "  graph [fontname={font:?}, fontsize=12, rankdir=LR, nodesep=0.5, ranksep=0.9, newrank=true];"
        );
        let _ = writeln!(
            w,
            "  node [fontname={font:?}, fontsize=11, shape=box, style=\"rounded,filled\", penwidth=1.2];"
        );
        let _ = writeln!(w, "  edge [fontname={font:?}, fontsize=9, arrowsize=0.7];");
        let mut workload = Vec::new();
        let mut host = Vec::new();
        let mut outside = Vec::new();
        for (id, node) in self.nodes() {
            match node {
                Node::Component { .. } | Node::Export { .. } => workload.push(id),
                Node::HostInterface { .. } | Node::HostBackend { .. } => host.push(id),
                Node::Unresolved { .. } | Node::Remote { .. } => outside.push(id),
            }
        }
        self.write_dot_workload(w, &workload);
        self.write_dot_host(w, &host);
        for id in &outside {
            self.write_dot_node(w, *id);
        }
        self.write_dot_notes(w);
        self.write_dot_edges(w);
        let _ = writeln!(w, "}}");
        out
    }

    /// The workload's cluster: its components and exports.
    fn write_dot_workload(&self, w: &mut String, nodes: &[NodeId]) {
        let status = if self.resolved() {
            ""
        } else {
            " (does not resolve)"
        };
        let _ = writeln!(w, "  subgraph cluster_workload {{");
        let _ = writeln!(
            w,
            "    graph [label={}, style=\"rounded,filled\", fillcolor={:?}, color={:?}, fontcolor={:?}];",
            quote(&format!("workload {}{status}", self.name)),
            style::WORKLOAD_FILL,
            if self.resolved() {
                style::WORKLOAD_LINE
            } else {
                style::PROBLEM
            },
            style::TEXT,
        );
        let clusters = self.clusters();
        for (i, (name, members)) in clusters.iter().enumerate() {
            let _ = writeln!(w, "    subgraph cluster_fused_{i} {{");
            let _ = writeln!(
                w,
                "      graph [label={}, style=\"rounded,dashed\", color={:?}, fontcolor={:?}];",
                quote(&format!("cluster {name}")),
                style::WORKLOAD_LINE,
                style::TEXT,
            );
            for id in members {
                self.write_dot_node(w, *id);
            }
            let _ = writeln!(w, "    }}");
        }
        let clustered = |id: &NodeId| clusters.iter().any(|(_, m)| m.contains(id));
        for id in nodes.iter().filter(|id| !clustered(id)) {
            self.write_dot_node(w, *id);
        }
        let _ = writeln!(w, "  }}");
    }

    /// The host's cluster, when it serves anything: its interfaces and backends.
    fn write_dot_host(&self, w: &mut String, nodes: &[NodeId]) {
        if nodes.is_empty() && self.host_patterns.is_empty() {
            return;
        }
        let mut label = String::from("host");
        if !self.host_patterns.is_empty() {
            let _ = write!(label, "\nserves {}", self.host_patterns.join(", "));
        }
        let _ = writeln!(w, "  subgraph cluster_host {{");
        // The label below the host's nodes, out of the way of the edges coming in.
        let _ = writeln!(
            w,
            "    graph [labelloc=b, label={}, style=\"rounded,filled\", fillcolor={:?}, color={:?}, fontcolor={:?}];",
            quote(&label),
            style::HOST_FILL,
            style::HOST_LINE,
            style::TEXT,
        );
        if nodes.is_empty() {
            // An empty cluster is not drawn; keep the host visible.
            let _ = writeln!(w, "    \"host\" [shape=point, style=invis];");
        }
        for id in nodes {
            self.write_dot_node(w, *id);
        }
        let _ = writeln!(w, "  }}");
    }

    /// The problems not drawn in place, in one note.
    fn write_dot_notes(&self, w: &mut String) {
        if self.notes.is_empty() {
            return;
        }
        let lines: Vec<String> = self
            .notes
            .iter()
            .map(|n| format!("{}: {}", severity(n.severity), n.message.replace('`', "")))
            .collect();
        let _ = writeln!(
            w,
            "  \"notes\" [shape=note, style=filled, fillcolor={:?}, color={:?}, fontcolor={:?}, label={}];",
            style::PROBLEM_FILL,
            style::PROBLEM,
            style::PROBLEM,
            quote_lines(&lines),
        );
    }

    fn write_dot_edges(&self, w: &mut String) {
        for (from, to, edge) in self.edges() {
            let (color, line, width, head) = match &edge.kind {
                EdgeKind::Problem { .. } => (style::PROBLEM, "solid", 1.6, "tee"),
                EdgeKind::Export { .. } => (style::EXPORT_LINE, "solid", 1.2, "normal"),
                EdgeKind::Binding(_) if edge.implements.is_some() => {
                    (style::LABELLED, "dashed", 1.6, "normal")
                }
                EdgeKind::Binding(_) => (style::PLAIN, "solid", 1.2, "normal"),
            };
            let label = edge.label();
            // An empty row under the text keeps a horizontal edge from striking through it.
            let label = if label.is_empty() {
                String::new()
            } else {
                format!(
                    ", label=<<table border=\"0\" cellpadding=\"0\" cellspacing=\"0\"><tr><td>{}</td></tr><tr><td height=\"5\"></td></tr></table>>",
                    html(&label)
                )
            };
            let _ = writeln!(
                w,
                "  {} -> {} [color={color:?}, fontcolor={color:?}, style={line}, penwidth={width}, arrowhead={head}, tooltip={}{label}];",
                self.dot_id(from),
                self.dot_id(to),
                quote(&edge.explanation()),
            );
        }
    }

    /// A readable, unique DOT id: the component's name, `export:<name>`, `host:<interface>`,
    /// `backend:<label>`, `unresolved:<n>`.
    fn dot_id(&self, id: NodeId) -> String {
        quote(&match self.node(id) {
            Node::Component { name, .. } => name.clone(),
            Node::Export { name } => format!("export:{name}"),
            Node::HostInterface { name } => format!("host:{name}"),
            Node::HostBackend { label, .. } => format!("backend:{label}"),
            Node::Unresolved { .. } => format!("unresolved:{}", id.index()),
            Node::Remote { name, .. } => format!("remote:{name}"),
        })
    }

    fn write_dot_node(&self, w: &mut String, id: NodeId) {
        let node_id = self.dot_id(id);
        let attrs = match self.node(id) {
            Node::Component {
                name,
                file,
                size,
                instantiate,
                problem,
            } => {
                let mut details = vec![file.clone()];
                details.extend(style::component_facts(
                    *size,
                    *instantiate == Instantiation::Eager,
                ));
                let (fill, line) = match problem {
                    Some(_) => (style::PROBLEM_FILL, style::PROBLEM),
                    None => (style::COMPONENT_FILL, style::COMPONENT_LINE),
                };
                let mut label = format!("<<b>{}</b>", html(name));
                for d in &details {
                    let _ = write!(label, "<br/><font point-size=\"9\">{}</font>", html(d));
                }
                if let Some(problem) = problem {
                    let _ = write!(
                        label,
                        "<br/><font point-size=\"9\" color=\"{}\">{}</font>",
                        style::PROBLEM,
                        html(&problem.replace('`', ""))
                    );
                }
                label.push('>');
                format!("fillcolor={fill:?}, color={line:?}, margin=\"0.15,0.06\", label={label}")
            }
            Node::Export { name } => format!(
                "shape=cds, style=filled, fillcolor={:?}, color={:?}, margin=\"0.12,0.04\", label={}",
                style::EXPORT_FILL,
                style::EXPORT_LINE,
                quote(name)
            ),
            Node::HostInterface { name } => format!(
                "fillcolor={:?}, color={:?}, label={}",
                style::HOST_NODE_FILL,
                style::HOST_LINE,
                quote(name)
            ),
            Node::HostBackend { label, interface } => format!(
                "shape=cylinder, style=filled, fillcolor={:?}, color={:?}, label=<<b>{}</b><br/><font point-size=\"9\">backend: {}</font>>",
                style::BACKEND_FILL,
                style::BACKEND_LINE,
                html(label),
                html(interface)
            ),
            Node::Remote { name, url } => format!(
                "shape=box3d, style=filled, fillcolor={:?}, color={:?}, label=<<b>{}</b><br/><font point-size=\"9\">remote: {}</font>>",
                style::REMOTE_FILL,
                style::REMOTE_LINE,
                html(name),
                html(url)
            ),
            Node::Unresolved { reason } => format!(
                "shape=box, style=\"dashed,rounded\", color={:?}, fontcolor={:?}, fontsize=9, label={}",
                style::PROBLEM,
                style::PROBLEM,
                quote(reason)
            ),
        };
        let indent = if matches!(self.node(id), Node::Unresolved { .. } | Node::Remote { .. }) {
            "  "
        } else {
            "    "
        };
        let _ = writeln!(w, "{indent}{node_id} [{attrs}];");
    }
}

/// `error` or `warning`.
pub(crate) fn severity(severity: compose_resolver::Severity) -> &'static str {
    match severity {
        compose_resolver::Severity::Error => "error",
        compose_resolver::Severity::Warning => "warning",
    }
}

/// A DOT quoted string; line breaks centre the lines.
fn quote(text: &str) -> String {
    quote_with(text, "\\n")
}

/// A DOT quoted string of left-aligned lines.
fn quote_lines(lines: &[String]) -> String {
    quote_with(&format!("{}\n", lines.join("\n")), "\\l")
}

fn quote_with(text: &str, newline: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str(newline),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a DOT HTML-like label.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
