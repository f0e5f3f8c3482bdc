//! `compose`: resolve, build, run and draw WebAssembly component workloads.
//!
//! Thin over the libraries: each subcommand parses its arguments, calls a library
//! function and prints. Exit status: 0 success, 1 the workload does not resolve or the
//! operation failed, 2 usage errors (clap's convention).

mod build;
mod cache;
mod check;
mod cost;
mod graph;
mod offer;
mod output;
mod profile;
mod progress;
mod registry;
mod report;
mod resolve;
mod run;
mod serve;
mod sources;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "compose",
    version,
    about = "A toolchain for WebAssembly component workloads"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve a workload: bind every import, type-check, report every problem.
    Resolve(resolve::Args),
    /// Compose a resolved workload into one component with wac.
    Build(build::Args),
    /// Link a workload at run time with Wasmtime: call one export, or run its wasi:cli/run.
    Run(run::Args),
    /// Serve a workload's wasi:http/incoming-handler over HTTP, one store per request.
    Serve(serve::Args),
    /// Draw a workload's wiring (dot, mermaid, json, svg).
    Graph(graph::Args),
    /// Check that this host can serve a workload now: its interfaces and every backend.
    Check(check::Args),
    /// What one call costs in Wasm instances and memory, and how many calls a host holds.
    Cost(cost::Args),
    /// Show or clean the cache of compiled components.
    Cache(cache::Args),
    /// Pull every registry source of a workload and record its digest in compose.lock.
    Lock(registry::LockArgs),
    /// Compose a workload (as `build` does) and push it to a registry as a Wasm artifact.
    Push(registry::PushArgs),
    /// Pull one component from a registry into a file.
    Pull(registry::PullArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Resolve(args) => resolve::run(args),
        Command::Build(args) => build::run(args),
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Check(args) => check::run(args),
        Command::Cost(args) => cost::run(args),
        Command::Cache(args) => cache::run(args),
        Command::Lock(args) => registry::lock(args),
        Command::Push(args) => registry::push(args),
        Command::Pull(args) => registry::pull(args),
    }
}
