//! The host the CLI describes to the resolver: `compose-host`'s built-in plugins and the
//! interfaces it serves, so that `run`, `serve` and `check` (and `resolve`, `build` and
//! `graph` with `--host compose`) report the same problems before anything runs; without
//! `--host`, `resolve`, `build` and `graph` take the workload's `[host]` as declared.

use compose_host::{HostState, Plugins};
use compose_resolver::{HostProfile, TargetWorld};
use std::path::PathBuf;
use std::process::ExitCode;

/// `compose-host`'s built-in plugins (`memory`, `postgres`).
pub fn plugins() -> Plugins<HostState> {
    Plugins::builtin()
}

/// What `compose-host` with its built-in plugins serves, and `wasi:http`, which `compose
/// serve` serves (a workload that imports it is an HTTP service, whatever the subcommand).
pub fn profile() -> HostProfile {
    plugins()
        .profile()
        .with_interfaces(compose_host::serve::SERVED.iter().copied())
}

/// `--host`, shared by `compose resolve`, `build` and `graph`: which host to check the
/// workload against, and the world it must fit ([`Target`]).
#[derive(clap::Args, Debug, Clone)]
pub struct Host {
    /// Check the workload against this host, as `compose check` does but without running
    /// anything: `compose` is compose-host (its plugins `memory` and `postgres`, the
    /// interfaces it serves). Without it, `[host]` is taken as declared, for a workload
    /// deployed on any host: only backends that name a compose-host plugin are checked
    /// against it.
    #[arg(long = "host", value_name = "HOST", value_enum)]
    host: Option<HostKind>,
    #[command(flatten)]
    target: Target,
}

/// `--target` and `--wit`, shared by `compose resolve`, `build`, `graph` and `check`.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// Check that the workload fits this world, as `wac targets` checks a component: it
    /// exports everything the world exports and imports from the host only what the world
    /// imports. A built-in WASI world (`wasi:http/proxy@0.2.x`, `wasi:cli/command@0.2.x`,
    /// `wasi:http/service@0.3.0`, `wasi:cli/command@0.3.0`) or one of `--wit`.
    #[arg(long = "target", value_name = "WORLD")]
    world: Option<String>,
    /// A WIT package (a folder with its `deps/`, or a `.wit` file) whose worlds `--target`
    /// may name; searched before the built-in ones.
    #[arg(long = "wit", value_name = "DIR", requires = "world")]
    wit: Option<PathBuf>,
}

impl Target {
    /// `profile`, checking the workload against the world asked for, if any.
    ///
    /// # Errors
    /// The exit status (2, a usage error) after printing why the world cannot be found
    /// or read.
    pub fn apply(&self, profile: HostProfile) -> Result<HostProfile, ExitCode> {
        let Some(world) = &self.world else {
            return Ok(profile);
        };
        match TargetWorld::find(world, self.wit.as_deref()) {
            Ok(target) => Ok(profile.with_target(target)),
            Err(error) => {
                eprintln!("error: --target: {error}");
                Err(ExitCode::from(2))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HostKind {
    /// compose-host, which `compose run`, `serve` and `check` run on.
    Compose,
}

impl Host {
    /// The profile to resolve with.
    ///
    /// # Errors
    /// As [`Target::apply`].
    pub fn profile(&self) -> Result<HostProfile, ExitCode> {
        let profile = match self.host {
            Some(HostKind::Compose) => profile(),
            None => profile().declaration(),
        };
        self.target.apply(profile)
    }
}

/// `--link`, shared by `compose run` and `compose serve`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Link {
    /// How to link the components: `per-component` (each its own instance, instantiated
    /// lazily, every call between components through a trampoline), `clusters` (each
    /// `[clusters]` entry, and each group of eager components that import from each other,
    /// composed into one component; trampolines between them) or `composed` (the whole
    /// workload composed, as `compose build` does).
    #[arg(long = "link", value_name = "MODE", default_value_t = compose_linker::LinkMode::Clusters)]
    pub mode: compose_linker::LinkMode,
}
