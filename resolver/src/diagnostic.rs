//! Problems found while loading or resolving a workload, located in `workload.toml`.
//!
//! Every problem is a [`Diagnostic`]: what went wrong ([`Problem`]), how bad it is
//! ([`Severity`]) and where it is written in the workload file, if it is written there.
//! The libraries never render diagnostics; a front end renders them with `miette`
//! (each [`Diagnostic`] implements [`miette::Diagnostic`]).

use crate::source::SourceFile;
use miette::{LabeledSpan, SourceSpan};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A byte range in the workload file's text.
pub type Span = Range<usize>;

/// The text of a workload file, shared by every diagnostic that points into it.
pub type WorkloadText = Arc<SourceFile>;

/// Whether a problem stops the workload from resolving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The workload still resolves (for example a component nothing uses).
    Warning,
    /// The workload does not resolve.
    Error,
}

/// What is wrong, with the names a user needs to find and fix it.
///
/// The `Display` text is the one-line message; [`Problem::help`] says what would fix it;
/// [`Problem::code`] is a stable identifier (`compose::<kind>`) that tools can match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The workload file could not be read.
    #[error("cannot read workload file `{path}`: {reason}")]
    ReadWorkload {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The workload file is not valid TOML or does not have the workload's shape
    /// (a missing `name`, an unknown key, a value of the wrong type).
    #[error("invalid workload file: {reason}")]
    InvalidWorkload {
        /// What the TOML parser said.
        reason: String,
    },
    /// A workload or component name is not a kebab-case label (component model spec, `label`).
    #[error(
        "`{name}` is not a valid {what} name: it must be kebab-case (`shop`, `team-a-postgres`)"
    )]
    InvalidName {
        /// The name as written.
        name: String,
        /// What is named: `workload`, `component`, `backend` or `cluster`.
        what: &'static str,
    },
    /// A name in `[host] interfaces` is neither an interface name nor a pattern.
    #[error("`{pattern}` is not a host interface name or pattern")]
    InvalidHostInterface {
        /// The entry as written.
        pattern: String,
    },
    /// A component's file could not be read.
    #[error("cannot read component `{component}` from `{path}`: {reason}")]
    ReadComponent {
        /// The workload component.
        component: String,
        /// The resolved file path.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A component's file is not a valid WebAssembly component.
    #[error("component `{component}` is not a valid WebAssembly component: {reason}")]
    NotAComponent {
        /// The workload component.
        component: String,
        /// Why (a core module, not WebAssembly at all, invalid).
        reason: String,
    },
    /// An explicit binding or a workload export names a component the workload does not have.
    #[error("{referrer} names `{target}`, which is not a component of this workload")]
    UnknownComponent {
        /// What names it.
        referrer: Referrer,
        /// The missing component.
        target: String,
        /// The workload's components, for the help text.
        known: Vec<String>,
    },
    /// An explicit binding or workload export names an export that the component lacks.
    #[error("component `{target}` has no export {wanted} (for {referrer})")]
    UnknownExport {
        /// The component that should have the export.
        target: String,
        /// The export looked for.
        wanted: WantedExport,
        /// What needed it.
        referrer: Referrer,
        /// The component's exports, for the help text.
        available: Vec<String>,
    },
    /// An explicit binding names an import that the component does not have.
    #[error("component `{component}` has no import `{import}`")]
    UnknownImport {
        /// The component.
        component: String,
        /// The binding's key.
        import: String,
        /// The component's imports, for the help text.
        available: Vec<String>,
    },
    /// A labelled (`implements`) import has no backend of its label.
    #[error(
        "`{component}` imports `{label}` (implements `{interface}`), but no component or host backend is named `{label}`"
    )]
    MissingBackend {
        /// The importing component.
        component: String,
        /// The import's label.
        label: String,
        /// The interface it implements.
        interface: String,
    },
    /// The backend named by a label serves another interface.
    #[error(
        "`{component}` imports `{label}` implementing `{interface}`, but {}", offer.describe(label)
    )]
    BackendMismatch {
        /// The importing component.
        component: String,
        /// The import's label.
        label: String,
        /// The interface the import implements.
        interface: String,
        /// What the backend of that label serves instead.
        offer: BackendOffer,
    },
    /// A label names both a workload component and a host backend.
    #[error("`{label}` is both a component of the workload and a host backend")]
    DuplicateBackend {
        /// The label.
        label: String,
    },
    /// Several components export what an import needs.
    #[error("import `{import}` of `{component}` is ambiguous: {} export it", candidates.join(", "))]
    Ambiguous {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The components that export it.
        candidates: Vec<String>,
    },
    /// Nothing serves an import.
    #[error(
        "import `{import}` of `{component}` is not satisfied: no other component exports it and the host does not provide it"
    )]
    Unsatisfied {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
    },
    /// The export bound to an import is not a subtype of what the import expects.
    #[error(
        "import `{import}` of `{component}` does not type-check against export `{export}` of `{server}`: {detail}"
    )]
    TypeMismatch {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The serving component.
        server: String,
        /// Its export bound to the import.
        export: String,
        /// The first item that differs, with both types in WIT syntax.
        detail: String,
    },
    /// Components depend on each other in a cycle.
    #[error("components depend on each other in a cycle: {}", cycle.join(" → "))]
    Cycle {
        /// The cycle, starting and ending at the same component.
        cycle: Vec<String>,
    },
    /// Without `[exports]`, two root components export the same name.
    #[error("workload export `{export}` is exported by both `{first}` and `{second}`")]
    ExportClash {
        /// The export name.
        export: String,
        /// One component.
        first: String,
        /// The other.
        second: String,
    },
    /// A host backend names a plugin the host does not have.
    #[error("backend `{label}` names plugin `{plugin}`, which this host does not have")]
    UnknownPlugin {
        /// The backend's label.
        label: String,
        /// The plugin named.
        plugin: String,
        /// The host's plugins, for the help text.
        known: Vec<String>,
    },
    /// A host backend's plugin does not serve the backend's interface.
    #[error(
        "backend `{label}` implements `{interface}`, but plugin `{plugin}` serves only {}",
        serves.join(", ")
    )]
    PluginMismatch {
        /// The backend's label.
        label: String,
        /// The plugin.
        plugin: String,
        /// The backend's interface.
        interface: String,
        /// The interfaces the plugin serves.
        serves: Vec<String>,
    },
    /// A host backend names no plugin, and the host has no default plugin for its interface.
    #[error(
        "backend `{label}` (implements `{interface}`) names no plugin, and this host has no default plugin for `{interface}`"
    )]
    NoPlugin {
        /// The backend's label.
        label: String,
        /// The backend's interface.
        interface: String,
        /// The host's plugins, for the help text.
        plugins: Vec<String>,
    },
    /// A plugin does not accept a backend's configuration.
    #[error("backend `{label}` (plugin `{plugin}`): {message}")]
    InvalidBackendConfig {
        /// The backend's label.
        label: String,
        /// The plugin.
        plugin: String,
        /// The key it is about, if one.
        key: Option<String>,
        /// What the plugin says.
        message: String,
        /// The plugin's fix, if it has one.
        fix: Option<String>,
    },
    /// A backend that the host cannot serve now (found by `compose check`, after resolving:
    /// for `postgres`, a variable that is not set, a login or a table that fails).
    #[error("backend `{label}`{} cannot be served: {cause}", plugin.as_ref().map(|p| format!(" (plugin `{p}`)")).unwrap_or_default())]
    BackendUnavailable {
        /// The backend's label.
        label: String,
        /// The plugin that would serve it, if one does.
        plugin: Option<String>,
        /// Why it cannot be served.
        cause: String,
        /// What would fix it, if the plugin says.
        fix: Option<String>,
    },
    /// An import that the plan leaves to the host, which the host does not serve.
    #[error(
        "import `{import}` of `{component}` is left to the host, but this host does not serve it"
    )]
    HostCannotServe {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// What the host serves, as patterns.
        serves: Vec<String>,
    },
    /// An import bound to `"host"` that `[host] interfaces` does not list.
    #[error(
        "import `{import}` of `{component}` is bound to \"host\", but `[host] interfaces` does not list it"
    )]
    UndeclaredHostImport {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
    },
    /// Two components import one name from the host with types that cannot be merged into
    /// one import of the composed component (wac's rule: one type per import name).
    #[error(
        "components `{first}` and `{second}` import `{import}` from the host with types that cannot be merged: {detail}"
    )]
    HostImportConflict {
        /// The import name.
        import: String,
        /// The first component that imports it.
        first: String,
        /// A component whose import's type conflicts with the first's.
        second: String,
        /// The first item that differs, in WIT syntax.
        detail: String,
    },
    /// An `[exports]` name that is not a component-model name (a kebab-case label or an
    /// interface name `ns:pkg/iface@x.y.z`).
    #[error("`{name}` is not a valid export name: {reason}")]
    InvalidExportName {
        /// The name as written.
        name: String,
        /// wasmparser's reason.
        reason: String,
    },
    /// Two workload exports whose names differ only in case: the component model requires
    /// names to be unique ignoring case.
    #[error("workload exports `{first}` and `{second}` differ only in case")]
    DuplicateExportName {
        /// The first name.
        first: String,
        /// The later name.
        second: String,
    },
    /// In a workload with async functions (which needs Wasmtime's concurrency support), an
    /// import with synchronous functions bound to another component: compose-linker cannot
    /// forward a synchronous call inside such a store with Wasmtime 48, so the linked call
    /// fails at run time; composed (`compose build`), it works.
    #[error(
        "import `{import}` of `{component}` is served by `{server}` with synchronous functions ({functions}) in a workload with async functions: linked at run time with Wasmtime 48, calling them fails"
    )]
    SyncCallInAsyncWorkload {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The serving component.
        server: String,
        /// The synchronous functions, comma-separated.
        functions: String,
    },
    /// An import bound to another component whose functions pass `error-context` values:
    /// compose-linker's trampolines hand values over as Wasmtime `Val`s, and Wasmtime 48
    /// keeps no reference to an `error-context` held that way, so the context is gone
    /// before it reaches the other side; the linker fails such a call with the reason.
    /// Composed (or fused in one cluster), it crosses intact.
    #[error(
        "import `{import}` of `{component}` is served by `{server}` with functions that pass error-context values ({functions}): linked at run time with Wasmtime 48, an error-context cannot cross between them"
    )]
    ErrorContextAcrossComponents {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The serving component.
        server: String,
        /// The functions, comma-separated.
        functions: String,
    },
    /// A `[clusters]` entry names a component the workload does not have.
    #[error("cluster `{cluster}` names `{component}`, which is not a component of this workload")]
    UnknownClusterMember {
        /// The cluster.
        cluster: String,
        /// The name as written.
        component: String,
        /// The workload's components, for the help text.
        known: Vec<String>,
    },
    /// A component listed in two clusters (or twice in one): a component is instantiated
    /// with exactly one cluster.
    #[error("component `{component}` is in cluster `{first}` and again in cluster `{second}`")]
    DuplicateClusterMember {
        /// The component.
        component: String,
        /// The cluster that lists it first.
        first: String,
        /// The cluster that lists it again.
        second: String,
    },
    /// The members of an explicit cluster do not all import from each other: the cluster
    /// instantiates unrelated components together.
    #[error(
        "the members of cluster `{cluster}` do not import from each other: {}",
        parts.iter().map(|p| format!("[{}]", p.join(", "))).collect::<Vec<_>>().join(" and ")
    )]
    DisconnectedCluster {
        /// The cluster.
        cluster: String,
        /// Its members, in groups that import from each other.
        parts: Vec<Vec<String>>,
    },
    /// A component that nothing imports from and that contributes no workload export.
    #[error(
        "component `{component}` is not used: nothing imports from it and it contributes no workload export"
    )]
    UnusedComponent {
        /// The component.
        component: String,
    },
}

/// What names a component or an export in the workload file, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referrer {
    /// An explicit binding of import `import` of component `component`.
    Import {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
    },
    /// The `[exports]` entry `export`.
    Export {
        /// The workload's export name.
        export: String,
    },
}

impl fmt::Display for Referrer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Referrer::Import { component, import } => {
                write!(f, "import `{import}` of `{component}`")
            }
            Referrer::Export { export } => write!(f, "workload export `{export}`"),
        }
    }
}

/// The export an explicit binding or a workload export looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedExport {
    /// The export of this name (or a semver-compatible one).
    Name(String),
    /// The export of the import's name or, for a label, an instance of the interface it
    /// implements.
    ForImport {
        /// The import's name.
        import: String,
        /// The interface a labelled import implements.
        implements: Option<String>,
    },
}

impl fmt::Display for WantedExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WantedExport::Name(name)
            | WantedExport::ForImport {
                import: name,
                implements: None,
            } => {
                write!(f, "`{name}`")
            }
            WantedExport::ForImport {
                import,
                implements: Some(i),
            } => {
                write!(f, "`{import}` or an instance of `{i}`")
            }
        }
    }
}

/// What the backend named by an `implements` label serves, when it is not the import's
/// interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendOffer {
    /// A workload component with these exports (described as `name (implements I)`).
    Component {
        /// Its exports.
        exports: Vec<String>,
    },
    /// A host backend implementing this interface.
    HostBackend {
        /// The interface `[host] backends` declares.
        interface: String,
    },
}

impl BackendOffer {
    /// `component `L` exports only …` or `host backend `L` implements `I``.
    pub fn describe(&self, label: &str) -> String {
        match self {
            BackendOffer::Component { exports } if exports.is_empty() => {
                format!("component `{label}` exports nothing")
            }
            BackendOffer::Component { exports } => {
                format!("component `{label}` exports only {}", exports.join(", "))
            }
            BackendOffer::HostBackend { interface } => {
                format!("host backend `{label}` implements `{interface}`")
            }
        }
    }
}

impl Problem {
    /// A stable identifier for this kind of problem, `compose::<kind>`.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::ReadWorkload { .. } => "compose::read-workload",
            Problem::InvalidWorkload { .. } => "compose::invalid-workload",
            Problem::InvalidName { .. } => "compose::invalid-name",
            Problem::InvalidHostInterface { .. } => "compose::invalid-host-interface",
            Problem::ReadComponent { .. } => "compose::read-component",
            Problem::NotAComponent { .. } => "compose::not-a-component",
            Problem::UnknownComponent { .. } => "compose::unknown-component",
            Problem::UnknownExport { .. } => "compose::unknown-export",
            Problem::UnknownImport { .. } => "compose::unknown-import",
            Problem::MissingBackend { .. } => "compose::missing-backend",
            Problem::BackendMismatch { .. } => "compose::backend-mismatch",
            Problem::DuplicateBackend { .. } => "compose::duplicate-backend",
            Problem::Ambiguous { .. } => "compose::ambiguous-import",
            Problem::Unsatisfied { .. } => "compose::unsatisfied-import",
            Problem::TypeMismatch { .. } => "compose::type-mismatch",
            Problem::Cycle { .. } => "compose::cycle",
            Problem::ExportClash { .. } => "compose::export-clash",
            Problem::UnknownPlugin { .. } => "compose::unknown-plugin",
            Problem::PluginMismatch { .. } => "compose::plugin-mismatch",
            Problem::NoPlugin { .. } => "compose::no-plugin",
            Problem::InvalidBackendConfig { .. } => "compose::invalid-backend-config",
            Problem::BackendUnavailable { .. } => "compose::backend-unavailable",
            Problem::HostCannotServe { .. } => "compose::host-cannot-serve",
            Problem::UndeclaredHostImport { .. } => "compose::undeclared-host-import",
            Problem::HostImportConflict { .. } => "compose::host-import-conflict",
            Problem::InvalidExportName { .. } => "compose::invalid-export-name",
            Problem::DuplicateExportName { .. } => "compose::duplicate-export-name",
            Problem::SyncCallInAsyncWorkload { .. } => "compose::sync-call-in-async-workload",
            Problem::ErrorContextAcrossComponents { .. } => {
                "compose::error-context-across-components"
            }
            Problem::UnusedComponent { .. } => "compose::unused-component",
            Problem::UnknownClusterMember { .. } => "compose::unknown-cluster-member",
            Problem::DuplicateClusterMember { .. } => "compose::duplicate-cluster-member",
            Problem::DisconnectedCluster { .. } => "compose::disconnected-cluster",
        }
    }

    /// How bad this problem is: an unused component, a call the linker cannot forward
    /// (synchronous in an async workload, or passing an `error-context`) and a disconnected
    /// cluster are warnings.
    pub fn severity(&self) -> Severity {
        match self {
            Problem::UnusedComponent { .. }
            | Problem::SyncCallInAsyncWorkload { .. }
            | Problem::ErrorContextAcrossComponents { .. }
            | Problem::DisconnectedCluster { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// What would fix the problem, for a person.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Problem::ReadWorkload { .. } => "check the path of the workload file".into(),
            Problem::InvalidWorkload { .. } => {
                "see the workload file format in the README".into()
            }
            Problem::InvalidName { .. } => {
                "use lowercase words separated by `-`, each starting with a letter".into()
            }
            Problem::InvalidHostInterface { .. } => {
                "write an interface name (`wasi:logging/logging`, `wasi:http/types@0.2.0`) or a pattern (`wasi:cli/*@0.2.0`, `wasi:*@0.2.0`)".into()
            }
            Problem::ReadComponent { .. } => {
                "`path` is relative to the workload file; check that the file exists".into()
            }
            Problem::NotAComponent { .. } => {
                "point `path` at a component (a core module can be turned into one with `wasm-tools component new`)".into()
            }
            Problem::UnknownComponent { known, .. } => format!(
                "bind to one of the workload's components ({}) or to \"host\"",
                known.join(", ")
            ),
            Problem::UnknownExport { available, .. } if available.is_empty() => {
                "that component exports nothing".into()
            }
            Problem::UnknownExport { available, .. } => {
                format!("its exports are: {}", available.join(", "))
            }
            Problem::UnknownImport { available, .. } if available.is_empty() => {
                "that component imports nothing; remove the binding".into()
            }
            Problem::UnknownImport { available, .. } => {
                format!("its imports are: {}", available.join(", "))
            }
            Problem::MissingBackend {
                label, interface, ..
            } => format!(
                "add a component `[components.{label}]` that exports `{interface}`, or declare it in `[host] backends = {{ {label} = \"{interface}\" }}`; a labelled import is never served by another backend"
            ),
            Problem::BackendMismatch { label, .. } => format!(
                "make `{label}` serve the interface the import implements, or bind the import explicitly in `imports`"
            ),
            Problem::DuplicateBackend { label } => format!(
                "rename the component or remove `{label}` from `[host] backends`"
            ),
            Problem::Ambiguous {
                import, candidates, ..
            } => format!(
                "choose one with an explicit binding, e.g. `imports = {{ \"{import}\" = \"{}\" }}`",
                candidates.first().map(String::as_str).unwrap_or("<component>")
            ),
            Problem::Unsatisfied { import, .. } => format!(
                "add a component that exports `{import}`, or list it in `[host] interfaces` if the host provides it"
            ),
            Problem::TypeMismatch { .. } => {
                "bind the import to an export of a compatible version, or rebuild one side against the same WIT".into()
            }
            Problem::Cycle { .. } => {
                "break the cycle: components must depend on each other as a DAG".into()
            }
            Problem::ExportClash { .. } => {
                "list the workload's exports in `[exports]` to choose".into()
            }
            Problem::UnknownPlugin { known, .. } => {
                format!("this host's plugins are: {}", known.join(", "))
            }
            Problem::PluginMismatch { .. } => {
                "choose a plugin that serves the interface, or remove `plugin` to use the host's default".into()
            }
            Problem::NoPlugin { plugins, .. } => format!(
                "name a plugin with `plugin = \"...\"` ({}), or let a workload component serve the label",
                plugins.join(", ")
            ),
            Problem::InvalidBackendConfig { fix: Some(fix), .. } => fix.clone(),
            Problem::InvalidBackendConfig { .. } => {
                "see the plugin's keys in the README".into()
            }
            Problem::BackendUnavailable { fix: Some(fix), .. } => fix.clone(),
            Problem::BackendUnavailable { .. } => {
                "see what the backend's plugin needs in the README".into()
            }
            Problem::HostCannotServe { serves, .. } => format!(
                "add a component that exports it; this host serves {}",
                serves.join(", ")
            ),
            Problem::UndeclaredHostImport { import, .. } => format!(
                "list `{import}` (or a pattern that covers it) in `[host] interfaces`, or bind the import to a component"
            ),
            Problem::HostImportConflict { .. } => {
                "build both components against the same version of the interface, or serve one of the imports with a component".into()
            }
            Problem::InvalidExportName { .. } => {
                "use a kebab-case name (`api`, `get-user`) or a full interface name with a three-part version (`acme:app/handler@1.2.0`)".into()
            }
            Problem::DuplicateExportName { .. } => {
                "give the exports names that differ in more than case".into()
            }
            Problem::UnusedComponent { .. } => {
                "remove it, or export one of its exports in `[exports]`".into()
            }
            Problem::SyncCallInAsyncWorkload { .. } => {
                "make the functions async, put both components in one `[clusters]` entry (fused, the call works), or compose the workload with `compose build`; Wasmtime 48 cannot call into a component from a synchronous host function of a store with concurrency support".into()
            }
            Problem::ErrorContextAcrossComponents { .. } => {
                "put both components in one `[clusters]` entry (fused, the error-context crosses intact), or compose the workload with `compose build`".into()
            }
            Problem::UnknownClusterMember { known, .. } => format!(
                "list components of the workload ({}) in `[clusters]`",
                known.join(", ")
            ),
            Problem::DuplicateClusterMember { component, .. } => format!(
                "list `{component}` in one cluster only"
            ),
            Problem::DisconnectedCluster { .. } => {
                "split the cluster into groups whose members import from each other; fusing unrelated components only instantiates more at once".into()
            }
        })
    }
}

/// A [`Problem`] located in the workload file where it is written there.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// What is wrong.
    pub problem: Problem,
    /// Where in the workload file, if the workload came from a file and the problem is written there.
    pub span: Option<Span>,
    /// What the label at `span` says.
    pub label: Option<String>,
    /// The workload file's text, when the workload came from a file.
    pub source: Option<WorkloadText>,
}

impl Diagnostic {
    /// A diagnostic for `problem` at `span` of `source` (both optional).
    pub fn new(problem: Problem, source: Option<&WorkloadText>, span: Option<Span>) -> Self {
        Self {
            problem,
            span,
            label: None,
            source: source.cloned(),
        }
    }

    /// The same diagnostic with a label at its span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// `problem`'s severity.
    pub fn severity(&self) -> Severity {
        self.problem.severity()
    }

    /// The 1-based line and column of the span's start, when it has one.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let (span, source) = (self.span.as_ref()?, self.source.as_ref()?);
        Some(source.line_column(span.start))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.problem.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.problem.severity() {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.as_ref()?;
        self.source
            .as_ref()
            .map(|s| &**s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        self.source.as_ref()?;
        let span = SourceSpan::from(span);
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            span,
        ))))
    }
}

/// Every problem found in one run: returned when a workload does not resolve.
///
/// It holds the errors and the warnings found together with them, in the order of the
/// workload file. It is never empty of errors.
#[derive(Debug, Clone, thiserror::Error)]
#[error("workload does not resolve: {} error(s)", self.errors().count())]
pub struct ResolveError {
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// What did resolve, when the workload file could be read and parsed.
    pub partial: Option<Box<crate::PartialPlan>>,
}

impl ResolveError {
    /// The diagnostics that stop the workload from resolving.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
    }

    /// The problems of every diagnostic, errors and warnings, in order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.diagnostics.iter().map(|d| &d.problem)
    }
}

impl ResolveError {
    /// An error of `diagnostics` with no partial plan.
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            diagnostics,
            partial: None,
        }
    }
}

impl From<Diagnostic> for ResolveError {
    fn from(diagnostic: Diagnostic) -> Self {
        Self {
            diagnostics: vec![diagnostic],
            partial: None,
        }
    }
}

/// Diagnostics for a person, condensed: at most `per_code` of each code in full, and for
/// the rest one line per code (as compilers do with repeated warnings). Tools read every
/// diagnostic from the JSON instead.
#[derive(Debug)]
pub struct Condensed<'a> {
    /// The diagnostics to show in full, in their order.
    pub shown: Vec<&'a Diagnostic>,
    /// For each code with more than `per_code` diagnostics: the code, how many were left
    /// out, and the first one left out, as an example.
    pub elided: Vec<(&'static str, usize, &'a Diagnostic)>,
}

/// Condenses `diagnostics`, keeping the first `per_code` of each code in full.
pub fn condense(diagnostics: &[Diagnostic], per_code: usize) -> Condensed<'_> {
    let mut seen: std::collections::HashMap<&'static str, usize> = Default::default();
    let mut condensed = Condensed {
        shown: Vec::new(),
        elided: Vec::new(),
    };
    for d in diagnostics {
        let code = d.problem.code();
        let count = seen.entry(code).or_default();
        *count += 1;
        if *count <= per_code {
            condensed.shown.push(d);
        } else if *count == per_code + 1 {
            condensed.elided.push((code, 1, d));
        } else if let Some(entry) = condensed.elided.iter_mut().find(|(c, _, _)| *c == code) {
            entry.1 += 1;
        }
    }
    condensed
}
