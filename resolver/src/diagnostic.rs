//! Problems found while loading or resolving a workload, located in `workload.toml`.
//!
//! Every problem is a [`Diagnostic`]: what went wrong ([`Problem`]), how bad it is
//! ([`Severity`]) and where it is written in the workload file, if it is written there.
//! The libraries never render diagnostics; a front end renders them with `miette`
//! (each [`Diagnostic`] implements [`miette::Diagnostic`]).

use miette::{LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A byte range in the workload file's text.
pub type Span = Range<usize>;

/// The text of a workload file, shared by every diagnostic that points into it.
pub type WorkloadText = Arc<NamedSource<String>>;

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
        /// What is named: `workload`, `component` or `backend`.
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
    #[error("{purpose} names `{target}`, which is not a component of this workload")]
    UnknownComponent {
        /// What names it (`` import `x` of `y` ``, `` workload export `z` ``).
        purpose: String,
        /// The missing component.
        target: String,
        /// The workload's components, for the help text.
        known: Vec<String>,
    },
    /// An explicit binding or workload export names an export that the component lacks.
    #[error("component `{target}` has no export {wanted} (for {purpose})")]
    UnknownExport {
        /// The component that should have the export.
        target: String,
        /// The export looked for, as a phrase (`` `acme:kv/store@0.1.0` ``).
        wanted: String,
        /// What needed it (`import `x` of `y``, `workload export `z``).
        purpose: String,
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
        "`{component}` imports `{label}` implementing `{interface}`, but {backend} `{label}` {serves}"
    )]
    BackendMismatch {
        /// The importing component.
        component: String,
        /// The import's label.
        label: String,
        /// The interface the import implements.
        interface: String,
        /// `component` or `host backend`.
        backend: &'static str,
        /// What the backend serves instead, as a phrase.
        serves: String,
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
    #[error("import `{import}` of `{component}` does not type-check against {provider}: {detail}")]
    TypeMismatch {
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// What serves it (`` export `x` of `y` ``).
        provider: String,
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
    /// A component that nothing imports from and that contributes no workload export.
    #[error(
        "component `{component}` is not used: nothing imports from it and it contributes no workload export"
    )]
    UnusedComponent {
        /// The component.
        component: String,
    },
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
            Problem::UnusedComponent { .. } => "compose::unused-component",
        }
    }

    /// How bad this problem is: only an unused component is a warning.
    pub fn severity(&self) -> Severity {
        match self {
            Problem::UnusedComponent { .. } => Severity::Warning,
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
            Problem::UnusedComponent { .. } => {
                "remove it, or export one of its exports in `[exports]`".into()
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
        let text = source.inner();
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Some((line, column))
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
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
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

    /// The error as JSON for tools (`compose resolve --format json` on a failing
    /// workload): the partial plan's JSON ([`crate::Plan::to_json`], with `resolved` false
    /// and `order` null), `unbound` (each `component`, `import` and the `code` of why) and
    /// `problems` (each `severity`, `code`, `message`, `help`, and `line` and `column` in
    /// the workload file when it points into it).
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = match &self.partial {
            Some(partial) => {
                let plan = &partial.plan;
                let mut json = plan.to_json();
                json["order"] = serde_json::Value::Null;
                json["unbound"] = partial
                    .unbound
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "component": plan.component(u.component).name,
                            "import": u.import.name,
                            "code": u.diagnostic.map(|d| self.diagnostics[d].problem.code()),
                        })
                    })
                    .collect();
                json
            }
            None => serde_json::json!({}),
        };
        json["resolved"] = false.into();
        json["problems"] = self
            .diagnostics
            .iter()
            .map(|d| {
                let (line, column) = d.line_column().unzip();
                serde_json::json!({
                    "severity": d.severity(),
                    "code": d.problem.code(),
                    "message": d.problem.to_string(),
                    "help": d.problem.help(),
                    "line": line,
                    "column": column,
                })
            })
            .collect();
        json
    }

    /// The problems of every diagnostic, errors and warnings, in order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.diagnostics.iter().map(|d| &d.problem)
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
