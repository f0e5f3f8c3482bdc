//! Rendering diagnostics and errors for a person, on standard error.

use compose_resolver::{Diagnostic, Plan, ResolveError};
use std::collections::HashMap;
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

/// Diagnostics for a person, condensed: at most `per_code` of each code in full, and for
/// the rest one line per code (as compilers do with repeated warnings). Tools read every
/// diagnostic from the JSON instead.
struct Condensed<'a> {
    /// The diagnostics to show in full, in their order.
    shown: Vec<&'a Diagnostic>,
    /// For each code with more than `per_code` diagnostics: the code, how many were left
    /// out, and the first one left out, as an example.
    elided: Vec<(&'static str, usize, &'a Diagnostic)>,
}

/// Condenses `diagnostics`, keeping the first `per_code` of each code in full.
fn condense(diagnostics: &[Diagnostic], per_code: usize) -> Condensed<'_> {
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    let mut condensed = Condensed {
        shown: Vec::new(),
        elided: Vec::new(),
    };
    for d in diagnostics {
        let code = d.problem.code();
        let count = seen.entry(code).or_default();
        *count += 1;
        if *count <= per_code {
            condensed.shown.push(d);
        } else if *count == per_code + 1 {
            condensed.elided.push((code, 1, d));
        } else if let Some(entry) = condensed.elided.iter_mut().find(|(c, _, _)| *c == code) {
            entry.1 += 1;
        }
    }
    condensed
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

/// Prints why the host could not link or run the workload — backends and grants as
/// diagnostics, anything else as an error — and returns exit status 1.
pub fn host_failure(plan: &Plan, error: compose_host::HostError) -> ExitCode {
    match error {
        compose_host::HostError::Backends(errors) => backends(plan, &errors),
        compose_host::HostError::GrantsDiffer(diagnostic)
        | compose_host::HostError::RemoteNotComposable(diagnostic) => {
            self::diagnostic(&diagnostic);
            ExitCode::FAILURE
        }
        error => failure(&anyhow::Error::new(error)),
    }
}

/// Sends the spans still batched for export ([`compose_host::telemetry::Installed::shutdown`]);
/// a warning with the cause when they cannot be sent (the exit status stays the run's).
pub fn flush_spans(installed: compose_host::telemetry::Installed) {
    if let Err(error) = installed.shutdown() {
        eprintln!("warning: {:#}", anyhow::Error::new(error));
    }
}
