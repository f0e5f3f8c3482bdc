//! Stand-ins for the resolver's coming plugin API (`[host.backends.NAME]` tables with
//! plugin keys, `PluginSchema`, `PlannedBackend`, per-component `config`), with the same
//! names and shapes, so that switching to `compose_resolver`'s types is a change of
//! imports. Until then the backends come from `[host] backends` (interface only) and
//! tests build configurations in code.

use compose_resolver::{Located, Workload};
use indexmap::IndexMap;

/// One backend's plugin keys (every key of `[host.backends.LABEL]` other than
/// `interface` and `plugin`), with where each is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackendConfig {
    /// The keys in the order written.
    pub keys: IndexMap<String, Located<toml::Value>>,
}

impl BackendConfig {
    /// A configuration with `key = value` added (for configurations built in code).
    pub fn with(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.keys.insert(key.to_owned(), Located::new(value.into()));
        self
    }

    /// The string value of `key`, if it is there and a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.keys.get(key).and_then(|v| v.value.as_str())
    }
}

/// A problem with one key of a backend's configuration (or with the whole of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The key the problem is about, if one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What would fix it.
    pub help: Option<String>,
}

/// What the resolver needs to know about a host plugin: its name, the interfaces it
/// serves, its keys, and how to validate one backend's configuration.
pub trait PluginSchema: Send + Sync {
    /// The plugin's name, as `plugin = "..."` names it.
    fn name(&self) -> &str;
    /// The interfaces it serves (full names with versions; matched semver-compatibly).
    fn interfaces(&self) -> Vec<String>;
    /// The keys a backend of this plugin may have.
    fn keys(&self) -> Vec<String>;
    /// Every problem with one backend's configuration (empty: valid).
    fn validate(&self, config: &BackendConfig) -> Vec<ConfigIssue>;
}

/// One backend the host must serve: a label, its interface, the plugin asked for
/// (`None`: the host's default for the interface) and the plugin's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedBackend {
    /// The `implements` label.
    pub label: String,
    /// The interface the label implements.
    pub interface: String,
    /// The plugin named by `plugin = "..."`, if any.
    pub plugin: Option<String>,
    /// The plugin's keys.
    pub config: BackendConfig,
}

impl PlannedBackend {
    /// A backend of `interface` under `label` with the default plugin and no keys.
    pub fn new(label: &str, interface: &str) -> Self {
        Self {
            label: label.to_owned(),
            interface: interface.to_owned(),
            plugin: None,
            config: BackendConfig::default(),
        }
    }

    /// The same backend served by plugin `plugin`.
    pub fn with_plugin(mut self, plugin: &str) -> Self {
        self.plugin = Some(plugin.to_owned());
        self
    }

    /// The same backend with `key = value` in its configuration.
    pub fn with(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.config = self.config.with(key, value);
        self
    }
}

/// The backends a workload's `[host] backends` declares, each with the default plugin.
pub fn planned_backends(workload: &Workload) -> IndexMap<String, PlannedBackend> {
    workload
        .host
        .backends
        .iter()
        .map(|(label, decl)| {
            (
                label.clone(),
                PlannedBackend::new(label, &decl.interface.value),
            )
        })
        .collect()
}

/// What the host must serve for one workload: `[host] interfaces`, the backends, and each
/// component's `[components.NAME.config]`.
#[derive(Debug, Clone, Default)]
pub struct HostSection {
    /// Interface names and patterns, as written.
    pub interfaces: Vec<String>,
    /// The backends by label.
    pub backends: IndexMap<String, PlannedBackend>,
    /// Each component's configuration, by component name.
    pub configs: IndexMap<String, crate::config::Values>,
}

impl HostSection {
    /// What `workload` declares (`[host] backends` with default plugins; no
    /// configuration, which the workload file cannot hold yet).
    pub fn from_workload(workload: &Workload) -> Self {
        Self {
            interfaces: workload
                .host
                .interfaces
                .iter()
                .map(|i| i.value.clone())
                .collect(),
            backends: planned_backends(workload),
            configs: IndexMap::new(),
        }
    }
}
