//! The host the CLI describes to the resolver: `compose-host`'s built-in plugins and the
//! interfaces it serves, so that `run`, `serve` and `check` (and `resolve`, `build` and
//! `graph` with `--host compose`) report the same problems before anything runs; without
//! `--host`, `resolve`, `build` and `graph` take the workload's `[host]` as declared.

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

/// `--host`, shared by `compose resolve`, `build` and `graph`: which host to check the
/// workload against.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Host {
    /// Check the workload against this host, as `compose check` does but without running
    /// anything: `compose` is compose-host (its plugins `memory` and `postgres`, the
    /// interfaces it serves). Without it, `[host]` is taken as declared, for a workload
    /// deployed on any host: only backends that name a compose-host plugin are checked
    /// against it.
    #[arg(long = "host", value_name = "HOST", value_enum)]
    host: Option<HostKind>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HostKind {
    /// compose-host, which `compose run`, `serve` and `check` run on.
    Compose,
}

impl Host {
    /// The profile to resolve with.
    pub fn profile(self) -> HostProfile {
        match self.host {
            Some(HostKind::Compose) => profile(),
            None => profile().declaration(),
        }
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
