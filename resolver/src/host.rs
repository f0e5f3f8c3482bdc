//! What the host serves: `[host] interfaces` and `[host] backends` checked against the
//! host's [`HostProfile`](crate::HostProfile), imports bound to the host, and the rule that
//! every import the host serves under one name has one type.

use crate::component::Item;
use crate::diagnostic::{BackendOffer, Problem, Span};
use crate::names::{HostPattern, names_match};
use crate::plan::{ComponentId, PlannedBackend, Provider};
use crate::plugin::{BackendCheck, BackendConfig, PluginSchema};
use crate::resolve::{Bindings, Resolver};
use crate::workload::HostBackendDecl;
use std::collections::HashSet;
use std::sync::Arc;
use wac_types::{ItemKind, SubtypeChecker, TypeAggregator};

impl Resolver<'_> {
    /// Parses `[host] interfaces` and checks every `[host] backends` entry, filling
    /// `self.host`.
    pub(crate) fn check_host(&mut self) {
        for pattern in &self.workload.host.interfaces {
            match HostPattern::parse(&pattern.value) {
                Some(p) => self.host.interfaces.push(p),
                None => self.report(
                    Problem::InvalidHostInterface {
                        pattern: pattern.value.clone(),
                    },
                    pattern.span.clone(),
                    "not an interface name or pattern",
                ),
            }
        }
        for (label, decl) in &self.workload.host.backends {
            let plugin = self.check_backend(label, decl);
            let backend = PlannedBackend {
                label: label.clone(),
                interface: decl.interface.value.clone(),
                plugin,
                config: decl.config.clone(),
                span: decl.label_span.clone(),
            };
            self.host.backends.insert(label.clone(), backend);
        }
    }

    /// Checks one host backend; returns the plugin that serves it, if known.
    fn check_backend(&mut self, label: &str, decl: &HostBackendDecl) -> Option<String> {
        if self.by_name.contains_key(label) {
            let problem = Problem::DuplicateBackend {
                label: label.to_owned(),
            };
            self.report(problem, decl.label_span.clone(), "also a component");
        }
        let interface = &decl.interface;
        if !matches!(
            HostPattern::parse(&interface.value),
            Some(HostPattern::Exact(_))
        ) {
            let problem = Problem::InvalidHostInterface {
                pattern: interface.value.clone(),
            };
            self.report(problem, interface.span.clone(), "not an interface name");
            return None;
        }
        let named = decl.plugin.as_ref().map(|p| p.value.clone());
        let checked = match self.profile.backend_check() {
            BackendCheck::Nothing => false,
            BackendCheck::Named => named
                .as_ref()
                .is_some_and(|p| self.profile.plugin(p).is_some()),
            BackendCheck::Every => true,
        };
        if !checked {
            return named;
        }
        let plugin = self.backend_plugin(label, decl)?;
        let name = plugin.name().to_owned();
        self.check_plugin_config(label, decl, plugin.as_ref());
        Some(name)
    }

    /// The plugin that serves a backend, checked to serve its interface.
    fn backend_plugin(
        &mut self,
        label: &str,
        decl: &HostBackendDecl,
    ) -> Option<Arc<dyn PluginSchema>> {
        let interface = &decl.interface.value;
        let (name, span) = match &decl.plugin {
            Some(plugin) => (plugin.value.as_str(), plugin.span.clone()),
            None => match self.profile.default_plugin(interface) {
                Some(name) => (name, decl.label_span.clone()),
                None => {
                    let problem = Problem::NoPlugin {
                        label: label.to_owned(),
                        interface: interface.clone(),
                        plugins: self.profile.plugin_names(),
                    };
                    self.report(problem, decl.label_span.clone(), "this backend");
                    return None;
                }
            },
        };
        let Some(plugin) = self.profile.plugin(name).cloned() else {
            let problem = Problem::UnknownPlugin {
                label: label.to_owned(),
                plugin: name.to_owned(),
                known: self.profile.plugin_names(),
            };
            self.report(problem, span, "no such plugin");
            return None;
        };
        let serves = plugin.interfaces();
        if serves.iter().any(|i| names_match(interface, i)) {
            return Some(plugin);
        }
        let problem = Problem::PluginMismatch {
            label: label.to_owned(),
            plugin: name.to_owned(),
            interface: interface.clone(),
            serves,
        };
        self.report(problem, decl.interface.span.clone(), "this interface");
        None
    }

    /// The backend's keys must be the plugin's, with values the plugin accepts.
    fn check_plugin_config(
        &mut self,
        label: &str,
        decl: &HostBackendDecl,
        plugin: &dyn PluginSchema,
    ) {
        let keys = plugin.keys();
        let mut known = BackendConfig::default();
        for (key, entry) in decl.config.iter() {
            if keys.iter().any(|k| k == key) {
                known.insert(key.to_owned(), entry.key_span.clone(), entry.value.clone());
                continue;
            }
            let takes = if keys.is_empty() {
                "no keys".to_owned()
            } else {
                keys.join(", ")
            };
            let message = format!(
                "unknown key `{key}`; plugin `{}` takes {takes}",
                plugin.name()
            );
            self.report_config(
                label,
                plugin,
                Some(key),
                message,
                None,
                entry.key_span.clone(),
            );
        }
        for issue in plugin.validate(&known) {
            let span = issue
                .key
                .as_deref()
                .and_then(|k| decl.config.entry(k))
                .map_or(decl.label_span.clone(), |e| e.value.span.clone());
            self.report_config(
                label,
                plugin,
                issue.key.as_deref(),
                issue.message,
                issue.help,
                span,
            );
        }
    }

    fn report_config(
        &mut self,
        label: &str,
        plugin: &dyn PluginSchema,
        key: Option<&str>,
        message: String,
        fix: Option<String>,
        span: Option<Span>,
    ) {
        let problem = Problem::InvalidBackendConfig {
            label: label.to_owned(),
            plugin: plugin.name().to_owned(),
            key: key.map(str::to_owned),
            message,
            fix,
        };
        self.report(problem, span, "here");
    }

    /// Whether `[host] interfaces` lists the import named `name`.
    pub(crate) fn host_declares(&self, name: &str) -> bool {
        self.host.interfaces.iter().any(|p| p.matches(name))
    }

    /// The host backend of a labelled import, which must implement its interface.
    pub(crate) fn host_backend(
        &mut self,
        id: ComponentId,
        import: &Item,
        interface: &str,
        span: Option<Span>,
    ) -> Option<Provider> {
        let label = import.name.as_str();
        let Some(backend) = self.workload.host.backends.get(label) else {
            let problem = Problem::MissingBackend {
                component: self.name(id),
                label: label.to_owned(),
                interface: interface.to_owned(),
            };
            self.report(problem, span, "imports it here");
            return None;
        };
        if names_match(interface, &backend.interface.value) || self.plugin_serves(label, interface)
        {
            return Some(Provider::HostBackend {
                label: label.to_owned(),
                interface: backend.interface.value.clone(),
            });
        }
        let problem = Problem::BackendMismatch {
            component: self.name(id),
            label: label.to_owned(),
            interface: interface.to_owned(),
            offer: BackendOffer::HostBackend {
                interface: backend.interface.value.clone(),
            },
        };
        self.report(problem, backend.interface.span.clone(), "declared here");
        None
    }

    /// Whether the plugin known to serve backend `label` also serves `interface` in the
    /// label's instance ([`PluginSchema::interfaces`]: e.g. `wasi:keyvalue/atomics` and
    /// `batch` beside `store`, whose `bucket` they take). A plugin the profile does not
    /// know serves only the backend's declared interface.
    fn plugin_serves(&self, label: &str, interface: &str) -> bool {
        let plugin = self
            .host
            .backends
            .get(label)
            .and_then(|b| b.plugin.as_deref())
            .and_then(|name| self.profile.plugin(name));
        plugin.is_some_and(|p| p.interfaces().iter().any(|i| names_match(interface, i)))
    }

    /// Rule 1 with `"host"`: a labelled import is served by the host backend of its label,
    /// any other import by `[host] interfaces`, which must list it.
    pub(crate) fn bind_explicit_host(
        &mut self,
        id: ComponentId,
        import: &Item,
        span: Option<Span>,
    ) -> Option<Provider> {
        if let Some(interface) = &import.implements {
            return self.host_backend(id, import, interface, span);
        }
        if self.host_declares(&import.name) {
            return Some(Provider::HostInterface);
        }
        let problem = Problem::UndeclaredHostImport {
            component: self.name(id),
            import: import.name.clone(),
        };
        self.report(problem, span, "bound to the host here");
        None
    }

    /// Every import left to the host must be one the host serves, and all imports of one
    /// name (semver-compatibly) must merge into one type, as `compose build` merges them
    /// with wac-types' [`TypeAggregator`], in the same order (servers before importers).
    pub(crate) fn check_host_imports(&mut self, bindings: &Bindings, order: &[ComponentId]) {
        let mut aggregator = Some(TypeAggregator::default());
        let mut accepted: Vec<(String, ItemKind, ComponentId)> = Vec::new();
        let mut unserved = HashSet::new();
        for &id in order {
            for binding in bindings[id.0].iter().flatten() {
                let import = &binding.import;
                if matches!(binding.provider, Provider::Component { .. }) {
                    continue;
                }
                if matches!(binding.provider, Provider::HostInterface)
                    && !self.profile.serves_interface(&import.name)
                    && unserved.insert(import.name.clone())
                {
                    self.report_unserved(id, import);
                }
                let merged = aggregator.take().unwrap_or_default().aggregate(
                    &import.name,
                    &self.types,
                    import.kind,
                    &mut SubtypeChecker::new(&mut Default::default()),
                );
                match merged {
                    Ok(merged) => {
                        aggregator = Some(merged);
                        accepted.push((import.name.clone(), import.kind, id));
                    }
                    Err(error) => {
                        self.report_conflict(&accepted, id, import, &format!("{error:#}"));
                        aggregator = Some(self.aggregate_all(&accepted));
                    }
                }
            }
        }
    }

    fn report_unserved(&mut self, id: ComponentId, import: &Item) {
        let serves = self
            .profile
            .interfaces()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect();
        let problem = Problem::HostCannotServe {
            component: self.name(id),
            import: import.name.clone(),
            serves,
        };
        self.report(problem, self.decl(id).name_span.clone(), "imports it here");
    }

    fn report_conflict(
        &mut self,
        accepted: &[(String, ItemKind, ComponentId)],
        id: ComponentId,
        import: &Item,
        error: &dyn std::fmt::Display,
    ) {
        let first = accepted
            .iter()
            .find(|(name, _, _)| names_match(&import.name, name));
        let (first_name, detail) = match first {
            Some((_, kind, first)) => (
                self.name(*first),
                crate::wit_text::first_difference(&self.types, *kind, import.kind)
                    .unwrap_or_else(|| error.to_string()),
            ),
            None => (self.name(id), error.to_string()),
        };
        let problem = Problem::HostImportConflict {
            import: import.name.clone(),
            first: first_name,
            second: self.name(id),
            detail,
        };
        self.report(problem, self.decl(id).name_span.clone(), "imports it here");
    }

    /// An aggregator of every accepted host import (after a failed merge consumed it).
    fn aggregate_all(&self, accepted: &[(String, ItemKind, ComponentId)]) -> TypeAggregator {
        let mut cache = Default::default();
        // They merged before, in this order; should that ever fail, later conflicts go
        // unreported rather than the resolver panicking.
        accepted
            .iter()
            .fold(TypeAggregator::default(), |agg, (name, kind, _)| {
                agg.aggregate(
                    name,
                    &self.types,
                    *kind,
                    &mut SubtypeChecker::new(&mut cache),
                )
                .unwrap_or_default()
            })
    }
}
