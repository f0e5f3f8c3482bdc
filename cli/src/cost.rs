//! `compose cost`: what a workload costs in Wasm instances and memory per call, and how
//! many calls a host holds (compose-cost does the work; this only parses and prints).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `compose cost`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file.
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    #[command(flatten)]
    host: crate::profile::Host,
    /// The host's memory, with a unit (B, KiB, MiB, GiB).
    #[arg(long, default_value = "8GiB", value_parser = compose_resolver::parse_size)]
    memory: u64,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// A table per entry point, for a person.
    Text,
    /// JSON for tools.
    Json,
}

/// Resolves the workload and prints its cost; exit status 0, or 1 when it does not
/// resolve or a component does not parse.
pub fn run(args: Args) -> ExitCode {
    let plan = match args.sources.plan(&args.workload, &args.host) {
        Ok(plan) => plan,
        Err(status) => return status,
    };
    match compose_cost::report(&plan, args.memory) {
        Ok(cost) => {
            match args.format {
                Format::Text => print!("{cost}"),
                Format::Json => println!("{:#}", serde_json::json!(cost)),
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
