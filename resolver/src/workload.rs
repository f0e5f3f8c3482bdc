//! The workload: what `workload.toml` says, as a value.
//!
//! A [`Workload`] is read from a file with [`Workload::from_file`] or [`Workload::parse`],
//! or built in code with [`Workload::new`] and [`Workload::with_component`] (component
//! bytes may already be in memory). Every value read from a file keeps its span, so
//! that the resolver's diagnostics point into the file.

use crate::diagnostic::{Diagnostic, Problem, ResolveError, Span, WorkloadText};
use indexmap::IndexMap;
use miette::NamedSource;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// A value and, when it was read from a workload file, where it is written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its byte range in the workload file.
    pub span: Option<Span>,
}

impl<T> Located<T> {
    /// A value that is not written in any file.
    pub fn new(value: T) -> Self {
        Self { value, span: None }
    }
}

impl<T> From<Spanned<T>> for Located<T> {
    fn from(spanned: Spanned<T>) -> Self {
        let span = spanned.span();
        Self {
            value: spanned.into_inner(),
            span: Some(span),
        }
    }
}

impl From<&str> for Located<String> {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

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
    /// The workload file's text, when the workload was read from one.
    pub text: Option<WorkloadText>,
    /// The folder that relative component paths are relative to.
    pub base_dir: PathBuf,
}

/// `[host]`: what the embedding host provides.
#[derive(Debug, Clone, Default)]
pub struct HostDecl {
    /// Interface names or patterns (`wasi:cli/*@0.2.0`, `wasi:*@0.2.0`) the host serves.
    pub interfaces: Vec<Located<String>>,
    /// `implements` labels the host serves, with the interface each implements.
    pub backends: IndexMap<String, HostBackendDecl>,
}

/// One entry of `[host] backends`.
#[derive(Debug, Clone)]
pub struct HostBackendDecl {
    /// Where the label is written.
    pub label_span: Option<Span>,
    /// The interface the backend implements (`acme:kv/store@0.1.0`).
    pub interface: Located<String>,
}

/// Where a component's bytes come from.
#[derive(Debug, Clone)]
pub enum ComponentSource {
    /// A file; relative paths are relative to the workload file's folder.
    Path(PathBuf),
    /// Bytes already in memory, with a name to show for them.
    Bytes {
        /// A name for messages (`<memory>` if nothing better).
        name: String,
        /// The component's bytes.
        bytes: Arc<[u8]>,
    },
}

/// When the run-time linker instantiates a component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Instantiation {
    /// On the first call that needs it (the default).
    #[default]
    Lazy,
    /// When the workload is instantiated in a store.
    Eager,
}

/// `[components.<name>]`: one component of the workload.
#[derive(Debug, Clone)]
pub struct ComponentDecl {
    /// Where the component's name is written.
    pub name_span: Option<Span>,
    /// Its file or bytes.
    pub source: Located<ComponentSource>,
    /// Explicit bindings by import name.
    pub imports: IndexMap<String, ExplicitBinding>,
    /// When the run-time linker instantiates it.
    pub instantiate: Instantiation,
    /// `max-memory`: the most linear memory, in bytes, that one instance of the component
    /// may hold (all its memories together); `None` for no limit. The run-time linker
    /// enforces it.
    pub max_memory: Option<u64>,
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
    /// component; without `export`, the export of the import's name or interface.
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

    fn from_source(source: ComponentSource) -> Self {
        Self {
            name_span: None,
            source: Located::new(source),
            imports: IndexMap::new(),
            instantiate: Instantiation::Lazy,
            max_memory: None,
        }
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

    /// The same component, with at most `bytes` of linear memory per instance.
    pub fn with_max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = Some(bytes);
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
            text: None,
            base_dir: PathBuf::from("."),
        }
    }

    /// The same workload with one more component named `name`.
    pub fn with_component(mut self, name: impl Into<String>, component: ComponentDecl) -> Self {
        self.components.insert(name.into(), component);
        self
    }

    /// The same workload with `pattern` (an interface name or `ns:pkg/*@ver`, `ns:*@ver`)
    /// in `[host] interfaces`.
    pub fn with_host_interface(mut self, pattern: impl Into<String>) -> Self {
        self.host.interfaces.push(Located::new(pattern.into()));
        self
    }

    /// The same workload with a host backend `label` implementing `interface`.
    pub fn with_host_backend(
        mut self,
        label: impl Into<String>,
        interface: impl Into<String>,
    ) -> Self {
        self.host.backends.insert(
            label.into(),
            HostBackendDecl {
                label_span: None,
                interface: Located::new(interface.into()),
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

    /// Reads and parses the workload file at `path`.
    ///
    /// # Errors
    /// [`Problem::ReadWorkload`] when the file cannot be read; otherwise as [`Workload::parse`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ResolveError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::new(
                Problem::ReadWorkload {
                    path: path.to_owned(),
                    reason: e.to_string(),
                },
                None,
                None,
            )
        })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        Self::parse(&path.display().to_string(), text, base_dir)
    }

    /// Parses workload text; `file_name` names it in diagnostics and relative component
    /// paths are relative to `base_dir`.
    ///
    /// # Errors
    /// [`Problem::InvalidWorkload`] for invalid TOML, a missing `name`, an unknown key (the
    /// message lists the known ones) or a value of the wrong type; [`Problem::InvalidName`]
    /// for names that are not kebab-case. Every name problem is reported, not only the first.
    pub fn parse(
        file_name: &str,
        text: String,
        base_dir: impl Into<PathBuf>,
    ) -> Result<Self, ResolveError> {
        let source: WorkloadText = Arc::new(NamedSource::new(file_name, text));
        let raw: RawWorkload = toml::from_str(source.inner()).map_err(|e| {
            Diagnostic::new(
                Problem::InvalidWorkload {
                    reason: e.message().to_owned(),
                },
                Some(&source),
                e.span(),
            )
        })?;
        let mut problems = Vec::new();
        let workload = raw.into_workload(&source, base_dir.into(), &mut problems);
        if problems.is_empty() {
            Ok(workload)
        } else {
            Err(ResolveError {
                diagnostics: problems,
                partial: None,
            })
        }
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

/// Whether `name` is a kebab-case label as the component model spec defines it.
pub(crate) fn is_label(name: &str) -> bool {
    wasmparser::names::KebabStr::new(name).is_some()
}

// The serde shape of `workload.toml`; `deny_unknown_fields` makes unknown keys errors whose
// message lists the known keys.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    name: Spanned<String>,
    #[serde(default)]
    host: RawHost,
    #[serde(default)]
    components: IndexMap<Spanned<String>, RawComponent>,
    exports: Option<IndexMap<Spanned<String>, Spanned<RawTarget>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHost {
    #[serde(default)]
    interfaces: Vec<Spanned<String>>,
    #[serde(default)]
    backends: IndexMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    path: Spanned<PathBuf>,
    #[serde(default)]
    imports: IndexMap<Spanned<String>, Spanned<RawTarget>>,
    #[serde(default)]
    instantiate: Instantiation,
    #[serde(rename = "max-memory")]
    max_memory: Option<Spanned<RawSize>>,
}

/// A size as written: `"64MiB"`, or a bare number (which is refused: a unit is required).
#[derive(Deserialize)]
#[serde(untagged, expecting = "a size with a unit, such as \"64MiB\"")]
enum RawSize {
    Text(String),
    Number(i64),
}

/// Parses `max-memory`: a positive whole number and one of the units `B`, `KiB`, `MiB`,
/// `GiB` (powers of 1024, as Wasmtime's own limits are), optionally separated by spaces.
/// Returns the number of bytes, or why the text is not a size.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| "it does not start with a whole number".to_string())?;
    let unit = unit.trim_start();
    let scale: u64 = match unit {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "" => return Err("it has no unit".into()),
        _ => return Err(format!("`{unit}` is not a unit")),
    };
    if number == 0 {
        return Err("it must be positive".into());
    }
    number
        .checked_mul(scale)
        .ok_or_else(|| "it is too large".into())
}

impl RawSize {
    /// The size in bytes, or the problem to report.
    fn bytes(&self) -> Result<u64, Problem> {
        let (shown, parsed) = match self {
            RawSize::Text(text) => (text.clone(), parse_size(text)),
            RawSize::Number(n) => (n.to_string(), Err("it has no unit".into())),
        };
        parsed.map_err(|why| Problem::InvalidWorkload {
            reason: format!(
                "invalid `max-memory` `{shown}`: {why}; write a positive whole number and a unit, B, KiB, MiB or GiB (\"64MiB\")"
            ),
        })
    }
}

/// `"name"` or `{ component = "...", export = "..." }`.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a component name, \"host\", or a table { component = \"...\", export = \"...\" }"
)]
enum RawTarget {
    Name(String),
    Table(RawTargetTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargetTable {
    component: String,
    export: Option<String>,
}

impl RawTarget {
    fn into_binding(self) -> BindingTarget {
        match self {
            RawTarget::Name(name) if name == "host" => BindingTarget::Host,
            RawTarget::Name(component) => BindingTarget::Component {
                component,
                export: None,
            },
            RawTarget::Table(t) => BindingTarget::Component {
                component: t.component,
                export: t.export,
            },
        }
    }
}

impl RawWorkload {
    fn into_workload(
        self,
        source: &WorkloadText,
        base_dir: PathBuf,
        problems: &mut Vec<Diagnostic>,
    ) -> Workload {
        let mut check_label = |name: &Spanned<String>, what: &'static str| {
            if !is_label(name.get_ref()) {
                problems.push(Diagnostic::new(
                    Problem::InvalidName {
                        name: name.get_ref().clone(),
                        what,
                    },
                    Some(source),
                    Some(name.span()),
                ));
            }
        };
        check_label(&self.name, "workload");
        for name in self.components.keys() {
            check_label(name, "component");
        }
        for label in self.host.backends.keys() {
            check_label(label, "backend");
        }
        let components = self
            .components
            .into_iter()
            .map(|(name, raw)| {
                let max_memory = raw.max_memory.and_then(|size| {
                    size.get_ref()
                        .bytes()
                        .map_err(|problem| {
                            problems.push(Diagnostic::new(problem, Some(source), Some(size.span())))
                        })
                        .ok()
                });
                let decl = ComponentDecl {
                    name_span: Some(name.span()),
                    source: Located {
                        span: Some(raw.path.span()),
                        value: ComponentSource::Path(raw.path.into_inner()),
                    },
                    imports: raw
                        .imports
                        .into_iter()
                        .map(|(import, target)| {
                            let span = target.span();
                            let binding = ExplicitBinding {
                                import_span: Some(import.span()),
                                target: Located {
                                    value: target.into_inner().into_binding(),
                                    span: Some(span),
                                },
                            };
                            (import.into_inner(), binding)
                        })
                        .collect(),
                    instantiate: raw.instantiate,
                    max_memory,
                };
                (name.into_inner(), decl)
            })
            .collect();
        let exports = self.exports.map(|exports| {
            exports
                .into_iter()
                .map(|(name, target)| {
                    let span = target.span();
                    let export = match target.into_inner().into_binding() {
                        BindingTarget::Component { component, export } => {
                            ExportDecl { component, export }
                        }
                        // "host" is not a component: resolving reports it as unknown.
                        BindingTarget::Host => ExportDecl {
                            component: "host".into(),
                            export: None,
                        },
                    };
                    (
                        name.into_inner(),
                        Located {
                            value: export,
                            span: Some(span),
                        },
                    )
                })
                .collect()
        });
        Workload {
            name: self.name.into(),
            host: HostDecl {
                interfaces: self.host.interfaces.into_iter().map(Into::into).collect(),
                backends: self
                    .host
                    .backends
                    .into_iter()
                    .map(|(label, interface)| {
                        let decl = HostBackendDecl {
                            label_span: Some(label.span()),
                            interface: interface.into(),
                        };
                        (label.into_inner(), decl)
                    })
                    .collect(),
            },
            components,
            exports,
            text: Some(source.clone()),
            base_dir,
        }
    }
}
