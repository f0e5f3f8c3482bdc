//! `compose-graph`: pictures of a workload's wiring, drawn from the resolver's plan.
//!
//! A [`WorkloadGraph`] has the workload's components (name, file, size), the host (the
//! interfaces it serves and its named backends) and the workload's exports as nodes, and
//! one edge per binding, from the importing component to what serves it, labelled with the
//! import (`acme:text/format@0.1.0`; `team-a-postgres: acme:kv/store@0.1.0` for an
//! `implements`-labelled import, drawn dashed in another colour). A workload that does not
//! resolve is still drawn: each broken import is a red edge to a loose end that says why,
//! and [`WorkloadGraph::error`] keeps the resolver's diagnostics.
//!
//! It renders as Graphviz DOT, Mermaid, JSON (a superset of the plan's JSON) and SVG (laid
//! out in-process, no Graphviz install needed). Every output is deterministic.
//!
//! ```
//! use compose_graph::{Format, WorkloadGraph};
//! use compose_resolver::{ComponentDecl, Workload};
//!
//! // `app` imports `acme:kv/store@0.1.0`, which nothing serves.
//! let app = wat::parse_str(r#"(component (import "acme:kv/store@0.1.0" (instance)))"#)?;
//! let workload = Workload::new("demo").with_component("app", ComponentDecl::from_bytes("app.wasm", app));
//!
//! // Drawn all the same, with the broken import as a red loose end.
//! let graph = WorkloadGraph::new(&workload);
//! assert!(!graph.resolved());
//! let dot = graph.render(Format::Dot)?;
//! assert!(dot.contains("unsatisfied: no component exports it"));
//! // `draw_file("workload.toml")` reads and draws a workload file; `Format::Svg` lays it out.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod build;
mod dot;
mod json;
mod mermaid;
mod model;
mod style;
mod svg;
mod wiring;

pub use model::{Edge, EdgeKind, Node, NodeId, Note, WorkloadGraph};
pub use svg::SvgError;

use compose_resolver::{HostProfile, ResolveError, Workload, resolve_with};
use std::path::Path;

/// An output format of [`WorkloadGraph::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Graphviz DOT text ([`WorkloadGraph::to_dot`]).
    #[default]
    Dot,
    /// A Mermaid flowchart ([`WorkloadGraph::to_mermaid`]).
    Mermaid,
    /// JSON for tools ([`WorkloadGraph::to_json`]), pretty-printed.
    Json,
    /// An SVG document ([`WorkloadGraph::to_svg`]).
    Svg,
}

impl WorkloadGraph {
    /// The picture in `format`, as text ending in a newline.
    ///
    /// # Errors
    /// [`SvgError`] if drawing the SVG fails; the text formats never fail.
    pub fn render(&self, format: Format) -> Result<String, SvgError> {
        let mut text = match format {
            Format::Dot => self.to_dot(),
            Format::Mermaid => self.to_mermaid(),
            Format::Json => format!("{:#}", self.to_json()),
            Format::Svg => self.to_svg()?,
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }
}

/// Reads the workload file at `path` and builds its picture ([`WorkloadGraph::new`]),
/// whether or not it resolves.
///
/// # Errors
/// A [`ResolveError`] only when there is nothing to draw: the file cannot be read, is not
/// a valid workload file, or has invalid names ([`Workload::from_file`]).
pub fn draw_file(path: impl AsRef<Path>) -> Result<WorkloadGraph, ResolveError> {
    Ok(WorkloadGraph::new(&Workload::from_file(path)?))
}

/// Reads the workload file at `path` and builds its picture as a host described by
/// `profile` sees it ([`resolve_with`]: its plugins check the backends and only what it
/// serves is left to the host), so that the picture shows the problems `compose resolve`
/// reports for that host.
///
/// # Errors
/// As [`draw_file`].
pub fn draw_file_with(
    path: impl AsRef<Path>,
    profile: &HostProfile,
) -> Result<WorkloadGraph, ResolveError> {
    let workload = Workload::from_file(path)?;
    Ok(WorkloadGraph::from_outcome(resolve_with(
        &workload, profile,
    )))
}
