//! Sizing Wasmtime's pooling allocator for a workload: what the instances of one store
//! take, by the units of its link mode.

use crate::cluster::LinkMode;
use compose_resolver::{ComponentCounts, ComponentId, Plan};
use wasmtime::{Enabled, PoolingAllocationConfig};

/// How much of each linear memory and table a freed slot resets in place, in bytes: the
/// pages found resident there (Linux's `PAGEMAP_SCAN` ioctl, kernel 6.7 and later) are
/// written back to their initial contents with `memset`, and only what lies beyond is
/// decommitted with `madvise`. Each `madvise` that drops pages makes the kernel flush the
/// TLBs of every CPU running the process; serving `fixtures/web` on 2 cores, those
/// interrupts were a third of the server's CPU time, and resetting in place serves 1.5–1.8×
/// the requests (docs/benchmarks.md, "Serving HTTP"). The pages stay resident in the slot
/// for its next store, so a freed slot holds at most this much per memory and table.
/// Where the ioctl is missing, Wasmtime resets as before.
const KEEP_RESIDENT: usize = 1 << 20;

/// What one store of a workload takes from Wasmtime's pooling allocator when every
/// component has an instance in it: the totals of every component's core instances,
/// memories and tables ([`ComponentCounts`], counted when the resolver read the
/// component), and the most that one unit of the link mode ([`LinkMode::units`]: a
/// component, a fused cluster or the whole composition, each one Wasmtime component
/// instance holding all its members') holds. Each count is twice what the components
/// define, for safety (a module instantiated twice counts its memories once), and at
/// least 1. A cluster the linker leaves unfused only makes the per-unit maxima larger
/// than needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSizing {
    /// Component instances: one per workload component.
    pub component_instances: u32,
    /// Core instances of all the components together.
    pub core_instances: u32,
    /// Memories of all the components together.
    pub memories: u32,
    /// Tables of all the components together.
    pub tables: u32,
    /// The most core instances that one unit holds.
    pub max_core_instances_per_unit: u32,
    /// The most memories that one unit holds.
    pub max_memories_per_unit: u32,
    /// The most tables that one unit holds.
    pub max_tables_per_unit: u32,
    /// Fiber stacks one store may hold at once when called async
    /// ([`Execution::Async`](crate::Execution::Async)): the host's call, and at each
    /// component on the call stack (each at most once) a trampoline's call and a lazy
    /// instantiation (for a component whose start code runs), each on a fiber of its own —
    /// twice the components, plus one.
    pub stacks: u32,
}

impl PoolSizing {
    /// The sizing of one store of `plan` linked in `mode`.
    pub fn new(plan: &Plan, mode: LinkMode) -> Self {
        let each: Vec<ComponentCounts> = plan.components.iter().map(|c| c.ty.counts).collect();
        let total = |f: fn(&ComponentCounts) -> u32| {
            let per_store: u32 = each.iter().map(|n| 2 * f(n)).sum();
            per_store.max(1)
        };
        let units = mode.units(plan);
        let most = |f: fn(&ComponentCounts) -> u32| {
            let unit = |members: &Vec<ComponentId>| {
                members.iter().map(|m| 2 * f(&each[m.index()])).sum::<u32>()
            };
            units.iter().map(unit).max().unwrap_or(1).max(1)
        };
        let components = u32::try_from(each.len()).unwrap_or(u32::MAX);
        Self {
            component_instances: components.max(1),
            stacks: components.saturating_mul(2).saturating_add(1),
            core_instances: total(|n| n.core_instances),
            memories: total(|n| n.memories),
            tables: total(|n| n.tables),
            max_core_instances_per_unit: most(|n| n.core_instances),
            max_memories_per_unit: most(|n| n.memories),
            max_tables_per_unit: most(|n| n.tables),
        }
    }

    /// Wasmtime's pooling allocator for `stores` such stores at once. Memories start from
    /// copy-on-write images (`Config::memory_init_cow`, on by default); a freed slot's
    /// memories and tables are reset in place up to [`KEEP_RESIDENT`] bytes. A host must not
    /// hold more than `stores` stores at once, or instantiation fails when the pool is
    /// exhausted.
    pub fn pooling_config(&self, stores: u32) -> PoolingAllocationConfig {
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(stores.saturating_mul(self.component_instances))
            .total_core_instances(stores.saturating_mul(self.core_instances))
            .total_memories(stores.saturating_mul(self.memories))
            .total_tables(stores.saturating_mul(self.tables))
            .max_core_instances_per_component(self.max_core_instances_per_unit)
            .max_memories_per_component(self.max_memories_per_unit)
            .max_tables_per_component(self.max_tables_per_unit)
            .total_stacks(stores.saturating_mul(self.stacks));
        pooling
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT);
        pooling
    }
}
