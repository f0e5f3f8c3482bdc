//! The plugin framework: what a plugin serving named backends implements, what it needs
//! from the host's store data, and how it says a backend cannot be served.

use compose_resolver::{Diagnostic, Plan, PlannedBackend, PluginSchema, Problem};
use std::fmt;
use wasmtime::component::{LinkerInstance, ResourceTable};

/// What a plugin needs from the host's store data: the table that holds the resources
/// (buckets, connections) it hands to guests. `Send`, as Wasmtime's async calls need.
pub trait HostView: Send + 'static {
    /// The store's resource table.
    fn table(&mut self) -> &mut ResourceTable;
}

/// A host plugin: serves one or more interfaces (see [`PluginSchema::interfaces`]) for
/// any number of labels, each with its own configuration and its own state (data,
/// connection) — one plugin, many backends, as wasmCloud's host multiplexes them.
///
/// The resolver validates a backend's configuration through [`PluginSchema::validate`]
/// (no network, no secrets); [`BackendPlugin::check`] then says whether the backend can be
/// served now, and [`BackendPlugin::define`] defines the label's instance in a linker.
/// `T` is the store data of the host that embeds the plugin.
pub trait BackendPlugin<T>: PluginSchema {
    /// Checks that `backend` can be served now: its secrets are there, its service
    /// accepts the login, the login may do what the interface needs. The default: yes.
    ///
    /// # Errors
    /// Why it cannot be served, to be reported with the label.
    fn check(&self, backend: &PlannedBackend) -> Result<(), Unavailable> {
        let _ = backend;
        Ok(())
    }

    /// Defines `backend`'s instance — the functions and resource types of its interface —
    /// in `instance`, the linker instance named by its label (from
    /// [`compose_linker::WorkloadLinker::backend`], or `Linker::instance(label)` for a
    /// composed component). Plugins that connect to a service connect here, once per
    /// label, so that a backend that cannot be served fails before anything runs.
    ///
    /// # Errors
    /// Why the backend cannot be served (as [`BackendPlugin::check`] says it).
    fn define(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable>;

    /// [`BackendPlugin::define`] for a workload called from an async runtime
    /// ([`Execution::Async`](compose_linker::Execution::Async), as `compose serve` runs
    /// every workload): a plugin whose functions wait (for a network service, a disk)
    /// defines async host functions here that wait without blocking the runtime's worker
    /// thread. The default defines what [`BackendPlugin::define`] does, which suits
    /// functions that return at once (the `memory` plugin's).
    ///
    /// # Errors
    /// As [`BackendPlugin::define`].
    fn define_async(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        self.define(backend, instance)
    }
}

/// Why a backend cannot be served, as a plugin says it (the label is added by
/// [`BackendError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// The cause: `environment variable TEAM_A_DATABASE_URL is not set`,
    /// `password authentication failed for user "team_a"`, ...
    pub cause: String,
    /// What would fix it, if the plugin knows.
    pub help: Option<String>,
}

impl Unavailable {
    /// Why a label's functions could not be defined in its linker instance (Wasmtime's
    /// error: a name defined twice): what the plugins' `define` return.
    pub(crate) fn defining(error: wasmtime::Error) -> Self {
        Self::new(format!("defining its functions failed: {error:#}"))
    }

    /// A cause without advice.
    pub fn new(cause: impl Into<String>) -> Self {
        Self {
            cause: cause.into(),
            help: None,
        }
    }

    /// The same cause with advice.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A backend that cannot be served: its label, the plugin and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BackendError {
    /// The backend's label.
    pub label: String,
    /// The plugin that would serve it (`None` when no plugin does).
    pub plugin: Option<String>,
    /// Why it cannot be served.
    pub cause: String,
    /// What would fix it.
    pub help: Option<String>,
}

impl BackendError {
    /// `label`'s backend of `plugin` is unavailable for `why`.
    pub fn unavailable(label: &str, plugin: &str, why: Unavailable) -> Self {
        Self {
            label: label.to_owned(),
            plugin: Some(plugin.to_owned()),
            cause: why.cause,
            help: why.help,
        }
    }

    /// This error as a diagnostic of `plan`'s workload file (`compose::backend-unavailable`),
    /// pointing at the backend's declaration when the workload came from a file.
    pub fn diagnostic(&self, plan: &Plan) -> Diagnostic {
        let span = plan
            .host
            .backends
            .get(&self.label)
            .and_then(|b| b.span.clone());
        Diagnostic::new(self.problem(), plan.source.as_ref(), span).with_label("this backend")
    }

    fn problem(&self) -> Problem {
        Problem::BackendUnavailable {
            label: self.label.clone(),
            plugin: self.plugin.clone(),
            cause: self.cause.clone(),
            fix: self.help.clone(),
        }
    }
}

impl fmt::Display for BackendError {
    /// The wording of [`Problem::BackendUnavailable`], which `compose check` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.problem(), f)
    }
}
