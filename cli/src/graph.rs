//! `compose graph` (being written).

use std::process::ExitCode;

/// Arguments of `compose graph`.
#[derive(clap::Args)]
pub struct Args {}

/// Not written yet: fails.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("error: `compose graph` is not implemented yet");
    ExitCode::FAILURE
}
