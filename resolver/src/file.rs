//! `workload.toml`: its serde shape and its conversion into a [`Workload`], keeping the
//! span of every value so that diagnostics point into the file.
//!
//! `deny_unknown_fields` makes an unknown key an error whose message lists the known keys
//! (toml's wording). Names are checked to be kebab-case labels; every name problem is
//! reported, not only the first.

use crate::diagnostic::{Diagnostic, Problem, Span, WorkloadText};
use crate::error::ResolveError;
use crate::grants::{DirGrant, Grants, Origin};
use crate::names::is_label;
use crate::oci::{OciReference, OciSource};
use crate::plan::Instantiation;
use crate::plugin::BackendConfig;
use crate::source::{Located, SourceFile};
use crate::workload::RemoteDecl;
use crate::workload::{
    AllowDecl, AllowSpans, BindingTarget, ClusterDecl, ComponentDecl, ComponentSource,
    ExplicitBinding, ExportDecl, HostBackendDecl, HostDecl, Workload,
};
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// Parses workload text named `file_name`, relative paths relative to `base_dir`.
pub(crate) fn parse(
    file_name: &str,
    text: String,
    base_dir: PathBuf,
) -> Result<Workload, ResolveError> {
    let source: WorkloadText = Arc::new(SourceFile::new(file_name, text));
    let raw: RawWorkload = toml::from_str(source.text()).map_err(|e| {
        let problem = Problem::InvalidWorkload {
            reason: e.message().to_owned(),
        };
        Diagnostic::new(problem, Some(&source), e.span())
    })?;
    let mut reader = Reader {
        source: &source,
        problems: Vec::new(),
    };
    let workload = reader.workload(raw, base_dir);
    if reader.problems.is_empty() {
        Ok(workload)
    } else {
        Err(ResolveError::new(reader.problems))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    name: Spanned<String>,
    #[serde(default)]
    host: RawHost,
    #[serde(default)]
    components: IndexMap<Spanned<String>, RawComponent>,
    exports: Option<IndexMap<Spanned<String>, Spanned<RawTarget>>>,
    #[serde(default)]
    remotes: IndexMap<Spanned<String>, RawRemote>,
    #[serde(default)]
    clusters: IndexMap<Spanned<String>, Vec<Spanned<String>>>,
    allow: Option<Spanned<RawAllow>>,
}

/// `[remotes.NAME]`: `url`, `exports` and `types` are all required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemote {
    url: Spanned<String>,
    exports: Vec<Spanned<String>>,
    types: Spanned<PathBuf>,
}

/// An `allow` table: grants as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    env: Option<Spanned<Vec<Spanned<String>>>>,
    dirs: Option<Spanned<Vec<Spanned<String>>>>,
    http: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHost {
    #[serde(default)]
    interfaces: Vec<Spanned<String>>,
    #[serde(default)]
    backends: IndexMap<Spanned<String>, Spanned<RawBackend>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    path: Option<Spanned<PathBuf>>,
    source: Option<Spanned<String>>,
    #[serde(default)]
    imports: IndexMap<Spanned<String>, Spanned<RawTarget>>,
    #[serde(default)]
    instantiate: Instantiation,
    #[serde(rename = "max-memory")]
    max_memory: Option<Spanned<RawSize>>,
    #[serde(default)]
    config: IndexMap<Spanned<String>, Spanned<toml::Value>>,
    allow: Option<Spanned<RawAllow>>,
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
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| "it does not start with a whole number".to_string())?;
    let scale: u64 = match unit.trim_start() {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "" => return Err("it has no unit".into()),
        unit => return Err(format!("`{unit}` is not a unit")),
    };
    if number == 0 {
        return Err("it must be positive".into());
    }
    number
        .checked_mul(scale)
        .ok_or_else(|| "it is too large".into())
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

/// A host backend: `"interface"`, or a table of `interface`, `plugin` and the plugin's
/// keys. Read by hand (not `untagged`) so that the keys of the table keep their spans.
enum RawBackend {
    Interface(String),
    Table(Vec<(Spanned<String>, Spanned<toml::Value>)>),
}

impl<'de> Deserialize<'de> for RawBackend {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BackendVisitor;
        impl<'de> Visitor<'de> for BackendVisitor {
            type Value = RawBackend;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an interface name, or a table with `interface`, `plugin` and the plugin's keys")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawBackend, E> {
                Ok(RawBackend::Interface(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBackend, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(RawBackend::Table(entries))
            }
        }
        deserializer.deserialize_any(BackendVisitor)
    }
}

/// Converts the serde shape into a [`Workload`], collecting problems.
struct Reader<'s> {
    source: &'s WorkloadText,
    problems: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn report(&mut self, problem: Problem, span: Span) {
        self.problems
            .push(Diagnostic::new(problem, Some(self.source), Some(span)));
    }

    fn check_label(&mut self, name: &Spanned<String>, what: &'static str) {
        if !is_label(name.get_ref()) {
            let problem = Problem::InvalidName {
                name: name.get_ref().clone(),
                what,
            };
            self.report(problem, name.span());
        }
    }

    fn invalid(&mut self, reason: String, span: Span) {
        self.report(Problem::InvalidWorkload { reason }, span);
    }

    fn workload(&mut self, raw: RawWorkload, base_dir: PathBuf) -> Workload {
        self.check_label(&raw.name, "workload");
        let components = raw
            .components
            .into_iter()
            .map(|(name, raw)| {
                self.check_label(&name, "component");
                let span = name.span();
                (name.into_inner(), self.component(span, raw, &base_dir))
            })
            .collect();
        let exports = raw.exports.map(|exports| {
            exports
                .into_iter()
                .map(|(name, target)| (name.into_inner(), export(target)))
                .collect()
        });
        let remotes = raw
            .remotes
            .into_iter()
            .map(|(name, raw)| {
                self.check_label(&name, "remote");
                let decl = RemoteDecl {
                    name_span: Some(name.span()),
                    url: located(raw.url),
                    exports: raw.exports.into_iter().map(located).collect(),
                    types: located(raw.types).map(ComponentSource::Path),
                };
                (name.into_inner(), decl)
            })
            .collect();
        let clusters = raw
            .clusters
            .into_iter()
            .map(|(name, members)| {
                self.check_label(&name, "cluster");
                if members.is_empty() {
                    let reason = format!(
                        "cluster `{}` lists no components: list its members, `{} = [\"frontend\", \"formatter\"]`",
                        name.get_ref(),
                        name.get_ref()
                    );
                    self.invalid(reason, name.span());
                }
                let decl = ClusterDecl {
                    name_span: Some(name.span()),
                    members: members.into_iter().map(located).collect(),
                };
                (name.into_inner(), decl)
            })
            .collect();
        Workload {
            name: raw.name.into(),
            host: self.host(raw.host),
            components,
            exports,
            remotes,
            clusters,
            allow: self.allow(raw.allow, &base_dir),
            text: Some(self.source.clone()),
            base_dir,
        }
    }

    /// Where a component comes from: exactly one of `path` and `source`; a missing or
    /// invalid one is reported and stands in as an empty path (resolving stops anyway).
    fn source(
        &mut self,
        name_span: Span,
        path: Option<Spanned<PathBuf>>,
        source: Option<Spanned<String>>,
    ) -> Located<ComponentSource> {
        let invalid = || Located::new(ComponentSource::Path(PathBuf::new()));
        match (path, source) {
            (Some(path), None) => located(path).map(ComponentSource::Path),
            (None, Some(source)) => {
                let span = source.span();
                match source.get_ref().parse::<OciReference>() {
                    Ok(reference) => Located {
                        value: ComponentSource::Oci(OciSource {
                            reference,
                            pulled: None,
                        }),
                        span: Some(span),
                    },
                    Err(e) => {
                        self.invalid(e.to_string(), span);
                        invalid()
                    }
                }
            }
            (Some(_), Some(source)) => {
                let reason = "a component has either `path` or `source`, not both".to_owned();
                self.invalid(reason, source.span());
                invalid()
            }
            (None, None) => {
                let reason = "a component needs `path = \"…wasm\"` or `source = \"oci://HOST/REPOSITORY:TAG\"`".to_owned();
                self.invalid(reason, name_span);
                invalid()
            }
        }
    }

    fn component(&mut self, name_span: Span, raw: RawComponent, base_dir: &Path) -> ComponentDecl {
        let imports = raw
            .imports
            .into_iter()
            .map(|(import, target)| {
                let binding = ExplicitBinding {
                    import_span: Some(import.span()),
                    target: located(target).map(RawTarget::into_binding),
                };
                (import.into_inner(), binding)
            })
            .collect();
        let config = raw
            .config
            .into_iter()
            .filter_map(|(key, value)| {
                let text = self.config_value(&key, &value)?;
                let span = value.span();
                Some((
                    key.into_inner(),
                    Located {
                        value: text,
                        span: Some(span),
                    },
                ))
            })
            .collect();
        let source = self.source(name_span.clone(), raw.path, raw.source);
        ComponentDecl {
            name_span: Some(name_span),
            source,
            imports,
            instantiate: raw.instantiate,
            max_memory: raw.max_memory.and_then(|size| self.max_memory(size)),
            config,
            allow: self.allow(raw.allow, base_dir),
        }
    }

    /// An `allow` table's grants, each malformed entry reported at its span and left out.
    fn allow(&mut self, raw: Option<Spanned<RawAllow>>, base_dir: &Path) -> AllowDecl {
        let Some(raw) = raw else {
            return AllowDecl::default();
        };
        let table = Some(raw.span());
        let raw = raw.into_inner();
        let span = |list: &Option<Spanned<Vec<Spanned<String>>>>| list.as_ref().map(Spanned::span);
        let spans = AllowSpans {
            table,
            env: span(&raw.env),
            dirs: span(&raw.dirs),
            http: span(&raw.http),
        };
        let grants = Grants {
            env: self.entries(raw.env, |name| env_name(name).map(str::to_owned)),
            dirs: self.entries(raw.dirs, |dir| DirGrant::parse(dir, base_dir)),
            http: self.entries(raw.http, Origin::parse),
        };
        AllowDecl { grants, spans }
    }

    /// The entries of one `allow` list that `parse` accepts; the others are reported.
    fn entries<T>(
        &mut self,
        list: Option<Spanned<Vec<Spanned<String>>>>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Vec<T> {
        let list = list.map(Spanned::into_inner).unwrap_or_default();
        list.into_iter()
            .filter_map(|entry| match parse(entry.get_ref()) {
                Ok(value) => Some(value),
                Err(reason) => {
                    self.invalid(reason, entry.span());
                    None
                }
            })
            .collect()
    }

    /// `max-memory` in bytes, or `None` after reporting why it is not a size.
    fn max_memory(&mut self, size: Spanned<RawSize>) -> Option<u64> {
        let (shown, parsed) = match size.get_ref() {
            RawSize::Text(text) => (text.clone(), parse_size(text)),
            RawSize::Number(n) => (n.to_string(), Err("it has no unit".into())),
        };
        match parsed {
            Ok(bytes) => Some(bytes),
            Err(why) => {
                let reason = format!(
                    "invalid `max-memory` `{shown}`: {why}; write a positive whole number and a unit, B, KiB, MiB or GiB (\"64MiB\")"
                );
                self.invalid(reason, size.span());
                None
            }
        }
    }

    /// A `wasi:config/store` value: a string, or a number or boolean written as one.
    fn config_value(
        &mut self,
        key: &Spanned<String>,
        value: &Spanned<toml::Value>,
    ) -> Option<String> {
        match value.get_ref() {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                Some(value.get_ref().to_string())
            }
            other => {
                let reason = format!(
                    "config value `{}` is a {}, but `wasi:config/store` values are strings (numbers and booleans are written as strings)",
                    key.get_ref(),
                    other.type_str()
                );
                self.invalid(reason, value.span());
                None
            }
        }
    }

    fn host(&mut self, raw: RawHost) -> HostDecl {
        let backends = raw
            .backends
            .into_iter()
            .filter_map(|(label, backend)| {
                self.check_label(&label, "backend");
                let decl = self.backend(&label, backend)?;
                Some((label.into_inner(), decl))
            })
            .collect();
        HostDecl {
            interfaces: raw.interfaces.into_iter().map(Into::into).collect(),
            backends,
        }
    }

    fn backend(
        &mut self,
        label: &Spanned<String>,
        raw: Spanned<RawBackend>,
    ) -> Option<HostBackendDecl> {
        let span = raw.span();
        let mut decl = HostBackendDecl {
            label_span: Some(label.span()),
            interface: Located::new(String::new()),
            plugin: None,
            config: BackendConfig::default(),
        };
        let entries = match raw.into_inner() {
            RawBackend::Interface(interface) => {
                decl.interface = Located {
                    value: interface,
                    span: Some(span),
                };
                return Some(decl);
            }
            RawBackend::Table(entries) => entries,
        };
        let mut interface = None;
        for (key, value) in entries {
            match key.get_ref().as_str() {
                "interface" => interface = Some(self.string(&key, value)?),
                "plugin" => decl.plugin = Some(self.string(&key, value)?),
                _ => {
                    let key_span = key.span();
                    decl.config
                        .insert(key.into_inner(), Some(key_span), located(value));
                }
            }
        }
        let Some(interface) = interface else {
            let reason = format!(
                "backend `{}` has no `interface`: write the interface its label implements, `interface = \"wasi:keyvalue/store@0.2.0-draft\"`",
                label.get_ref()
            );
            self.invalid(reason, label.span());
            return None;
        };
        decl.interface = interface;
        Some(decl)
    }

    /// The string value of `key`, or a problem at the value.
    fn string(
        &mut self,
        key: &Spanned<String>,
        value: Spanned<toml::Value>,
    ) -> Option<Located<String>> {
        let span = value.span();
        match value.into_inner() {
            toml::Value::String(s) => Some(Located {
                value: s,
                span: Some(span),
            }),
            other => {
                let reason = format!(
                    "`{}` must be a string, not a {}",
                    key.get_ref(),
                    other.type_str()
                );
                self.invalid(reason, span);
                None
            }
        }
    }
}

/// An environment variable's name as granted: non-empty, no `=` or NUL, or `*`.
fn env_name(name: &str) -> Result<&str, String> {
    if name.is_empty() || name.contains(['=', '\0']) {
        Err(format!(
            "`{name}` is not an environment variable's name: write its name (\"LOG_LEVEL\"), or \"*\" for every variable the host passes"
        ))
    } else {
        Ok(name)
    }
}

fn located<T>(spanned: Spanned<T>) -> Located<T> {
    spanned.into()
}

fn export(target: Spanned<RawTarget>) -> Located<ExportDecl> {
    located(target).map(|target| match target.into_binding() {
        BindingTarget::Component { component, export } => ExportDecl { component, export },
        // "host" is not a component: resolving reports it as unknown.
        BindingTarget::Host => ExportDecl {
            component: "host".into(),
            export: None,
        },
    })
}

impl Workload {
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
        parse(file_name, text, base_dir.into())
    }
}
