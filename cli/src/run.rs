//! `compose run`: links a workload at run time with `compose-host` (WASI 0.2, the built-in
//! plugins serving its backends, each component's `wasi:config/store` and
//! `wasi:logging`, whose calls go to stderr, one line each). With `--invoke`
//! it calls one export and prints its result in WAVE syntax (`compose_host::invoke`'s call
//! syntax); without, it runs the workload's `wasi:cli/run` export as `wasmtime run` runs a
//! command (`compose_host::command`) and exits with the command's status.

use crate::{profile, report};
use compose_host::Call;
use compose_host::EngineOptions;
use compose_host::telemetry::{self, CallTree, GuestLog, Otlp, Telemetry};
use compose_host::{CommandError, CommandOptions, run_command};
use compose_host::{Host, HostError};
use compose_resolver::Plan;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `compose run`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file (`workload.toml`).
    workload: PathBuf,
    #[command(flatten)]
    sources: crate::sources::Sources,
    /// The call: `name(args)`, `interface#name(args)` or `interface.name(args)`, with WAVE
    /// values (`"text"`, `42`, `some("x")`, `[1, 2]`, `{field: 1}`). Without it the
    /// workload's `wasi:cli/run` export runs as a command.
    #[arg(long, value_name = "CALL")]
    invoke: Option<String>,
    /// Call an export of this component directly, rather than an export of the workload.
    #[arg(long, value_name = "NAME", requires = "invoke")]
    component: Option<String>,
    #[command(flatten)]
    offer: crate::offer::Flags,
    /// End the call (or the command) after this long, e.g. `500ms`, `2s`, `1m`: an infinite
    /// loop in any component ends with an error naming it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
    #[command(flatten)]
    link: profile::Link,
    #[command(flatten)]
    cache: crate::cache::Flag,
    /// After the result, print the call tree of the run on stderr: each instantiation and
    /// call between components indented under its caller, with how long it took.
    #[arg(long)]
    trace: bool,
    /// The command's arguments (after `--`).
    #[arg(last = true, value_name = "ARGS", conflicts_with = "invoke")]
    args: Vec<String>,
}

/// Runs the call or the command: exit status 0 on success, 1 on any error (a backend that
/// cannot be served fails before anything runs, as `compose check` reports it); a command
/// exits with its own status. Spans are exported when the environment asks for it
/// ([`Otlp::from_env`]), and sent before it returns.
pub fn run(args: Args) -> ExitCode {
    let tree = args.trace.then(CallTree::new);
    let installed = match telemetry::install(Telemetry {
        tree: tree.clone(),
        otlp: Otlp::from_env(),
        guests: Some(GuestLog::default()),
    }) {
        Ok(installed) => installed,
        Err(error) => return report::failure(&anyhow::Error::new(error)),
    };
    let status = run_traced(&args);
    report::flush_spans(installed);
    if let Some(tree) = tree {
        eprint!("{}", tree.render());
    }
    status
}

fn run_traced(args: &Args) -> ExitCode {
    let plugins = profile::plugins();
    let plan = match args.sources.resolve(&args.workload, &profile::profile()) {
        Ok(plan) => plan,
        Err(error) => return report::resolve_error(&error),
    };
    report::diagnostics(&plan.warnings);
    let limits = EngineOptions {
        timeout: args.timeout,
        pooling: None,
        link: args.link.mode,
        compile: args.cache.compile_options(),
        ..EngineOptions::default()
    };
    let call = args.invoke.as_deref().unwrap_or(compose_host::RUN);
    let _span = telemetry::run_span(&plan.name, call).entered();
    let Some(invoke) = &args.invoke else {
        return command(args, &plan, limits);
    };
    let result = Call::parse(invoke)
        .map_err(HostError::from)
        .and_then(|call| {
            let host = Host::link_with(&plan, &plugins, &limits)?;
            report::unfused(host.workload());
            let mut store = host.new_store(&args.offer.offer(&plan))?;
            host.invoke(&mut store, args.component.as_deref(), &call)
        });
    match result {
        Ok(Some(result)) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(error) => report::host_failure(&plan, error),
    }
}

/// Runs the workload's `wasi:cli/run`; its exit status (clamped to 0..=255).
fn command(args: &Args, plan: &Plan, limits: EngineOptions) -> ExitCode {
    let offer = args.offer.offer(plan);
    let options = CommandOptions {
        program: plan.name.clone(),
        args: args.args.clone(),
        env: offer.env,
        dirs: offer.dirs,
        engine: limits,
    };
    match run_command(plan, &profile::plugins(), &options) {
        Ok(status) => ExitCode::from(u8::try_from(status.clamp(0, 255)).unwrap_or(1)),
        Err(CommandError::Host(error)) => report::host_failure(plan, error),
        Err(error) => report::failure(&anyhow::Error::new(error)),
    }
}
