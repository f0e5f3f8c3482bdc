//! `compose resolve`: resolve a workload and print the plan.

use crate::report;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `compose resolve`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file.
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    #[command(flatten)]
    host: crate::profile::Host,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// For a person.
    Text,
    /// Stable JSON for tools.
    Json,
}

/// Resolves the workload and prints the plan on standard output (with `--format json`, also
/// for a failing workload: the partial plan and the problems) and diagnostics on standard
/// error; exit status 0 when it resolves, 1 when it does not. Writes nothing.
pub fn run(args: Args) -> ExitCode {
    let profile = match args.host.profile() {
        Ok(profile) => profile,
        Err(status) => return status,
    };
    let plan = match args.sources.resolve(&args.workload, &profile) {
        Ok(plan) => plan,
        Err(error) => {
            if let Format::Json = args.format {
                println!("{:#}", error.to_json());
            }
            return report::resolve_error(&error);
        }
    };
    report::diagnostics(&plan.warnings);
    match args.format {
        Format::Text => println!("{plan}"),
        Format::Json => println!("{:#}", plan.to_json()),
    }
    ExitCode::SUCCESS
}
