//! The JSON schema of a resolved (or partly resolved) workload, for tools:
//! `compose resolve --format json` prints it, and `compose graph --format json` prints it
//! with the graph's additions flattened in. One `#[derive(Serialize)]` schema, versioned by
//! [`JSON_SCHEMA`]; docs/json.md documents every field.

use crate::component::Item;
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::ResolveError;
use crate::plan::Instantiation;
use crate::plan::{Binding, ComponentId, PartialPlan, Plan, PlannedComponent, Provider, Rule};
use serde::Serialize;
use std::collections::HashMap;

/// The version of the JSON schema; it changes when a field changes meaning or goes away
/// (new fields may appear without a change).
pub const JSON_SCHEMA: u32 = 1;

/// How component paths are written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// The path that was read (the workload file's folder joined with the path).
    Read,
    /// The path as the workload file writes it, so that output does not depend on where
    /// the workload is.
    Written,
}

/// A workload as JSON: what resolved and, for a workload that does not, what did not.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorkloadJson<'a> {
    /// [`JSON_SCHEMA`].
    pub schema: u32,
    /// The workload's name; absent when the workload file could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// Every component, in the order of the workload file.
    pub components: Vec<ComponentJson<'a>>,
    /// The components, servers before importers; `null` when the workload does not resolve.
    pub order: Option<Vec<&'a str>>,
    /// The workload's exports.
    pub exports: Vec<ExportJson<'a>>,
    /// What the host must serve, one entry per import name.
    pub host_imports: Vec<HostImportJson<'a>>,
    /// The warnings of a workload that resolves.
    pub warnings: Vec<ProblemJson>,
    /// Whether the workload resolves.
    pub resolved: bool,
    /// The imports left unbound (empty when the workload resolves).
    pub unbound: Vec<UnboundJson<'a>>,
    /// Every error and warning of a workload that does not resolve (empty when it does).
    pub problems: Vec<ProblemJson>,
    /// The clusters of more than one component (every other component is a cluster of
    /// its own), in the plan's order.
    pub clusters: Vec<ClusterJson<'a>>,
}

/// A cluster: components the run-time linker instantiates together.
#[derive(Debug, Serialize)]
pub struct ClusterJson<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its members, in the order of the workload file.
    pub members: Vec<&'a str>,
    /// Whether `[clusters]` names it (else the default rule made it).
    pub explicit: bool,
}

/// One component.
#[derive(Debug, Serialize)]
pub struct ComponentJson<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its file ([`PathStyle`]); `null` for bytes in memory.
    pub path: Option<String>,
    /// Its size in bytes; `null` when its file could not be read.
    pub size: Option<usize>,
    /// `lazy` or `eager`.
    pub instantiate: Instantiation,
    /// Every import, in the component's order, with what serves it.
    pub imports: Vec<ImportJson<'a>>,
    /// Every export.
    pub exports: Vec<ItemJson<'a>>,
    /// For a component that could not be used, the code of why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'static str>,
}

/// An import or export of a component.
#[derive(Debug, Serialize)]
pub struct ItemJson<'a> {
    /// Its name.
    pub name: &'a str,
    /// For a label, the interface it implements.
    pub implements: Option<&'a str>,
    /// Its kind (`instance`, `function`, …), as wac-types describes it.
    pub kind: String,
}

/// An import and what serves it.
#[derive(Debug, Serialize)]
pub struct ImportJson<'a> {
    /// The import.
    #[serde(flatten)]
    pub item: ItemJson<'a>,
    /// What serves it; `null` when it is not bound.
    pub provider: Option<ProviderJson<'a>>,
    /// The rule that chose the provider; `null` when it is not bound.
    pub rule: Option<Rule>,
    /// For an import that is not bound, the code of why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'static str>,
}

/// What serves an import.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProviderJson<'a> {
    /// An export of another component.
    Component {
        /// The serving component.
        component: &'a str,
        /// Its export.
        export: &'a str,
    },
    /// An export of a remote (`[remotes]`), reached over wRPC.
    Remote {
        /// The remote.
        remote: &'a str,
        /// Its address (`tcp://HOST:PORT`, `unix:///path`).
        url: String,
        /// Its export.
        export: &'a str,
    },
    /// A host interface.
    Host,
    /// A host backend.
    HostBackend {
        /// The label.
        label: &'a str,
        /// The interface it implements.
        interface: &'a str,
    },
}

/// One workload export.
#[derive(Debug, Serialize)]
pub struct ExportJson<'a> {
    /// The workload's export name.
    pub name: &'a str,
    /// The component that serves it.
    pub component: &'a str,
    /// The component's export.
    pub export: &'a str,
}

/// One import the host serves.
#[derive(Debug, Serialize)]
pub struct HostImportJson<'a> {
    /// The import name.
    pub name: &'a str,
    /// For a label, the interface it implements.
    pub implements: Option<&'a str>,
    /// For a host backend, the interface the backend implements.
    pub backend: Option<&'a str>,
    /// The components that import it.
    pub importers: Vec<&'a str>,
}

/// An import left unbound.
#[derive(Debug, Serialize)]
pub struct UnboundJson<'a> {
    /// The importing component.
    pub component: &'a str,
    /// The import.
    pub import: &'a str,
    /// The code of why.
    pub code: Option<&'static str>,
}

/// One problem.
#[derive(Debug, Serialize)]
pub struct ProblemJson {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The stable code, `compose::<kind>`.
    pub code: &'static str,
    /// The one-line message.
    pub message: String,
    /// What would fix it.
    pub help: Option<String>,
    /// The 1-based line in the workload file, when it points into it.
    pub line: Option<usize>,
    /// The 1-based column (in characters), when it points into it.
    pub column: Option<usize>,
}

impl From<&Diagnostic> for ProblemJson {
    fn from(d: &Diagnostic) -> Self {
        let (line, column) = d.line_column().unzip();
        Self {
            severity: d.severity(),
            code: d.problem.code(),
            message: d.problem.to_string(),
            help: d.problem.help(),
            line,
            column,
        }
    }
}

impl Plan {
    /// The plan as JSON ([`WorkloadJson`]), paths written as `paths` says.
    pub fn json(&self, paths: PathStyle) -> WorkloadJson<'_> {
        let mut json = self.json_parts(paths, &HashMap::new());
        json.order = Some(
            self.order
                .iter()
                .map(|id| self.component(*id).name.as_str())
                .collect(),
        );
        json.resolved = true;
        json
    }

    /// The plan as a JSON value (`compose resolve --format json`), with the paths read.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json(PathStyle::Read)).expect("the schema serializes")
    }

    /// Everything but `order`, `resolved`, `unbound` and `problems`; `broken` gives the
    /// code of each unbound import by (component, import index).
    fn json_parts<'a>(
        &'a self,
        paths: PathStyle,
        broken: &HashMap<(ComponentId, usize), Option<&'static str>>,
    ) -> WorkloadJson<'a> {
        let name = |id: ComponentId| self.component(id).name.as_str();
        WorkloadJson {
            schema: JSON_SCHEMA,
            name: Some(&self.name),
            components: self
                .components()
                .map(|(id, c)| self.component_json(id, c, paths, broken))
                .collect(),
            order: None,
            exports: self
                .exports
                .iter()
                .map(|e| ExportJson {
                    name: &e.name,
                    component: name(e.component),
                    export: &e.export.name,
                })
                .collect(),
            host_imports: self
                .host_imports()
                .into_iter()
                .map(|h| HostImportJson {
                    name: &h.import.name,
                    implements: h.import.implements.as_deref(),
                    backend: h.backend,
                    importers: h.importers.iter().map(|id| name(*id)).collect(),
                })
                .collect(),
            warnings: self.warnings.iter().map(ProblemJson::from).collect(),
            resolved: false,
            unbound: Vec::new(),
            problems: Vec::new(),
            clusters: self
                .clusters
                .iter()
                .filter(|c| c.members.len() > 1)
                .map(|c| ClusterJson {
                    name: &c.name,
                    members: c.members.iter().map(|id| name(*id)).collect(),
                    explicit: c.explicit,
                })
                .collect(),
        }
    }

    fn component_json<'a>(
        &'a self,
        id: ComponentId,
        c: &'a PlannedComponent,
        paths: PathStyle,
        broken: &HashMap<(ComponentId, usize), Option<&'static str>>,
    ) -> ComponentJson<'a> {
        let file = self.file(c.file);
        let path = match paths {
            PathStyle::Read => file.path.as_ref().map(|p| p.display().to_string()),
            PathStyle::Written => file.path.as_ref().map(|_| file.written.clone()),
        };
        let mut bindings = c.bindings.iter().peekable();
        let imports =
            c.ty.imports
                .iter()
                .enumerate()
                .map(|(index, import)| match broken.get(&(id, index)) {
                    Some(code) => self.import_json(import, None, *code),
                    None => self.import_json(import, bindings.next(), None),
                })
                .collect();
        ComponentJson {
            name: &c.name,
            path,
            size: Some(file.size()),
            instantiate: c.instantiate,
            imports,
            exports: c.ty.exports.iter().map(|e| self.item_json(e)).collect(),
            problem: None,
        }
    }

    fn item_json<'a>(&'a self, item: &'a Item) -> ItemJson<'a> {
        ItemJson {
            name: &item.name,
            implements: item.implements.as_deref(),
            kind: item.kind.desc(&self.types).to_owned(),
        }
    }

    fn import_json<'a>(
        &'a self,
        import: &'a Item,
        binding: Option<&'a Binding>,
        problem: Option<&'static str>,
    ) -> ImportJson<'a> {
        let provider = binding.map(|b| match &b.provider {
            Provider::Component { component, export } => ProviderJson::Component {
                component: &self.component(*component).name,
                export,
            },
            Provider::Remote { remote, export } => {
                let remote = self.remote(*remote);
                ProviderJson::Remote {
                    remote: &remote.name,
                    url: remote.url.to_string(),
                    export,
                }
            }
            Provider::HostInterface => ProviderJson::Host,
            Provider::HostBackend { label, interface } => {
                ProviderJson::HostBackend { label, interface }
            }
        });
        ImportJson {
            item: self.item_json(import),
            provider,
            rule: binding.map(|b| b.rule),
            problem,
        }
    }
}

impl ResolveError {
    /// The error as JSON ([`WorkloadJson`] with `resolved` false): what did resolve, each
    /// import that did not with the code of why (in its component and in `unbound`), each
    /// component that could not be used (`size` `null` and a `problem`), and every problem.
    pub fn json(&self, paths: PathStyle) -> WorkloadJson<'_> {
        let mut json = match &self.partial {
            Some(partial) => self.partial_json(partial, paths),
            None => WorkloadJson {
                schema: JSON_SCHEMA,
                name: None,
                components: Vec::new(),
                order: None,
                exports: Vec::new(),
                host_imports: Vec::new(),
                warnings: Vec::new(),
                resolved: false,
                unbound: Vec::new(),
                problems: Vec::new(),
                clusters: Vec::new(),
            },
        };
        json.warnings = self
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
            .map(ProblemJson::from)
            .collect();
        json.problems = self.diagnostics.iter().map(ProblemJson::from).collect();
        json
    }

    /// [`ResolveError::json`] as a value (`compose resolve --format json`), paths read.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json(PathStyle::Read)).expect("the schema serializes")
    }

    fn code(&self, diagnostic: Option<usize>) -> Option<&'static str> {
        diagnostic.map(|d| self.diagnostics[d].problem.code())
    }

    fn partial_json<'a>(&'a self, partial: &'a PartialPlan, paths: PathStyle) -> WorkloadJson<'a> {
        let plan = &partial.plan;
        let broken = partial
            .unbound
            .iter()
            .map(|u| {
                let index = plan
                    .component(u.component)
                    .ty
                    .imports
                    .iter()
                    .position(|i| i.name == u.import.name);
                (
                    (u.component, index.unwrap_or(usize::MAX)),
                    self.code(u.diagnostic),
                )
            })
            .collect();
        let mut json = plan.json_parts(paths, &broken);
        for unreadable in &partial.unreadable {
            let component = ComponentJson {
                name: &unreadable.name,
                path: match paths {
                    PathStyle::Read => None,
                    PathStyle::Written => Some(unreadable.written.clone()),
                },
                size: None,
                instantiate: unreadable.instantiate,
                imports: Vec::new(),
                exports: Vec::new(),
                problem: self.code(Some(unreadable.diagnostic)),
            };
            let at = unreadable.position.min(json.components.len());
            json.components.insert(at, component);
        }
        json.unbound = partial
            .unbound
            .iter()
            .map(|u| UnboundJson {
                component: &plan.component(u.component).name,
                import: &u.import.name,
                code: self.code(u.diagnostic),
            })
            .collect();
        json
    }
}
