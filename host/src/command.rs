//! `compose run` without `--invoke`: runs a workload that exports `wasi:cli/run@0.2.x` (or
//! WASI 0.3's `wasi:cli/run@0.3.x`, an async function) as `wasmtime run` runs a command —
//! arguments, environment, standard input and output, preopened directories — and returns
//! its exit status.

use crate::define::define_host;
use crate::engine::{EngineOptions, HostEngine};
use crate::error::HostError;
use crate::grants::Offer;
use crate::host::HostState;
use crate::plugin::Plugins;
use compose_linker::{CallError, CompiledWorkload, WorkloadFunc};
use compose_resolver::{Plan, names_match};
use std::path::PathBuf;
use wasmtime::Store;
use wasmtime::component::Val;
use wasmtime_wasi::I32Exit;

/// The interface a command exports (any 0.2.x release).
pub const RUN: &str = "wasi:cli/run@0.2.0";

/// The interface a WASI 0.3 command exports (any 0.3.x release): `run` is async.
pub const RUN_P3: &str = "wasi:cli/run@0.3.0";

/// What a command runs with.
#[derive(Debug, Clone, Default)]
pub struct CommandOptions {
    /// The program's name: the first argument the command sees, as in `wasmtime run`.
    pub program: String,
    /// The arguments after it.
    pub args: Vec<String>,
    /// Environment variables, seen by the components granted them.
    pub env: Vec<(String, String)>,
    /// Host folders by guest path, replacing the granted ones ([`Offer::dirs`]).
    pub dirs: Vec<(PathBuf, String)>,
    /// The link mode and the deadline of the run (and no pooling: one store).
    pub engine: EngineOptions,
}

/// Why a command could not run (its own failure is an exit status, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The workload exports no `wasi:cli/run@0.2.x` (nor `@0.3.x`).
    #[error(
        "workload `{workload}` does not export {RUN} (or another 0.2.x release) or {RUN_P3}, so it is not a command; its exports: {}; call one of their functions with `compose run WORKLOAD --invoke 'INTERFACE#FUNCTION(ARGS)'`{}",
        if exports.is_empty() { "none".to_string() } else { exports.join(", ") },
        if exports.iter().any(|e| e.starts_with("wasi:http/incoming-handler@")) {
            ", or serve it with `compose serve WORKLOAD`"
        } else {
            ""
        }
    )]
    NotACommand {
        /// The workload.
        workload: String,
        /// What it exports.
        exports: Vec<String>,
    },
    /// Linking failed (a backend that cannot be served, an import the host does not
    /// serve), an eager component failed to instantiate, or the command trapped, passed
    /// its deadline or hit a component's memory cap ([`HostError::Call`] names it).
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Links `plan` with WASI (0.2, and 0.3 for a workload with async functions), its backends
/// served by `plugins` and each component's configuration ([`define_host`]), and runs its
/// `wasi:cli/run` export (0.2.x, or WASI 0.3's async 0.3.x) with `options`. Returns the
/// command's exit status: 0 when `run` returns `ok`, 1 for `err`, or the status it exits
/// with (`wasi:cli/exit`). A workload with async functions runs on a tokio runtime of its
/// own, so call this from a thread that is not driving one (as `compose run` does), e.g.
/// `tokio::task::spawn_blocking`.
///
/// # Errors
/// [`CommandError::NotACommand`] for a workload without `wasi:cli/run` (listing its
/// exports); [`CommandError::Host`] for set-up errors and when the command traps, passes
/// its deadline or hits a component's memory cap (naming the component).
pub fn run_command(
    plan: &Plan,
    plugins: &Plugins<HostState>,
    options: &CommandOptions,
) -> Result<i32, CommandError> {
    let exports = |run: &str| plan.exports.iter().any(|e| names_match(run, &e.name));
    let run = match (exports(RUN), exports(RUN_P3)) {
        (true, _) => RUN,
        (false, true) => RUN_P3,
        (false, false) => {
            return Err(CommandError::NotACommand {
                workload: plan.name.clone(),
                exports: plan.exports.iter().map(|e| e.name.clone()).collect(),
            });
        }
    };
    let engine = HostEngine::new(plan, &options.engine)?;
    let mut linker = engine.linker::<HostState>(plan);
    define_host(&mut linker, plan, plugins)?;
    let workload = linker
        .compile(|state| &mut state.workload)
        .map_err(HostError::from)?;
    let func = workload.func(Some(run), "run").map_err(HostError::from)?;
    let (wasi, own) = crate::grants::contexts(plan, &offer(options)).map_err(HostError::from)?;
    let state = HostState::new(&workload, wasi, own);
    let mut store = Store::new(engine.engine(), state);
    engine.arm(&workload, &mut store);
    if workload.is_async() {
        crate::runtime::block_on(workload.instantiate_async(&mut store))?;
    } else {
        workload.instantiate(&mut store).map_err(HostError::from)?;
    }
    call_run(&workload, &mut store, &func)
}

/// Calls the command's `run` in `store`: its exit status (0 for `ok`, 1 for `err`, or what
/// it passed to `wasi:cli/exit`).
fn call_run(
    workload: &CompiledWorkload<HostState>,
    store: &mut Store<HostState>,
    run: &WorkloadFunc,
) -> Result<i32, CommandError> {
    let mut result = [Val::Bool(false)];
    let called = if workload.is_async() {
        // WASI 0.3 (or a WASI 0.2 command among async components, or one linked for
        // async execution): on a runtime of its own, for WASI 0.3's streams and WASI
        // 0.2's async I/O.
        crate::runtime::current_thread()?.block_on(workload.call_async(
            store,
            run,
            &[],
            &mut result,
        ))
    } else {
        workload.call(store, run, &[], &mut result)
    };
    match called {
        Ok(()) => Ok(match result[0] {
            Val::Result(Ok(_)) => 0,
            _ => 1,
        }),
        Err(error) => exit_status(&error).ok_or_else(|| HostError::from(error).into()),
    }
}

/// The status of `wasi:cli/exit` if that is what ended the call (Wasmtime reports an exit
/// as an error, [`I32Exit`], among the causes).
fn exit_status(error: &CallError) -> Option<i32> {
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        if let Some(I32Exit(status)) = e.downcast_ref::<I32Exit>() {
            return Some(*status);
        }
        cause = e.source();
    }
    None
}

/// What a command's components are offered: the program name and arguments, the
/// environment, the host's standard input, the directories.
fn offer(options: &CommandOptions) -> Offer {
    Offer {
        env: options.env.clone(),
        dirs: options.dirs.clone(),
        args: std::iter::once(&options.program)
            .chain(&options.args)
            .cloned()
            .collect(),
        stdin: true,
    }
}
