//! `compose-resolver`: reads a workload (`workload.toml`), extracts every component's
//! imports and exports, and resolves every import to what serves it — another component's
//! export, an interface the host provides, or a named backend chosen by an `implements`
//! label — checking types, ambiguity and cycles, and reporting every problem at once.
//!
//! The result is a [`Plan`]: the single source of truth from which `compose-static`
//! composes one component and `compose-linker` links the workload at run time.
//!
//! ```no_run
//! use compose_resolver::{resolve_file, Provider};
//!
//! let plan = match resolve_file("fixtures/shop/workload.toml") {
//!     Ok(plan) => plan,
//!     Err(error) => {
//!         for diagnostic in &error.diagnostics {
//!             eprintln!("{diagnostic}"); // render with miette for spans and help
//!         }
//!         std::process::exit(1);
//!     }
//! };
//! for component in &plan.components {
//!     for binding in &component.bindings {
//!         if let Provider::Component { component: server, export } = &binding.provider {
//!             println!("{} <- {}: {export}", binding.import.name, plan.component(*server).name);
//!         }
//!     }
//! }
//! ```
//!
//! Workloads can also be built in code, with component bytes already in memory:
//!
//! ```no_run
//! # let (frontend, kv) = (Vec::<u8>::new(), Vec::<u8>::new());
//! use compose_resolver::{resolve, ComponentDecl, Workload};
//!
//! let workload = Workload::new("shop")
//!     .with_component("frontend", ComponentDecl::from_bytes("frontend.wasm", frontend))
//!     .with_component("team-a-postgres", ComponentDecl::from_bytes("kv.wasm", kv))
//!     .with_host_interface("wasi:cli/*@0.2.0");
//! let plan = resolve(&workload)?;
//! # Ok::<(), compose_resolver::ResolveError>(())
//! ```
#![deny(missing_docs)]

mod component;
mod diagnostic;
mod exports;
mod file;
mod finish;
mod host;
mod json;
mod names;
mod plan;
mod plugin;
mod resolve;
mod source;
mod wit_text;
mod workload;

pub use component::{ComponentType, Item};
pub use diagnostic::{
    BackendOffer, Condensed, Diagnostic, Problem, Referrer, ResolveError, Severity, Span,
    WantedExport, WorkloadText, condense,
};
pub use json::{
    ComponentJson, ExportJson, HostImportJson, ImportJson, ItemJson, JSON_SCHEMA, PathStyle,
    ProblemJson, ProviderJson, UnboundJson, WorkloadJson,
};
pub use names::{HostPattern, names_match};
pub use plan::{
    Binding, ComponentFile, ComponentId, FileId, HostImport, HostSection, PartialPlan, Plan,
    PlannedBackend, PlannedComponent, Provider, Rule, Unbound, Unreadable, WorkloadExport,
};
pub use plugin::{BackendConfig, ConfigEntry, ConfigIssue, HostProfile, PluginSchema};
pub use resolve::{resolve, resolve_file, resolve_file_with, resolve_with};
pub use source::SourceFile;
/// The wac-types crate, whose [`Types`](wac_types::Types) and
/// [`ItemKind`](wac_types::ItemKind) the plan uses.
pub use wac_types;
pub use workload::{
    BindingTarget, ComponentDecl, ComponentSource, ExplicitBinding, ExportDecl, HostBackendDecl,
    HostDecl, Instantiation, Located, Workload,
};
