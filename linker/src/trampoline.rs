//! The trampolines of synchronous functions: each forwards one function of an import to
//! another component's export, in the caller's store, instantiating the serving component
//! on first use. A common signature gets a typed trampoline (no [`Val`]s on the way), any
//! other a dynamic one; both map the resource handles that cross (see `resources`).
//! Under [`Execution::Sync`] they are synchronous host functions calling with
//! `Func::call`; under [`Execution::Async`], async host functions calling with
//! `Func::call_async` (see [`Execution`]). Both share every step but the call itself.

use crate::error::{CallError, FuncName};
use crate::instance::{check_poison, ensure_instance, ensure_instance_async, exit, state};
use crate::resources::{map_params, map_results};
use crate::runtime::{Execution, Failure, Route, Runtime};
use crate::trace;
use std::sync::{Arc, Weak};
use tracing::Instrument;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    ComponentNamedList, Func, Lift, LinkerInstance, Lower, TypedFunc, Val, types,
};

/// A function entered in the serving instance: the function, the instance's generation
/// and whether the function was looked up just now.
type Entered = (Func, u32, bool);

/// Leaves the serving instance of `route` (entered at `generation`) back to its caller;
/// `failed` names the function when the call failed.
fn leave<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    generation: u32,
    failed: Option<&FuncName>,
) {
    let back = (route.server, generation);
    exit(
        store.data_mut(),
        route.get,
        back,
        Some(route.caller),
        failed,
    );
}

/// Enters the server of `route` if it has a live instance whose function is known: checks
/// that the instance is not on the call stack and marks it so. `None` when the instance
/// or the function must be found first.
fn enter_cached<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<Option<Entered>, Failure> {
    let state = state(store.data_mut(), route.get, &route.names)?;
    check_poison(state, route.server, &route.func)?;
    if let Some(live) = &mut state.slots[route.server].live {
        if live.active {
            return Err(reentrance(route));
        }
        if let Some(func) = live.funcs[route.slot] {
            live.active = true;
            let generation = live.generation;
            state.current = Some(route.server);
            return Ok(Some((func, generation, false)));
        }
    }
    Ok(None)
}

/// Enters the server of `route` (see [`enter_cached`]), instantiating it first if the
/// store has no instance of it.
fn enter<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<Entered, Failure> {
    if let Some(entered) = enter_cached(store, route)? {
        return Ok(entered);
    }
    enter_slow(store, route)
}

#[cold]
fn enter_slow<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<Entered, Failure> {
    let runtime = runtime(route)?;
    let caller = &route.names.components[route.caller];
    ensure_instance(store, &runtime, route.server, caller, &route.func)?;
    enter_live(store, route)
}

/// [`enter`] under [`Execution::Async`]: instantiation with `instantiate_async`, whose
/// start code runs on a fiber.
async fn enter_async<T: Send + 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<Entered, Failure> {
    if let Some(entered) = enter_cached(store, route)? {
        return Ok(entered);
    }
    let runtime = runtime(route)?;
    let caller = &route.names.components[route.caller];
    ensure_instance_async(store, &runtime, route.server, caller, &route.func).await?;
    enter_live(store, route)
}

/// The compiled workload, reached from a trampoline.
fn runtime<T: 'static>(route: &Route<T>) -> Result<Arc<Runtime<T>>, Failure> {
    route.runtime.get().and_then(Weak::upgrade).ok_or_else(|| {
        // The compiled workload was dropped while a store still used its instances.
        Box::new(CallError::ForeignState {
            workload: route.names.workload.clone(),
        })
    })
}

/// Enters the server's live instance, looking its function up and caching it.
fn enter_live<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<Entered, Failure> {
    let live = (route.get)(store.data_mut()).slots[route.server]
        .live
        .as_ref()
        .map(|live| live.instance);
    let Some(instance) = live else {
        return Err(reentrance(route));
    };
    let func = instance
        .get_func(&mut *store, route.export)
        .ok_or_else(|| route.trap(wasmtime::format_err!("the export is not a function")))?;
    let state = (route.get)(store.data_mut());
    let Some(live) = &mut state.slots[route.server].live else {
        return Err(reentrance(route));
    };
    if live.active {
        return Err(reentrance(route));
    }
    live.funcs[route.slot] = Some(func);
    live.active = true;
    let generation = live.generation;
    state.current = Some(route.server);
    Ok((func, generation, true))
}

fn reentrance<T: 'static>(route: &Route<T>) -> Failure {
    Box::new(CallError::Reentrance {
        workload: route.names.workload.clone(),
        caller: route.names.components[route.caller].clone(),
        component: route.names.components[route.server].clone(),
        func: Box::new(route.func.clone()),
    })
}

/// Defines the trampoline of `route` in `instance` under `name`, calling as `execution`
/// says: a typed one when the signature is one of the fast paths (and `fast` is set), a
/// dynamic one otherwise.
pub(crate) fn define_func<T: Send + 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    ty: &types::ComponentFunc,
    route: Route<T>,
    fast: bool,
    execution: Execution,
) -> wasmtime::Result<()> {
    let route = Arc::new(route);
    if fast && !route.has_resources && define_fast(instance, name, ty, &route, execution)? {
        return Ok(());
    }
    if execution == Execution::Async {
        return instance.func_new_async(name, move |mut store, _ty, params, results| {
            let route = route.clone();
            Box::new(async move {
                call_dynamic_async(&mut store, &route, params, results)
                    .await
                    .map_err(|e| wasmtime::Error::new(*e))
            })
        });
    }
    instance.func_new(name, move |mut store, _ty, params, results| {
        call_dynamic(&mut store, &route, params, results).map_err(|e| wasmtime::Error::new(*e))
    })
}

/// The parameters to pass on: `params` with the handles that cross mapped to the server's
/// (`None` when nothing needs mapping). Leaves the instance when mapping fails.
fn mapped_params<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    generation: u32,
    params: &[Val],
) -> Result<Option<Vec<Val>>, Failure> {
    if !route.has_resources {
        return Ok(None);
    }
    let mut params = params.to_vec();
    if let Err(error) = map_params(store, route, generation, &mut params) {
        leave(store, route, generation, None);
        return Err(error);
    }
    Ok(Some(params))
}

/// Ends a dynamic call with `outcome`: leaves the instance, and maps the handles in the
/// results to the caller's.
fn finish_dynamic<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    generation: u32,
    outcome: wasmtime::Result<()>,
    results: &mut [Val],
) -> Result<(), Failure> {
    let failed = outcome.is_err().then_some(&route.func);
    leave(store, route, generation, failed);
    outcome.map_err(|e| route.trap(e))?;
    if route.has_resources {
        map_results(store, route, generation, results)?;
    }
    Ok(())
}

/// A dynamic call in its span ([`trace::call`]).
fn call_dynamic<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Failure> {
    let hop = trace::call(route);
    let called = hop
        .span
        .in_scope(|| call_dynamic_in(store, route, params, results));
    hop.finish(&called);
    called
}

fn call_dynamic_in<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Failure> {
    let (func, generation, _) = enter(store, route)?;
    let mapped = mapped_params(store, route, generation, params)?;
    let outcome = func.call(&mut *store, mapped.as_deref().unwrap_or(params), results);
    finish_dynamic(store, route, generation, outcome, results)
}

/// [`call_dynamic`] on a fiber: the span is entered whenever the call's future is polled.
async fn call_dynamic_async<T: Send + 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Failure> {
    let hop = trace::call(route);
    let called = call_dynamic_async_in(store, route, params, results)
        .instrument(hop.span.clone())
        .await;
    hop.finish(&called);
    called
}

async fn call_dynamic_async_in<T: Send + 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Failure> {
    let (func, generation, _) = enter_async(store, route).await?;
    let mapped = mapped_params(store, route, generation, params)?;
    let params = mapped.as_deref().unwrap_or(params);
    let outcome = func.call_async(&mut *store, params, results).await;
    finish_dynamic(store, route, generation, outcome, results)
}

/// The typed view of the entered `func`: checked against `(P, R)` when it was looked up
/// just now (`fresh`), else known to have passed that check. Leaves the instance when
/// the check fails.
fn typed_func<T: 'static, P, R>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    (func, generation, fresh): Entered,
) -> Result<TypedFunc<P, R>, Failure>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    if fresh {
        return func.typed::<P, R>(&*store).map_err(|error| {
            leave(store, route, generation, None);
            route.trap(error)
        });
    }
    #[allow(
        unsafe_code,
        reason = "skipping the type check of a function already checked in this instance"
    )]
    // SAFETY: this route's function was type-checked against `(P, R)` by `typed` above
    // when the route first looked it up in this instance; the route's cache slot holds
    // only functions that passed that check.
    unsafe {
        Ok(TypedFunc::<P, R>::new_unchecked(func))
    }
}

/// A typed call in its span ([`trace::call`]).
#[inline]
fn call_typed<T: 'static, P, R>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: P,
) -> Result<R, Failure>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let hop = trace::call(route);
    let called = hop
        .span
        .in_scope(|| call_typed_in::<T, P, R>(store, route, params));
    hop.finish(&called);
    called
}

fn call_typed_in<T: 'static, P, R>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: P,
) -> Result<R, Failure>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let entered = enter(store, route)?;
    let typed = typed_func::<T, P, R>(store, route, entered)?;
    let outcome = typed.call(&mut *store, params);
    let failed = outcome.is_err().then_some(&route.func);
    leave(store, route, entered.1, failed);
    outcome.map_err(|e| route.trap(e))
}

/// [`call_typed`] on a fiber: the span is entered whenever the call's future is polled.
async fn call_typed_async<T: Send + 'static, P, R>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: P,
) -> Result<R, Failure>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let hop = trace::call(route);
    let called = call_typed_async_in::<T, P, R>(store, route, params)
        .instrument(hop.span.clone())
        .await;
    hop.finish(&called);
    called
}

async fn call_typed_async_in<T: Send + 'static, P, R>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: P,
) -> Result<R, Failure>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let entered = enter_async(store, route).await?;
    let typed = typed_func::<T, P, R>(store, route, entered)?;
    let outcome = typed.call_async(&mut *store, params).await;
    let failed = outcome.is_err().then_some(&route.func);
    leave(store, route, entered.1, failed);
    outcome.map_err(|e| route.trap(e))
}

fn define_typed<T: Send + 'static, P, R>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    route: &Arc<Route<T>>,
    execution: Execution,
) -> wasmtime::Result<bool>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let route = route.clone();
    match execution {
        Execution::Sync => instance.func_wrap(name, move |mut store, params: P| {
            call_typed::<T, P, R>(&mut store, &route, params).map_err(|e| wasmtime::Error::new(*e))
        })?,
        Execution::Async => instance.func_wrap_async(name, move |mut store, params: P| {
            let route = route.clone();
            Box::new(async move {
                call_typed_async::<T, P, R>(&mut store, &route, params)
                    .await
                    .map_err(|e| wasmtime::Error::new(*e))
            })
        })?,
    }
    Ok(true)
}

/// The value types of the typed fast paths.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    U32,
    S32,
    U64,
    S64,
    F64,
    Str,
    OptStr,
    ListStr,
}

fn kind(ty: &types::Type) -> Option<Kind> {
    Some(match ty {
        types::Type::Bool => Kind::Bool,
        types::Type::U32 => Kind::U32,
        types::Type::S32 => Kind::S32,
        types::Type::U64 => Kind::U64,
        types::Type::S64 => Kind::S64,
        types::Type::Float64 => Kind::F64,
        types::Type::String => Kind::Str,
        types::Type::Option(o) if matches!(o.ty(), types::Type::String) => Kind::OptStr,
        types::Type::List(l) if matches!(l.ty(), types::Type::String) => Kind::ListStr,
        _ => return None,
    })
}

/// Defines a typed trampoline if the signature is a common one; `false` if it is not.
fn define_fast<T: Send + 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    ty: &types::ComponentFunc,
    route: &Arc<Route<T>>,
    execution: Execution,
) -> wasmtime::Result<bool> {
    if ty.async_() {
        return Ok(false);
    }
    let Some(params) = ty
        .params()
        .map(|(_, t)| kind(&t))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(false);
    };
    let Some(results) = ty.results().map(|t| kind(&t)).collect::<Option<Vec<_>>>() else {
        return Ok(false);
    };
    macro_rules! typed {
        (($($p:ty),*) -> ($($r:ty),*)) => {
            define_typed::<T, ($($p,)*), ($($r,)*)>(instance, name, route, execution)
        };
    }
    use Kind::*;
    match (params.as_slice(), results.as_slice()) {
        ([], []) => typed!(() -> ()),
        ([], [U32]) => typed!(() -> (u32)),
        ([], [U64]) => typed!(() -> (u64)),
        ([], [Bool]) => typed!(() -> (bool)),
        ([], [Str]) => typed!(() -> (String)),
        ([], [ListStr]) => typed!(() -> (Vec<String>)),
        ([U32], [U32]) => typed!((u32) -> (u32)),
        ([U32], []) => typed!((u32) -> ()),
        ([S32], [S32]) => typed!((i32) -> (i32)),
        ([U64], [U64]) => typed!((u64) -> (u64)),
        ([S64], [S64]) => typed!((i64) -> (i64)),
        ([F64], [F64]) => typed!((f64) -> (f64)),
        ([U32, U32], [U32]) => typed!((u32, u32) -> (u32)),
        ([Str], [Str]) => typed!((String) -> (String)),
        ([Str], []) => typed!((String) -> ()),
        ([Str], [OptStr]) => typed!((String) -> (Option<String>)),
        ([Str], [U32]) => typed!((String) -> (u32)),
        ([Str], [U64]) => typed!((String) -> (u64)),
        ([Str], [Bool]) => typed!((String) -> (bool)),
        ([Str, Str], [Str]) => typed!((String, String) -> (String)),
        ([Str, Str], []) => typed!((String, String) -> ()),
        ([Str, Str], [OptStr]) => typed!((String, String) -> (Option<String>)),
        ([Str, Str, Str], []) => typed!((String, String, String) -> ()),
        ([U32, Str], [U64]) => typed!((u32, String) -> (u64)),
        _ => Ok(false),
    }
}
