//! `--env` and `--dir`: what `compose run` and `compose serve` offer a workload's
//! components. Deny by default: each component sees only what its grants (`allow`)
//! name, and a variable no component is granted is pointed out.

use compose_host::grants::Offer;
use compose_resolver::Plan;
use std::path::PathBuf;

/// The environment and the folders offered to the components.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Flags {
    /// Offer an environment variable (`NAME=VALUE`, or `NAME` for the host's value); the
    /// components whose grants name it (`env = ["NAME"]`) see it.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,
    /// Use the host folder HOST for the granted directory GUEST (`dirs = ["…::GUEST"]`),
    /// instead of the folder the grant names.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
}

impl Flags {
    /// The offer, after a warning on standard error for each variable that no component
    /// of `plan` is granted.
    pub fn offer(&self, plan: &Plan) -> Offer {
        let offer = Offer {
            env: self.env.iter().filter_map(|e| env_var(e)).collect(),
            dirs: self.dirs.iter().map(|d| dir(d)).collect(),
            ..Offer::default()
        };
        for name in offer.ungranted_env(plan) {
            eprintln!(
                "warning: no component of `{}` is granted the environment variable `{name}`, so none sees it: add env = [\"{name}\"] to `[allow]` or `[components.NAME.allow]`",
                plan.name
            );
        }
        offer
    }
}

/// `NAME=VALUE`, or `NAME` with the host's value (skipped when it has none).
fn env_var(entry: &str) -> Option<(String, String)> {
    match entry.split_once('=') {
        Some((name, value)) => Some((name.to_owned(), value.to_owned())),
        None => Some((entry.to_owned(), std::env::var(entry).ok()?)),
    }
}

/// `HOST::GUEST`, or `HOST` for the guest path of the same name (as `wasmtime run --dir`).
fn dir(entry: &str) -> (PathBuf, String) {
    match entry.split_once("::") {
        Some((host, guest)) => (PathBuf::from(host), guest.to_owned()),
        None => (PathBuf::from(entry), entry.to_owned()),
    }
}
