//! `compose run` (being written).

use std::process::ExitCode;

/// Arguments of `compose run`.
#[derive(clap::Args)]
pub struct Args {}

/// Not written yet: fails.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("error: `compose run` is not implemented yet");
    ExitCode::FAILURE
}
