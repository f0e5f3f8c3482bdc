//! `compose run`: links a workload at run time with `compose-host` (WASI 0.2, the built-in
//! plugins serving its backends, each component's `wasi:config/store`), calls one export
//! and prints its result in WAVE syntax. The call syntax is `compose_host::invoke`'s.

use crate::{profile, report};
use compose_host::invoke::Call;
use compose_host::{Host, HostError};
use compose_resolver::resolve_file_with;
use std::path::PathBuf;
use std::process::ExitCode;
use wasmtime_wasi::WasiCtx;

/// Arguments of `compose run`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file (`workload.toml`).
    workload: PathBuf,
    /// The call: `name(args)`, `interface#name(args)` or `interface.name(args)`, with WAVE
    /// values (`"text"`, `42`, `some("x")`, `[1, 2]`, `{field: 1}`).
    #[arg(long, value_name = "CALL")]
    invoke: String,
    /// Call an export of this component directly, rather than an export of the workload.
    #[arg(long, value_name = "NAME")]
    component: Option<String>,
    /// Pass an environment variable to the components (`NAME=VALUE`, or `NAME` to pass the
    /// host's value).
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,
}

/// Runs the call; exit status 0 on success, 1 on any error (a backend that cannot be
/// served fails before anything runs, as `compose check` reports it).
pub fn run(args: Args) -> ExitCode {
    let plugins = profile::plugins();
    let plan = match resolve_file_with(&args.workload, &plugins.profile()) {
        Ok(plan) => plan,
        Err(error) => return report::resolve_error(&error),
    };
    report::diagnostics(&plan.warnings);
    let result = Call::parse(&args.invoke)
        .map_err(HostError::from)
        .and_then(|call| {
            let host = Host::link(&plan, &plugins)?;
            let mut store = host.new_store(wasi(&args.env))?;
            host.invoke(&mut store, args.component.as_deref(), &call)
        });
    match result {
        Ok(Some(result)) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(HostError::Backends(errors)) => report::backends(&errors),
        Err(error) => report::failure(&anyhow::Error::new(error)),
    }
}

/// WASI with the host's standard streams and the `--env` variables.
fn wasi(env: &[String]) -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio();
    for entry in env {
        match entry.split_once('=') {
            Some((name, value)) => wasi.env(name, value),
            None => match std::env::var(entry) {
                Ok(value) => wasi.env(entry, value),
                Err(_) => &mut wasi,
            },
        };
    }
    wasi.build()
}
