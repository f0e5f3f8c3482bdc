//! Which functions need the component model's concurrency (async ABI): an `async` function,
//! or one whose parameters or result hold a `stream`, `future` or `error-context`
//! (component model: "Async Explainer"). The run-time linker turns Wasmtime's concurrency
//! support on for a workload that has one, and the resolver warns about what Wasmtime 48
//! cannot link in such a workload.

use crate::cluster::Cluster;
use crate::component::{ComponentType, Item};
use crate::diagnostic::Problem;
use crate::plan::{ComponentId, Provider};
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
    /// In a workload with async functions, each import with synchronous functions bound to
    /// another component outside its cluster ([`Problem::SyncCallInAsyncWorkload`]).
    pub(crate) fn warn_sync_calls_in_async_workload(
        &mut self,
        bindings: &Bindings,
        clusters: &[Cluster],
    ) {
        let types = &self.types;
        let is_async = (0..self.names.len())
            .filter_map(|i| self.ty(ComponentId(i)))
            .any(|ty| component_needs_concurrency(types, &ty));
        if !is_async {
            return;
        }
        let mut problems = Vec::new();
        for (importer, imports) in bindings.iter().enumerate() {
            for binding in imports.iter().flatten() {
                let Provider::Component { component, .. } = &binding.provider else {
                    continue;
                };
                // Fused into one component, the call never reaches the linker.
                let importer_id = ComponentId(importer);
                if clusters.iter().any(|c| c.fuses(importer_id, *component)) {
                    continue;
                }
                let functions = sync_functions(types, &binding.import);
                if functions.is_empty() {
                    continue;
                }
                let problem = Problem::SyncCallInAsyncWorkload {
                    component: self.name(ComponentId(importer)),
                    import: binding.import.name.clone(),
                    server: self.name(*component),
                    functions: functions.join(", "),
                };
                problems.push((problem, ComponentId(importer)));
            }
        }
        for (problem, importer) in problems {
            let span = self.decl(importer).name_span.clone();
            self.report(problem, span, "linked, its synchronous calls fail");
        }
    }
}

fn func_needs_concurrency(types: &Types, id: FuncTypeId) -> bool {
    let func = &types[id];
    func.is_async
        || func
            .params
            .values()
            .any(|ty| holds_concurrent_value(types, ty))
        || (func.result.as_ref()).is_some_and(|ty| holds_concurrent_value(types, ty))
}

/// Whether a value of type `ty` can hold a `stream`, `future` or `error-context`.
fn holds_concurrent_value(types: &Types, ty: &ValueType) -> bool {
    let any = |tys: Vec<&ValueType>| tys.into_iter().any(|t| holds_concurrent_value(types, t));
    match ty {
        ValueType::Primitive(p) => matches!(p, PrimitiveType::ErrorContext),
        ValueType::Borrow(_) | ValueType::Own(_) => false,
        ValueType::Defined(id) => match &types[*id] {
            DefinedType::Stream(_) | DefinedType::Future(_) => true,
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
