//! `async_call` without Wasmtime's `component-model-async` (this crate built with
//! `default-features = false`): synchronous workloads link and run as before, and a
//! workload with async functions fails to link with an error that says why.

use crate::compiled::CompiledWorkload;
use crate::runtime::Route;
use wasmtime::component::{LinkerInstance, types};

/// Refuses to define a trampoline in a workload with async functions.
///
/// # Errors
/// Always: the crate was built without `component-model-async`.
pub(crate) fn define<T: Send + 'static>(
    _instance: &mut LinkerInstance<'_, T>,
    _name: &str,
    _ty: &types::ComponentFunc,
    route: Route<T>,
) -> wasmtime::Result<()> {
    Err(wasmtime::format_err!(
        "{} of `{}`: the workload has async functions, and compose-linker was built without \
         its `component-model-async` feature (on by default)",
        route.func,
        route.names.components[route.server]
    ))
}

impl<T: Send + 'static> CompiledWorkload<T> {
    /// Whether the workload has async functions (it then does not link without the
    /// `component-model-async` feature, so this is `false` for every compiled workload).
    pub fn is_concurrent(&self) -> bool {
        self.runtime.concurrent
    }

    /// Never called: no workload with async functions links without the feature.
    pub(crate) async fn call_run_concurrent(
        &self,
        _store: &mut wasmtime::Store<T>,
        func: &crate::WorkloadFunc,
        _params: &[wasmtime::component::Val],
        _results: &mut [wasmtime::component::Val],
    ) -> Result<(), crate::CallError> {
        Err(self.host_trap(
            func,
            wasmtime::format_err!("compose-linker was built without `component-model-async`"),
        ))
    }
}
