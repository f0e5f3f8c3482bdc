//! The engine configuration a workload needs.

use compose_resolver::Plan;
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
/// needs Wasmtime's `component-model-async` feature: this crate's feature of the same name),
/// and with it the `error-context` type (Wasmtime's `wasm_component_model_error_context`,
/// off by default in Wasmtime 48: a component using it does not even parse without it).
pub fn config_for(plan: &Plan) -> Config {
    let mut config = config();
    if plan.needs_concurrency() {
        config.concurrency_support(true);
        config.wasm_component_model_error_context(true);
    }
    config
}

/// Whether any component of the plan imports or exports an async function, or a function
/// whose parameters or result hold a `stream`, `future` or `error-context`: the plan's
/// [`Plan::needs_concurrency`], which this is.
pub fn has_async_functions(plan: &Plan) -> bool {
    plan.needs_concurrency()
}
