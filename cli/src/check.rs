//! `compose check`: everything `compose resolve` checks, then whether this host can serve
//! every backend now (for `postgres`: the variable is set, the login works, the role may
//! read and write its table).

use crate::report;
use compose_host::{HostSection, HostState, Plugins, check};
use compose_resolver::{Workload, resolve};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `compose check`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file.
    workload: PathBuf,
}

/// Resolves the workload and checks its host; prints every problem at once. Exit status
/// 0 when the host can serve the workload now, 1 when it cannot or it does not resolve.
pub fn run(args: Args) -> ExitCode {
    let workload = match Workload::from_file(&args.workload) {
        Ok(workload) => workload,
        Err(error) => return report::resolve_error(&error),
    };
    let plan = match resolve(&workload) {
        Ok(plan) => plan,
        Err(error) => return report::resolve_error(&error),
    };
    for warning in &plan.warnings {
        report::diagnostic(warning);
    }
    let host = HostSection::from_workload(&workload);
    let checked = check(&host, &Plugins::<HostState>::builtin());
    if checked.is_ok() {
        println!(
            "workload `{}`: the host can serve it now: {} backend(s), {} host interface pattern(s)",
            plan.name,
            host.backends.len(),
            host.interfaces.len()
        );
        return ExitCode::SUCCESS;
    }
    for interface in &checked.unserved_interfaces {
        eprintln!(
            "error: the host does not serve `{interface}`; it serves {}",
            compose_host::interfaces::served()
        );
    }
    report::backends(&checked.backends)
}
