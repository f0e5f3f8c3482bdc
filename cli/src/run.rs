//! `compose run`: links a workload at run time with `compose-host` (WASI 0.2, the built-in
//! plugins serving its backends, each component's `wasi:config/store`). With `--invoke`
//! it calls one export and prints its result in WAVE syntax (`compose_host::invoke`'s call
//! syntax); without, it runs the workload's `wasi:cli/run` export as `wasmtime run` runs a
//! command (`compose_host::command`) and exits with the command's status.

use crate::{profile, report};
use compose_host::Call;
use compose_host::EngineOptions;
use compose_host::telemetry::{self, CallTree};
use compose_host::{CommandError, CommandOptions, run_command};
use compose_host::{Host, HostError};
use compose_resolver::Plan;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use wasmtime_wasi::WasiCtx;

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
    /// Pass an environment variable to the components (`NAME=VALUE`, or `NAME` to pass the
    /// host's value).
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,
    /// Preopen the host folder HOST for a command, as GUEST (default: the same path).
    #[arg(long = "dir", value_name = "HOST[::GUEST]", conflicts_with = "invoke")]
    dirs: Vec<String>,
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
/// exits with its own status.
pub fn run(args: Args) -> ExitCode {
    let tree = args.trace.then(CallTree::new);
    if let Err(error) = telemetry::install(tree.clone()) {
        return report::failure(&anyhow::Error::new(error));
    }
    let status = run_traced(&args);
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
            let mut store = host.new_store(wasi(&args.env))?;
            host.invoke(&mut store, args.component.as_deref(), &call)
        });
    match result {
        Ok(Some(result)) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(error) => host_failure(&plan, error),
    }
}

/// Runs the workload's `wasi:cli/run`; its exit status (clamped to 0..=255).
fn command(args: &Args, plan: &Plan, limits: EngineOptions) -> ExitCode {
    let options = CommandOptions {
        program: plan.name.clone(),
        args: args.args.clone(),
        env: args.env.iter().filter_map(|e| env_var(e)).collect(),
        dirs: args.dirs.iter().map(|d| dir(d)).collect(),
        engine: limits,
    };
    match run_command(plan, &profile::plugins(), &options) {
        Ok(status) => ExitCode::from(u8::try_from(status.clamp(0, 255)).unwrap_or(1)),
        Err(CommandError::Host(error)) => host_failure(plan, error),
        Err(error) => report::failure(&anyhow::Error::new(error)),
    }
}

fn host_failure(plan: &Plan, error: HostError) -> ExitCode {
    match error {
        HostError::Backends(errors) => report::backends(plan, &errors),
        error => report::failure(&anyhow::Error::new(error)),
    }
}

/// `NAME=VALUE`, or `NAME` with the host's value (skipped when it has none).
fn env_var(entry: &str) -> Option<(String, String)> {
    match entry.split_once('=') {
        Some((name, value)) => Some((name.to_owned(), value.to_owned())),
        None => Some((entry.to_owned(), std::env::var(entry).ok()?)),
    }
}

/// `HOST::GUEST`, or `HOST` preopened under the same path (as `wasmtime run --dir`).
fn dir(entry: &str) -> (PathBuf, String) {
    match entry.split_once("::") {
        Some((host, guest)) => (PathBuf::from(host), guest.to_owned()),
        None => (PathBuf::from(entry), entry.to_owned()),
    }
}

/// WASI with the host's standard streams and the `--env` variables.
fn wasi(env: &[String]) -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio();
    for (name, value) in env.iter().filter_map(|e| env_var(e)) {
        wasi.env(name, value);
    }
    wasi.build()
}
