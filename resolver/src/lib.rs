//! `compose-resolver`: reads a workload (`workload.toml`), extracts every component's
//! imports and exports, and resolves every import to what serves it — another component's
//! export, an interface the host provides, or a named backend chosen by an `implements`
//! label — checking types, ambiguity and cycles, and reporting every problem at once.
//!
//! The result is a [`Plan`]: the single source of truth from which `compose-static`
//! composes one component and `compose-linker` links the workload at run time.
//!
//! A workload can be read from a file ([`resolve_file`]) or built in code, with component
//! bytes already in memory. Here `app` imports `acme:kv/store@0.1.0` and `kv`, the only
//! component that exports it, serves it (rule 3):
//!
//! ```
//! use compose_resolver::{resolve, ComponentDecl, Provider, Rule, Workload};
//!
//! // A component exporting `acme:kv/store@0.1.0` with one function, `get: func(x: u32) -> u32`.
//! let kv = wat::parse_str(r#"(component
//!     (core module $m (func (export "get") (param i32) (result i32) local.get 0))
//!     (core instance $i (instantiate $m))
//!     (func $get (param "x" u32) (result u32) (canon lift (core func $i "get")))
//!     (instance $store (export "get" (func $get)))
//!     (export "acme:kv/store@0.1.0" (instance $store)))"#)?;
//! // A component importing it.
//! let app = wat::parse_str(r#"(component
//!     (import "acme:kv/store@0.1.0" (instance (export "get" (func (param "x" u32) (result u32))))))"#)?;
//!
//! let workload = Workload::new("demo")
//!     .with_component("app", ComponentDecl::from_bytes("app.wasm", app))
//!     .with_component("kv", ComponentDecl::from_bytes("kv.wasm", kv));
//! let plan = resolve(&workload)?;
//!
//! let app = plan.component(plan.find("app").expect("a component"));
//! let binding = &app.bindings[0];
//! assert_eq!(binding.rule, Rule::Name);
//! assert_eq!(
//!     binding.provider,
//!     Provider::Component { component: plan.find("kv").unwrap(), export: "acme:kv/store@0.1.0".into() },
//! );
//! // Servers come before their importers.
//! assert_eq!(plan.order, [plan.find("kv").unwrap(), plan.find("app").unwrap()]);
//!
//! // Without `kv`, nothing serves the import: every problem is a diagnostic with a code,
//! // a message, a fix and (for a workload file) a span; a front end renders it with miette.
//! let lonely = Workload::new("lonely").with_component(
//!     "app",
//!     ComponentDecl::from_bytes("app.wasm", wat::parse_str(r#"(component
//!         (import "acme:kv/store@0.1.0" (instance)))"#)?),
//! );
//! let error = resolve(&lonely).unwrap_err();
//! assert_eq!(error.diagnostics[0].problem.code(), "compose::unsatisfied-import");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A host that serves named backends with plugins describes them in a [`HostProfile`] and
//! resolves with [`resolve_with`], so that a workload naming a plugin the host lacks, or
//! configuring it wrongly, fails before anything runs.
#![deny(missing_docs)]

mod cluster;
mod component;
mod concurrency;
mod diagnostic;
mod error;
mod exports;
mod file;
pub use file::parse_size;
mod finish;
mod grant_checks;
mod grants;
mod host;
mod json;
mod names;
mod oci;
mod plan;
mod plugin;
mod remote;
mod resolve;
mod source;
mod target;
mod target_checks;
mod wit_text;
mod wit_types;
mod workload;

pub use component::{ComponentCounts, ComponentType, Item};
pub use concurrency::needs_concurrency;
pub use diagnostic::{
    BackendOffer, Diagnostic, Kind, Problem, PullFailure, Referrer, Severity, WantedExport,
    WorkloadText,
};
pub use error::ResolveError;
pub use grants::{DirGrant, Grants, Origin};
pub use json::{
    ClusterJson, ComponentJson, ExportJson, HostImportJson, ImportJson, ItemJson, JSON_SCHEMA,
    PathStyle, ProblemJson, ProviderJson, UnboundJson, WorkloadJson,
};
pub use names::{HostPattern, InterfaceName, names_match};
pub use oci::{
    OCI_SCHEME, OciReference, OciReferenceError, OciSource, PulledComponent, is_sha256_digest,
};
pub use plan::{
    Binding, Cluster, ComponentFile, ComponentId, FileId, HostImport, HostSection, Instantiation,
    PartialPlan, Plan, PlannedBackend, PlannedComponent, PlannedRemote, Provider, RemoteId,
    RemoteUrl, Rule, Unbound, Unreadable, WorkloadExport,
};
pub use plugin::{
    BackendCheck, BackendConfig, ConfigEntry, ConfigIssue, HostProfile, PluginSchema,
};
pub use remote::uncarried as wrpc_uncarried;
pub use resolve::{resolve, resolve_file, resolve_file_with, resolve_with};
pub use source::{Located, SourceFile, Span};
pub use target::{TargetError, TargetWorld};
/// The wac-types crate, whose [`Types`](wac_types::Types) and
/// [`ItemKind`](wac_types::ItemKind) the plan uses.
pub use wac_types;
pub use workload::{
    AllowDecl, AllowSpans, BindingTarget, ClusterDecl, ComponentDecl, ComponentSource,
    ExplicitBinding, ExportDecl, HostBackendDecl, HostDecl, RemoteDecl, Workload,
};
