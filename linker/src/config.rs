//! The engine configuration a workload needs.

use compose_resolver::Plan;
use compose_resolver::wac_types::{ItemKind, Types};
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

/// Whether any component of the plan imports or exports an async function.
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
        ItemKind::Func(id) => types[id].is_async,
        ItemKind::Instance(id) => types[id]
            .exports
            .values()
            .any(|kind| matches!(kind, ItemKind::Func(f) if types[*f].is_async)),
        _ => false,
    }
}
