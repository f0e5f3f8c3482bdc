//! `compose run` without `--invoke`: runs a workload that exports `wasi:cli/run@0.2.x` as
//! `wasmtime run` runs a command — arguments, environment, standard input and output,
//! preopened directories — and returns its exit status.

use crate::limits::{LimitOptions, LimitedEngine};
use compose_linker::{CallError, WorkloadLinker, WorkloadState};
use compose_resolver::Plan;
use std::path::PathBuf;
use wasmtime::Store;
use wasmtime::component::{ResourceTable, Val};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxView, WasiView};

/// The interface a command exports (any 0.2.x release).
pub const RUN: &str = "wasi:cli/run@0.2.0";

/// What a command runs with.
#[derive(Debug, Clone, Default)]
pub struct CommandOptions {
    /// The program's name: the first argument the command sees, as in `wasmtime run`.
    pub program: String,
    /// The arguments after it.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Preopened directories: `(host folder, guest path)`, read and write.
    pub dirs: Vec<(PathBuf, String)>,
    /// The deadline of the run (and no pooling: one store).
    pub limits: LimitOptions,
}

/// The store data of a command: the workload's instances, WASI and the resource table.
pub struct CommandState {
    /// The workload's instances.
    pub workload: WorkloadState,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl CommandState {
    /// The resource table that WASI and the host's backends share.
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for CommandState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Why a command could not run (its own failure is an exit status, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The workload exports no `wasi:cli/run@0.2.x`.
    #[error(
        "workload `{workload}` does not export {RUN} (or another 0.2.x release), so it is not a command; its exports: {}; call one of their functions with `compose run WORKLOAD --invoke 'INTERFACE#FUNCTION(ARGS)'`",
        if exports.is_empty() { "none".to_string() } else { exports.join(", ") }
    )]
    NotACommand {
        /// The workload.
        workload: String,
        /// What it exports.
        exports: Vec<String>,
    },
    /// A preopened directory cannot be opened.
    #[error("cannot preopen `{}` as `{guest}`: {reason}", host.display())]
    Dir {
        /// The host folder.
        host: PathBuf,
        /// Its path in the guest.
        guest: String,
        /// Why.
        reason: String,
    },
    /// Creating the engine, linking WASI or the host's own definitions failed.
    #[error("{0}")]
    Setup(String),
    /// Compiling or linking the workload failed.
    #[error(transparent)]
    Build(#[from] compose_linker::BuildError),
    /// An eager component failed to instantiate.
    #[error(transparent)]
    Instantiate(#[from] compose_linker::InstantiateError),
    /// The command trapped, passed its deadline or hit a memory cap.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// Links `plan` with WASI 0.2 and what `define_host` adds (the host's backends), and runs
/// its `wasi:cli/run` export with `options`. Returns the command's exit status: 0 when
/// `run` returns `ok`, 1 for `err`, or the status it exits with (`wasi:cli/exit`).
///
/// # Errors
/// [`CommandError::NotACommand`] for a workload without `wasi:cli/run` (listing its
/// exports); set-up errors; [`CommandError::Call`] when the command traps, passes its
/// deadline or hits a component's memory cap (naming the component).
pub fn run_command(
    plan: &Plan,
    options: &CommandOptions,
    define_host: impl FnOnce(&mut WorkloadLinker<'_, CommandState>) -> Result<(), String>,
) -> Result<i32, CommandError> {
    let setup = |e: wasmtime::Error| CommandError::Setup(format!("{e:#}"));
    let engine = LimitedEngine::new(plan, &options.limits).map_err(setup)?;
    let mut linker = WorkloadLinker::<CommandState>::new(engine.engine(), plan);
    wasmtime_wasi::p2::add_to_linker_sync(linker.host()).map_err(setup)?;
    define_host(&mut linker).map_err(CommandError::Setup)?;
    let workload = linker.compile(|state| &mut state.workload)?;
    let run = workload
        .func(Some(RUN), "run")
        .map_err(|_| CommandError::NotACommand {
            workload: plan.name.clone(),
            exports: plan.exports.iter().map(|e| e.name.clone()).collect(),
        })?;
    let state = CommandState {
        workload: workload.new_state(),
        wasi: wasi_context(options)?,
        table: ResourceTable::new(),
    };
    let mut store = Store::new(engine.engine(), state);
    engine.arm(&workload, &mut store);
    workload.instantiate(&mut store)?;
    let mut result = [Val::Bool(false)];
    match workload.call(&mut store, &run, &[], &mut result) {
        Ok(()) => Ok(match result[0] {
            Val::Result(Ok(_)) => 0,
            _ => 1,
        }),
        Err(error) => exit_status(&error).ok_or(CommandError::Call(error)),
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

/// WASI's context: the program name and arguments, the environment, the host's standard
/// input, output and error, and the preopened directories.
fn wasi_context(options: &CommandOptions) -> Result<WasiCtx, CommandError> {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio()
        .arg(&options.program)
        .args(&options.args)
        .envs(&options.env);
    for (host, guest) in &options.dirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| CommandError::Dir {
                host: host.clone(),
                guest: guest.clone(),
                reason: format!("{e:#}"),
            })?;
    }
    Ok(wasi.build())
}
