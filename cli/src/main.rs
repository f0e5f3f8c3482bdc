//! `compose`: resolve, build, run and draw WebAssembly component workloads.
//!
//! Thin over the libraries: each subcommand parses its arguments, calls a library
//! function and prints. Exit status: 0 success, 1 the workload does not resolve or the
//! operation failed, 2 usage errors (clap's convention).

mod report;
mod resolve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "compose", version, about = "A toolchain for WebAssembly component workloads")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve a workload: bind every import, type-check, report every problem.
    Resolve(resolve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Resolve(args) => resolve::run(args),
    }
}
