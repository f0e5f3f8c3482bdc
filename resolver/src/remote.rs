//! `[remotes]`: providers on other machines, reached over wRPC.
//!
//! A remote is a provider like a component: it has a name (the label it serves), the
//! exports listed in `exports` (their types read from `types`: a component that exports
//! or imports them, or a WIT folder whose package defines them) and an address, `url`. Imports bind to it by rules 1–3 as to a
//! component; the plan records it in [`Plan::remotes`](crate::Plan::remotes) and the
//! run-time linker forwards each call as one wRPC invocation.
//!
//! wRPC carries the component model's plain values (its SPEC.md encodes them as the
//! component model's value definitions), for synchronous and async functions alike (an
//! invocation is the same on the wire); this host forwards no resources, streams,
//! futures or `error-context` values, so a remote export whose functions use them is
//! refused here ([`Problem::UnsupportedRemoteType`]).

use crate::component::{ComponentType, Item, find_export};
use crate::diagnostic::{BackendOffer, Problem, Referrer, WantedExport};
use crate::names::names_match;
use crate::plan::{ComponentId, PlannedRemote, Provider, RemoteId, RemoteUrl};
use crate::resolve::Resolver;
use crate::source::{Located, Span};
use crate::workload::ComponentSource;
use std::path::PathBuf;
use std::sync::Arc;
use wac_types::{DefinedType, ItemKind, PrimitiveType, Type, Types, ValueType};

impl Resolver<'_> {
    /// Reads every `[remotes]` entry: its URL, its types and its exports, each checked;
    /// a remote whose URL or types fail keeps no exports (resolving stops anyway).
    pub(crate) fn load_remotes(&mut self) {
        for (name, decl) in &self.workload.remotes {
            let remote = self.load_remote(name, decl);
            self.remotes.push(remote);
        }
    }

    fn load_remote(&mut self, name: &str, decl: &crate::RemoteDecl) -> PlannedRemote {
        // A remote whose name is taken serves nothing: the other provider keeps the name.
        let taken = !self.check_remote_name(name, decl);
        let url = RemoteUrl::parse(&decl.url.value).unwrap_or_else(|reason| {
            let problem = Problem::InvalidRemoteUrl {
                remote: name.to_owned(),
                url: decl.url.value.clone(),
                reason,
            };
            self.report(problem, decl.url.span.clone(), "not a wRPC address");
            RemoteUrl::Unix(PathBuf::new())
        });
        let (written, ty) = self.remote_types(name, decl);
        let exports = match ty {
            Some(_) if taken => Vec::new(),
            Some(ty) => self.remote_exports(name, decl, &ty),
            None => {
                self.refuse_exports(decl.exports.iter());
                Vec::new()
            }
        };
        PlannedRemote {
            name: name.to_owned(),
            url,
            exports,
            types: written,
            span: decl.name_span.clone(),
        }
    }

    /// A remote's name must be one that no component or host backend has; returns whether
    /// it is free.
    fn check_remote_name(&mut self, name: &str, decl: &crate::RemoteDecl) -> bool {
        let taken = if self.by_name.contains_key(name) {
            Some("a component")
        } else if self.workload.host.backends.contains_key(name) {
            Some("a host backend")
        } else {
            None
        };
        if let Some(by) = taken {
            let problem = Problem::RemoteNameTaken {
                remote: name.to_owned(),
                by,
            };
            self.report(problem, decl.name_span.clone(), "also a remote");
        }
        taken.is_none()
    }

    /// The remote's `types`, a component or a WIT folder ([`crate::wit_types`]), read and
    /// parsed (and how the file writes it).
    fn remote_types(
        &mut self,
        name: &str,
        decl: &crate::RemoteDecl,
    ) -> (String, Option<Arc<ComponentType>>) {
        let (written, bytes) = match &decl.types.value {
            ComponentSource::Bytes { name, bytes } => (name.clone(), Ok(bytes.clone())),
            ComponentSource::Path(path) => {
                let full = self.workload.base_dir.join(path);
                let written = path.to_string_lossy().replace('\\', "/");
                let bytes = if full.is_dir() {
                    crate::wit_types::component(&full).map(Arc::<[u8]>::from)
                } else {
                    crate::resolve::read_regular_file(&full)
                        .map(Arc::<[u8]>::from)
                        .map_err(|e| format!("cannot read `{}`: {e}", full.display()))
                };
                (written, bytes)
            }
            ComponentSource::Oci(oci) => (
                oci.reference.to_string(),
                Err("a remote's types are read from a file, not a registry".to_owned()),
            ),
        };
        let ty = bytes.and_then(|bytes| ComponentType::read(bytes, &mut self.types));
        match ty {
            Ok(ty) => (written, Some(Arc::new(ty))),
            Err(reason) => {
                let problem = Problem::UnreadableRemoteTypes {
                    remote: name.to_owned(),
                    types: written.clone(),
                    reason,
                };
                self.report(problem, decl.types.span.clone(), "these types");
                (written, None)
            }
        }
    }

    /// The listed exports, found among the types' exports (else imports) and checked to
    /// carry only what wRPC carries here.
    fn remote_exports(
        &mut self,
        name: &str,
        decl: &crate::RemoteDecl,
        ty: &ComponentType,
    ) -> Vec<Item> {
        if decl.exports.is_empty() {
            let problem = Problem::UnknownRemoteExport {
                remote: name.to_owned(),
                export: String::new(),
                available: available(ty),
            };
            self.report(problem, decl.name_span.clone(), "lists no exports");
        }
        let mut exports = Vec::new();
        for wanted in &decl.exports {
            let found = find_export(&ty.exports, &wanted.value)
                .or_else(|| find_export(&ty.imports, &wanted.value));
            let Some(item) = found else {
                let problem = Problem::UnknownRemoteExport {
                    remote: name.to_owned(),
                    export: wanted.value.clone(),
                    available: available(ty),
                };
                self.report(problem, wanted.span.clone(), "not in the types");
                self.refuse_exports([wanted]);
                continue;
            };
            if let Some((function, what)) = uncarried(&self.types, item.kind) {
                let problem = Problem::UnsupportedRemoteType {
                    remote: name.to_owned(),
                    export: item.name.clone(),
                    function,
                    what,
                };
                self.report(problem, wanted.span.clone(), "served over wRPC");
                self.refuse_exports([wanted]);
                continue;
            }
            exports.push(item.clone());
        }
        exports
    }
}

impl Resolver<'_> {
    /// Records `exports` as listed but not served, because of the last diagnostic.
    fn refuse_exports<'e>(&mut self, exports: impl IntoIterator<Item = &'e Located<String>>) {
        let diagnostic = self.diagnostics.len() - 1;
        for export in exports {
            (self.refused_remote_exports).push((export.value.clone(), diagnostic));
        }
    }
}

/// The interface names a types component offers, for the help text.
fn available(ty: &ComponentType) -> Vec<String> {
    let mut names: Vec<String> = ty.exports.iter().map(Item::describe).collect();
    for import in &ty.imports {
        if !names.contains(&import.describe()) {
            names.push(import.describe());
        }
    }
    names
}

/// The first function (or item) of `kind` that wRPC cannot carry here, and what it holds:
/// a resource, a stream, a future or an `error-context`. For an
/// instance, the function's (or resource's) name; for a function, an empty name. `None`
/// when every value crosses (wRPC's SPEC.md encodes the plain values; what a resource
/// or a stream would need is not implemented here). Used for remotes at resolve time and
/// by compose-host for the functions `compose serve --wrpc` serves.
pub fn uncarried(types: &Types, kind: ItemKind) -> Option<(String, &'static str)> {
    match kind {
        ItemKind::Instance(id) => types[id]
            .exports
            .iter()
            .find_map(|(name, kind)| match kind {
                ItemKind::Type(Type::Resource(_)) => Some((name.clone(), "a resource")),
                ItemKind::Func(_) => uncarried(types, *kind).map(|(_, what)| (name.clone(), what)),
                _ => None,
            }),
        ItemKind::Func(id) => {
            let func = &types[id];
            let mut values = func.params.values().chain(func.result.as_ref());
            values
                .find_map(|ty| value_uncarried(types, *ty))
                .map(|what| (String::new(), what))
        }
        _ => Some((String::new(), "not an instance or a function")),
    }
}

/// What `ty` holds that wRPC cannot carry here, if anything.
fn value_uncarried(types: &Types, ty: ValueType) -> Option<&'static str> {
    let id = match ty {
        ValueType::Primitive(PrimitiveType::ErrorContext) => return Some("an error-context"),
        ValueType::Primitive(_) => return None,
        ValueType::Borrow(_) | ValueType::Own(_) => return Some("a resource"),
        ValueType::Defined(id) => id,
    };
    let inner = |tys: &mut dyn Iterator<Item = ValueType>| {
        tys.map(|t| value_uncarried(types, t))
            .find(Option::is_some)
            .flatten()
    };
    match &types[id] {
        DefinedType::Stream(_) => Some("a stream"),
        DefinedType::Future(_) => Some("a future"),
        DefinedType::Tuple(tys) => inner(&mut tys.iter().copied()),
        DefinedType::List(t) | DefinedType::FixedSizeList(t, _) | DefinedType::Option(t) => {
            value_uncarried(types, *t)
        }
        DefinedType::Alias(t) => value_uncarried(types, *t),
        DefinedType::Map(k, v) => inner(&mut [*k, *v].into_iter()),
        DefinedType::Result { ok, err } => inner(&mut ok.iter().chain(err).copied()),
        DefinedType::Variant(v) => inner(&mut v.cases.values().flatten().copied()),
        DefinedType::Record(r) => inner(&mut r.fields.values().copied()),
        DefinedType::Flags(_) | DefinedType::Enum(_) => None,
    }
}

impl Resolver<'_> {
    /// Rule 1 naming a remote: its export `export`, else the one of the import's name or
    /// interface.
    pub(crate) fn bind_explicit_remote(
        &mut self,
        id: ComponentId,
        import: &Item,
        remote: RemoteId,
        export: Option<&str>,
        span: Option<Span>,
    ) -> Option<Provider> {
        let exports = &self.remotes[remote.0].exports;
        let found = match export {
            Some(export) => find_export(exports, export),
            None => find_export(exports, &import.name).or_else(|| {
                let interface = import.interface()?;
                exports
                    .iter()
                    .find(|e| e.interface().is_some_and(|i| names_match(interface, i)))
            }),
        };
        if let Some(e) = found {
            return Some(Provider::Remote {
                remote,
                export: e.name.clone(),
            });
        }
        let wanted = match export {
            Some(export) => WantedExport::Name(export.to_owned()),
            None => WantedExport::ForImport {
                import: import.name.clone(),
                implements: import.implements.clone(),
            },
        };
        let problem = Problem::UnknownExport {
            target: self.remotes[remote.0].name.clone(),
            wanted,
            referrer: Referrer::Import {
                component: self.name(id),
                import: import.name.clone(),
            },
            available: exports.iter().map(Item::describe).collect(),
        };
        self.report(problem, span, "no such export");
        None
    }

    /// Rule 2 naming a remote: the label's remote must export the interface it implements.
    pub(crate) fn bind_label_remote(
        &mut self,
        id: ComponentId,
        import: &Item,
        remote: RemoteId,
        interface: &str,
    ) -> Option<Provider> {
        let exports = &self.remotes[remote.0].exports;
        if let Some(export) = exports.iter().find(|e| names_match(interface, &e.name)) {
            return Some(Provider::Remote {
                remote,
                export: export.name.clone(),
            });
        }
        let problem = Problem::BackendMismatch {
            component: self.name(id),
            label: import.name.clone(),
            interface: interface.to_owned(),
            offer: BackendOffer::Component {
                exports: exports.iter().map(Item::describe).collect(),
            },
        };
        self.report(problem, self.decl(id).name_span.clone(), "imports it here");
        None
    }

    /// Rule 4 for a remote: its export's type (from its `types`) must be a subtype of what
    /// the import expects.
    pub(crate) fn type_check_remote(
        &mut self,
        id: ComponentId,
        import: &Item,
        remote: RemoteId,
        export: &str,
        span: Option<Span>,
    ) -> Option<()> {
        let remote = &self.remotes[remote.0];
        let export = remote.exports.iter().find(|e| e.name == export)?.clone();
        let name = remote.name.clone();
        self.check_subtype(id, import, name, &export, span)
    }
}
