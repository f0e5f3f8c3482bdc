//! Rendering diagnostics and errors for a person, on standard error.

use compose_resolver::{Diagnostic, Plan, ResolveError, condense};
use std::process::ExitCode;

/// How many diagnostics of one code are shown in full; the rest are counted.
const PER_CODE: usize = 5;

/// Prints one diagnostic with miette: message, code, the span in `workload.toml`, help.
pub fn diagnostic(diagnostic: &Diagnostic) {
    eprintln!("{:?}", miette::Report::new(diagnostic.clone()));
}

/// Prints `diagnostics`, at most [`PER_CODE`] of each code in full and one line for the
/// rest of each code.
pub fn diagnostics(diagnostics: &[Diagnostic]) {
    let condensed = condense(diagnostics, PER_CODE);
    for d in condensed.shown {
        diagnostic(d);
    }
    for (code, count, example) in condensed.elided {
        eprintln!("  … and {count} more {code} (like: {example}); `--format json` lists them all");
    }
}

/// Prints the diagnostics of `error` and a summary line; returns exit status 1.
pub fn resolve_error(error: &ResolveError) -> ExitCode {
    diagnostics(&error.diagnostics);
    let errors = error.errors().count();
    let warnings = error.diagnostics.len() - errors;
    eprintln!("error: the workload does not resolve: {errors} error(s), {warnings} warning(s)");
    ExitCode::FAILURE
}

/// Prints an operation's error with its chain of causes; returns exit status 1.
pub fn failure(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

/// Prints every backend of `plan` that cannot be served, each pointing at its declaration
/// in the workload file with its cause and advice, and a summary line; returns exit status 1.
pub fn backends(plan: &Plan, errors: &[compose_host::BackendError]) -> ExitCode {
    for error in errors {
        diagnostic(&error.diagnostic(plan));
    }
    if !errors.is_empty() {
        eprintln!("error: {} backend(s) cannot be served", errors.len());
    }
    ExitCode::FAILURE
}

/// Prints a warning for each cluster the linker left linked per component, with why.
pub fn unfused<T>(workload: &compose_linker::CompiledWorkload<T>) {
    for (members, why) in workload.unfused_clusters() {
        eprintln!(
            "warning: cluster [{}] is linked per component, not fused: {why}",
            members.join(", ")
        );
    }
}
