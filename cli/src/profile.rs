//! The host the CLI describes to the resolver: `compose-host`'s built-in plugins and the
//! interfaces it serves, so that `resolve`, `build`, `run` and `check` report the same
//! problems before anything runs.

use compose_host::{HostState, Plugins};
use compose_resolver::HostProfile;

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
