//! What every host built on compose-host defines in a workload's linker: WASI 0.2
//! (`wasmtime-wasi`, p2: sync, or async for a workload called async), the plan's backends through the host's plugins, and each
//! component's `wasi:config/store` and `wasi:logging/logging`. `compose serve` adds
//! `wasi:http` on top.

use crate::error::HostError;
use crate::grants::{self, GrantsView};
use crate::plugin::{HostView, Plugins};
use crate::{wasi_config, wasi_logging};
use compose_linker::WorkloadLinker;
use compose_resolver::{Plan, PlannedComponent, Provider};
use wasmtime_wasi::WasiView;

/// Defines WASI 0.2 (and WASI 0.3 for a workload with async functions), `plan`'s backends
/// (served by `plugins`), each component's configuration and logging and, where grants differ, each
/// component's environment and preopens ([`crate::grants`]) in `linker`.
///
/// # Errors
/// [`HostError::Backends`] with every backend that cannot be served; [`HostError::Define`]
/// or [`HostError::Lookup`] when a definition fails.
pub fn define_host<T: WasiView + HostView + GrantsView>(
    linker: &mut WorkloadLinker<'_, T>,
    plan: &Plan,
    plugins: &Plugins<T>,
) -> Result<(), HostError> {
    if linker.is_async() {
        // The store runs inside a tokio runtime (on fibers, or concurrently: WASI 0.3 needs
        // a runtime), where WASI 0.2's synchronous I/O would block a worker thread or a
        // runtime of its own (tokio panics): WASI 0.2 is linked asynchronously instead.
        wasmtime_wasi::p2::add_to_linker_async(linker.host())
            .map_err(HostError::define("WASI 0.2"))?;
    } else {
        wasmtime_wasi::p2::add_to_linker_sync(linker.host())
            .map_err(HostError::define("WASI 0.2"))?;
    }
    if plan.needs_concurrency() {
        // WASI 0.3 beside it: it needs the concurrency support that the engine has for
        // such workloads only.
        wasmtime_wasi::p3::add_to_linker(linker.host()).map_err(HostError::define("WASI 0.3"))?;
    }
    plugins
        .define(linker, plan.host.backends.values())
        .map_err(HostError::Backends)?;
    // Only for the components that import it: a definition of one component's own stands
    // in the way of fusing it with another that has one (compose-linker's clusters).
    let configs = (plan.components.iter())
        .filter(|c| imports_config(c))
        .map(|c| (c.name.as_str(), c.config.clone()));
    wasi_config::define_for_components(linker, configs)?;
    let loggers = (plan.components.iter())
        .filter(|c| imports_host(c, wasi_logging::INTERFACE))
        .map(|c| c.name.as_str());
    wasi_logging::define_for_components(linker, loggers)?;
    grants::define_for_components(linker, plan)?;
    Ok(())
}

/// Whether `component` imports `wasi:config/store` (any version) from the host.
fn imports_config(component: &PlannedComponent) -> bool {
    imports_host(component, "wasi:config/store@")
}

/// Whether `component` imports from the host an interface whose name starts with
/// `prefix`.
fn imports_host(component: &PlannedComponent, prefix: &str) -> bool {
    component
        .bindings
        .iter()
        .any(|b| matches!(b.provider, Provider::HostInterface) && b.import.name.starts_with(prefix))
}
