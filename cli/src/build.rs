//! `compose build`: resolve a workload and compose it into one component with wac.

use crate::report;
use anyhow::Context;
use compose_resolver::Plan;
use compose_static::{ComposeError, ComposeOptions, Composition};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `compose build`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file.
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    #[command(flatten)]
    host: crate::profile::Host,
    /// Where to write the composed component (`-` for standard output). The file is
    /// replaced atomically: a failed build leaves the previous one, or none.
    #[arg(short, long, value_name = "FILE", required_unless_present = "wat")]
    output: Option<PathBuf>,
    /// Print the composed component as WebAssembly text on standard output.
    #[arg(long)]
    wat: bool,
}

/// Resolves the workload, composes it and writes the component; prints warnings and a
/// summary on standard error. Exit status 0 on success; 1 when the workload does not
/// resolve (nothing is written), when composing fails or when the output cannot be written.
pub fn run(args: Args) -> ExitCode {
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    if to_stdout && args.wat {
        return report::failure(&anyhow::anyhow!(
            "`--wat` and `-o -` would both write to standard output; write the component to a file with `-o FILE`"
        ));
    }
    let (plan, composition) = match compose(&args.workload, &args.sources, &args.host) {
        Ok(composed) => composed,
        Err(status) => return status,
    };
    if args.wat {
        match compose_static::to_wat(&composition.bytes) {
            Ok(text) => println!("{text}"),
            Err(error) => return report::failure(&error.into()),
        }
    }
    let destination = match &args.output {
        None => None,
        Some(_) if to_stdout => {
            let mut stdout = std::io::stdout().lock();
            let written = stdout
                .write_all(&composition.bytes)
                .and_then(|()| stdout.flush())
                .context("cannot write the component to standard output");
            if let Err(error) = written {
                return report::failure(&error);
            }
            Some("standard output".to_owned())
        }
        Some(path) => {
            let written = crate::output::write_atomically(path, &composition.bytes)
                .with_context(|| format!("cannot write the component to `{}`", path.display()));
            if let Err(error) = written {
                return report::failure(&error);
            }
            Some(format!("`{}`", path.display()))
        }
    };
    summary(&plan.name, &composition, destination.as_deref());
    ExitCode::SUCCESS
}

/// What went in and what came out, on standard error.
/// Resolves `workload` (pulling its registry sources as `sources` says, against `host`'s
/// profile), prints its warnings and composes it: what `compose build` and `compose push`
/// share.
///
/// # Errors
/// The exit status after the diagnostics or the error were printed: the workload does
/// not resolve, or composing it fails.
pub(crate) fn compose(
    workload: &Path,
    sources: &crate::sources::Sources,
    host: &crate::profile::Host,
) -> Result<(Plan, Composition), ExitCode> {
    let plan = sources.plan(workload, host)?;
    report::diagnostics(&plan.warnings);
    let options = ComposeOptions::default().with_processor("compose", env!("CARGO_PKG_VERSION"));
    let composition = Composition::build(&plan, &options).map_err(|error| {
        if let ComposeError::GrantsDiffer { diagnostic }
        | ComposeError::RemoteNotComposable { diagnostic } = &error
        {
            report::diagnostic(diagnostic);
            return ExitCode::FAILURE;
        }
        let error = anyhow::Error::new(error).context(format!(
            "cannot compose workload `{}` ({})",
            plan.name,
            workload.display()
        ));
        report::failure(&error)
    })?;
    Ok((plan, composition))
}

fn summary(workload: &str, composition: &Composition, destination: Option<&str>) {
    for import in &composition.imports {
        eprintln!("  import {import}");
    }
    for export in &composition.exports {
        eprintln!("  export {export}");
    }
    let written = destination.map_or_else(String::new, |d| format!(", written to {d}"));
    eprintln!(
        "composed workload `{workload}`: {} component(s) from {} file(s), {} binding(s), {} host import(s) left, {} export(s), {} bytes{written}",
        composition.instances,
        composition.packages,
        composition.bindings,
        composition.imports.len(),
        composition.exports.len(),
        composition.bytes.len(),
    );
}
