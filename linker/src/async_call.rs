//! Trampolines for workloads with async functions (component-model async, WASI P3): each
//! forwards an import to another component's export with Wasmtime's concurrent API, in the
//! caller's store, instantiating the serving component on first use as the synchronous
//! trampolines of `trampoline` do.
//!
//! What Wasmtime 48 offers, and what this module relies on (sources of `wasmtime` 48.0.8):
//!
//! - `Config::concurrency_support(true)` turns on `wasm_component_model_async` by default
//!   (`config.rs`, `features.set(CM_ASYNC, ...)`); [`crate::config_for`] sets it only for
//!   plans with async functions.
//! - `LinkerInstance::func_new_concurrent` defines a host function whose body is a future
//!   holding an [`Accessor`]: the store is reachable only inside `Accessor::with`, never
//!   across an `await`. A guest may lower such a function synchronously; Wasmtime then
//!   blocks the guest's fiber until the future resolves (`linker.rs`, `func_wrap_concurrent`'s
//!   documentation), if the caller's task may block (see below).
//! - `Func::call_concurrent` calls an export from inside such a future; it works whether the
//!   export is lifted async or sync. A synchronous `Func::call` is refused both for
//!   async-lifted exports (`func.rs`, "cannot synchronously call an async-lifted export") and
//!   from a fiber (`store.rs`, `validate_sync_call`: "cannot do blocking `call` from an async
//!   context"), which is where guest code runs once the store runs concurrently.
//! - A host function's kind must match the import's type: `func_new_concurrent` only for
//!   `async func` imports, `func_new`/`func_new_async` only for synchronous ones
//!   (`func/host.rs`, `typecheck_async`). Lowering a synchronous function with the `async`
//!   canonical option is invalid (wasmparser 0.254 `validator/component.rs`: "the `async`
//!   canonical option requires an async function type"), and the resolver's type check
//!   (wac-types) requires `async` to match on both sides. So "sync caller → async callee"
//!   means a caller that lowers an async import synchronously (see the last point).
//!   "Async caller → sync callee" means an async task calling a *synchronous* import,
//!   whose trampoline must be a `func_new` or `func_new_async` function; from there the
//!   callee cannot be called directly: `Func::call` is refused (the store is
//!   `async_required` and the caller runs on a fiber, `store.rs` `validate_sync_call`) and
//!   `Func::call_async` starts a nested `run_concurrent` (`concurrent.rs`,
//!   `check_recursive_run`: a panic). Handing the call to a task spawned into the store's
//!   event loop (`StoreContextMut::spawn`, which gets an `Accessor`) while the caller's
//!   fiber blocks in `func_new_async` was tried: the call never completed. A blocking host
//!   function holds the store, so the event loop polls nothing else until it returns
//!   (`concurrent.rs`, `run_concurrent`'s "Store-blocking behavior", Wasmtime issues
//!   #11869 and #11870). So a synchronous function
//!   is not forwarded in a workload with async functions: its trampoline ([`define_sync`])
//!   fails each call with an error that says so. Composed (`compose build`), such calls
//!   work: the fused adapter calls the callee directly. This includes what resources
//!   need across components (constructors, synchronous methods, and the destructor,
//!   `resources::drop_handle`, which calls `ResourceAny::resource_drop`), so resources
//!   do not cross components of an async workload; only async methods could.
//! - A synchronous caller cannot call an async callee either, whichever way it is linked:
//!   a task of a synchronous export may not block before it returns (the component
//!   model's rule; Wasmtime 48 traps with "cannot block a synchronous task before
//!   returning", `Trap::CannotBlockSyncTask`, in `concurrent.rs` `check_blocking` and in
//!   fused adapters, `fact/trampoline.rs`). The trap reaches the host like any other.
//! - `stream<T>`, `future<T>` and `error-context` reach a dynamic host function as
//!   `Val::Stream(StreamAny)`, `Val::Future(FutureAny)` and `Val::ErrorContext`: a handle
//!   to the store-wide transmit object, not the data. Lowering one into another instance
//!   of the same store moves the handle (`futures_and_streams.rs`,
//!   `lower_stream_to_index` → `lower_transmit_to_index`, after `typecheck_lowered_transmit`
//!   checks the payload types of `TransmitOrigin::GuestStream` against the destination), so
//!   the trampoline passes them on unchanged: no pump, no copy through the host, and the
//!   bytes go straight from the writer's memory to the reader's when both are ready (a
//!   write completes only as far as a read takes it: the component model's backpressure,
//!   so nothing in the host grows with a slow reader). `tests/all/async_linking.rs` sends
//!   1 MiB through two hops and checks its checksum. Dropping either end is seen by the
//!   other as for two components composed statically.
//! - A component whose imports include a concurrent host function must be instantiated
//!   with `InstancePre::instantiate_async` (it marks the store `async_required`:
//!   `instance.rs` `set_async_required`, `fiber.rs`; the synchronous `instantiate` then
//!   fails with "store configuration requires that `*_async` functions are used
//!   instead"). A trampoline's future cannot hold the store across `await`s (the store is
//!   reachable only inside `Accessor::with`), so `instance::instantiate` polls
//!   `instantiate_async` once inside `with`: instantiation runs the component's start code on a fiber of its
//!   own and completes in that poll unless the start code suspends, which it does only if
//!   the engine makes it yield (epoch or fuel *yields*; compose's deadlines trap instead);
//!   if it ever did not complete, the call fails with a clear error rather than blocking.
//! - There is no cancellation of a `call_concurrent` call in Wasmtime 48 short of dropping
//!   the store (`concurrent/func.rs`, "Cancellation"): a trampoline whose caller is
//!   cancelled lets the callee run to completion.

use crate::compiled::{CompiledWorkload, WorkloadFunc};
use crate::error::{CallError, FuncName, boxed};
use crate::error_context;
use crate::instance::{check_poison, discard, ensure_instance, exit, state};
use crate::resources::{map_params, map_results};
use crate::runtime::{Failure, Route};
use crate::state::Pending;
use crate::trace;
use std::sync::{Arc, Weak};
use tracing::Instrument;
use wasmtime::component::{Accessor, Func, GuestTaskId, LinkerInstance, Val, types};
use wasmtime::{AsContextMut, Store, StoreContextMut};

/// Defines the concurrent trampoline of `route` in `instance` under `name`.
///
/// # Errors
/// Wasmtime's, when the engine has no concurrency support or `name` is defined twice.
pub(crate) fn define<T: Send + 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    ty: &types::ComponentFunc,
    route: Route<T>,
) -> wasmtime::Result<()> {
    let route = Arc::new(AsyncRoute {
        func: Arc::new(route.func.clone()),
        error_context: error_context::func_passes_error_context(ty),
        route,
    });
    if !ty.async_() {
        return define_sync(instance, name, route);
    }
    instance.func_new_concurrent(name, move |accessor, _ty, params, results| {
        let route = route.clone();
        Box::pin(async move {
            let hop = trace::call(&route.route);
            let called = forward(accessor, &route, params, results)
                .instrument(hop.span.clone())
                .await;
            hop.finish(&called);
            called.map_err(|e| wasmtime::Error::new(*e))
        })
    })
}

/// Defines the trampoline of a synchronous function in a workload with async functions:
/// Wasmtime 48 cannot forward it (see the module documentation), so linking succeeds (an
/// interface may mix synchronous and async functions, and a caller may never call the
/// synchronous ones) and each call fails with an error that says why, naming the function
/// and the serving component.
fn define_sync<T: Send + 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    route: Arc<AsyncRoute<T>>,
) -> wasmtime::Result<()> {
    instance.func_new(name, move |_store, _ty, _params, _results| {
        let route = &route.route;
        Err(wasmtime::Error::new(*route.trap(wasmtime::format_err!(
            "`{}` is a synchronous function and the workload has async functions: Wasmtime 48 \
             cannot forward a synchronous call between components of a store that runs \
             concurrently; make the function async, or compose the workload with `compose build`",
            route.func
        ))))
    })
}

/// A [`Route`] with its function's name shared with the [`Pending`] entries of its calls.
struct AsyncRoute<T: 'static> {
    route: Route<T>,
    func: Arc<FuncName>,
    /// Whether the function's values can hold an `error-context` (see `error_context`).
    error_context: bool,
}

impl<T> AsyncRoute<T> {
    /// Refuses values holding an `error-context`, which cannot cross (see `error_context`).
    fn check_values(&self, vals: &[Val]) -> Result<(), Failure> {
        if self.error_context && error_context::holds_error_context(vals) {
            return Err(self.route.trap(error_context::refused(&self.route.func)));
        }
        Ok(())
    }
}

/// Forwards one call: finds (or creates) the server's instance and the function, calls it
/// concurrently, and discards the instance if the call failed.
async fn forward<T: Send + 'static>(
    accessor: &Accessor<T>,
    async_route: &AsyncRoute<T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Failure> {
    let route = &async_route.route;
    async_route.check_values(params)?;
    let (func, generation) = accessor.with(|mut access| {
        let entered = enter(&mut access.as_context_mut(), route)?;
        (route.get)(access.data_mut()).pending.push(Pending {
            caller: route.caller,
            server: route.server,
            generation: entered.1,
            func: async_route.func.clone(),
        });
        Ok::<_, Failure>(entered)
    })?;
    let leave = |failed: bool| {
        accessor.with(|mut access| {
            let state = (route.get)(access.data_mut());
            let mine = |p: &Pending| Arc::ptr_eq(&p.func, &async_route.func);
            if let Some(i) = state.pending.iter().rposition(mine) {
                state.pending.remove(i);
            }
            let failed = failed.then_some(&route.func);
            let entered = (route.server, generation);
            exit(
                access.data_mut(),
                route.get,
                entered,
                Some(route.caller),
                failed,
            );
        })
    };
    let mapped;
    let params = if route.has_resources {
        let mut owned = params.to_vec();
        let mapping = accessor.with(|mut access| {
            map_params(&mut access.as_context_mut(), route, generation, &mut owned)
        });
        if let Err(error) = mapping {
            leave(false);
            return Err(error);
        }
        mapped = owned;
        &mapped[..]
    } else {
        params
    };
    let outcome = func.call_concurrent(accessor, params, results).await;
    leave(outcome.is_err());
    outcome.map_err(|e| route.trap(e))?;
    async_route.check_values(results)?;
    if route.has_resources {
        accessor.with(|mut access| {
            map_results(&mut access.as_context_mut(), route, generation, results)
        })?;
    }
    Ok(())
}

/// The server's function and its instance's generation, instantiating the server first if
/// the store has no instance of it. Unlike the synchronous trampolines, an instance may be
/// entered while a call into it is pending: concurrent calls are the point of async
/// functions, and Wasmtime checks the component model's re-entrance rules itself when
/// concurrency support is on.
fn enter<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<(Func, u32), Failure> {
    let state = state(store.data_mut(), route.get, &route.names)?;
    check_poison(state, route.server, &route.func)?;
    if let Some(live) = &state.slots[route.server].live
        && let Some(func) = live.funcs[route.slot]
    {
        let generation = live.generation;
        state.current = Some(route.server);
        return Ok((func, generation));
    }
    enter_slow(store, route)
}

#[cold]
fn enter_slow<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<(Func, u32), Failure> {
    let Some(runtime) = route.runtime.get().and_then(Weak::upgrade) else {
        return Err(Box::new(CallError::ForeignState {
            workload: route.names.workload.clone(),
        }));
    };
    let caller = &route.names.components[route.caller];
    ensure_instance(store, &runtime, route.server, caller, &route.func)?;
    let state = (route.get)(store.data_mut());
    let Some(live) = &state.slots[route.server].live else {
        return Err(route.trap(wasmtime::format_err!("the instance was discarded")));
    };
    let instance = live.instance;
    let func = instance
        .get_func(&mut *store, route.export)
        .ok_or_else(|| route.trap(wasmtime::format_err!("the export is not a function")))?;
    let state = (route.get)(store.data_mut());
    let Some(live) = &mut state.slots[route.server].live else {
        return Err(route.trap(wasmtime::format_err!("the instance was discarded")));
    };
    live.funcs[route.slot] = Some(func);
    let generation = live.generation;
    state.current = Some(route.server);
    Ok((func, generation))
}

impl<T: Send + 'static> CompiledWorkload<T> {
    /// Whether the workload has async functions, so that its trampolines are concurrent
    /// and its exports must be called with [`CompiledWorkload::call_concurrent`] or
    /// [`CompiledWorkload::call_async`] (on an engine with concurrency support);
    /// [`CompiledWorkload::call`] is for workloads without.
    pub fn is_concurrent(&self) -> bool {
        self.runtime.concurrent
    }

    /// Calls `func` from inside [`Store::run_concurrent`](wasmtime::Store::run_concurrent)
    /// (or a concurrent host function), instantiating its component first if the store
    /// has none: the way to call the exports of a workload with async functions. Several
    /// calls may run at once in one store. The engine must have concurrency support
    /// ([`config_for`](crate::config_for) turns it on for such workloads).
    ///
    /// # Errors
    /// As [`CompiledWorkload::call`]; a trap anywhere on the way fails this call with an
    /// error naming the component and function where it started, discards that instance
    /// and poisons the store.
    pub async fn call_concurrent(
        &self,
        accessor: &Accessor<T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        self.call_concurrent_task(accessor, func, params, results, |_, _| {})
            .await
    }

    /// [`CompiledWorkload::call_concurrent`], telling `started` the call's guest task as
    /// soon as it is made (before it runs), with the store data: what a host function
    /// finds at the end of [`StoreContextMut::async_call_stack`] when this call (or one it
    /// made, through a trampoline) calls it, so that the host can tell which of the
    /// store's concurrent calls it serves.
    ///
    /// # Errors
    /// As [`CompiledWorkload::call_concurrent`].
    pub async fn call_concurrent_task(
        &self,
        accessor: &Accessor<T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
        started: impl FnOnce(&mut T, GuestTaskId),
    ) -> Result<(), CallError> {
        let hop = self.host_hop(func);
        let called = self
            .concurrent_in(accessor, func, params, results, started)
            .instrument(hop.span.clone())
            .await;
        hop.finish(&called);
        called
    }

    /// [`CompiledWorkload::call_concurrent_task`] inside its span (or inside
    /// [`CompiledWorkload::call_async`]'s).
    async fn concurrent_in(
        &self,
        accessor: &Accessor<T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
        started: impl FnOnce(&mut T, GuestTaskId),
    ) -> Result<(), CallError> {
        self.check_call(func, params, results)?;
        let (export, generation) = accessor
            .with(|mut access| self.enter_export(&mut access.as_context_mut(), func))
            .map_err(|e| *e)?;
        let call = accessor.with(move |mut access| {
            let call = export.start_call_concurrent(&mut access, params, results)?;
            started(access.data_mut(), call.task());
            Ok(call)
        });
        let outcome = match call {
            Ok(call) => export.finish_call_concurrent(accessor, call).await,
            Err(error) => Err(error),
        };
        accessor.with(|mut access| {
            let outcome = outcome.map_err(|e| self.attribute(access.data_mut(), e));
            let failed = outcome.is_err().then_some(&func.name);
            let entered = (func.component, generation);
            exit(access.data_mut(), self.runtime.get, entered, None, failed);
            outcome.map_err(|e| self.host_trap(func, e))
        })
    }

    /// `error`, which ended a call of the host: unless a trampoline already named where it
    /// started, it is attributed to the innermost trampoline call still under way (see
    /// [`Pending`]), whose instance is discarded and which poisons the store.
    fn attribute(&self, data: &mut T, error: wasmtime::Error) -> wasmtime::Error {
        let state = (self.runtime.get)(data);
        let pending = std::mem::take(&mut state.pending);
        let named = error
            .chain()
            .any(|e| e.downcast_ref::<CallError>().is_some());
        let Some(call) = pending.last().filter(|_| !named) else {
            return error;
        };
        let slot = &state.slots[call.server];
        if slot
            .live
            .as_ref()
            .is_some_and(|l| l.generation == call.generation)
        {
            discard(state, call.server);
        }
        if state.poisoned.is_none() {
            state.poisoned = Some((call.server, (*call.func).clone()));
        }
        let names = &self.runtime.names;
        wasmtime::Error::new(CallError::Trap {
            workload: names.workload.clone(),
            caller: names.components[call.caller].clone(),
            component: names.components[call.server].clone(),
            func: Box::new((*call.func).clone()),
            source: boxed(names.explain(call.server, error)),
        })
    }

    /// [`CompiledWorkload::call_concurrent`] in a [`Store::run_concurrent`] of its own
    /// ([`CompiledWorkload::call_async`] of a workload with async functions): calls one
    /// function and waits for its result (and for nothing else the call left running).
    ///
    /// # Errors
    /// As [`CompiledWorkload::call_concurrent`]; a [`CallError::Trap`] naming the function
    /// when the store has no concurrency support.
    ///
    /// [`Store::run_concurrent`]: wasmtime::Store::run_concurrent
    pub(crate) async fn call_run_concurrent(
        &self,
        store: &mut Store<T>,
        func: &WorkloadFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), CallError> {
        let run = store
            .run_concurrent(async |accessor| {
                (self.concurrent_in(accessor, func, params, results, |_, _| {})).await
            })
            .await;
        match run {
            Ok(outcome) => outcome,
            Err(error) => {
                let error = self.attribute(store.data_mut(), error);
                self.fail_entry(store.data_mut(), func);
                Err(self.host_trap(func, error))
            }
        }
    }

    /// Ends the host's call of `func`, which failed outside its own future (a task it
    /// left running trapped, so `call_concurrent` never returned): as when it fails
    /// inside, its instance is discarded and the store poisoned.
    fn fail_entry(&self, data: &mut T, func: &WorkloadFunc) {
        let get = self.runtime.get;
        let live = get(data).slots[func.component].live.as_ref();
        if let Some(generation) = live.map(|l| l.generation) {
            let entered = (func.component, generation);
            exit(data, get, entered, None, Some(&func.name));
        }
    }

    /// The export's function in the store's instance of its component (instantiated now if
    /// there is none) and the instance's generation.
    fn enter_export(
        &self,
        store: &mut StoreContextMut<'_, T>,
        func: &WorkloadFunc,
    ) -> Result<(Func, u32), Failure> {
        let runtime = &self.runtime;
        ensure_instance(store, runtime, func.component, "host", &func.name)?;
        let state = state(store.data_mut(), runtime.get, &runtime.names)?;
        check_poison(state, func.component, &func.name)?;
        let Some(live) = &state.slots[func.component].live else {
            return Err(Box::new(self.host_trap(
                func,
                wasmtime::format_err!("the instance was discarded"),
            )));
        };
        let (instance, generation) = (live.instance, live.generation);
        state.current = Some(func.component);
        let export = instance.get_func(&mut *store, func.index).ok_or_else(|| {
            Box::new(self.host_trap(func, wasmtime::format_err!("the export is not a function")))
        })?;
        Ok((export, generation))
    }
}
