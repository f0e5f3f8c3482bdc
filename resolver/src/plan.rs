//! The resolved plan: the single source of truth that the composer, the linker and the
//! graph read. Nothing downstream matches imports again.

use crate::component::{ComponentType, Item};
use crate::diagnostic::{Diagnostic, Problem, Span, WorkloadText};
use crate::grants::Grants;
use crate::names::HostPattern;
use crate::plugin::BackendConfig;
use indexmap::IndexMap;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use wac_types::Types;

/// A component of a [`Plan`]: an index into [`Plan::components`], handed out by the plan
/// (it cannot be made from a number outside this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ComponentId(pub(crate) usize);

impl ComponentId {
    /// The index in [`Plan::components`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// A component file of a [`Plan`]: an index into [`Plan::files`]. Components read from
/// the same file share one id, so that composing and linking handle each file once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FileId(pub(crate) usize);

impl FileId {
    /// The index in [`Plan::files`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// One component file (or in-memory component), read and parsed once.
#[derive(Debug, Clone)]
pub struct ComponentFile {
    /// The path as the workload file writes it (relative to the workload file), or the
    /// name given to in-memory bytes.
    pub written: String,
    /// The path that was read, for a file.
    pub path: Option<PathBuf>,
    /// Its type and bytes.
    pub ty: Arc<ComponentType>,
}

impl ComponentFile {
    /// The component's size in bytes.
    pub fn size(&self) -> usize {
        self.ty.bytes.len()
    }
}

/// `[host]` as the resolver checked it: what the host must serve.
#[derive(Debug, Clone, Default)]
pub struct HostSection {
    /// `[host] interfaces`, parsed.
    pub interfaces: Vec<HostPattern>,
    /// `[host] backends` by label, in the order written.
    pub backends: IndexMap<String, PlannedBackend>,
}

/// A host backend: an `implements` label that a host plugin serves.
#[derive(Debug, Clone)]
pub struct PlannedBackend {
    /// The label.
    pub label: String,
    /// The interface it implements, as declared.
    pub interface: String,
    /// The plugin that serves it: as written, else the host profile's default for the
    /// interface; `None` when the profile does not say ([`HostProfile::any`](crate::HostProfile::any)).
    pub plugin: Option<String>,
    /// The plugin's keys.
    pub config: BackendConfig,
    /// Where the workload file declares it (its label), when it came from a file.
    pub span: Option<Span>,
}

/// A resolved workload: every import of every component bound, type-checked, in a DAG.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The workload's name.
    pub name: String,
    /// The types of every component, which [`Item::kind`] and [`ComponentType::world`] refer into.
    pub types: Types,
    /// Every component file, once each, in the order first used.
    pub files: Vec<ComponentFile>,
    /// The workload's components, in the order of the workload file.
    pub components: Vec<PlannedComponent>,
    /// Every component, each after the components it imports from.
    pub order: Vec<ComponentId>,
    /// What the workload exports.
    pub exports: Vec<WorkloadExport>,
    /// Warnings found while resolving (the workload resolved despite them).
    pub warnings: Vec<Diagnostic>,
    /// What the host must serve.
    pub host: HostSection,
    /// The remotes (`[remotes]`), in the order of the workload file.
    pub remotes: Vec<PlannedRemote>,
    /// What every component may reach (`[allow]`): a component's own grants add to it.
    pub allow: Grants,
    /// The workload file's text, when the workload came from a file: what diagnostics
    /// found after resolving (`compose check`) point into.
    pub source: Option<WorkloadText>,
    /// The clusters: every component in exactly one, ordered by their first members (see
    /// [`Cluster`](crate::Cluster)).
    pub clusters: Vec<Cluster>,
}

/// One component of a resolved workload.
#[derive(Debug, Clone)]
pub struct PlannedComponent {
    /// Its name in the workload (also the backend label it serves).
    pub name: String,
    /// Its file in [`Plan::files`].
    pub file: FileId,
    /// Its type and bytes: the same as its file's.
    pub ty: Arc<ComponentType>,
    /// When the run-time linker instantiates it.
    pub instantiate: Instantiation,
    /// The most linear memory, in bytes, that one instance may hold (`max-memory`).
    pub max_memory: Option<u64>,
    /// One binding per import, in the order of [`ComponentType::imports`].
    pub bindings: Vec<Binding>,
    /// The values `wasi:config/store` gives it (`[components.NAME.config]`).
    pub config: IndexMap<String, String>,
    /// What it may reach: the workload's `[allow]` and its own `[components.NAME.allow]`.
    pub grants: Grants,
    /// Where its own `allow` table is written, if it has one.
    pub allow_span: Option<Span>,
}

impl PlannedComponent {
    /// Its bindings served by other workload components, as `(binding, server, export
    /// name)`; the host serves the others.
    pub fn component_bindings(&self) -> impl Iterator<Item = (&Binding, ComponentId, &str)> {
        self.bindings.iter().filter_map(|b| match &b.provider {
            Provider::Component { component, export } => Some((b, *component, export.as_str())),
            _ => None,
        })
    }
}

/// How one import is served.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The import.
    pub import: Item,
    /// What serves it.
    pub provider: Provider,
    /// Which matching rule chose the provider.
    pub rule: Rule,
}

/// What serves an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// An export of another workload component.
    Component {
        /// The serving component.
        component: ComponentId,
        /// The name of its export.
        export: String,
    },
    /// An interface (or plain-named item) the host provides under the import's name.
    HostInterface,
    /// An export of a remote (`[remotes]`): each call is one wRPC invocation.
    Remote {
        /// The remote.
        remote: RemoteId,
        /// The name of its export (as its `types` name it).
        export: String,
    },
    /// A host backend: the host serves the import's `implements` label.
    HostBackend {
        /// The label (the import's name).
        label: String,
        /// The interface the backend implements, as `[host] backends` declares it.
        interface: String,
    },
}

/// The matching rule that chose a provider (rules 1–3 of docs/workload.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// An explicit binding in the component's `imports`.
    Explicit,
    /// An `implements` label named the backend.
    Label,
    /// The unique other component exporting the import's name.
    Name,
    /// The host provides the interface (`[host] interfaces`).
    Host,
}

/// One export of the workload.
#[derive(Debug, Clone)]
pub struct WorkloadExport {
    /// The workload's export name.
    pub name: String,
    /// The component that serves it.
    pub component: ComponentId,
    /// The component's export.
    pub export: Item,
}

/// What did resolve of a workload that does not: returned in
/// [`ResolveError::partial`](crate::ResolveError::partial), so that tools such as
/// `compose graph` can show the wiring next to the errors without matching imports
/// themselves.
#[derive(Debug, Clone)]
pub struct PartialPlan {
    /// The components that could be read, each with the bindings that resolved; the
    /// exports that resolved; `order` is empty when the components form a cycle.
    pub plan: Plan,
    /// The imports left unbound, in the order of the components and their imports.
    pub unbound: Vec<Unbound>,
    /// The components that could not be read, in the order of the workload file.
    pub unreadable: Vec<Unreadable>,
}

/// An import of a [`PartialPlan`] component that is not bound.
#[derive(Debug, Clone)]
pub struct Unbound {
    /// The importing component, in [`PartialPlan::plan`].
    pub component: ComponentId,
    /// The import.
    pub import: Item,
    /// The index in `ResolveError::diagnostics` of why; `None` only if no diagnostic names it.
    pub diagnostic: Option<usize>,
}

/// A workload component that could not be read.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// Its name in the workload.
    pub name: String,
    /// Its position among the workload file's components.
    pub position: usize,
    /// Its path as the workload file writes it (or the name of in-memory bytes).
    pub written: String,
    /// The size of its file in bytes, when the file could be read.
    pub size: Option<usize>,
    /// When the run-time linker would instantiate it.
    pub instantiate: Instantiation,
    /// The index in `ResolveError::diagnostics` of why.
    pub diagnostic: usize,
}

/// An import that the host must serve, with every component that imports it.
#[derive(Debug, Clone)]
pub struct HostImport<'a> {
    /// The import (its name, `implements` interface and type, as the first importer declares it).
    pub import: &'a Item,
    /// The backend's interface for a host backend.
    pub backend: Option<&'a str>,
    /// The components that import it.
    pub importers: Vec<ComponentId>,
}

impl Plan {
    /// The file `id`.
    ///
    /// # Panics
    /// If `id` is not from this plan.
    pub fn file(&self, id: FileId) -> &ComponentFile {
        &self.files[id.0]
    }

    /// Every component with its id, in the order of the workload file.
    pub fn components(&self) -> impl Iterator<Item = (ComponentId, &PlannedComponent)> {
        self.components
            .iter()
            .enumerate()
            .map(|(i, c)| (ComponentId(i), c))
    }

    /// The component `id`.
    ///
    /// # Panics
    /// If `id` is not from this plan.
    pub fn component(&self, id: ComponentId) -> &PlannedComponent {
        &self.components[id.0]
    }

    /// The remote `id`.
    ///
    /// # Panics
    /// If `id` is not from this plan.
    pub fn remote(&self, id: RemoteId) -> &PlannedRemote {
        &self.remotes[id.0]
    }

    /// Every binding served by a remote, as `(importer, binding, remote, export name)`.
    pub fn remote_bindings(&self) -> impl Iterator<Item = (ComponentId, &Binding, RemoteId, &str)> {
        self.components().flat_map(|(id, c)| {
            c.bindings.iter().filter_map(move |b| match &b.provider {
                Provider::Remote { remote, export } => Some((id, b, *remote, export.as_str())),
                _ => None,
            })
        })
    }

    /// Checks that `what` (`compose build`, `--link composed`) may compose the workload
    /// into one component: no import may be served by a remote.
    ///
    /// # Errors
    /// [`Problem::RemoteNotComposable`] at the remote's name, for the first such import.
    pub fn check_composable_remotes(&self, what: &str) -> Result<(), Box<Diagnostic>> {
        let Some((importer, binding, remote, _)) = self.remote_bindings().next() else {
            return Ok(());
        };
        let remote = self.remote(remote);
        let problem = Problem::RemoteNotComposable {
            what: what.to_owned(),
            component: self.component(importer).name.clone(),
            import: binding.import.name.clone(),
            remote: remote.name.clone(),
        };
        let diagnostic = Diagnostic::new(problem, self.source.as_ref(), remote.span.clone());
        Err(Box::new(diagnostic.with_label("a remote")))
    }

    /// The component named `name`, if the workload has one.
    pub fn find(&self, name: &str) -> Option<ComponentId> {
        self.components
            .iter()
            .position(|c| c.name == name)
            .map(ComponentId)
    }

    /// The imports the host must serve, one entry per import name, in the order first met.
    pub fn host_imports(&self) -> Vec<HostImport<'_>> {
        let mut out: Vec<HostImport<'_>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (i, component) in self.components.iter().enumerate() {
            for binding in &component.bindings {
                let backend = match &binding.provider {
                    Provider::Component { .. } | Provider::Remote { .. } => continue,
                    Provider::HostInterface => None,
                    Provider::HostBackend { interface, .. } => Some(interface.as_str()),
                };
                let slot = *index
                    .entry(binding.import.name.as_str())
                    .or_insert_with(|| {
                        out.push(HostImport {
                            import: &binding.import,
                            backend,
                            importers: Vec::new(),
                        });
                        out.len() - 1
                    });
                out[slot].importers.push(ComponentId(i));
            }
        }
        out
    }
}

/// The plan for a person: each component, each import and what serves it, the workload's
/// exports and a summary line.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.components {
            let file = self.file(c.file);
            // A registry component shows its reference, not the cache file that holds it.
            let path = match &file.path {
                _ if file.written.starts_with(crate::OCI_SCHEME) => file.written.clone(),
                Some(path) => path.display().to_string(),
                None => "<memory>".into(),
            };
            let instantiate = match c.instantiate {
                Instantiation::Lazy => "lazy",
                Instantiation::Eager => "eager",
            };
            writeln!(
                f,
                "{} ({path}, {} bytes, {instantiate})",
                c.name,
                file.size()
            )?;
            for b in &c.bindings {
                let served = match &b.provider {
                    Provider::Component { component, export } => {
                        format!("{}: {export}", self.component(*component).name)
                    }
                    Provider::Remote { remote, export } => {
                        let remote = self.remote(*remote);
                        format!("remote {} ({}): {export}", remote.name, remote.url)
                    }
                    Provider::HostInterface => "host".into(),
                    Provider::HostBackend { label, interface } => {
                        format!("host backend {label} ({interface})")
                    }
                };
                writeln!(f, "  {} <- {served}", b.import.describe())?;
            }
        }
        writeln!(f, "exports")?;
        for e in &self.exports {
            writeln!(
                f,
                "  {} <- {}: {}",
                e.name,
                self.component(e.component).name,
                e.export.name
            )?;
        }
        self.fmt_clusters(f)?;
        let bindings: usize = self.components.iter().map(|c| c.bindings.len()).sum();
        write!(
            f,
            "workload `{}` resolves: {} component(s), {}{bindings} binding(s), {} host import(s), {} export(s), {} warning(s)",
            self.name,
            self.components.len(),
            match self.remotes.len() {
                0 => String::new(),
                n => format!("{n} remote(s), "),
            },
            self.host_imports().len(),
            self.exports.len(),
            self.warnings.len(),
        )
    }
}

impl Plan {
    /// The `clusters` section of the plan's text: each cluster of more than one member
    /// (the others are lazy components on their own); nothing when there is none.
    fn fmt_clusters(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut fused = self
            .clusters
            .iter()
            .filter(|c| c.members.len() > 1)
            .peekable();
        if fused.peek().is_none() {
            return Ok(());
        }
        writeln!(f, "clusters")?;
        for cluster in fused {
            let members: Vec<&str> = cluster
                .members
                .iter()
                .map(|id| self.component(*id).name.as_str())
                .collect();
            let why = if cluster.explicit {
                "[clusters]"
            } else {
                "eager"
            };
            writeln!(f, "  {}: {} ({why})", cluster.name, members.join(", "))?;
        }
        Ok(())
    }
}

/// When the run-time linker instantiates a component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Instantiation {
    /// On the first call that needs it (the default).
    #[default]
    Lazy,
    /// When the workload is instantiated in a store.
    Eager,
}

/// A set of workload components instantiated together: the first call into any member
/// instantiates every member (in one store, once each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Its name: the key in `[clusters]`, or the name of its first member for a cluster
    /// of the default rule.
    pub name: String,
    /// Its members, in the order of the workload file; never empty.
    pub members: Vec<ComponentId>,
    /// Whether `[clusters]` names it (else the default rule made it).
    pub explicit: bool,
}

impl Plan {
    /// Whether every component has the same grants: then one set of WASI imports serves
    /// them all, and the workload may be composed into one component.
    pub fn grants_are_uniform(&self) -> bool {
        self.components
            .windows(2)
            .all(|w| w[0].grants == w[1].grants)
    }

    /// Checks that `what` (`compose build`, `--link composed`) may compose the workload
    /// into one component: its components' grants must not differ.
    ///
    /// # Errors
    /// [`Problem::GrantsDiffer`] at the `allow` table of the second component of a pair
    /// whose grants differ.
    pub fn check_composable_grants(&self, what: &str) -> Result<(), Box<Diagnostic>> {
        let Some(first) = self.components.first() else {
            return Ok(());
        };
        let Some(second) = self.components.iter().find(|c| c.grants != first.grants) else {
            return Ok(());
        };
        let problem = Problem::GrantsDiffer {
            what: what.to_owned(),
            first: first.name.clone(),
            second: second.name.clone(),
            difference: grants_difference(&first.grants, &second.grants),
        };
        let span = second
            .allow_span
            .clone()
            .or_else(|| first.allow_span.clone());
        let diagnostic = Diagnostic::new(problem, self.source.as_ref(), span);
        Err(Box::new(diagnostic.with_label("grants differ")))
    }
}

/// Which kinds of grant differ between `a` and `b`, in words.
fn grants_difference(a: &Grants, b: &Grants) -> String {
    let differ = [
        (a.env != b.env, "env"),
        (a.dirs != b.dirs, "dirs"),
        (a.http != b.http, "http"),
    ];
    let keys: Vec<_> = differ
        .iter()
        .filter(|(d, _)| *d)
        .map(|(_, k)| format!("`{k}`"))
        .collect();
    keys.join(" and ")
}

/// A remote of a [`Plan`](crate::Plan): an index into
/// [`Plan::remotes`](crate::Plan::remotes), handed out by the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RemoteId(pub(crate) usize);

impl RemoteId {
    /// The index in [`Plan::remotes`](crate::Plan::remotes).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Where a remote listens: the wRPC transports this host speaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RemoteUrl {
    /// `tcp://HOST:PORT`: wRPC's TCP transport, one connection per invocation.
    Tcp {
        /// A host name or an IP address (IPv6 in brackets, `[::1]`).
        host: String,
        /// The port.
        port: u16,
    },
    /// `unix:///path`: wRPC's Unix socket transport, one connection per invocation.
    Unix(PathBuf),
}

impl RemoteUrl {
    /// Parses `tcp://HOST:PORT` or `unix:///absolute/path`.
    ///
    /// # Errors
    /// Why `text` is not such a URL (another scheme, no host or port, a port that is not a
    /// number from 1 to 65535, a relative socket path, a path or query after the port).
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(
                    "a Unix socket's path must be absolute (`unix:///run/formatter.sock`)".into(),
                );
            }
            return Ok(RemoteUrl::Unix(PathBuf::from(path)));
        }
        let Some(address) = text.strip_prefix("tcp://") else {
            let scheme = text.split_once("://").map_or(text, |(s, _)| s);
            return Err(format!(
                "`{scheme}` is not a wRPC transport this host speaks: write `tcp://HOST:PORT` or `unix:///path`"
            ));
        };
        let (host, port) = address
            .rsplit_once(':')
            .ok_or("it has no port: write `tcp://HOST:PORT`")?;
        if host.is_empty() || host.contains(['/', '?', '#', '@']) {
            return Err(format!("`{host}` is not a host name or address"));
        }
        let port = match port.parse::<u16>() {
            Ok(0) | Err(_) => {
                return Err(format!(
                    "`{port}` is not a port: write a number from 1 to 65535"
                ));
            }
            Ok(port) => port,
        };
        Ok(RemoteUrl::Tcp {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteUrl::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            RemoteUrl::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

/// A remote of a resolved workload.
#[derive(Debug, Clone)]
pub struct PlannedRemote {
    /// Its name in the workload (also the backend label it serves).
    pub name: String,
    /// Where it listens.
    pub url: RemoteUrl,
    /// The exports it serves, typed from its `types`, in the order `exports` lists them.
    pub exports: Vec<Item>,
    /// Its `types` as the workload file writes it (or the name of bytes in memory).
    pub types: String,
    /// Where the workload file declares it (its name).
    pub span: Option<Span>,
}
