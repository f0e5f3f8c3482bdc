//! Which functions need the component model's concurrency (async ABI): an `async` function,
//! or one whose parameters or result hold a `stream`, `future` or `error-context`
//! (component model: "Async Explainer"). The run-time linker turns Wasmtime's concurrency
//! support on for a workload that has one, and the resolver warns about what Wasmtime 48
//! cannot link in such a workload.

use crate::component::{ComponentType, Item};
use crate::diagnostic::Problem;
use crate::plan::Cluster;
use crate::plan::{ComponentId, Plan, Provider};
use crate::resolve::{Bindings, Resolver};
use wac_types::{DefinedType, FuncTypeId, ItemKind, PrimitiveType, Types, ValueType};

/// Whether an import or export of kind `kind` (a function, or an instance of functions)
/// has a function that needs concurrency.
pub fn needs_concurrency(types: &Types, kind: ItemKind) -> bool {
    match kind {
        ItemKind::Func(id) => func_needs_concurrency(types, id),
        ItemKind::Instance(id) => types[id]
            .exports
            .values()
            .any(|kind| matches!(kind, ItemKind::Func(f) if func_needs_concurrency(types, *f))),
        _ => false,
    }
}

impl Plan {
    /// Whether the workload needs the component model's concurrency: a component imports
    /// or exports an async function, or a function whose parameters or result hold a
    /// `stream`, `future` or `error-context` (which need Wasmtime's concurrency support as
    /// much as async functions do). The run-time linker then turns concurrency support
    /// on and links every trampoline as a concurrent one; the host links WASI 0.3.
    pub fn needs_concurrency(&self) -> bool {
        (self.components.iter()).any(|c| component_needs_concurrency(&self.types, &c.ty))
    }
}

/// Whether any import or export of `component` needs concurrency.
pub(crate) fn component_needs_concurrency(types: &Types, component: &ComponentType) -> bool {
    (component.imports.iter())
        .chain(&component.exports)
        .any(|item| needs_concurrency(types, item.kind))
}

/// The synchronous functions of an import of kind `kind`, by name (`import` itself for a
/// function imported by itself).
pub(crate) fn sync_functions(types: &Types, import: &Item) -> Vec<String> {
    match import.kind {
        ItemKind::Func(id) if !func_needs_concurrency(types, id) => vec![import.name.clone()],
        ItemKind::Instance(id) => (types[id].exports.iter())
            .filter(
                |(_, kind)| matches!(kind, ItemKind::Func(f) if !func_needs_concurrency(types, *f)),
            )
            .map(|(name, _)| name.clone())
            .collect(),
        _ => Vec::new(),
    }
}

impl Resolver<'_> {
    /// Each import bound to another component outside its cluster whose calls the
    /// linker cannot forward with Wasmtime 48: synchronous functions in a workload with
    /// async functions ([`Problem::SyncCallInAsyncWorkload`]), and functions passing
    /// `error-context` values ([`Problem::ErrorContextAcrossComponents`]).
    pub(crate) fn warn_calls_the_linker_cannot_forward(
        &mut self,
        bindings: &Bindings,
        clusters: &[Cluster],
    ) {
        let types = &self.types;
        // Both limits are of stores with concurrency support (an `error-context` needs it).
        let is_async = (0..self.names.len())
            .filter_map(|i| self.ty(ComponentId(i)))
            .any(|ty| component_needs_concurrency(types, &ty));
        if !is_async {
            return;
        }
        let fused = Cluster::fused_index(clusters, self.names.len());
        let mut problems = Vec::new();
        for (importer, imports) in bindings.iter().enumerate() {
            for binding in imports.iter().flatten() {
                let Provider::Component { component, .. } = &binding.provider else {
                    continue;
                };
                // Fused into one component, the call never reaches the linker.
                if fused[importer].is_some() && fused[importer] == fused[component.0] {
                    continue;
                }
                let importer = ComponentId(importer);
                let (name, import, server) = (
                    self.name(importer),
                    binding.import.name.clone(),
                    self.name(*component),
                );
                let sync = sync_functions(types, &binding.import);
                if !sync.is_empty() {
                    let problem = Problem::SyncCallInAsyncWorkload {
                        component: name.clone(),
                        import: import.clone(),
                        server: server.clone(),
                        functions: sync.join(", "),
                    };
                    problems.push((problem, importer, "linked, its synchronous calls fail"));
                }
                let passing = functions_passing(types, &binding.import, Wanted::ErrorContext);
                if !passing.is_empty() {
                    let problem = Problem::ErrorContextAcrossComponents {
                        component: name,
                        import,
                        server,
                        functions: passing.join(", "),
                    };
                    problems.push((problem, importer, "linked, an error-context does not cross"));
                }
            }
        }
        for (problem, importer, label) in problems {
            let span = self.decl(importer).name_span.clone();
            self.report(problem, span, label);
        }
    }
}

fn func_needs_concurrency(types: &Types, id: FuncTypeId) -> bool {
    types[id].is_async || func_passes(types, id, Wanted::Concurrent)
}

/// What [`holds`] looks for in a value's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    /// A `stream`, `future` or `error-context`: what needs Wasmtime's concurrency support.
    Concurrent,
    /// An `error-context`.
    ErrorContext,
}

/// Whether a parameter or the result of function `id` can hold what is `wanted`.
fn func_passes(types: &Types, id: FuncTypeId, wanted: Wanted) -> bool {
    let func = &types[id];
    let params = func.params.values();
    params
        .chain(&func.result)
        .any(|ty| holds(types, ty, wanted))
}

/// The functions of an import of kind `import.kind` (`import` itself for a function
/// imported by itself) whose parameters or result can hold what is `wanted`.
fn functions_passing(types: &Types, import: &Item, wanted: Wanted) -> Vec<String> {
    match import.kind {
        ItemKind::Func(id) if func_passes(types, id, wanted) => vec![import.name.clone()],
        ItemKind::Instance(id) => (types[id].exports.iter())
            .filter(|(_, kind)| matches!(kind, ItemKind::Func(f) if func_passes(types, *f, wanted)))
            .map(|(name, _)| name.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a value of type `ty` can hold what is `wanted`. A stream's or future's payload
/// is not looked into: Wasmtime moves it between the ends itself.
fn holds(types: &Types, ty: &ValueType, wanted: Wanted) -> bool {
    let any = |tys: Vec<&ValueType>| tys.into_iter().any(|t| holds(types, t, wanted));
    match ty {
        ValueType::Primitive(p) => matches!(p, PrimitiveType::ErrorContext),
        ValueType::Borrow(_) | ValueType::Own(_) => false,
        ValueType::Defined(id) => match &types[*id] {
            DefinedType::Stream(_) | DefinedType::Future(_) => wanted == Wanted::Concurrent,
            DefinedType::Tuple(tys) => any(tys.iter().collect()),
            DefinedType::List(t) | DefinedType::FixedSizeList(t, _) => any(vec![t]),
            DefinedType::Option(t) | DefinedType::Alias(t) => any(vec![t]),
            DefinedType::Map(k, v) => any(vec![k, v]),
            DefinedType::Result { ok, err } => any(ok.iter().chain(err).collect()),
            DefinedType::Variant(v) => any(v.cases.values().flatten().collect()),
            DefinedType::Record(r) => any(r.fields.values().collect()),
            DefinedType::Flags(_) | DefinedType::Enum(_) => false,
        },
    }
}
