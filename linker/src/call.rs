//! Calls into workload instances: lazy instantiation, the re-entrance and trap rules, the
//! trampolines that forward an import to another component's export, and the mapping of
//! resource handles that cross between components.

use crate::error::{CallError, FuncName, boxed};
use crate::limits;
use crate::state::{Handle, Live, Names, WorkloadState};
use std::sync::{Arc, OnceLock, Weak};
use wasmtime::StoreContextMut;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Func, InstancePre, Lift, LinkerInstance, Lower,
    ResourceAny, ResourceDynamic, ResourceType, TypedFunc, Val, types,
};

/// A failed call, boxed: the hot paths return it and it is large.
pub(crate) type Failure = Box<CallError>;

/// The accessor from the host's store data to the workload's state.
pub(crate) type GetState<T> = fn(&mut T) -> &mut WorkloadState;

/// What lazy instantiation needs: the compiled workload, reached weakly from the
/// trampolines (which the workload's own linkers hold, so a strong reference would be a
/// cycle).
pub(crate) struct Runtime<T: 'static> {
    pub(crate) names: Arc<Names>,
    pub(crate) components: Vec<RuntimeComponent<T>>,
    pub(crate) get: GetState<T>,
    /// Whether the trampolines are concurrent ones (the plan has async functions).
    pub(crate) concurrent: bool,
}

/// One workload component, ready to instantiate.
pub(crate) struct RuntimeComponent<T: 'static> {
    pub(crate) pre: InstancePre<T>,
    pub(crate) eager: bool,
    /// How many routes lead into this component (the size of [`Live::funcs`]).
    pub(crate) routes: usize,
    /// The component's exported resource types that cross to importers: where each is in
    /// the component, and the host resource type that stands for it.
    pub(crate) resources: Vec<(ComponentExportIndex, u32)>,
    /// For a member of a fused cluster (whose `pre` is the cluster's): its exports as
    /// named in the cluster's component.
    pub(crate) renamed: Option<crate::cluster::Renamed>,
}

/// Where [`Runtime`] will be once the workload is built.
pub(crate) type RuntimeCell<T> = Arc<OnceLock<Weak<Runtime<T>>>>;

/// One function of one import of one component, forwarded to an export of another.
pub(crate) struct Route<T: 'static> {
    pub(crate) names: Arc<Names>,
    pub(crate) caller: usize,
    pub(crate) server: usize,
    /// This route's place in the server's [`Live::funcs`].
    pub(crate) slot: usize,
    pub(crate) export: ComponentExportIndex,
    pub(crate) func: FuncName,
    /// The host resource types standing for the server's resources in the caller, with
    /// their names; empty when no parameter or result can hold a handle.
    pub(crate) resources: Vec<(u32, String)>,
    pub(crate) has_resources: bool,
    pub(crate) runtime: RuntimeCell<T>,
    pub(crate) get: GetState<T>,
}

impl<T: 'static> Route<T> {
    pub(crate) fn trap(&self, error: wasmtime::Error) -> Failure {
        Box::new(CallError::Trap {
            workload: self.names.workload.clone(),
            caller: self.names.components[self.caller].clone(),
            component: self.names.components[self.server].clone(),
            func: Box::new(self.func.clone()),
            source: boxed(self.names.explain(self.server, error)),
        })
    }
}

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
    let names = &runtime.names;
    let state = state(store.data_mut(), runtime.get, names)?;
    check_poison(state, id, func)?;
    let slot = &mut state.slots[id];
    if slot.live.is_some() {
        return Ok(());
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
    let unit = || std::iter::once(id).chain(names.mates[id].iter().copied());
    for member in unit() {
        state.slots[member].instantiating = true;
        state.slots[member].memory = 0;
    }
    let outer = state.current.replace(id);
    let component = &runtime.components[id];
    let instantiated = crate::async_call::instantiate(&component.pre, store, runtime.concurrent);
    let state = (runtime.get)(store.data_mut());
    for member in unit() {
        state.slots[member].instantiating = false;
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
    for member in unit() {
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
    instance: wasmtime::component::Instance,
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

/// Enters the server of `route`: finds (or creates) its instance and the function, checks
/// that the instance is not on the call stack and marks it so. Returns the function, the
/// instance's generation and whether the function was looked up just now.
fn enter<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<(Func, u32, bool), Failure> {
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
            return Ok((func, generation, false));
        }
    }
    enter_slow(store, route)
}

#[cold]
fn enter_slow<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
) -> Result<(Func, u32, bool), Failure> {
    let Some(runtime) = route.runtime.get().and_then(Weak::upgrade) else {
        // The compiled workload was dropped while a store still used its instances.
        return Err(Box::new(CallError::ForeignState {
            workload: route.names.workload.clone(),
        }));
    };
    let caller = &route.names.components[route.caller];
    ensure_instance(store, &runtime, route.server, caller, &route.func)?;
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
) -> Result<(wasmtime::component::Instance, u32), Failure> {
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

/// Defines the trampoline of `route` in `instance` under `name`: a typed one when the
/// signature is one of the fast paths (and `fast` is set), a dynamic one otherwise.
pub(crate) fn define_func<T: 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    ty: &types::ComponentFunc,
    route: Route<T>,
    fast: bool,
) -> wasmtime::Result<()> {
    let route = Arc::new(route);
    if fast && !route.has_resources && define_fast(instance, name, ty, &route)? {
        return Ok(());
    }
    instance.func_new(name, move |mut store, _ty, params, results| {
        call_dynamic(&mut store, &route, params, results).map_err(|e| wasmtime::Error::new(*e))
    })
}

fn call_dynamic<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Failure> {
    let (func, generation, _) = enter(store, route)?;
    let outcome = if route.has_resources {
        let mut params = params.to_vec();
        if let Err(error) = map_params(store, route, generation, &mut params) {
            exit(
                store.data_mut(),
                route.get,
                (route.server, generation),
                Some(route.caller),
                None,
            );
            return Err(error);
        }
        func.call(&mut *store, &params, results)
    } else {
        func.call(&mut *store, params, results)
    };
    exit(
        store.data_mut(),
        route.get,
        (route.server, generation),
        Some(route.caller),
        outcome.is_err().then_some(&route.func),
    );
    outcome.map_err(|e| route.trap(e))?;
    if route.has_resources {
        map_results(store, route, generation, results)?;
    }
    Ok(())
}

fn call_typed<T: 'static, P, R>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    params: P,
) -> Result<R, Failure>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let (func, generation, fresh) = enter(store, route)?;
    let typed = if fresh {
        match func.typed::<P, R>(&*store) {
            Ok(typed) => typed,
            Err(error) => {
                exit(
                    store.data_mut(),
                    route.get,
                    (route.server, generation),
                    Some(route.caller),
                    None,
                );
                return Err(route.trap(error));
            }
        }
    } else {
        // SAFETY: this route's function was type-checked against `(P, R)` by `typed`
        // above when the route first looked it up in this instance; the route's cache
        // slot holds only functions that passed that check.
        unsafe { TypedFunc::<P, R>::new_unchecked(func) }
    };
    let outcome = typed.call(&mut *store, params);
    exit(
        store.data_mut(),
        route.get,
        (route.server, generation),
        Some(route.caller),
        outcome.is_err().then_some(&route.func),
    );
    outcome.map_err(|e| route.trap(e))
}

fn define_typed<T: 'static, P, R>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    route: &Arc<Route<T>>,
) -> wasmtime::Result<bool>
where
    P: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
    R: ComponentNamedList + Lower + Lift + Send + Sync + 'static,
{
    let route = route.clone();
    instance.func_wrap(name, move |mut store, params: P| {
        call_typed::<T, P, R>(&mut store, &route, params).map_err(|e| wasmtime::Error::new(*e))
    })?;
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
fn define_fast<T: 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    ty: &types::ComponentFunc,
    route: &Arc<Route<T>>,
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
            define_typed::<T, ($($p,)*), ($($r,)*)>(instance, name, route)
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

/// Whether a value of type `ty` can hold a resource handle.
pub(crate) fn holds_resources(ty: &types::Type) -> bool {
    type_holds(ty, |t| {
        matches!(t, types::Type::Own(_) | types::Type::Borrow(_))
    })
}

/// Whether a value of type `ty` can hold a value of a type for which `leaf` holds, looking
/// into lists, maps, records, tuples, variants, options and results (not into a stream's
/// or future's payload, which Wasmtime moves between the ends itself).
pub(crate) fn type_holds(ty: &types::Type, leaf: fn(&types::Type) -> bool) -> bool {
    use types::Type;
    let holds = |t: &Type| type_holds(t, leaf);
    leaf(ty)
        || match ty {
            Type::List(l) => holds(&l.ty()),
            Type::FixedLengthList(l) => holds(&l.ty()),
            Type::Map(m) => holds(&m.key()) || holds(&m.value()),
            Type::Record(r) => r.fields().any(|f| holds(&f.ty)),
            Type::Tuple(t) => t.types().any(|t| holds(&t)),
            Type::Variant(v) => v.cases().any(|c| c.ty.as_ref().is_some_and(holds)),
            Type::Option(o) => holds(&o.ty()),
            Type::Result(r) => {
                r.ok().as_ref().is_some_and(holds) || r.err().as_ref().is_some_and(holds)
            }
            _ => false,
        }
}

/// Calls `f` on every resource handle inside `val`.
fn each_resource<E>(
    val: &mut Val,
    f: &mut impl FnMut(&mut ResourceAny) -> Result<(), E>,
) -> Result<(), E> {
    match val {
        Val::Resource(resource) => f(resource),
        Val::List(vals) | Val::Tuple(vals) | Val::FixedLengthList(vals) => {
            vals.iter_mut().try_for_each(|v| each_resource(v, f))
        }
        Val::Map(pairs) => pairs.iter_mut().try_for_each(|(k, v)| {
            each_resource(k, f)?;
            each_resource(v, f)
        }),
        Val::Record(fields) => fields.iter_mut().try_for_each(|(_, v)| each_resource(v, f)),
        Val::Variant(_, Some(payload))
        | Val::Option(Some(payload))
        | Val::Result(Ok(Some(payload)) | Err(Some(payload))) => each_resource(payload, f),
        _ => Ok(()),
    }
}

/// Replaces the caller's handles (host resources standing for the server's resources)
/// with the server's own handles. An `own` handle leaves the caller: its entry is taken.
pub(crate) fn map_params<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    generation: u32,
    params: &mut [Val],
) -> Result<(), Failure> {
    for param in params {
        each_resource(
            param,
            &mut |resource: &mut ResourceAny| -> Result<(), Failure> {
                let Some((_, name)) = route
                    .resources
                    .iter()
                    .find(|(host, _)| resource.ty() == ResourceType::host_dynamic(*host))
                else {
                    return Ok(());
                };
                let dynamic = ResourceDynamic::try_from_resource_any(*resource, &mut *store)
                    .map_err(|e| route.trap(e))?;
                let state = (route.get)(store.data_mut());
                let handle = if dynamic.owned() {
                    state.take_handle(dynamic.rep())
                } else {
                    state.handle(dynamic.rep()).copied()
                };
                match handle {
                    Some(h) if h.server == route.server && h.generation == generation => {
                        *resource = h.resource;
                        Ok(())
                    }
                    _ => Err(Box::new(CallError::StaleHandle {
                        workload: route.names.workload.clone(),
                        component: route.names.components[route.server].clone(),
                        resource: name.clone(),
                        func: Box::new(route.func.clone()),
                    })),
                }
            },
        )?;
    }
    Ok(())
}

/// Replaces the server's `own` handles in the results with host resources that the caller
/// can hold; the server's handles wait in the state until the caller drops or returns them.
pub(crate) fn map_results<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    route: &Route<T>,
    generation: u32,
    results: &mut [Val],
) -> Result<(), Failure> {
    for result in results {
        each_resource(
            result,
            &mut |resource: &mut ResourceAny| -> Result<(), Failure> {
                let state = (route.get)(store.data_mut());
                let Some(live) = &state.slots[route.server].live else {
                    return Ok(());
                };
                let Some(host) = live
                    .resources
                    .iter()
                    .find(|(ty, _)| *ty == resource.ty())
                    .map(|(_, host)| *host)
                else {
                    return Ok(());
                };
                let rep = state.insert_handle(Handle {
                    server: route.server,
                    generation,
                    resource: *resource,
                });
                *resource = ResourceDynamic::new_own(rep, host)
                    .try_into_resource_any(&mut *store)
                    .map_err(|e| route.trap(e))?;
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// The destructor of a host resource standing for a server's resource: drops the server's
/// handle, which runs the server's destructor. Handles of an instance that trapped and was
/// discarded are forgotten.
pub(crate) fn drop_handle<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    get: GetState<T>,
    names: &Arc<Names>,
    resource: &str,
    rep: u32,
) -> wasmtime::Result<()> {
    let state = state(store.data_mut(), get, names)?;
    if state.poisoned.is_some() {
        return Ok(());
    }
    let Some(handle) = state.take_handle(rep) else {
        return Ok(());
    };
    let func = Box::new(FuncName {
        interface: None,
        function: format!("[resource-drop]{resource}"),
    });
    let Some(live) = &mut state.slots[handle.server].live else {
        return Ok(());
    };
    if live.generation != handle.generation {
        return Ok(());
    }
    if live.active {
        return Err(wasmtime::Error::new(CallError::Reentrance {
            workload: names.workload.clone(),
            caller: "a component dropping a handle".into(),
            component: names.components[handle.server].clone(),
            func,
        }));
    }
    live.active = true;
    let outer = state.current.replace(handle.server);
    let outcome = handle.resource.resource_drop(&mut *store);
    exit(
        store.data_mut(),
        get,
        (handle.server, handle.generation),
        outer,
        outcome.is_err().then_some(&*func),
    );
    outcome.map_err(|e| {
        wasmtime::Error::new(CallError::Trap {
            workload: names.workload.clone(),
            caller: "a component dropping a handle".into(),
            component: names.components[handle.server].clone(),
            func,
            source: boxed(e),
        })
    })
}
