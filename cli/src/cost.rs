//! `compose cost`: what a workload costs in Wasm instances and memory per call, and how
//! many calls a host holds (compose-cost does the work; this only parses and prints).

use crate::report;
use compose_cost::{Entry, MeasureError, MeasureOptions, Measurement, ReportOptions};
use compose_host::{Call, HostError};
use compose_linker::LinkMode;
use compose_resolver::Plan;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `compose cost`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("input").args(["invoke", "path"]))]
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
    /// Report on this workload export only (full name, or an interface's short name).
    #[arg(long, value_name = "NAME")]
    export: Option<String>,
    /// Report on this link mode only (`per-component`, `clusters`, `composed`), the one
    /// `--measure` runs in (default: every mode reported, `clusters` measured).
    #[arg(long = "link", value_name = "MODE")]
    link: Option<LinkMode>,
    /// Call the entry point for real (`--invoke` or `--path`): each component's
    /// instantiation time, memory and tables, and the resident set per call with
    /// `--hold` calls in flight, which then replaces the prediction.
    #[arg(long, requires = "input")]
    measure: bool,
    /// The call to measure, in `compose run --invoke` syntax.
    #[arg(long, value_name = "CALL", requires = "measure")]
    invoke: Option<String>,
    /// The path of a `GET` to measure through the workload's HTTP handler; to hold
    /// requests in flight, one that stays open (the example's `/sleep/1000`).
    #[arg(long, value_name = "PATH", requires = "measure")]
    path: Option<String>,
    /// How many calls to hold in flight at once when measuring.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    hold: u16,
    /// Measure with Wasmtime's pooling allocator sized for this many stores, as `compose
    /// serve --pool` (its default is 128); 0 allocates on demand, as `compose run`.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "measure")]
    pool: u32,
    #[command(flatten)]
    offer: crate::offer::Flags,
    #[command(flatten)]
    cache: crate::cache::Flag,
    /// End each measured call after this long, e.g. `5s`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
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

/// Resolves the workload, measures it when asked and prints its cost; exit status 0, or
/// 1 when it does not resolve, a component does not parse or the measured call fails.
pub fn run(args: Args) -> ExitCode {
    let plan = match args.sources.plan(&args.workload, &args.host) {
        Ok(plan) => plan,
        Err(status) => return status,
    };
    let measured = match measure(&args, &plan) {
        Ok(measured) => measured,
        Err(MeasureError::Host(error)) => return report::host_failure(&plan, error),
        Err(error) => return report::failure(&anyhow::Error::new(error)),
    };
    let options = ReportOptions {
        memory_bytes: args.memory,
        export: args.export.clone(),
        link: args.link,
        measured,
        compile: Some(args.cache.compile_options()),
    };
    match compose_cost::report(&plan, &options) {
        Ok(cost) => {
            match args.format {
                Format::Text => print!("{cost}"),
                Format::Json => println!("{:#}", serde_json::json!(cost)),
            }
            ExitCode::SUCCESS
        }
        Err(error) => report::failure(&anyhow::Error::new(error)),
    }
}

/// The measurement `--measure` asks for, if it does.
fn measure(args: &Args, plan: &Plan) -> Result<Option<Measurement>, MeasureError> {
    let entry = match (&args.invoke, &args.path) {
        (Some(call), _) => Entry::Call {
            call: Call::parse(call).map_err(HostError::from)?,
            component: None,
        },
        (None, Some(path)) => Entry::Http { path: path.clone() },
        (None, None) => return Ok(None),
    };
    let options = MeasureOptions {
        entry,
        link: args.link.unwrap_or_default(),
        held: usize::from(args.hold),
        offer: args.offer.offer(plan),
        timeout: args.timeout,
        pooling: (args.pool > 0).then_some(args.pool),
        compile: args.cache.compile_options(),
    };
    compose_cost::measure(plan, &options).map(Some)
}
