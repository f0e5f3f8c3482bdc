//! Resource handles that cross between components: a resource exported by one component
//! and used by another is a host resource in the user, standing for the owner's handle;
//! the trampolines swap one for the other on the way in and out, and dropping the user's
//! handle runs the owner's destructor.

use crate::error::{CallError, FuncName, boxed};
use crate::instance::{exit, state};
use crate::runtime::{Failure, GetState, Route};
use crate::state::{Handle, Names};
use std::sync::Arc;
use wasmtime::StoreContextMut;
use wasmtime::component::{ResourceAny, ResourceDynamic, ResourceType, Val, types};

/// Whether a parameter or result of `ty` can hold a resource handle.
pub(crate) fn func_holds_resources(ty: &types::ComponentFunc) -> bool {
    ty.params().any(|(_, t)| holds_resources(&t)) || ty.results().any(|t| holds_resources(&t))
}

/// Whether a value of type `ty` can hold a resource handle.
fn holds_resources(ty: &types::Type) -> bool {
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
    let Some(dropping) = begin_drop(store, get, names, resource, rep)? else {
        return Ok(());
    };
    let outcome = dropping.handle.resource.resource_drop(&mut *store);
    dropping.end(store, get, names, outcome)
}

/// [`drop_handle`] under [`Execution::Async`](crate::Execution::Async): the server's
/// destructor runs on a fiber.
pub(crate) async fn drop_handle_async<T: Send + 'static>(
    store: &mut StoreContextMut<'_, T>,
    get: GetState<T>,
    names: &Arc<Names>,
    resource: &str,
    rep: u32,
) -> wasmtime::Result<()> {
    let Some(dropping) = begin_drop(store, get, names, resource, rep)? else {
        return Ok(());
    };
    let outcome = dropping
        .handle
        .resource
        .resource_drop_async(&mut *store)
        .await;
    dropping.end(store, get, names, outcome)
}

/// A server's handle being dropped: its instance entered, the instance current before.
struct Dropping {
    handle: Handle,
    func: Box<FuncName>,
    outer: Option<usize>,
}

/// Takes the handle behind host resource `rep` and enters its server's instance; `None`
/// when there is nothing to drop (the store was poisoned, the instance discarded).
///
/// # Errors
/// A foreign store, or the server on the call stack.
fn begin_drop<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    get: GetState<T>,
    names: &Arc<Names>,
    resource: &str,
    rep: u32,
) -> wasmtime::Result<Option<Dropping>> {
    let state = state(store.data_mut(), get, names)?;
    if state.poisoned.is_some() {
        return Ok(None);
    }
    let Some(handle) = state.take_handle(rep) else {
        return Ok(None);
    };
    let func = Box::new(FuncName {
        interface: None,
        function: format!("[resource-drop]{resource}"),
    });
    let Some(live) = &mut state.slots[handle.server].live else {
        return Ok(None);
    };
    if live.generation != handle.generation {
        return Ok(None);
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
    Ok(Some(Dropping {
        handle,
        func,
        outer,
    }))
}

impl Dropping {
    /// Leaves the server's instance after its destructor ended with `outcome`.
    fn end<T: 'static>(
        self,
        store: &mut StoreContextMut<'_, T>,
        get: GetState<T>,
        names: &Arc<Names>,
        outcome: wasmtime::Result<()>,
    ) -> wasmtime::Result<()> {
        let Self {
            handle,
            func,
            outer,
        } = self;
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
}
