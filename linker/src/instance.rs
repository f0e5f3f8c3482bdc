//! A workload's instances in a store: lazy instantiation (a fused cluster's one instance
//! standing for each of its members), entering and leaving an instance (never one that is
//! already on the call stack), and poisoning the store after a trap.

use crate::error::{CallError, FuncName, boxed};
use crate::limits;
use crate::runtime::{Failure, GetState, Runtime};
use crate::state::{Live, Names, WorkloadState};
use crate::trace::{self, Hop};
use std::sync::Arc;
use tracing::{Instrument, Span};
use wasmtime::StoreContextMut;
use wasmtime::component::{Instance, InstancePre};

/// The state in the store, checked to belong to the workload `names`.
pub(crate) fn state<'a, T>(
    data: &'a mut T,
    get: GetState<T>,
    names: &Arc<Names>,
) -> Result<&'a mut WorkloadState, Failure> {
    let state = get(data);
    if Arc::ptr_eq(&state.names, names) {
        Ok(state)
    } else {
        Err(Box::new(CallError::ForeignState {
            workload: names.workload.clone(),
        }))
    }
}

/// Fails if an earlier trap poisoned the store (see [`WorkloadState::poisoned_by`]).
#[inline]
pub(crate) fn check_poison(
    state: &WorkloadState,
    id: usize,
    func: &FuncName,
) -> Result<(), Failure> {
    match &state.poisoned {
        None => Ok(()),
        Some(poison) => Err(poisoned(state, id, func, poison)),
    }
}

#[cold]
fn poisoned(
    state: &WorkloadState,
    id: usize,
    func: &FuncName,
    (trap_id, trap_func): &(usize, FuncName),
) -> Failure {
    let names = &state.names;
    Box::new(CallError::Poisoned {
        workload: names.workload.clone(),
        component: names.components[id].clone(),
        func: Box::new(func.clone()),
        trap_component: names.components[*trap_id].clone(),
        trap_func: Box::new(trap_func.clone()),
    })
}

/// Makes sure component `id` has a live instance in the store, instantiating it (in the
/// caller's store, lazily for its own imports) if it has none.
pub(crate) fn ensure_instance<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    runtime: &Runtime<T>,
    id: usize,
    caller: &str,
    func: &FuncName,
) -> Result<(), Failure> {
    let Some(outer) = begin_instantiation(store, runtime, id, caller, func)? else {
        return Ok(());
    };
    let pre = &runtime.components[id].pre;
    let hop = instantiation_hop(runtime, id);
    let instantiated = hop
        .span
        .in_scope(|| instantiate(pre, store, runtime.concurrent));
    hop.finish(&instantiated.as_ref().map_err(Explained));
    end_instantiation(store, runtime, id, func, outer, instantiated)
}

/// [`ensure_instance`] in a workload linked for async execution
/// ([`Execution::Async`](crate::Execution::Async)), with `InstancePre::instantiate_async`:
/// a core module's start code, if any, runs on a fiber of its own nested in the caller's
/// (Wasmtime 48, `Instance::new_started`); the rest runs on the caller's.
pub(crate) async fn ensure_instance_async<T: Send + 'static>(
    store: &mut StoreContextMut<'_, T>,
    runtime: &Runtime<T>,
    id: usize,
    caller: &str,
    func: &FuncName,
) -> Result<(), Failure> {
    let Some(outer) = begin_instantiation(store, runtime, id, caller, func)? else {
        return Ok(());
    };
    let pre = &runtime.components[id].pre;
    let hop = instantiation_hop(runtime, id);
    let instantiated = pre
        .instantiate_async(&mut *store)
        .instrument(hop.span.clone())
        .await;
    hop.finish(&instantiated.as_ref().map_err(Explained));
    end_instantiation(store, runtime, id, func, outer, instantiated)
}

/// The hop of instantiating component `id`: its span ([`trace::instantiate`]), told to the
/// component's observer.
#[inline]
fn instantiation_hop<T>(runtime: &Runtime<T>, id: usize) -> Hop<'_> {
    let meter = runtime.components[id].meter.as_deref();
    Hop::new(instantiation_span(&runtime.names, id), meter)
}

/// The span of instantiating component `id` ([`trace::instantiate`]).
#[inline]
fn instantiation_span(names: &Names, id: usize) -> Span {
    if tracing::enabled!(target: "compose", tracing::Level::INFO) {
        let mates: Vec<_> = names.mates[id]
            .iter()
            .map(|m| names.components[*m].clone())
            .collect();
        trace::instantiate(&names.components[id], &mates)
    } else {
        Span::none()
    }
}

/// A failed instantiation's error as [`Hop::finish`] reads it.
struct Explained<'a>(&'a wasmtime::Error);

impl trace::AsError for Explained<'_> {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        <wasmtime::Error as AsRef<dyn std::error::Error>>::as_ref(self.0)
    }
}

/// The checks before instantiating component `id`: `None` when it already has a live
/// instance; otherwise marks its unit as instantiating and returns the instance that was
/// current (to restore afterwards).
///
/// # Errors
/// A foreign or poisoned store, or the component's start code calling back into it.
fn begin_instantiation<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    runtime: &Runtime<T>,
    id: usize,
    caller: &str,
    func: &FuncName,
) -> Result<Option<Option<usize>>, Failure> {
    let names = &runtime.names;
    let state = state(store.data_mut(), runtime.get, names)?;
    check_poison(state, id, func)?;
    let slot = &mut state.slots[id];
    if slot.live.is_some() {
        return Ok(None);
    }
    if slot.instantiating {
        // The component's start code called, through other components, back into it.
        return Err(Box::new(CallError::Reentrance {
            workload: names.workload.clone(),
            caller: caller.to_owned(),
            component: names.components[id].clone(),
            func: Box::new(func.clone()),
        }));
    }
    let began = std::time::Instant::now();
    for member in unit(names, id) {
        let slot = &mut state.slots[member];
        slot.instantiating = true;
        slot.memory = 0;
        slot.table_elements = 0;
        slot.began = Some(began);
    }
    Ok(Some(state.current.replace(id)))
}

/// Component `id` and its mates: the members of its fused cluster, which share one
/// instance.
fn unit(names: &Names, id: usize) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(id).chain(names.mates[id].iter().copied())
}

/// Records the outcome of instantiating component `id` (begun by
/// [`begin_instantiation`], with `outer` the instance current before): the instance is
/// live for its whole unit, or the store is poisoned.
///
/// # Errors
/// [`CallError::Instantiate`] when instantiation failed.
fn end_instantiation<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    runtime: &Runtime<T>,
    id: usize,
    func: &FuncName,
    outer: Option<usize>,
    instantiated: wasmtime::Result<Instance>,
) -> Result<(), Failure> {
    let names = &runtime.names;
    let state = (runtime.get)(store.data_mut());
    for member in unit(names, id) {
        let slot = &mut state.slots[member];
        slot.instantiating = false;
        slot.instantiated_in = slot.began.take().map(|began| began.elapsed());
    }
    state.current = outer;
    if instantiated.is_err() && state.poisoned.is_none() {
        state.poisoned = Some((id, func.clone()));
    }
    let instance = instantiated.map_err(|e| {
        Box::new(CallError::Instantiate {
            workload: names.workload.clone(),
            component: names.components[id].clone(),
            func: Box::new(func.clone()),
            source: boxed(limits::explain(e)),
        })
    })?;
    for member in unit(names, id) {
        make_live(store, runtime, member, instance);
    }
    Ok(())
}

/// Records `instance` as the live instance of component `id` (a fused cluster's one
/// instance stands for each of its members).
fn make_live<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    runtime: &Runtime<T>,
    id: usize,
    instance: Instance,
) {
    let component = &runtime.components[id];
    let resources = component
        .resources
        .iter()
        .filter_map(|(index, host)| Some((instance.get_resource(&mut *store, index)?, *host)))
        .collect();
    let slot = &mut (runtime.get)(store.data_mut()).slots[id];
    slot.instantiations += 1;
    slot.live = Some(Live {
        instance,
        generation: slot.instantiations,
        active: false,
        funcs: vec![None; component.routes],
        resources,
    });
}

/// Leaves instance `generation` of component `id`: it is no longer on the call stack, and
/// `back` (the caller) runs again. If the call of `func` failed, the instance is discarded
/// (never entered again) and the store is poisoned (see [`WorkloadState::poisoned_by`]),
/// unless an inner call already poisoned it.
pub(crate) fn exit<T>(
    data: &mut T,
    get: GetState<T>,
    (id, generation): (usize, u32),
    back: Option<usize>,
    failed: Option<&FuncName>,
) {
    let state = get(data);
    state.current = back;
    let slot = &mut state.slots[id];
    if let Some(live) = &mut slot.live
        && live.generation == generation
    {
        live.active = false;
        if failed.is_some() {
            discard(state, id);
        }
    }
    if let Some(func) = failed
        && state.poisoned.is_none()
    {
        state.poisoned = Some((id, func.clone()));
    }
}

/// Discards the instance of component `id`, whose call failed: it is never entered
/// again, nor are its mates (the other members of its fused cluster), which share it.
#[cold]
pub(crate) fn discard(state: &mut WorkloadState, id: usize) {
    state.slots[id].live = None;
    let names = state.names.clone();
    for &mate in &names.mates[id] {
        state.slots[mate].live = None;
    }
}

/// Marks instance `generation` of component `id` as on the call stack, for a call the
/// host makes.
pub(crate) fn enter_instance(
    state: &mut WorkloadState,
    id: usize,
    func: &FuncName,
) -> Result<(Instance, u32), Failure> {
    let names = state.names.clone();
    let live = state.slots[id]
        .live
        .as_mut()
        .ok_or_else(|| CallError::Reentrance {
            workload: names.workload.clone(),
            caller: "host".into(),
            component: names.components[id].clone(),
            func: Box::new(func.clone()),
        })?;
    if live.active {
        return Err(Box::new(CallError::Reentrance {
            workload: names.workload.clone(),
            caller: "host".into(),
            component: names.components[id].clone(),
            func: Box::new(func.clone()),
        }));
    }
    live.active = true;
    let entered = (live.instance, live.generation);
    state.current = Some(id);
    Ok(entered)
}

/// Instantiates `pre` in `store`: synchronously, or for a workload with async functions
/// (`concurrent`) with `instantiate_async` polled once (see `async_call`'s documentation).
///
/// # Errors
/// Wasmtime's, or that instantiation did not complete in one poll.
#[cfg(feature = "component-model-async")]
fn instantiate<T: 'static>(
    pre: &InstancePre<T>,
    store: &mut StoreContextMut<'_, T>,
    concurrent: bool,
) -> wasmtime::Result<Instance> {
    use std::task::{Context, Poll, Waker};
    if !concurrent {
        return pre.instantiate(&mut *store);
    }
    let mut future = std::pin::pin!(pre.instantiate_async(&mut *store));
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(instance) => instance,
        Poll::Pending => Err(wasmtime::format_err!(
            "instantiation suspended (its start code waited), which lazy instantiation in a trampoline cannot resume"
        )),
    }
}

/// Instantiates `pre` in `store` (synchronously: `concurrent` is never set without
/// `component-model-async`, since no workload with async functions links).
#[cfg(not(feature = "component-model-async"))]
fn instantiate<T: 'static>(
    pre: &InstancePre<T>,
    store: &mut StoreContextMut<'_, T>,
    _concurrent: bool,
) -> wasmtime::Result<Instance> {
    pre.instantiate(&mut *store)
}
