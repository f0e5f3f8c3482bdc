//! `compose check`: everything `compose resolve` checks, then whether this host can serve
//! every backend now (for `postgres`: the variable is set, the login works, the role may
//! read and write its table) and reach every remote (one connection each).

use crate::{profile, report};
use std::path::PathBuf;
use std::process::ExitCode;

/// How long `compose check` waits for each remote to accept a connection.
const REMOTE_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Arguments of `compose check`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file.
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    #[command(flatten)]
    target: profile::Target,
}

/// Resolves the workload against this host and checks its backends; prints every problem
/// at once. Exit status 0 when the host can serve the workload now, 1 when it cannot or
/// the workload does not resolve.
pub fn run(args: Args) -> ExitCode {
    let plugins = profile::plugins();
    let profile = match args.target.apply(profile::profile()) {
        Ok(profile) => profile,
        Err(status) => return status,
    };
    let plan = match args.sources.resolve(&args.workload, &profile) {
        Ok(plan) => plan,
        Err(error) => return report::resolve_error(&error),
    };
    report::diagnostics(&plan.warnings);
    let errors = compose_host::check(&plan, &plugins);
    let unreachable = compose_host::check_remotes(&plan, REMOTE_CONNECT_TIMEOUT);
    for diagnostic in &unreachable {
        report::diagnostic(diagnostic);
    }
    if !errors.is_empty() {
        return report::backends(&plan, &errors);
    }
    if !unreachable.is_empty() {
        eprintln!("error: {} remote(s) cannot be reached", unreachable.len());
        return ExitCode::FAILURE;
    }
    let remotes = match plan.remotes.len() {
        0 => String::new(),
        n => format!(", {n} remote(s) reached"),
    };
    println!(
        "workload `{}`: this host can serve it now ({} backend(s){remotes})",
        plan.name,
        plan.host.backends.len(),
    );
    ExitCode::SUCCESS
}
