//! Colours, font and number formats shared by the DOT (and so SVG) and Mermaid pictures.

/// The font: Graphviz measures it with its built-in Helvetica metrics, and browsers draw it
/// with Helvetica or Arial, whose widths match.
pub(crate) const FONT: &str = "Helvetica";
pub(crate) const TEXT: &str = "#202124";
pub(crate) const WORKLOAD_FILL: &str = "#f8f9fa";
pub(crate) const WORKLOAD_LINE: &str = "#9aa0a6";
pub(crate) const COMPONENT_FILL: &str = "#e8f0fe";
pub(crate) const COMPONENT_LINE: &str = "#1967d2";
pub(crate) const EXPORT_FILL: &str = "#e6f4ea";
pub(crate) const EXPORT_LINE: &str = "#188038";
pub(crate) const HOST_FILL: &str = "#fef7e0";
pub(crate) const HOST_LINE: &str = "#b06000";
pub(crate) const HOST_NODE_FILL: &str = "#ffffff";
pub(crate) const BACKEND_FILL: &str = "#feefc3";
pub(crate) const BACKEND_LINE: &str = "#b06000";
pub(crate) const REMOTE_FILL: &str = "#f3e8fd";
pub(crate) const REMOTE_LINE: &str = "#8430ce";
/// Plain (interface-named) imports.
pub(crate) const PLAIN: &str = "#3c4043";
/// `implements`-labelled imports.
pub(crate) const LABELLED: &str = "#8430ce";
pub(crate) const PROBLEM: &str = "#d93025";
pub(crate) const PROBLEM_FILL: &str = "#fce8e6";

/// The facts shown under a component's file: its size and whether it is eager
/// (`30.5 KiB, eager`); `None` when there are none.
pub(crate) fn component_facts(size: Option<usize>, eager: bool) -> Option<String> {
    let facts: Vec<String> = size
        .map(self::size)
        .into_iter()
        .chain(eager.then(|| "eager".to_owned()))
        .collect();
    (!facts.is_empty()).then(|| facts.join(", "))
}

/// A size for a person: `812 B`, `30.5 KiB`, `1.2 MiB`.
pub(crate) fn size(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / KIB / KIB)
    }
}
