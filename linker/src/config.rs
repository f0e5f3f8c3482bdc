//! The engine configuration a workload needs.

use compose_resolver::Plan;
use compose_resolver::wac_types::{
    DefinedType, FuncTypeId, ItemKind, PrimitiveType, Types, ValueType,
};
use wasmtime::Config;

/// The engine configuration for workloads without async functions: the component model
/// with its `implements` option (labelled imports such as `team-a-postgres`), and
/// concurrency support off.
///
/// Concurrency support (`Config::concurrency_support`, on by default when Wasmtime is built
/// with `component-model-async`) makes every call that crosses from one component to
/// another through the host about twice as expensive (see `docs/benchmarks.md`), and
/// synchronous components gain nothing from it. [`config_for`] turns it on only for
/// workloads that need it.
pub fn config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_implements(true);
    config.concurrency_support(false);
    config
}

/// [`config`], with concurrency support on when the plan has an async function (which
/// needs Wasmtime's `component-model-async` feature: this crate's feature of the same name).
pub fn config_for(plan: &Plan) -> Config {
    let mut config = config();
    if has_async_functions(plan) {
        config.concurrency_support(true);
    }
    config
}

/// Whether any component of the plan imports or exports an async function, or a function
/// whose parameters or result hold a `stream`, `future` or `error-context` (which need
/// Wasmtime's concurrency support as much as async functions do).
pub fn has_async_functions(plan: &Plan) -> bool {
    plan.components.iter().any(|c| {
        c.ty.imports
            .iter()
            .chain(&c.ty.exports)
            .any(|item| is_async(&plan.types, item.kind))
    })
}

fn is_async(types: &Types, kind: ItemKind) -> bool {
    match kind {
        ItemKind::Func(id) => func_is_async(types, id),
        ItemKind::Instance(id) => types[id]
            .exports
            .values()
            .any(|kind| matches!(kind, ItemKind::Func(f) if func_is_async(types, *f))),
        _ => false,
    }
}

fn func_is_async(types: &Types, id: FuncTypeId) -> bool {
    let func = &types[id];
    func.is_async
        || func
            .params
            .values()
            .any(|ty| is_concurrent_value(types, ty))
        || func
            .result
            .as_ref()
            .is_some_and(|ty| is_concurrent_value(types, ty))
}

/// Whether a value of type `ty` can hold a `stream`, `future` or `error-context`.
fn is_concurrent_value(types: &Types, ty: &ValueType) -> bool {
    let any = |tys: Vec<&ValueType>| tys.into_iter().any(|t| is_concurrent_value(types, t));
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
