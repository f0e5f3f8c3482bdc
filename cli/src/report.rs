//! Rendering diagnostics and errors for a person, on standard error.

use compose_resolver::{Diagnostic, ResolveError};
use std::process::ExitCode;

/// Prints one diagnostic with miette: message, code, the span in `workload.toml`, help.
pub fn diagnostic(diagnostic: &Diagnostic) {
    eprintln!("{:?}", miette::Report::new(diagnostic.clone()));
}

/// Prints every diagnostic of `error` and a summary line; returns exit status 1.
pub fn resolve_error(error: &ResolveError) -> ExitCode {
    for d in &error.diagnostics {
        diagnostic(d);
    }
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

/// Prints every backend that cannot be served, each with its label, cause and advice,
/// and a summary line; returns exit status 1.
pub fn backends(errors: &[compose_host::BackendError]) -> ExitCode {
    for error in errors {
        eprintln!("error: {error}");
        if let Some(help) = &error.help {
            eprintln!("  help: {help}");
        }
    }
    if !errors.is_empty() {
        eprintln!("error: {} backend(s) cannot be served", errors.len());
    }
    ExitCode::FAILURE
}
