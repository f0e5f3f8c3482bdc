//! Per-store state: which workload instances exist in a store, and the resource handles
//! forwarded between them.

use crate::error::FuncName;
use std::sync::Arc;
use wasmtime::component::{Func, Instance, ResourceAny, ResourceType};

/// The names a workload's state reports: shared by every state of one compiled workload.
#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) workload: String,
    pub(crate) components: Vec<String>,
    /// Each component's `max-memory`, in bytes.
    pub(crate) max_memory: Vec<Option<u64>>,
    /// Each component's mates: the other members of its fused cluster, which share its
    /// instance (empty for a component linked on its own).
    pub(crate) mates: Vec<Vec<usize>>,
}

impl Names {
    /// `error`, which ended a call into component `id`, made clear for a person: a
    /// passed deadline as [`DeadlineExceeded`](crate::DeadlineExceeded)
    /// ([`limits::explain`](crate::limits::explain)), and, for a member of a fused
    /// cluster, which components share the instance it ended in (calls between them are
    /// direct, so only the wasm backtrace shows which member trapped).
    pub(crate) fn explain(&self, id: usize, error: wasmtime::Error) -> wasmtime::Error {
        let error = crate::limits::explain(error);
        if self.mates[id].is_empty() {
            return error;
        }
        let mut members = vec![format!("`{}`", self.components[id])];
        members.extend(
            self.mates[id]
                .iter()
                .map(|m| format!("`{}`", self.components[*m])),
        );
        error.context(format!(
            "in the fused cluster of {} (one component: calls between them do not cross the linker)",
            members.join(", ")
        ))
    }
}

/// The workload's state in one [`Store`](wasmtime::Store): the instances of its components
/// that exist in the store, and the resource handles forwarded between them.
///
/// Made by [`CompiledWorkload::new_state`](crate::CompiledWorkload::new_state) and kept in
/// the store's data, where the accessor given to
/// [`WorkloadLinker::compile`](crate::WorkloadLinker::compile) finds it. Instances are
/// created lazily, at most once per store, by the first call that needs them; an instance
/// that traps is discarded and the next call creates a fresh one.
pub struct WorkloadState {
    pub(crate) names: Arc<Names>,
    /// The compiled workload, kept alive while a store may still instantiate from it.
    #[allow(dead_code, reason = "held only to keep the compiled workload alive")]
    pub(crate) keep_alive: Arc<dyn std::any::Any + Send + Sync>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) handles: Vec<Option<Handle>>,
    pub(crate) free_handles: Vec<u32>,
    /// The first call that failed in this store: Wasmtime enters no component instance
    /// of a store after a trap.
    pub(crate) poisoned: Option<(usize, FuncName)>,
    /// The component whose code runs now (the innermost one being instantiated or
    /// called), to which the memory limiter attributes memory growth.
    pub(crate) current: Option<usize>,
    /// The last memory growth the limiter granted, `(component, bytes)`, taken back if the
    /// growth fails after all.
    pub(crate) last_growth: Option<(usize, u64)>,
    /// The concurrent trampoline calls under way, oldest first (`async_call`).
    #[cfg_attr(
        not(feature = "component-model-async"),
        allow(dead_code, reason = "no concurrent calls without async support")
    )]
    pub(crate) pending: Vec<Pending>,
}

/// One component's place in a store.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    pub(crate) live: Option<Live>,
    /// How many instances of the component this store has created.
    pub(crate) instantiations: u32,
    /// Set while the component is being instantiated (its start code may call out).
    pub(crate) instantiating: bool,
    /// The bytes of linear memory the component's live instance holds, all memories
    /// together (what [`WorkloadState`]'s `ResourceLimiter` has granted it).
    pub(crate) memory: u64,
    /// The elements of the component's live instance's tables, all tables together (what
    /// the `ResourceLimiter` has granted it).
    pub(crate) table_elements: u64,
    /// When the component's instantiation in progress began.
    pub(crate) began: Option<std::time::Instant>,
    /// How long its last instantiation took (wall time, its start code included).
    pub(crate) instantiated_in: Option<std::time::Duration>,
}

/// A live instance of a component.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) instance: Instance,
    /// Which instantiation of the component this is, counting from 1.
    pub(crate) generation: u32,
    /// Whether a call into the instance is on the call stack.
    pub(crate) active: bool,
    /// The functions that routes into this component have looked up, by route slot.
    pub(crate) funcs: Vec<Option<Func>>,
    /// The instance's resource types that cross to other components, with the
    /// host resource type that stands for each in the importers.
    pub(crate) resources: Vec<(ResourceType, u32)>,
}

/// A handle of a resource exported by `server`, lent to other components as a host resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Handle {
    pub(crate) server: usize,
    pub(crate) generation: u32,
    pub(crate) resource: ResourceAny,
}

/// A concurrent trampoline call under way (`async_call`): who called which function of
/// which instance. A trap in a task that no trampoline awaits (a callee's task that runs
/// on after it returned, or one whose caller is itself suspended) surfaces from
/// `run_concurrent` rather than from the trampoline's `call_concurrent`; the host's call
/// then names the innermost call still under way, which is where the trap happened unless
/// several calls run at once.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "component-model-async"),
    allow(dead_code, reason = "no concurrent calls without async support")
)]
pub(crate) struct Pending {
    pub(crate) caller: usize,
    pub(crate) server: usize,
    pub(crate) generation: u32,
    pub(crate) func: Arc<FuncName>,
}

/// What one live instance holds, as [`WorkloadState::usage`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The component's name in the workload.
    pub component: String,
    /// Its linear memory, all memories together, in bytes.
    pub memory: u64,
    /// Its tables' elements, all tables together.
    pub table_elements: u64,
    /// How long its instantiation took: wall time from the linker's decision to
    /// instantiate to the live instance, its start code (and whatever that reached)
    /// included. The members of a fused cluster share one instantiation and one time.
    pub instantiation_time: Option<std::time::Duration>,
}

/// A live instance, as [`WorkloadState::live_instances`] lists it.
#[derive(Debug, Clone)]
pub struct LiveInstance<'a> {
    /// The component's name in the workload.
    pub component: &'a str,
    /// Which instantiation of the component in this store it is, counting from 1 (a
    /// component whose instance trapped is instantiated again with the next number).
    pub generation: u32,
    /// The Wasmtime instance. The members of a fused cluster share one, the cluster's
    /// composition, whose exports are named by the linker: find a member's functions with
    /// [`CompiledWorkload::component_func`](crate::CompiledWorkload::component_func),
    /// not by the member's export names.
    pub instance: Instance,
}

impl std::fmt::Debug for WorkloadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadState")
            .field("workload", &self.names.workload)
            .field("slots", &self.slots)
            .field("handles", &self.handles)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl WorkloadState {
    pub(crate) fn new(names: Arc<Names>, keep_alive: Arc<dyn std::any::Any + Send + Sync>) -> Self {
        let slots = names.components.iter().map(|_| Slot::default()).collect();
        Self {
            names,
            keep_alive,
            slots,
            handles: Vec::new(),
            free_handles: Vec::new(),
            poisoned: None,
            current: None,
            last_growth: None,
            pending: Vec::new(),
        }
    }

    /// The workload's name.
    pub fn workload(&self) -> &str {
        &self.names.workload
    }

    /// The instances that exist in this store, in the workload's component order.
    pub fn live_instances(&self) -> impl Iterator<Item = LiveInstance<'_>> + '_ {
        self.slots
            .iter()
            .zip(&self.names.components)
            .filter_map(|(slot, name)| {
                slot.live.as_ref().map(|live| LiveInstance {
                    component: name,
                    generation: live.generation,
                    instance: live.instance,
                })
            })
    }

    /// Whether component `component` has a live instance in this store.
    pub fn is_live(&self, component: &str) -> bool {
        self.live_instances()
            .any(|live| live.component == component)
    }

    /// How many instances of `component` this store has created (0 if it was never
    /// instantiated or there is no such component).
    pub fn instantiations(&self, component: &str) -> u32 {
        self.names
            .components
            .iter()
            .position(|c| c == component)
            .map_or(0, |i| self.slots[i].instantiations)
    }

    /// The component and function whose trap poisoned this store, if one did.
    ///
    /// Wasmtime 48 enters no component instance of a store after a trap in any of them
    /// (the store's component data keeps a `trapped` flag that nothing resets), so after a
    /// trap every call into the workload in this store fails with
    /// [`CallError::Poisoned`](crate::CallError::Poisoned): run the next request in a new
    /// store (with a new state). The trapped instance itself is discarded either way.
    pub fn poisoned_by(&self) -> Option<(&str, &FuncName)> {
        self.poisoned
            .as_ref()
            .map(|(id, func)| (self.names.components[*id].as_str(), func))
    }

    /// The bytes of linear memory that the live instance of `component` holds (all its
    /// memories together; 0 without a live instance or for an unknown component).
    pub fn memory(&self, component: &str) -> u64 {
        self.live_slot(component).map_or(0, |slot| slot.memory)
    }

    /// What each live instance of this store holds, in the workload's component order:
    /// its linear memory and table elements (as created and grown, through
    /// [`WorkloadState`]'s `ResourceLimiter`) and how long its instantiation took. What
    /// `compose cost --measure` reports per component.
    pub fn usage(&self) -> Vec<Usage> {
        self.slots
            .iter()
            .zip(&self.names.components)
            .filter(|(slot, _)| slot.live.is_some())
            .map(|(slot, name)| Usage {
                component: name.clone(),
                memory: slot.memory,
                table_elements: slot.table_elements,
                instantiation_time: slot.instantiated_in,
            })
            .collect()
    }

    /// The slot of `component` while it has a live instance or is being instantiated.
    fn live_slot(&self, component: &str) -> Option<&Slot> {
        let i = self.names.components.iter().position(|c| c == component)?;
        let slot = &self.slots[i];
        (slot.live.is_some() || slot.instantiating).then_some(slot)
    }

    /// How many resource handles of one component are currently lent to others.
    pub fn forwarded_handles(&self) -> usize {
        self.handles.iter().filter(|h| h.is_some()).count()
    }

    pub(crate) fn insert_handle(&mut self, handle: Handle) -> u32 {
        match self.free_handles.pop() {
            Some(rep) => {
                self.handles[rep as usize] = Some(handle);
                rep
            }
            None => {
                self.handles.push(Some(handle));
                // More than u32::MAX live handles cannot be lent: Wasmtime's tables
                // would have run out long before.
                u32::try_from(self.handles.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    pub(crate) fn take_handle(&mut self, rep: u32) -> Option<Handle> {
        let handle = self.handles.get_mut(rep as usize)?.take()?;
        self.free_handles.push(rep);
        Some(handle)
    }

    pub(crate) fn handle(&self, rep: u32) -> Option<&Handle> {
        self.handles.get(rep as usize)?.as_ref()
    }
}
