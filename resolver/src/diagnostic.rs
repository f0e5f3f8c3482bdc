//! Problems found while loading or resolving a workload, located in `workload.toml`.
//!
//! Every problem is a [`Diagnostic`]: what went wrong ([`Problem`]), how bad it is
//! ([`Severity`]) and where it is written in the workload file, if it is written there.
//! The libraries never render diagnostics; a front end renders them with `miette`
//! (each [`Diagnostic`] implements [`miette::Diagnostic`]).

use crate::source::SourceFile;
use miette::{LabeledSpan, SourceSpan};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// One kind of [`Problem`] as its variant declares it: what docs/diagnostics.md lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The stable code, `compose::<kind>`.
    pub code: &'static str,
    /// Whether the problem is a warning (the workload still resolves).
    pub warning: bool,
    /// What the problem is: the variant's doc comment.
    pub doc: &'static str,
}

// `KINDS`: every variant's `#[diagnostic]` attribute and doc comment, in order (build.rs).
include!(concat!(env!("OUT_DIR"), "/kinds.rs"));

pub use crate::source::Span;

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
/// Each variant declares everything about its kind of problem in one place: the `Display`
/// text is the one-line message (`#[error]`), and its [`miette::Diagnostic`] attributes give
/// the stable code (`compose::<kind>`, [`Problem::code`]) that tools match on, the severity
/// (an error unless it says `Warning`, [`Problem::severity`]) and what would fix it
/// ([`Problem::help`]). docs/diagnostics.md is generated from these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Problem {
    /// The workload file could not be read.
    #[diagnostic(
        code("compose::read-workload"),
        help("check the path of the workload file")
    )]
    #[error("cannot read workload file `{path}`: {reason}")]
    ReadWorkload {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The workload file is not valid TOML or does not have the workload's shape
    /// (a missing `name`, an unknown key, a value of the wrong type).
    #[diagnostic(
        code("compose::invalid-workload"),
        help("see the workload file format in docs/workload.md")
    )]
    #[error("invalid workload file: {reason}")]
    InvalidWorkload {
        /// What the TOML parser said.
        reason: String,
    },
    /// A workload or component name is not a kebab-case label (component model spec, `label`).
    #[diagnostic(
        code("compose::invalid-name"),
        help("use lowercase words separated by `-`, each starting with a letter")
    )]
    #[error(
        "`{name}` is not a valid {what} name: it must be kebab-case (`shop`, `team-a-postgres`)"
    )]
    InvalidName {
        /// The name as written.
        name: String,
        /// What is named: `workload`, `component`, `backend`, `remote` or `cluster`.
        what: &'static str,
    },
    /// A name in `[host] interfaces` is neither an interface name nor a pattern.
    #[diagnostic(
        code("compose::invalid-host-interface"),
        help(
            "write an interface name (`wasi:logging/logging`, `wasi:http/types@0.2.0`) or a pattern (`wasi:cli/*@0.2.0`, `wasi:*@0.2.0`)"
        )
    )]
    #[error("`{pattern}` is not a host interface name or pattern")]
    InvalidHostInterface {
        /// The entry as written.
        pattern: String,
    },
    /// A component's file could not be read.
    #[diagnostic(
        code("compose::read-component"),
        help("`path` is relative to the workload file; check that the file exists")
    )]
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
    #[diagnostic(
        code("compose::not-a-component"),
        help(
            "point `path` at a component (a core module can be turned into one with `wasm-tools component new`)"
        )
    )]
    #[error("component `{component}` is not a valid WebAssembly component: {reason}")]
    NotAComponent {
        /// The workload component.
        component: String,
        /// Why (a core module, not WebAssembly at all, invalid).
        reason: String,
    },
    /// A component's registry did not give its artifact: the registry is unreachable, the
    /// repository or tag is unknown, authentication was refused, or the registry answered
    /// with another error (OCI distribution spec, "Error codes").
    #[diagnostic(code("compose::pull-failed"), help("{}", cause.help()))]
    #[error("cannot pull component `{component}` from `{reference}`: {cause}")]
    PullFailed {
        /// The workload component.
        component: String,
        /// The `oci://` reference.
        reference: String,
        /// What went wrong.
        cause: PullFailure,
    },
    /// An OCI artifact that is not a Wasm component in the CNCF Wasm OCI artifact layout
    /// (a config of media type `application/vnd.wasm.config.v0+json` and one layer of
    /// `application/wasm`): a container image, an image index or another kind of artifact.
    #[diagnostic(
        code("compose::not-a-wasm-artifact"),
        help(
            "point `source` at a Wasm component artifact, pushed with `compose push`, `wkg oci push` or `wash push`"
        )
    )]
    #[error("`{reference}` (component `{component}`) is not a Wasm component artifact: {reason}")]
    NotAWasmArtifact {
        /// The workload component.
        component: String,
        /// The `oci://` reference.
        reference: String,
        /// What the artifact is instead.
        reason: String,
    },
    /// Bytes whose SHA-256 is not the digest that names them: a blob corrupted in the
    /// registry or in the local cache, or a registry that answers other content than it
    /// was asked for. Nothing is kept.
    #[diagnostic(
        code("compose::digest-mismatch"),
        help(
            "the bytes are not the ones the digest names: push the artifact again if the registry's copy is bad; a bad copy in the cache is pulled again when online (`compose cache clean` empties the cache)"
        )
    )]
    #[error(
        "the {what} of component `{component}` (`{reference}`) from the {place} has digest {actual}, not {expected}"
    )]
    DigestMismatch {
        /// The workload component.
        component: String,
        /// The `oci://` reference.
        reference: String,
        /// `manifest` or `Wasm layer`.
        what: &'static str,
        /// `registry` or `cache`.
        place: &'static str,
        /// The digest that names the bytes.
        expected: String,
        /// The SHA-256 of the bytes that came.
        actual: String,
    },
    /// With `--locked`, a registry source that `compose.lock` does not list.
    #[diagnostic(
        code("compose::not-locked"),
        help("run `compose lock` on the workload file to record it, and commit compose.lock")
    )]
    #[error("component `{component}`: `{reference}` is not in the lock file `{lock}`")]
    NotLocked {
        /// The workload component.
        component: String,
        /// The `oci://` reference.
        reference: String,
        /// The lock file's path.
        lock: PathBuf,
    },
    /// With `--locked`, a registry source whose digest is not the locked one: the tag now
    /// names another manifest in the registry, or the reference pins another digest.
    #[diagnostic(
        code("compose::lock-mismatch"),
        help(
            "if the new digest is the one to deploy, run `compose lock` again; otherwise pin the reference to the locked digest (`…@{locked}`)"
        )
    )]
    #[error(
        "component `{component}`: `{reference}` is locked at {locked}, but {answered_by} {actual}"
    )]
    LockMismatch {
        /// The workload component.
        component: String,
        /// The `oci://` reference.
        reference: String,
        /// The digest in compose.lock.
        locked: String,
        /// The digest found instead.
        actual: String,
        /// Who gave it: `the registry now answers` or `the reference pins`.
        answered_by: &'static str,
    },
    /// A registry source that is not in the local cache when only the cache may be used
    /// (`--offline`), or that was not pulled before resolving (a library caller that did
    /// not run compose-registry first).
    #[diagnostic(
        code("compose::not-cached"),
        help("pull it once without `--offline` (or run `compose lock`), which caches it")
    )]
    #[error("component `{component}`: `{reference}` is not in the local cache: {reason}")]
    NotCached {
        /// The workload component.
        component: String,
        /// The `oci://` reference.
        reference: String,
        /// Why it cannot be found.
        reason: String,
    },
    /// The lock file `compose.lock` cannot be read or is not a lock file of this format.
    #[diagnostic(
        code("compose::invalid-lock"),
        help("write it again with `compose lock` (it is generated; do not edit it)")
    )]
    #[error("invalid lock file `{path}`: {reason}")]
    InvalidLock {
        /// The lock file's path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An explicit binding or a workload export names a component the workload does not have.
    #[diagnostic(code("compose::unknown-component"), help("bind to one of the workload's components ({}) or to \"host\"", known.join(", ")))]
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
    #[diagnostic(
        code("compose::unknown-export"),
        help(
            "{}",
            listed(available, "that component exports nothing", "its exports are")
        )
    )]
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
    #[diagnostic(
        code("compose::unknown-import"),
        help(
            "{}",
            listed(
                available,
                "that component imports nothing; remove the binding",
                "its imports are"
            )
        )
    )]
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
    #[diagnostic(
        code("compose::missing-backend"),
        help(
            "add a component `[components.{label}]` that exports `{interface}`, or declare it in `[host] backends = {{ {label} = \"{interface}\" }}`; a labelled import is never served by another backend"
        )
    )]
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
    #[diagnostic(
        code("compose::backend-mismatch"),
        help(
            "make `{label}` serve the interface the import implements, or bind the import explicitly in `imports`"
        )
    )]
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
    #[diagnostic(
        code("compose::duplicate-backend"),
        help("rename the component or remove `{label}` from `[host] backends`")
    )]
    #[error("`{label}` is both a component of the workload and a host backend")]
    DuplicateBackend {
        /// The label.
        label: String,
    },
    /// Several components export what an import needs.
    #[diagnostic(code("compose::ambiguous-import"), help("choose one with an explicit binding, e.g. `imports = {{ \"{import}\" = \"{}\" }}`", candidates.first().map_or("<component>", String::as_str)))]
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
    #[diagnostic(
        code("compose::unsatisfied-import"),
        help(
            "add a component that exports `{import}`, or list it in `[host] interfaces` if the host provides it"
        )
    )]
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
    #[diagnostic(
        code("compose::type-mismatch"),
        help(
            "bind the import to an export of a compatible version, or rebuild one side against the same WIT"
        )
    )]
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
    /// A remote's `url` is not an address of a wRPC transport this host speaks.
    #[diagnostic(
        code("compose::invalid-remote-url"),
        help("write `url = \"tcp://HOST:PORT\"` or `url = \"unix:///path/to/socket\"`")
    )]
    #[error("remote `{remote}` has url `{url}`, which is not a wRPC address: {reason}")]
    InvalidRemoteUrl {
        /// The remote.
        remote: String,
        /// The URL as written.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A remote's `types` cannot be read, is not a component, or is a WIT folder that does
    /// not parse or encode.
    #[diagnostic(
        code("compose::unreadable-remote-types"),
        help(
            "point `types` at a component (relative to the workload file) that exports or imports the remote's interfaces, such as the remote's own component, or at a WIT folder whose package defines them"
        )
    )]
    #[error("the types of remote `{remote}` (`{types}`) cannot be used: {reason}")]
    UnreadableRemoteTypes {
        /// The remote.
        remote: String,
        /// `types` as written.
        types: String,
        /// Why.
        reason: String,
    },
    /// An entry of a remote's `exports` that its `types` component neither exports nor
    /// imports (or an empty `exports`).
    #[diagnostic(
        code("compose::unknown-remote-export"),
        help(
            "{}",
            listed(
                available,
                "its types component has no imports or exports",
                "its types have"
            )
        )
    )]
    #[error("remote `{remote}` lists export `{export}`, which its types do not have")]
    UnknownRemoteExport {
        /// The remote.
        remote: String,
        /// The export as written (empty when `exports` lists none).
        export: String,
        /// The interfaces the types component has, for the help text.
        available: Vec<String>,
    },
    /// A remote export whose functions pass what wRPC cannot carry between these hosts:
    /// resources, streams, futures or `error-context` values.
    #[diagnostic(
        code("compose::unsupported-remote-type"),
        help(
            "serve this interface from a workload component instead, or give the remote an interface of plain values (numbers, strings, lists, records, variants, options, results)"
        )
    )]
    #[error(
        "remote `{remote}` cannot serve `{export}`: {} {what}, which wRPC cannot carry here", if function.is_empty() { "it is or holds".to_owned() } else { format!("`{function}` is or passes") }
    )]
    UnsupportedRemoteType {
        /// The remote.
        remote: String,
        /// The export.
        export: String,
        /// The function (or resource) that carries it; empty for the export itself.
        function: String,
        /// What it holds: `a resource`, `a stream`, `a future`, `an error-context`.
        what: &'static str,
    },
    /// A remote named like a workload component or a host backend: a label names one
    /// provider.
    #[diagnostic(
        code("compose::remote-name-taken"),
        help("rename the remote, or remove the other provider of that name")
    )]
    #[error("remote `{remote}` has the name of {by} of the workload")]
    RemoteNameTaken {
        /// The remote.
        remote: String,
        /// `a component` or `a host backend`.
        by: &'static str,
    },
    /// A remote that does not accept a connection now (found by `compose check`, after
    /// resolving): nothing listens at its address, or this host cannot reach it.
    #[diagnostic(
        code("compose::remote-unreachable"),
        help(
            "start the remote's wRPC server at that address (or fix `url`), and check that this host may reach it"
        )
    )]
    #[error("remote `{remote}` at {url} cannot be reached: {reason}")]
    RemoteUnreachable {
        /// The remote.
        remote: String,
        /// Its address.
        url: String,
        /// Why the connection failed.
        reason: String,
    },
    /// A workload with remotes cannot become one component: an import served over the
    /// network has no component to be composed with.
    #[diagnostic(
        code("compose::remote-not-composable"),
        help(
            "run the workload with `compose run` or `compose serve`, which link it at run time and call the remote over wRPC"
        )
    )]
    #[error(
        "{what} is impossible: import `{import}` of `{component}` is served by remote `{remote}`, which runs elsewhere"
    )]
    RemoteNotComposable {
        /// What would compose it: `compose build` or `--link composed`.
        what: String,
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The remote.
        remote: String,
    },
    /// Components depend on each other in a cycle.
    #[diagnostic(
        code("compose::cycle"),
        help("break the cycle: components must depend on each other as a DAG")
    )]
    #[error("components depend on each other in a cycle: {}", cycle.join(" → "))]
    Cycle {
        /// The cycle, starting and ending at the same component.
        cycle: Vec<String>,
    },
    /// Without `[exports]`, two root components export the same name.
    #[diagnostic(
        code("compose::export-clash"),
        help("list the workload's exports in `[exports]` to choose")
    )]
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
    #[diagnostic(code("compose::unknown-plugin"), help("this host's plugins are: {}", known.join(", ")))]
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
    #[diagnostic(
        code("compose::plugin-mismatch"),
        help(
            "choose a plugin that serves the interface, or remove `plugin` to use the host's default"
        )
    )]
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
    #[diagnostic(code("compose::no-plugin"), help("name a plugin with `plugin = \"...\"` ({}), or let a workload component serve the label", plugins.join(", ")))]
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
    #[diagnostic(code("compose::invalid-backend-config"), help("{}", fix.as_deref().unwrap_or("see the plugin's keys in docs/host.md")))]
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
    #[diagnostic(code("compose::backend-unavailable"), help("{}", fix.as_deref().unwrap_or("see what the backend's plugin needs in docs/host.md")))]
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
    #[diagnostic(code("compose::host-cannot-serve"), help("add a component that exports it; this host serves {}", serves.join(", ")))]
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
    #[diagnostic(
        code("compose::undeclared-host-import"),
        help(
            "list `{import}` (or a pattern that covers it) in `[host] interfaces`, or bind the import to a component"
        )
    )]
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
    #[diagnostic(
        code("compose::host-import-conflict"),
        help(
            "build both components against the same version of the interface, or serve one of the imports with a component"
        )
    )]
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
    #[diagnostic(
        code("compose::invalid-export-name"),
        help(
            "use a kebab-case name (`api`, `get-user`) or a full interface name with a three-part version (`acme:app/handler@1.2.0`)"
        )
    )]
    #[error("`{name}` is not a valid export name: {reason}")]
    InvalidExportName {
        /// The name as written.
        name: String,
        /// wasmparser's reason.
        reason: String,
    },
    /// Two workload exports whose names differ only in case: the component model requires
    /// names to be unique ignoring case.
    #[diagnostic(
        code("compose::duplicate-export-name"),
        help("give the exports names that differ in more than case")
    )]
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
    #[diagnostic(
        code("compose::sync-call-in-async-workload"),
        severity(Warning),
        help(
            "make the functions async, put both components in one `[clusters]` entry (fused, the call works), or compose the workload with `compose build`; Wasmtime 48 cannot call into a component from a synchronous host function of a store with concurrency support"
        )
    )]
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
    #[diagnostic(
        code("compose::error-context-across-components"),
        severity(Warning),
        help(
            "put both components in one `[clusters]` entry (fused, the error-context crosses intact), or compose the workload with `compose build`"
        )
    )]
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
    #[diagnostic(code("compose::unknown-cluster-member"), help("list components of the workload ({}) in `[clusters]`", known.join(", ")))]
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
    #[diagnostic(
        code("compose::duplicate-cluster-member"),
        help("list `{component}` in one cluster only")
    )]
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
    #[diagnostic(
        code("compose::disconnected-cluster"),
        severity(Warning),
        help(
            "split the cluster into groups whose members import from each other; fusing unrelated components only instantiates more at once"
        )
    )]
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
    #[diagnostic(
        code("compose::unused-component"),
        severity(Warning),
        help("remove it, or export one of its exports in `[exports]`")
    )]
    #[error(
        "component `{component}` is not used: nothing imports from it and it contributes no workload export"
    )]
    UnusedComponent {
        /// The component.
        component: String,
    },
    /// A grant that the component cannot use: it does not import the interface the grant
    /// is for.
    #[diagnostic(
        code("compose::unusable-grant"),
        severity(Warning),
        help("remove the grant, or check that it is on the component that needs it")
    )]
    #[error(
        "component `{component}` is granted `{key}`, but it does not import {interface}, so it cannot use the grant"
    )]
    UnusableGrant {
        /// The component.
        component: String,
        /// The key of its `allow` table: `env`, `dirs` or `http`.
        key: &'static str,
        /// The interface the grant is for.
        interface: &'static str,
    },
    /// Components with different grants cannot become one component: composed, they
    /// would share one set of WASI imports, which widens what one of them may reach.
    #[diagnostic(
        code("compose::grants-differ"),
        help(
            "link the workload at run time (`compose run` or `compose serve` with `--link per-component` or `--link clusters`), where each component keeps its own grants, or give `{first}` and `{second}` the same `allow` table"
        )
    )]
    #[error(
        "{what} would give `{first}` and `{second}` one set of grants, but their grants differ ({difference})"
    )]
    GrantsDiffer {
        /// What would compose them: `compose build` or `--link composed`.
        what: String,
        /// One component.
        first: String,
        /// A component whose grants differ from `first`'s.
        second: String,
        /// What differs, in words.
        difference: String,
    },
    /// An import the workload leaves to the host that the target world (`--target`) does
    /// not import: on that platform, nothing would serve it.
    #[diagnostic(
        code("compose::not-in-target"),
        help(
            "serve `{import}` with a component of the workload, or target a world that imports it (`--wit DIR` with a world that includes `{target}` and imports `{import}`)"
        )
    )]
    #[error(
        "import `{import}` of {components} is left to the host, but world `{target}` does not import it"
    )]
    NotInTarget {
        /// The import.
        import: String,
        /// The components that import it, quoted and comma-separated.
        components: String,
        /// The target world.
        target: String,
    },
    /// An export the target world (`--target`) requires that the workload does not export.
    #[diagnostic(
        code("compose::missing-target-export"),
        help(
            "add a component that exports `{export}`, or export it under that name in `[exports]`; or target another world"
        )
    )]
    #[error("world `{target}` requires the export `{export}`, but the workload does not export it")]
    MissingTargetExport {
        /// The export's name.
        export: String,
        /// The target world.
        target: String,
    },
    /// An import or export whose type is not what the target world (`--target`) says.
    #[diagnostic(
        code("compose::target-mismatch"),
        help("build the component against the release of the interface that `{target}` names")
    )]
    #[error("{what} `{name}` does not match world `{target}`: {detail}")]
    TargetMismatch {
        /// The target world.
        target: String,
        /// `import` or `export` (`world` when the world itself could not be read).
        what: String,
        /// The import's or export's name.
        name: String,
        /// wac-types' reason.
        detail: String,
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

/// Why a registry did not give an artifact ([`Problem::PullFailed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullFailure {
    /// No connection: the address does not answer, refuses, or TLS fails.
    Unreachable {
        /// The client's reason.
        reason: String,
    },
    /// The registry has no such repository, tag or digest (`404`, `NAME_UNKNOWN`,
    /// `MANIFEST_UNKNOWN`).
    NotFound {
        /// The registry's answer.
        reason: String,
    },
    /// The registry refused the credentials, or asked for some and had none (`401`, `403`).
    AuthRefused {
        /// The registry's answer.
        reason: String,
    },
    /// Any other answer of the registry, or the local cache failing.
    Other {
        /// What went wrong.
        reason: String,
    },
}

impl fmt::Display for PullFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullFailure::Unreachable { reason } => {
                write!(f, "the registry is unreachable: {reason}")
            }
            PullFailure::NotFound { reason } => {
                write!(f, "the registry has no such repository or tag: {reason}")
            }
            PullFailure::AuthRefused { reason } => {
                write!(f, "the registry refused authentication: {reason}")
            }
            PullFailure::Other { reason } => f.write_str(reason),
        }
    }
}

impl PullFailure {
    /// What would fix it, for [`Problem::PullFailed`]'s help.
    pub fn help(&self) -> &'static str {
        match self {
            PullFailure::Unreachable { .. } => {
                "check the registry's host and port, and that it is running; `--offline` uses only the local cache"
            }
            PullFailure::NotFound { .. } => {
                "check the repository and the tag (or digest); push the component first with `compose push`"
            }
            PullFailure::AuthRefused { .. } => {
                "log in to the registry (credentials are read from ~/.docker/config.json and its credential helpers)"
            }
            PullFailure::Other { .. } => "see the registry's answer above",
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
    /// Every kind of problem (each variant's code, severity and doc comment), in the order
    /// declared: what docs/diagnostics.md is generated from.
    pub const KINDS: &[Kind] = KINDS;

    /// A stable identifier for this kind of problem, `compose::<kind>` (its `code`
    /// attribute).
    pub fn code(&self) -> &'static str {
        // miette's derive hands the code out as `dyn Display`; the same text, as the
        // `&'static str` the attribute wrote, is in the list build.rs extracts.
        let code = miette::Diagnostic::code(self).map(|code| code.to_string());
        KINDS
            .iter()
            .find(|kind| Some(kind.code) == code.as_deref())
            .map_or("compose::unknown", |kind| kind.code)
    }

    /// How bad this problem is (its `severity` attribute; an error when it has none).
    pub fn severity(&self) -> Severity {
        match miette::Diagnostic::severity(self) {
            Some(miette::Severity::Warning | miette::Severity::Advice) => Severity::Warning,
            Some(miette::Severity::Error) | None => Severity::Error,
        }
    }

    /// What would fix the problem, for a person (its `help` attribute).
    pub fn help(&self) -> Option<String> {
        miette::Diagnostic::help(self).map(|help| help.to_string())
    }
}

/// `none` when `names` is empty, else `"{some}: a, b"`: the help of a problem that lists
/// what there is instead.
fn listed(names: &[String], none: &str, some: &str) -> String {
    if names.is_empty() {
        none.to_owned()
    } else {
        format!("{some}: {}", names.join(", "))
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
        miette::Diagnostic::code(&self.problem)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Diagnostic::severity(&self.problem).unwrap_or(miette::Severity::Error))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        miette::Diagnostic::help(&self.problem)
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
