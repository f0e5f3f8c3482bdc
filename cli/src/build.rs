//! `compose build` (being written).

use std::process::ExitCode;

/// Arguments of `compose build`.
#[derive(clap::Args)]
pub struct Args {}

/// Not written yet: fails.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("error: `compose build` is not implemented yet");
    ExitCode::FAILURE
}
