//! What a host can serve: the host plugins that serve named backends, as the resolver
//! checks a workload against them before anything runs.
//!
//! A host (the `compose` CLI, or any host embedding `compose-linker`) describes itself with
//! a [`HostProfile`]: the plugins it has ([`PluginSchema`]), which plugin serves an
//! interface when a backend names none, and which interfaces it serves itself. Resolving
//! with [`resolve_with`](crate::resolve_with) then checks every `[host.backends.LABEL]`
//! against it — the plugin exists, serves the backend's interface at a semver-compatible
//! version, accepts the backend's configuration — with no network and no secrets, so CI
//! can run it anywhere. Whether a backend is *reachable now* is the host's business
//! (`compose check`).

use crate::diagnostic::Span;
use crate::names::{HostPattern, names_match};
use crate::source::Located;
use crate::target::TargetWorld;
use indexmap::IndexMap;
use std::fmt;
use std::sync::Arc;

/// The plugin's own keys of one `[host.backends.LABEL]` table: every key but `interface`
/// and `plugin`, in the order written, with where each is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackendConfig {
    entries: IndexMap<String, ConfigEntry>,
}

/// One key of a [`BackendConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    /// Where the key is written.
    pub key_span: Option<Span>,
    /// The value, and where it is written.
    pub value: Located<toml::Value>,
}

impl BackendConfig {
    /// The same configuration with `key` set to `value` (for workloads built in code).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<toml::Value>) -> Self {
        self.insert(key.into(), None, Located::new(value.into()));
        self
    }

    pub(crate) fn insert(
        &mut self,
        key: String,
        key_span: Option<Span>,
        value: Located<toml::Value>,
    ) {
        self.entries.insert(key, ConfigEntry { key_span, value });
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        self.entries.get(key).map(|e| &e.value.value)
    }

    /// The value of `key` if it is set to a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    /// The entry of `key`, with its spans.
    pub fn entry(&self, key: &str) -> Option<&ConfigEntry> {
        self.entries.get(key)
    }

    /// Every key and its entry, in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ConfigEntry)> {
        self.entries.iter().map(|(k, e)| (k.as_str(), e))
    }

    /// Whether no plugin key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Something wrong with a backend's configuration, as a plugin reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The key it is about (the diagnostic points at its value), or `None` for the table.
    pub key: Option<String>,
    /// What is wrong (`` `url-env` must be the name of an environment variable ``).
    pub message: String,
    /// What would fix it, if the plugin knows.
    pub help: Option<String>,
}

impl ConfigIssue {
    /// An issue with `key`.
    pub fn key(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: Some(key.into()),
            message: message.into(),
            help: None,
        }
    }

    /// The same issue with a fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The part of a host plugin the resolver sees: its name, the interfaces it serves and
/// how it checks one backend's configuration. A plugin serves many labels, each with its
/// own configuration.
pub trait PluginSchema: Send + Sync {
    /// The plugin's name, as `plugin = "..."` names it (`memory`, `postgres`).
    fn name(&self) -> &str;

    /// The interfaces it serves, as full names with versions
    /// (`wasi:keyvalue/store@0.2.0-draft`); a backend's interface matches one of them
    /// semver-compatibly, as the component model and Wasmtime match imports. Every label
    /// of the plugin serves all of them in its one instance: a labelled import that
    /// implements any of them binds to a backend of this plugin, whichever of them the
    /// backend declares (`wasi:keyvalue/atomics` on a `store` backend).
    fn interfaces(&self) -> Vec<String>;

    /// The configuration keys it accepts besides `interface` and `plugin`; any other key
    /// is an error that lists these.
    fn keys(&self) -> Vec<String>;

    /// Checks one backend's configuration (keys are already known to be among
    /// [`PluginSchema::keys`]); every issue is reported. Must not touch the network or
    /// read secrets: resolving runs in CI.
    fn validate(&self, config: &BackendConfig) -> Vec<ConfigIssue>;
}

/// What a host can serve: its plugins, the default plugin of each interface, and the
/// interfaces it serves itself (`[host] interfaces`).
///
/// [`HostProfile::any`] checks nothing (what [`resolve`](crate::resolve) uses: a library
/// user that defines backends by hand); [`HostProfile::new`] starts with no plugin and
/// every backend must then be served by a registered one; [`HostProfile::declaration`]
/// turns a concrete host's profile into a check of what the workload itself declares, for
/// a workload that may run on another host.
#[derive(Clone)]
pub struct HostProfile {
    plugins: Vec<Arc<dyn PluginSchema>>,
    /// Interface name -> the name of the plugin that serves a backend that names none.
    defaults: Vec<(String, String)>,
    /// The interfaces the host serves itself; `None` checks nothing.
    interfaces: Option<Vec<HostPattern>>,
    backends: BackendCheck,
    /// The world the workload must fit (`--target`), if any.
    target: Option<Arc<TargetWorld>>,
}

/// Which `[host.backends.LABEL]` entries a [`HostProfile`] checks against its plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendCheck {
    /// None: any plugin name and any configuration is accepted.
    Nothing,
    /// Only the backends that name one of the profile's plugins (its interface and keys);
    /// a backend naming no plugin, or one the profile does not have, is left to the host.
    Named,
    /// Every backend: it must be served by one of the profile's plugins, named or default.
    Every,
}

impl fmt::Debug for HostProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostProfile")
            .field("plugins", &self.plugin_names())
            .field("defaults", &self.defaults)
            .field("interfaces", &self.interfaces)
            .field("backends", &self.backends)
            .field("target", &self.target.as_ref().map(|t| t.name()))
            .finish()
    }
}

impl Default for HostProfile {
    fn default() -> Self {
        Self::any()
    }
}

impl HostProfile {
    /// A profile that checks nothing: any plugin name, any configuration, any host
    /// interface is accepted, and the host must serve them itself.
    pub fn any() -> Self {
        Self {
            plugins: Vec::new(),
            defaults: Vec::new(),
            interfaces: None,
            backends: BackendCheck::Nothing,
            target: None,
        }
    }

    /// A profile with no plugin: every host backend must be served by a plugin added with
    /// [`HostProfile::with_plugin`].
    pub fn new() -> Self {
        Self {
            backends: BackendCheck::Every,
            ..Self::any()
        }
    }

    /// The same plugins, checking only what the workload declares — what `compose
    /// resolve`, `build` and `graph` do, since a workload may be deployed on another host
    /// (a custom embedding, wasmCloud) that serves other interfaces and backends:
    /// `[host] interfaces` and imports left to the host are taken as declared, a backend
    /// naming one of these plugins is checked against it (interface and keys), and any
    /// other backend (no plugin, or a plugin this profile does not have) is left to the
    /// embedding host and is not an error.
    pub fn declaration(self) -> Self {
        Self {
            defaults: Vec::new(),
            interfaces: None,
            backends: BackendCheck::Named,
            ..self
        }
    }

    /// The same profile with `plugin`; with `default`, it also serves the backends of its
    /// interfaces that name no plugin.
    pub fn with_plugin(mut self, plugin: Arc<dyn PluginSchema>, default: bool) -> Self {
        if default {
            for interface in plugin.interfaces() {
                self.defaults.push((interface, plugin.name().to_owned()));
            }
        }
        self.plugins.push(plugin);
        self
    }

    /// The same profile, serving only the host interfaces matched by `patterns` (each an
    /// interface name or `ns:pkg/*@ver`, `ns:*@ver`). Every import the plan leaves to the
    /// host must then match one of them.
    ///
    /// # Panics
    /// If a pattern is not valid: patterns come from the host's code, not from users.
    pub fn with_interfaces<'a>(mut self, patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let parsed = patterns
            .into_iter()
            .map(|p| HostPattern::parse(p).unwrap_or_else(|| panic!("invalid host pattern `{p}`")));
        self.interfaces.get_or_insert_default().extend(parsed);
        self
    }

    /// The same profile, also checking that the workload fits the world `target`
    /// ([`TargetWorld::find`]): its exports include every export of the world, and each
    /// import it leaves to the host is one the world imports, with a compatible type
    /// (wac-types' `validate_target`). Resolving then reports
    /// [`Problem::NotInTarget`](crate::Problem::NotInTarget),
    /// [`Problem::MissingTargetExport`](crate::Problem::MissingTargetExport) and
    /// [`Problem::TargetMismatch`](crate::Problem::TargetMismatch).
    pub fn with_target(self, target: TargetWorld) -> Self {
        Self {
            target: Some(Arc::new(target)),
            ..self
        }
    }

    /// The world the workload must fit, if any ([`HostProfile::with_target`]).
    pub fn target(&self) -> Option<&TargetWorld> {
        self.target.as_deref()
    }

    /// Which backends this profile checks against its plugins.
    pub fn backend_check(&self) -> BackendCheck {
        self.backends
    }

    /// The plugin named `name`.
    pub fn plugin(&self, name: &str) -> Option<&Arc<dyn PluginSchema>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// The names of every plugin, in the order added.
    pub fn plugin_names(&self) -> Vec<String> {
        self.plugins.iter().map(|p| p.name().to_owned()).collect()
    }

    /// The default plugin of `interface` (matched semver-compatibly).
    pub fn default_plugin(&self, interface: &str) -> Option<&str> {
        self.defaults
            .iter()
            .find(|(i, _)| names_match(interface, i))
            .map(|(_, p)| p.as_str())
    }

    /// Whether the host serves the interface (or plain name) `name` itself; always true
    /// when the profile does not say.
    pub fn serves_interface(&self, name: &str) -> bool {
        self.interfaces
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| p.matches(name)))
    }

    /// The host interfaces this profile serves, as written; `None` when it does not say.
    pub fn interfaces(&self) -> Option<&[HostPattern]> {
        self.interfaces.as_deref()
    }
}
