//! SVG, laid out and drawn in-process from the DOT text.
//!
//! The layout library is `graphviz-pure`, a pure-Rust port of Graphviz 16.1's `dot`
//! engine and SVG renderer (no C, no FFI, `forbid(unsafe_code)`). It was chosen over
//! `layout-rs` (no clusters, edge labels drawn over edges, few releases) and over
//! coordinate-only crates (`rust-sugiyama`, `dagre-rs`: no clusters, no labels, no drawing)
//! because it draws the very DOT that `--format dot` prints, with clusters and edge labels
//! placed without overlap, and gives byte-identical output on every platform, so a picture
//! checked into a repository only changes when the workload does. Its licence is EPL-2.0,
//! Graphviz's own.

use crate::model::WorkloadGraph;

/// Laying out or drawing the SVG failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the workload as SVG: {message}")]
pub struct SvgError {
    /// What the layout engine said.
    pub message: String,
}

impl WorkloadGraph {
    /// The picture as a standalone SVG document, laid out with Graphviz's `dot` algorithm
    /// in-process (no Graphviz install needed). The same workload always gives the same bytes.
    ///
    /// # Errors
    /// [`SvgError`] if the layout engine rejects the DOT text (a bug in this crate).
    pub fn to_svg(&self) -> Result<String, SvgError> {
        graphviz_pure::render_dot(&self.to_dot(), "dot", "svg")
            .map(graphviz_pure::Rendered::into_output)
            .map_err(|e| SvgError {
                message: e.to_string(),
            })
    }
}
