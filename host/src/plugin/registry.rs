//! The plugins a host has, the default plugin of each interface, and serving a
//! workload's backends with them.

use super::framework::{BackendError, BackendPlugin, HostView, Unavailable};
use super::keyvalue;
use super::memory::MemoryPlugin;
#[cfg(feature = "postgres")]
use super::postgres::PostgresPlugin;
#[cfg(feature = "wrpc")]
use super::wrpc::WrpcPlugin;
use compose_linker::WorkloadLinker;
use compose_resolver::{HostProfile, PlannedBackend, PluginSchema, names_match};
use std::sync::Arc;

/// A host's plugins by name, and which plugin serves an interface when a backend names
/// none.
pub struct Plugins<T> {
    plugins: Vec<Arc<dyn BackendPlugin<T>>>,
    /// `(interface, plugin)`: the default plugin of each interface.
    defaults: Vec<(String, String)>,
}

impl<T> Default for Plugins<T> {
    fn default() -> Self {
        Self {
            plugins: Vec::new(),
            defaults: Vec::new(),
        }
    }
}

impl<T: HostView> Plugins<T> {
    /// No plugins.
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in plugins: `memory` (the default for `wasi:keyvalue/store@0.2.0-draft`,
    /// `atomics` and `batch`), with the `postgres` feature `postgres`, and with the `wrpc`
    /// feature `wrpc` (a key-value store on another machine). (`wasi:config/store` is served per
    /// component, not per label: see [`crate::wasi_config`].)
    pub fn builtin() -> Self {
        let mut plugins = Self::new();
        plugins.register(Arc::new(MemoryPlugin::new()));
        for interface in keyvalue::interfaces() {
            plugins.set_default(&interface, MemoryPlugin::NAME);
        }
        #[cfg(feature = "postgres")]
        plugins.register(Arc::new(PostgresPlugin::new()));
        #[cfg(feature = "wrpc")]
        plugins.register(Arc::new(WrpcPlugin::new()));
        plugins
    }

    /// Adds `plugin`, replacing a plugin of the same name.
    pub fn register(&mut self, plugin: Arc<dyn BackendPlugin<T>>) -> &mut Self {
        self.plugins.retain(|p| p.name() != plugin.name());
        self.plugins.push(plugin);
        self
    }

    /// Makes `plugin` the one that serves `interface` (and semver-compatible versions)
    /// for backends that name no plugin.
    pub fn set_default(&mut self, interface: &str, plugin: &str) -> &mut Self {
        self.defaults.retain(|(i, _)| i != interface);
        self.defaults
            .push((interface.to_owned(), plugin.to_owned()));
        self
    }

    /// The plugins, in the order registered.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn BackendPlugin<T>>> {
        self.plugins.iter()
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn BackendPlugin<T>>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// The plugin that serves `backend` — the one it names, else the default of its
    /// interface — once it is known to serve the interface and to accept the
    /// configuration.
    ///
    /// # Errors
    /// No such plugin, no default, a plugin of another interface, or an invalid
    /// configuration (the first issue).
    pub fn plugin_for(
        &self,
        backend: &PlannedBackend,
    ) -> Result<&Arc<dyn BackendPlugin<T>>, BackendError> {
        let error = |plugin: Option<&str>, cause: String, help: String| BackendError {
            label: backend.label.clone(),
            plugin: plugin.map(str::to_owned),
            cause,
            help: Some(help),
        };
        let names: Vec<&str> = self.plugins.iter().map(|p| p.name()).collect();
        let name = match &backend.plugin {
            Some(name) => name.as_str(),
            None => self
                .defaults
                .iter()
                .find(|(interface, _)| names_match(&backend.interface, interface))
                .map(|(_, plugin)| plugin.as_str())
                .ok_or_else(|| {
                    error(
                        None,
                        format!("the host has no default plugin for `{}`", backend.interface),
                        format!(
                            "name one with `plugin = \"...\"`; the host has: {}",
                            names.join(", ")
                        ),
                    )
                })?,
        };
        let plugin = self.get(name).ok_or_else(|| {
            error(
                None,
                format!("the host has no plugin `{name}`"),
                format!("the host has: {}", names.join(", ")),
            )
        })?;
        let interfaces = plugin.interfaces();
        if !interfaces
            .iter()
            .any(|i| names_match(&backend.interface, i))
        {
            return Err(error(
                Some(name),
                format!("plugin `{name}` does not serve `{}`", backend.interface),
                format!("it serves: {}", interfaces.join(", ")),
            ));
        }
        let keys = plugin.keys();
        let mut issues = super::keys::unknown_keys(&backend.config, &keys, name);
        issues.extend(plugin.validate(&backend.config));
        if let Some(issue) = issues.into_iter().next() {
            return Err(BackendError {
                label: backend.label.clone(),
                plugin: Some(name.to_owned()),
                cause: issue.message,
                help: issue.help,
            });
        }
        Ok(plugin)
    }

    /// What the resolver needs to know of this host ([`compose_resolver::resolve_with`]):
    /// these plugins and their defaults, and the host interfaces this host serves
    /// ([`crate::interfaces::served`]).
    pub fn profile(&self) -> HostProfile {
        let mut profile = HostProfile::new();
        for plugin in &self.plugins {
            let default = self.defaults.iter().any(|(_, p)| p == plugin.name());
            let schema: Arc<dyn PluginSchema> = plugin.clone();
            profile = profile.with_plugin(schema, default);
        }
        let served = crate::interfaces::served();
        profile.with_interfaces(served.iter().map(String::as_str))
    }

    /// Checks that every backend can be served now; returns every one that cannot.
    pub fn check<'a>(
        &self,
        backends: impl IntoIterator<Item = &'a PlannedBackend>,
    ) -> Vec<BackendError> {
        backends
            .into_iter()
            .filter_map(|backend| {
                let plugin = match self.plugin_for(backend) {
                    Ok(plugin) => plugin,
                    Err(error) => return Some(error),
                };
                let why = plugin.check(backend).err()?;
                Some(BackendError::unavailable(
                    &backend.label,
                    plugin.name(),
                    why,
                ))
            })
            .collect()
    }

    /// Defines every backend's instance in `linker`, each by its plugin
    /// ([`BackendPlugin::define_async`] when the linker's workload is called async).
    ///
    /// # Errors
    /// Every backend that cannot be served (all of them, not just the first).
    pub fn define<'a>(
        &self,
        linker: &mut WorkloadLinker<'_, T>,
        backends: impl IntoIterator<Item = &'a PlannedBackend>,
    ) -> Result<(), Vec<BackendError>> {
        let mut errors = Vec::new();
        for backend in backends {
            let plugin = match self.plugin_for(backend) {
                Ok(plugin) => plugin,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let mut why: Option<Unavailable> = None;
            let asynchronous = linker.is_async();
            let defined = linker.backend(&backend.label, |instance| {
                let defined = if asynchronous {
                    plugin.define_async(backend, instance)
                } else {
                    plugin.define(backend, instance)
                };
                defined.map_err(|e| {
                    why = Some(e.clone());
                    wasmtime::format_err!("{}", e.cause)
                })
            });
            if let Err(error) = defined {
                let why = why.unwrap_or_else(|| Unavailable::new(format!("{error:#}")));
                errors.push(BackendError::unavailable(
                    &backend.label,
                    plugin.name(),
                    why,
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
