//! The memory cap per component (`max-memory`): [`WorkloadState`]'s [`ResourceLimiter`].
//!
//! A store's limiter is one per store, but a store holds instances of many components.
//! The linker knows which component runs at any moment — it enters every instance itself:
//! the host's call, each trampoline, each instantiation and each forwarded destructor — so
//! [`WorkloadState`] keeps the innermost running component and charges every memory growth
//! to it. Growth while lowering arguments into a callee (its `cabi_realloc`) is charged to
//! the callee, results lowered back into the caller to the caller.

use crate::limits::MemoryLimitExceeded;
use crate::state::WorkloadState;
use wasmtime::ResourceLimiter;

/// The memory cap of each component (`max-memory` in the workload file): install it with
/// [`CompiledWorkload::limit_memory`](crate::CompiledWorkload::limit_memory), or call it
/// from the host's own limiter. Growth is charged to the component whose code runs (see
/// the module documentation); a component without `max-memory` is not limited, and tables
/// are counted but not limited.
impl ResourceLimiter for WorkloadState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let Some(id) = self.current else {
            return Ok(true);
        };
        let growth = u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX);
        let requested = self.slots[id].memory.saturating_add(growth);
        if let Some(limit) = self.names.max_memory[id]
            && requested > limit
        {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                workload: self.names.workload.clone(),
                component: self.names.components[id].clone(),
                limit,
                requested,
            }));
        }
        self.slots[id].memory = requested;
        self.last_growth = Some((id, growth));
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The growth just granted did not happen (past the memory's own maximum, or the
        // system is out of memory): `memory.grow` returns -1 and nothing is held.
        if let Some((id, growth)) = self.last_growth.take() {
            self.slots[id].memory = self.slots[id].memory.saturating_sub(growth);
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Not limited, only counted (`WorkloadState::table_elements`, for `compose cost`).
        if let Some(id) = self.current {
            let growth = u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX);
            let slot = &mut self.slots[id];
            slot.table_elements = slot.table_elements.saturating_add(growth);
        }
        Ok(true)
    }
}
