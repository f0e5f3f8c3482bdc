//! The workload: what `workload.toml` says, as a value.
//!
//! A [`Workload`] is read from a file with [`Workload::from_file`] or [`Workload::parse`],
//! or built in code with [`Workload::new`] and [`Workload::with_component`] (component
//! bytes may already be in memory). Every value read from a file keeps its span, so
//! that the resolver's diagnostics point into the file.

use crate::diagnostic::{Diagnostic, Problem, Span, WorkloadText};
use crate::grants::Grants;
use crate::oci::{OciReference, OciSource};
use crate::plan::Instantiation;
use crate::plugin::BackendConfig;
use crate::source::Located;
use indexmap::IndexMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A workload: the components of one application and how they are wired.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The workload's name (kebab-case).
    pub name: Located<String>,
    /// What the embedding host provides.
    pub host: HostDecl,
    /// The workload's components by name, in the order written. A component's name is
    /// also the backend label it serves.
    pub components: IndexMap<String, ComponentDecl>,
    /// The workload's exports by export name, if `[exports]` lists them; `None` means
    /// the exports of the components nothing imports from.
    pub exports: Option<IndexMap<String, Located<ExportDecl>>>,
    /// `[remotes]`: providers on other machines, reached over wRPC, by name, in the order
    /// written. A remote's name is also the backend label it serves.
    pub remotes: IndexMap<String, RemoteDecl>,
    /// `[clusters]`: sets of components the run-time linker instantiates (and composes)
    /// together, by cluster name, in the order written.
    pub clusters: IndexMap<String, ClusterDecl>,
    /// `[allow]`: what every component may reach (see [`Grants`]).
    pub allow: AllowDecl,
    /// The workload file's text, when the workload was read from one.
    pub text: Option<WorkloadText>,
    /// The folder that relative component paths are relative to.
    pub base_dir: PathBuf,
}

/// One `[clusters]` entry: `hot = ["frontend", "formatter"]`.
#[derive(Debug, Clone, Default)]
pub struct ClusterDecl {
    /// Where the cluster's name is written.
    pub name_span: Option<Span>,
    /// Its members' names, each where it is written.
    pub members: Vec<Located<String>>,
}

/// `[host]`: what the embedding host provides.
#[derive(Debug, Clone, Default)]
pub struct HostDecl {
    /// Interface names or patterns (`wasi:cli/*@0.2.0`, `wasi:*@0.2.0`) the host serves.
    pub interfaces: Vec<Located<String>>,
    /// `implements` labels the host serves, with the interface each implements.
    pub backends: IndexMap<String, HostBackendDecl>,
}

/// One host backend: `[host] backends = { LABEL = "interface" }` or a table
/// `[host.backends.LABEL]` with `interface`, an optional `plugin` and the plugin's keys.
#[derive(Debug, Clone)]
pub struct HostBackendDecl {
    /// Where the label is written.
    pub label_span: Option<Span>,
    /// The interface the backend implements (`wasi:keyvalue/store@0.2.0-draft`).
    pub interface: Located<String>,
    /// The host plugin that serves it; `None` means the host's default plugin for the
    /// interface.
    pub plugin: Option<Located<String>>,
    /// The plugin's own keys (`url-env = "TEAM_A_DATABASE_URL"`).
    pub config: BackendConfig,
}

/// Where a component's bytes come from.
#[derive(Debug, Clone)]
pub enum ComponentSource {
    /// A file; relative paths are relative to the workload file's folder.
    Path(PathBuf),
    /// A component in an OCI registry (`source = "oci://…"`), pulled by compose-registry
    /// before resolving.
    Oci(OciSource),
    /// Bytes already in memory, with a name to show for them.
    Bytes {
        /// A name for messages (`<memory>` if nothing better).
        name: String,
        /// The component's bytes.
        bytes: Arc<[u8]>,
    },
}

/// `[components.<name>]`: one component of the workload.
#[derive(Debug, Clone)]
pub struct ComponentDecl {
    /// Where the component's name is written.
    pub name_span: Option<Span>,
    /// Its file, registry reference or bytes; the span is that of `path` or `source`.
    pub source: Located<ComponentSource>,
    /// Explicit bindings by import name.
    pub imports: IndexMap<String, ExplicitBinding>,
    /// When the run-time linker instantiates it.
    pub instantiate: Instantiation,
    /// `max-memory`: the most linear memory, in bytes, that one instance of the component
    /// may hold (all its memories together); `None` for no limit. The run-time linker
    /// enforces it.
    pub max_memory: Option<u64>,
    /// `[components.NAME.config]`: the values `wasi:config/store` gives this component
    /// (and no other), each with where it is written.
    pub config: IndexMap<String, Located<String>>,
    /// `[components.NAME.allow]`: what this component may reach beyond the workload's
    /// `[allow]`.
    pub allow: AllowDecl,
}

/// An `allow` table: the grants, and where each of its keys is written.
#[derive(Debug, Clone, Default)]
pub struct AllowDecl {
    /// What it grants.
    pub grants: Grants,
    /// Where `env`, `dirs` and `http` are written.
    pub spans: AllowSpans,
}

/// Where the keys of an `allow` table are written.
#[derive(Debug, Clone, Default)]
pub struct AllowSpans {
    /// The table itself.
    pub table: Option<Span>,
    /// `env = [...]`.
    pub env: Option<Span>,
    /// `dirs = [...]`.
    pub dirs: Option<Span>,
    /// `http = [...]`.
    pub http: Option<Span>,
}

/// An explicit binding in a component's `imports`.
#[derive(Debug, Clone)]
pub struct ExplicitBinding {
    /// Where the import name (the key) is written.
    pub import_span: Option<Span>,
    /// What serves the import.
    pub target: Located<BindingTarget>,
}

/// What an explicit binding names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingTarget {
    /// `"host"`: the host serves the import (a host interface, or the host backend of
    /// the import's label).
    Host,
    /// `"<component>"` or `{ component = "...", export = "..." }`: an export of a workload
    /// component, or of a remote of that name (`[remotes]`); without `export`, the export
    /// of the import's name or interface.
    Component {
        /// The serving component.
        component: String,
        /// The export's name, if given.
        export: Option<String>,
    },
}

/// What a workload export names: an export of one of the components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportDecl {
    /// The component.
    pub component: String,
    /// Its export; `None` means the export of the same name as the workload export.
    pub export: Option<String>,
}

impl ComponentDecl {
    /// A component read from `path` (relative to the workload's base folder), lazy, with no
    /// explicit bindings.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        Self::from_source(ComponentSource::Path(path.into()))
    }

    /// A component whose bytes are already in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self::from_source(ComponentSource::Bytes {
            name: name.into(),
            bytes: bytes.into(),
        })
    }

    /// A component in an OCI registry, to be pulled (by compose-registry) before resolving.
    pub fn from_oci(reference: OciReference) -> Self {
        Self::from_source(ComponentSource::Oci(OciSource {
            reference,
            pulled: None,
        }))
    }

    fn from_source(source: ComponentSource) -> Self {
        Self {
            name_span: None,
            source: Located::new(source),
            imports: IndexMap::new(),
            instantiate: Instantiation::Lazy,
            max_memory: None,
            config: IndexMap::new(),
            allow: AllowDecl::default(),
        }
    }

    /// The same component, with at most `bytes` of linear memory per instance.
    pub fn with_max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
        self
    }

    /// The same component with the `wasi:config/store` value `key` = `value`.
    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), Located::new(value.into()));
        self
    }

    /// The same component with `grants` added to what it may reach.
    pub fn with_grants(mut self, grants: &Grants) -> Self {
        self.allow.grants = self.allow.grants.with(grants);
        self
    }

    /// The same component with an explicit binding of `import` to `target`.
    pub fn with_binding(mut self, import: impl Into<String>, target: BindingTarget) -> Self {
        self.imports.insert(
            import.into(),
            ExplicitBinding {
                import_span: None,
                target: Located::new(target),
            },
        );
        self
    }

    /// The same component, instantiated as `instantiate` says.
    pub fn with_instantiation(mut self, instantiate: Instantiation) -> Self {
        self.instantiate = instantiate;
        self
    }
}

impl Workload {
    /// An empty workload named `name`, whose relative paths are relative to the current folder.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Located::new(name.into()),
            host: HostDecl::default(),
            components: IndexMap::new(),
            exports: None,
            remotes: IndexMap::new(),
            clusters: IndexMap::new(),
            allow: AllowDecl::default(),
            text: None,
            base_dir: PathBuf::from("."),
        }
    }

    /// The same workload with one more component named `name`.
    pub fn with_component(mut self, name: impl Into<String>, component: ComponentDecl) -> Self {
        self.components.insert(name.into(), component);
        self
    }

    /// The same workload with the remote `name` (as `[remotes.NAME]` declares it).
    pub fn with_remote(mut self, name: impl Into<String>, remote: RemoteDecl) -> Self {
        self.remotes.insert(name.into(), remote);
        self
    }

    /// The same workload with `grants` added to what every component may reach
    /// (`[allow]`).
    pub fn with_grants(mut self, grants: &Grants) -> Self {
        self.allow.grants = self.allow.grants.with(grants);
        self
    }

    /// The same workload with `pattern` (an interface name or `ns:pkg/*@ver`, `ns:*@ver`)
    /// in `[host] interfaces`.
    pub fn with_host_interface(mut self, pattern: impl Into<String>) -> Self {
        self.host.interfaces.push(Located::new(pattern.into()));
        self
    }

    /// The same workload with a host backend `label` implementing `interface`, served by
    /// the host's default plugin for it.
    pub fn with_host_backend(self, label: impl Into<String>, interface: impl Into<String>) -> Self {
        self.with_plugin_backend(label, interface, None, BackendConfig::default())
    }

    /// The same workload with a host backend `label` implementing `interface`, served by
    /// `plugin` (or the default plugin) with `config`.
    pub fn with_plugin_backend(
        mut self,
        label: impl Into<String>,
        interface: impl Into<String>,
        plugin: Option<&str>,
        config: BackendConfig,
    ) -> Self {
        self.host.backends.insert(
            label.into(),
            HostBackendDecl {
                label_span: None,
                interface: Located::new(interface.into()),
                plugin: plugin.map(|p| Located::new(p.to_owned())),
                config,
            },
        );
        self
    }

    /// The same workload with the workload export `name` served by `export` (or the export
    /// of the same name) of `component`.
    pub fn with_export(
        mut self,
        name: impl Into<String>,
        component: impl Into<String>,
        export: Option<String>,
    ) -> Self {
        self.exports.get_or_insert_default().insert(
            name.into(),
            Located::new(ExportDecl {
                component: component.into(),
                export,
            }),
        );
        self
    }

    /// The same workload with the cluster `name` of `members` (as `[clusters]` writes it).
    pub fn with_cluster<S: Into<String>>(
        mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = S>,
    ) -> Self {
        let members = members
            .into_iter()
            .map(|m| Located::new(m.into()))
            .collect();
        self.clusters.insert(
            name.into(),
            ClusterDecl {
                name_span: None,
                members,
            },
        );
        self
    }

    /// Where a component's name is written, if it is.
    pub(crate) fn component_span(&self, name: &str) -> Option<Span> {
        self.components.get(name)?.name_span.clone()
    }

    /// A diagnostic for `problem` at `span` of this workload's file.
    pub(crate) fn diagnostic(&self, problem: Problem, span: Option<Span>) -> Diagnostic {
        Diagnostic::new(problem, self.text.as_ref(), span)
    }
}

/// `[remotes.NAME]`: a provider on another machine, as the workload declares it.
#[derive(Debug, Clone)]
pub struct RemoteDecl {
    /// Where its name is written.
    pub name_span: Option<Span>,
    /// `url`, as written.
    pub url: Located<String>,
    /// `exports`: the names of the exports it serves, each where it is written.
    pub exports: Vec<Located<String>>,
    /// `types`: the component whose exports (or imports) give the exports' types; a path
    /// relative to the workload file, or bytes in memory.
    pub types: Located<ComponentSource>,
}

impl RemoteDecl {
    /// A remote at `url` serving `exports`, whose types come from the component file at
    /// `types` (relative to the workload's base folder).
    pub fn new<S: Into<String>>(
        url: impl Into<String>,
        exports: impl IntoIterator<Item = S>,
        types: impl Into<PathBuf>,
    ) -> Self {
        Self::with_types(url, exports, ComponentSource::Path(types.into()))
    }

    /// A remote at `url` serving `exports`, whose types come from `types`.
    pub fn with_types<S: Into<String>>(
        url: impl Into<String>,
        exports: impl IntoIterator<Item = S>,
        types: ComponentSource,
    ) -> Self {
        Self {
            name_span: None,
            url: Located::new(url.into()),
            exports: exports
                .into_iter()
                .map(|e| Located::new(e.into()))
                .collect(),
            types: Located::new(types),
        }
    }
}
