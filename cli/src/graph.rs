//! `compose graph`: draw a workload's wiring as DOT, Mermaid, JSON or SVG.

use crate::report;
use anyhow::Context;
use compose_graph::WorkloadGraph;
use compose_resolver::resolve_with;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `compose graph`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file.
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    #[command(flatten)]
    host: crate::profile::Host,
    /// The output format; without it, the extension of `-o` (`.dot`/`.gv`, `.mmd`, `.json`,
    /// `.svg`), else dot.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the picture to this file (atomically: a temporary file in the same folder,
    /// then renamed) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Graphviz DOT text.
    Dot,
    /// A Mermaid flowchart, for Markdown.
    Mermaid,
    /// JSON for tools: the plan's JSON plus what a failing workload needs.
    Json,
    /// An SVG picture, laid out in-process (no Graphviz needed).
    Svg,
}

impl From<Format> for compose_graph::Format {
    fn from(format: Format) -> Self {
        match format {
            Format::Dot => Self::Dot,
            Format::Mermaid => Self::Mermaid,
            Format::Json => Self::Json,
            Format::Svg => Self::Svg,
        }
    }
}

/// Draws the workload as `compose resolve` sees it (its `[host]` as declared, or with
/// `--host compose` as compose-host serves it), whether or not it resolves, and prints or writes the picture.
/// Exit status 0 when the workload resolves; 1 when it does not (the picture is still
/// written, with the broken imports in red, and the diagnostics are printed on standard
/// error), when the workload file cannot be read, or when the output cannot be written.
pub fn run(args: Args) -> ExitCode {
    let profile = match args.host.profile() {
        Ok(profile) => profile,
        Err(status) => return status,
    };
    let graph = match args.sources.load(&args.workload) {
        Ok(workload) => WorkloadGraph::from_outcome(resolve_with(&workload, &profile)),
        Err(error) => return report::resolve_error(&error),
    };
    let format = args
        .format
        .or_else(|| args.output.as_deref().and_then(format_of))
        .unwrap_or(Format::Dot);
    if let Err(error) = output(&graph, format, args.output.as_deref()) {
        return report::failure(&error);
    }
    match graph.error() {
        Some(error) => report::resolve_error(error),
        None => {
            if let Some(plan) = graph.plan() {
                report::diagnostics(&plan.warnings);
            }
            ExitCode::SUCCESS
        }
    }
}

fn output(graph: &WorkloadGraph, format: Format, path: Option<&Path>) -> anyhow::Result<()> {
    let text = graph.render(format.into())?;
    match path {
        Some(path) => crate::output::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", path.display())),
        None => io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write to standard output"),
    }
}

/// The format an output file's extension names, if any.
fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "dot" | "gv" => Some(Format::Dot),
        "mmd" | "mermaid" => Some(Format::Mermaid),
        "json" => Some(Format::Json),
        "svg" => Some(Format::Svg),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_extension_names_the_format() {
        assert!(matches!(
            format_of(Path::new("a/shop.svg")),
            Some(Format::Svg)
        ));
        assert!(matches!(format_of(Path::new("shop.gv")), Some(Format::Dot)));
        assert!(matches!(
            format_of(Path::new("shop.mmd")),
            Some(Format::Mermaid)
        ));
        assert!(matches!(
            format_of(Path::new("shop.json")),
            Some(Format::Json)
        ));
        assert!(format_of(Path::new("shop.txt")).is_none());
        assert!(format_of(Path::new("shop")).is_none());
    }
}
