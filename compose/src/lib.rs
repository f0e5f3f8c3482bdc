//! `compose-static`: composes a resolved workload into one WebAssembly component with
//! [wac-graph](wac_graph), for single-binary deploys.
//!
//! The resolver's [`Plan`] says which export serves every import; this crate only turns it
//! into a [`CompositionGraph`](wac_graph::CompositionGraph) and lets wac encode it:
//!
//! - each component file is registered once as a package (two workload components read
//!   from the same file are one package, two instances);
//! - each workload component is instantiated in [`Plan::order`] (servers first);
//! - each binding served by a component becomes an instantiation argument: the serving
//!   instance's export, aliased;
//! - imports served by the host (`[host] interfaces` and `[host] backends`) are left
//!   unsatisfied, so they become imports of the composed component; wac merges the types
//!   of an interface that several components import (each may use only some of its
//!   functions) and keeps the `implements` annotation of labelled imports, so the host can
//!   still serve `team-c-postgres` by its label;
//! - the workload's exports ([`Plan::exports`]) are exported;
//! - the result is validated (unless [`ComposeOptions::with_validation`] turns it off).
//!
//! The same plan always gives the same bytes. One component holds at most 1,000 instances
//! (wasmparser's limit, which Wasmtime applies too): a workload needs one per component,
//! one per distinct instance export it wires or exports, and one per instance import and
//! export, so a chain of 499 components is the longest that composes; larger workloads
//! are refused with [`ComposeError::TooLarge`] and can be linked at run time instead.
//!
//! ```
//! use compose_resolver::{resolve, ComponentDecl, Workload};
//! use compose_static::{compose, ComposeOptions, Composition};
//!
//! // `kv` exports `acme:kv/store@0.1.0`; `app` imports it and exports `acme:app/api@0.1.0`.
//! let kv = wat::parse_str(r#"(component
//!     (core module $m (func (export "get") (param i32) (result i32) local.get 0))
//!     (core instance $i (instantiate $m))
//!     (func $get (param "x" u32) (result u32) (canon lift (core func $i "get")))
//!     (instance $store (export "get" (func $get)))
//!     (export "acme:kv/store@0.1.0" (instance $store)))"#)?;
//! let app = wat::parse_str(r#"(component
//!     (import "acme:kv/store@0.1.0" (instance $kv (export "get" (func (param "x" u32) (result u32)))))
//!     (alias export $kv "get" (func $get))
//!     (instance $api (export "get" (func $get)))
//!     (export "acme:app/api@0.1.0" (instance $api)))"#)?;
//! let workload = Workload::new("demo")
//!     .with_component("app", ComponentDecl::from_bytes("app.wasm", app))
//!     .with_component("kv", ComponentDecl::from_bytes("kv.wasm", kv));
//! let plan = resolve(&workload)?;
//!
//! // Just the bytes: one component, validated, that imports nothing...
//! let bytes = compose(&plan, &ComposeOptions::default())?;
//! assert!(wasmparser::Parser::is_component(&bytes));
//!
//! // ...or the bytes and what went into them.
//! let composition = Composition::build(&plan, &ComposeOptions::default())?;
//! assert!(composition.imports.is_empty(), "the host serves nothing");
//! assert_eq!(composition.exports[0].name, "acme:app/api@0.1.0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod externs;
mod graph;
mod subset;

pub use subset::{Subset, SubsetExport};

use compose_resolver::Plan;
use compose_resolver::wac_types::ItemKind;
use std::collections::HashMap;
use std::fmt;
use wac_graph::{
    AliasError, EncodeError, EncodeOptions, ExportError, InstantiationArgumentError, NodeKind,
    Processor, RegisterPackageError,
};
use wasmparser::names::{ComponentName, ComponentNameKind};

/// How to compose: validation, names and producer information.
///
/// The default validates the result and records the workload's component names (in the
/// `component-name` section, where tools such as `wasm-tools print` show them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComposeOptions {
    /// Whether to validate the composed component (on by default).
    pub validate: bool,
    /// Whether to name each instance after its workload component (on by default).
    pub names: bool,
    /// The tool recorded as `processed-by` in the `producers` section, as `(name, version)`.
    pub processor: Option<(String, String)>,
}

impl Default for ComposeOptions {
    fn default() -> Self {
        Self {
            validate: true,
            names: true,
            processor: None,
        }
    }
}

impl ComposeOptions {
    /// The same options, validating the result or not.
    pub fn with_validation(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    /// The same options, naming instances after workload components or not.
    pub fn with_names(mut self, names: bool) -> Self {
        self.names = names;
        self
    }

    /// The same options, recording `name` `version` as the tool that processed the result.
    pub fn with_processor(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.processor = Some((name.into(), version.into()));
        self
    }
}

/// An import or export of the composed component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extern {
    /// Its name: an interface name (`wasi:cli/environment@0.2.0`) or a plain name.
    pub name: String,
    /// For a labelled instance, the interface it implements (`acme:kv/store@0.1.0`).
    pub implements: Option<String>,
}

/// `name`, or `name (implements I)` for a labelled instance.
impl fmt::Display for Extern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.implements {
            Some(interface) => write!(f, "{} (implements {interface})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A composed component and what went into it.
#[derive(Debug, Clone)]
pub struct Composition {
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// How many component files it embeds (each once, however many instances it has).
    pub packages: usize,
    /// How many component instances it creates: one per workload component.
    pub instances: usize,
    /// How many imports are wired to another component's export inside it.
    pub bindings: usize,
    /// Its imports: what the host must still provide, in the order of its import section.
    pub imports: Vec<Extern>,
    /// Its exports, in the order of its export section.
    pub exports: Vec<Extern>,
}

/// Why a plan could not be composed.
///
/// A plan made by `compose_resolver::resolve` has already been type-checked, so most of
/// these point at a component that wac reads differently than the resolver did, or at a
/// limit of wac; each names the workload component involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComposeError {
    /// The plan does not hold together: a component id out of range, or [`Plan::order`]
    /// not listing every component once, servers before the components they serve.
    #[error(
        "the plan of workload `{workload}` is inconsistent: {reason} (build plans with `compose_resolver::resolve`)"
    )]
    InvalidPlan {
        /// The workload.
        workload: String,
        /// What is wrong.
        reason: String,
    },
    /// The workload's components have different grants: composed into one component they
    /// would share one set of WASI imports, widening what one of them may reach.
    #[error("{}", .diagnostic.problem)]
    GrantsDiffer {
        /// [`compose_resolver::Problem::GrantsDiffer`], pointing at the `allow` table.
        diagnostic: Box<compose_resolver::Diagnostic>,
    },
    /// An import is served by a remote (`[remotes]`): over the network, there is no
    /// component to compose it with.
    #[error("{}", .diagnostic.problem)]
    RemoteNotComposable {
        /// [`compose_resolver::Problem::RemoteNotComposable`], pointing at the remote.
        diagnostic: Box<compose_resolver::Diagnostic>,
    },
    /// wac could not read a component's bytes as a package.
    #[error("wac cannot read component `{component}` ({file})")]
    Package {
        /// The workload component.
        component: String,
        /// Its file, or `<memory>`.
        file: String,
        /// wac's reason.
        #[source]
        source: anyhow::Error,
    },
    /// wac refused to register a component's package.
    #[error("wac cannot register component `{component}` ({file})")]
    Register {
        /// The workload component.
        component: String,
        /// Its file, or `<memory>`.
        file: String,
        /// wac's reason.
        #[source]
        source: RegisterPackageError,
    },
    /// An export that the plan uses is not an export of the component's instance.
    #[error("component `{component}` has no export `{export}` that wac can use")]
    Alias {
        /// The serving component.
        component: String,
        /// Its export.
        export: String,
        /// wac's reason.
        #[source]
        source: AliasError,
    },
    /// wac refused to pass an export as an import's argument (wrong name or type).
    #[error(
        "cannot wire import `{import}` of component `{component}` to export `{export}` of `{server}`"
    )]
    Argument {
        /// The importing component.
        component: String,
        /// Its import.
        import: String,
        /// The serving component.
        server: String,
        /// The serving component's export.
        export: String,
        /// wac's reason.
        #[source]
        source: Box<InstantiationArgumentError>,
    },
    /// wac refused a workload export (for example an invalid export name).
    #[error("cannot export `{name}` (export `{export}` of component `{component}`)")]
    Export {
        /// The workload's export name.
        name: String,
        /// The serving component.
        component: String,
        /// Its export.
        export: String,
        /// wac's reason.
        #[source]
        source: ExportError,
    },
    /// Two components import the same host interface (or semver-compatible versions of
    /// it) with types that cannot be merged into one import of the composition.
    #[error(
        "components `{first}` and `{second}` import `{import}` from the host with types that cannot be merged into one import; rebuild them against the same version of `{import}`, or serve one of them from a component"
    )]
    HostImportConflict {
        /// The host import.
        import: String,
        /// The first component that imports it.
        first: String,
        /// The component whose import type conflicts with the first one's.
        second: String,
        /// wac's reason.
        #[source]
        source: anyhow::Error,
    },
    /// The composition would hold more instances or components than one component may:
    /// 1,000 of each, wasmparser's implementation limits, which Wasmtime applies too.
    #[error(
        "workload `{workload}` needs {count} {what} in one component, more than the {limit} that wasmparser and Wasmtime accept; split it into smaller workloads, or link it at run time (`compose run`)"
    )]
    TooLarge {
        /// The workload.
        workload: String,
        /// `component instances` or `embedded components`.
        what: &'static str,
        /// How many the composition needs.
        count: usize,
        /// How many one component may hold.
        limit: usize,
    },
    /// wac could not encode the graph, or the result did not validate.
    #[error("wac cannot encode the composition of workload `{workload}`")]
    Encode {
        /// The workload.
        workload: String,
        /// wac's reason.
        #[source]
        source: Box<EncodeError>,
    },
    /// The composed component could not be read back, or no longer validated after the
    /// `implements` annotations of its labelled exports were restored.
    #[error(
        "the composition of workload `{workload}` is invalid after restoring the `implements` of its exports"
    )]
    Exports {
        /// The workload.
        workload: String,
        /// wasmparser's reason.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
    /// wasmprinter could not print a component as text.
    #[error("cannot print the component as WebAssembly text")]
    Print {
        /// wasmprinter's reason.
        #[source]
        source: anyhow::Error,
    },
}

/// The WebAssembly text of a component (for example a composed one), for debugging.
///
/// # Errors
/// [`ComposeError::Print`] when `bytes` cannot be printed (not WebAssembly, or invalid).
pub fn to_wat(bytes: &[u8]) -> Result<String, ComposeError> {
    wasmprinter::print_bytes(bytes).map_err(|source| ComposeError::Print { source })
}

/// Composes `plan` into one component and returns its bytes; see [`Composition::build`].
///
/// # Errors
/// As [`Composition::build`].
pub fn compose(plan: &Plan, options: &ComposeOptions) -> Result<Vec<u8>, ComposeError> {
    Composition::build(plan, options).map(|c| c.bytes)
}

impl Composition {
    /// Composes `plan` into one component: builds the wac composition graph (see the crate
    /// documentation), encodes it and, unless [`ComposeOptions::validate`] is off,
    /// validates the result with every WebAssembly feature wasmparser knows.
    ///
    /// The output depends only on `plan` and `options`: the same inputs give the same bytes.
    ///
    /// # Errors
    /// [`ComposeError::GrantsDiffer`] when the components' grants differ;
    /// [`ComposeError::RemoteNotComposable`] when a remote serves an import;
    /// [`ComposeError::InvalidPlan`] for a plan that does not hold together;
    /// [`ComposeError::TooLarge`] (when validating) for a workload that needs more than
    /// 1,000 instances or embedded components in one component, which wasmparser and
    /// Wasmtime reject; [`ComposeError::HostImportConflict`] when two components import one
    /// host interface with types that cannot be merged; otherwise the error of the wac step
    /// that failed, naming the workload component involved.
    pub fn build(plan: &Plan, options: &ComposeOptions) -> Result<Self, ComposeError> {
        plan.check_composable_grants("composing the workload into one component")
            .map_err(|diagnostic| ComposeError::GrantsDiffer { diagnostic })?;
        plan.check_composable_remotes("composing the workload into one component")
            .map_err(|diagnostic| ComposeError::RemoteNotComposable { diagnostic })?;
        let built = graph::build(plan, options)?;
        Self::encode(
            plan,
            built,
            options,
            &labelled_exports(plan),
            plan.components.len(),
        )
    }

    /// Encodes a built graph (checking wasmparser's limits first when validating), restores
    /// the `implements` of the `labelled` exports, and reads back the imports and exports.
    fn encode(
        plan: &Plan,
        built: graph::Built,
        options: &ComposeOptions,
        labelled: &HashMap<&str, &str>,
        instances: usize,
    ) -> Result<Self, ComposeError> {
        if options.validate {
            check_limits(plan, &built)?;
        }
        let processor = options
            .processor
            .as_ref()
            .map(|(name, version)| Processor { name, version });
        let encode = EncodeOptions {
            define_components: true,
            validate: options.validate,
            processor,
        };
        let bytes = built.graph.encode(encode).map_err(|error| match error {
            EncodeError::ImportTypeMergeConflict {
                import,
                first,
                second,
                source,
            } => {
                let name = |node| built.instances.get(&node).cloned().unwrap_or_default();
                ComposeError::HostImportConflict {
                    import,
                    first: name(first),
                    second: name(second),
                    source,
                }
            }
            error => ComposeError::Encode {
                workload: plan.name.clone(),
                source: Box::new(error),
            },
        })?;
        let exports_error = |source| ComposeError::Exports {
            workload: plan.name.clone(),
            source,
        };
        let bytes = if labelled.is_empty() {
            bytes
        } else {
            let bytes =
                externs::restore_export_implements(&bytes, labelled).map_err(exports_error)?;
            if options.validate {
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                    .validate_all(&bytes)
                    .map_err(exports_error)?;
            }
            bytes
        };
        let (imports, exports) = externs::top_level(&bytes).map_err(exports_error)?;
        Ok(Self {
            bytes,
            packages: built.packages,
            instances,
            bindings: built.bindings,
            imports,
            exports,
        })
    }
}

/// wasmparser's `MAX_WASM_INSTANCES` and `MAX_WASM_COMPONENTS` (its `limits` module is
/// private): how many instances, and component definitions, one component may hold.
const MAX_INSTANCES: usize = 1_000;
const MAX_COMPONENTS: usize = 1_000;

/// Fails early, with a message that says what to do, when the encoded composition would
/// exceed wasmparser's limits (validation would reject it with `instances count exceeds
/// limit of 1000` after encoding everything). A composition's instance index space holds
/// its instance imports, one instance per component, one alias per distinct instance
/// export wired or exported, and one more per instance export; the import count may
/// overestimate by the number of semver-compatible names that wac merges into one.
fn check_limits(plan: &Plan, built: &graph::Built) -> Result<(), ComposeError> {
    let graph = &built.graph;
    let mut imports: Vec<&str> = graph
        .imports()
        .filter(|(_, kind, _)| matches!(kind, ItemKind::Instance(_)))
        .map(|(name, _, _)| name)
        .collect();
    imports.sort_unstable();
    imports.dedup();
    let local = graph
        .nodes()
        .map(|node| {
            let instance = matches!(node.item_kind(), ItemKind::Instance(_));
            let created = matches!(node.kind(), NodeKind::Instantiation(_))
                || (instance && matches!(node.kind(), NodeKind::Alias));
            usize::from(created) + usize::from(instance && node.export_name().is_some())
        })
        .sum::<usize>();
    let too_large = |what, count, limit| ComposeError::TooLarge {
        workload: plan.name.clone(),
        what,
        count,
        limit,
    };
    let instances = imports.len() + local;
    if instances > MAX_INSTANCES {
        return Err(too_large("component instances", instances, MAX_INSTANCES));
    }
    if built.packages > MAX_COMPONENTS {
        return Err(too_large(
            "embedded components",
            built.packages,
            MAX_COMPONENTS,
        ));
    }
    Ok(())
}

/// The workload exports that are labelled instances, with the interface each implements:
/// the ones whose `implements` wac 0.12 drops (see `externs::restore_export_implements`).
fn labelled_exports(plan: &Plan) -> HashMap<&str, &str> {
    plan.exports
        .iter()
        .filter(|e| matches!(e.export.kind, ItemKind::Instance(_)) && is_label(&e.name))
        .filter_map(|e| Some((e.name.as_str(), e.export.interface()?)))
        .collect()
}

fn is_label(name: &str) -> bool {
    matches!(
        ComponentName::new(name, 0)
            .as_ref()
            .map(ComponentName::kind),
        Ok(ComponentNameKind::Label(_))
    )
}
