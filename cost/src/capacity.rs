//! How many calls of one entry point a host holds at once, which limit binds first, and
//! the pool that holds them.

use crate::Counts;
use compose_linker::PoolSizing;
use serde::Serialize;

/// The host's limits: its memory, its address space and what each pooled memory reserves.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    /// Memory the host gives the workload, in bytes.
    pub memory_bytes: u64,
    /// The virtual address space a process has, in bytes: 128 TiB, the user half of
    /// x86-64's 48-bit addresses under Linux (aarch64's is the same or larger).
    pub address_space_bytes: u64,
    /// The address space the pooling allocator reserves per linear memory, in bytes:
    /// Wasmtime 48's 64-bit defaults, a 4 GiB `memory_reservation` (and `max_memory_size`)
    /// plus a 32 MiB `memory_guard_size`.
    pub memory_slot_bytes: u64,
    /// Wasmtime's default pool totals (`PoolingAllocationConfig::default`): 1,000 core
    /// instances and 1,000 memories, for an embedder that does not size its pool.
    pub wasmtime_default_pool: u64,
}

impl Limits {
    /// A host of `memory_bytes` with the address space and pool reservations above.
    pub fn new(memory_bytes: u64) -> Self {
        Limits {
            memory_bytes,
            address_space_bytes: 1 << 47,
            memory_slot_bytes: (4 << 30) + (32 << 20),
            wasmtime_default_pool: 1000,
        }
    }
}

/// The answer for one entry point in one link mode.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    /// The memory one call is counted at, in bytes: the resident set it was measured to
    /// add (`--measure`), else the linear memory it starts with.
    pub bytes_per_call: u64,
    /// Calls in flight per GiB, at `bytes_per_call` each.
    pub per_gib: u64,
    /// Calls in flight the host holds under `compose serve --pool <in_flight>`: the least
    /// over its memory and the address space the pool reserves.
    pub in_flight: u64,
    /// The limit that binds first: `memory` or `address-space`.
    pub first_limit: &'static str,
    /// What `compose serve --pool <in_flight>` configures Wasmtime's pool with
    /// ([`PoolSizing::pooling_config`]): total core instances,
    pub pool_core_instances: u64,
    /// total memories,
    pub pool_memories: u64,
    /// and total tables.
    pub pool_tables: u64,
    /// The address space that pool reserves, in bytes.
    pub pool_address_space_bytes: u64,
    /// Calls in flight under Wasmtime's default pool totals instead
    /// ([`Limits::wasmtime_default_pool`]), which bind long before memory.
    pub with_wasmtime_default_pool: u64,
}

/// The capacity for calls that each instantiate `call`, under `limits`, with a pool of
/// `sizing` per store (`compose serve --pool` sizes it so, [`PoolSizing::new`]).
///
/// A call's memory is `measured` (bytes of resident set per call in flight, from
/// [`measure`](crate::measure())) when given, else the initial linear memory of what it
/// instantiates — a prediction that leaves out Wasmtime's and the host's own memory per
/// store (docs/cost.md) — at least one page either way, so the answer stays finite.
pub fn capacity(
    call: &Counts,
    measured: Option<u64>,
    sizing: &PoolSizing,
    limits: &Limits,
) -> Capacity {
    let bytes = measured
        .unwrap_or(call.memory_initial_bytes)
        .max(crate::PAGE);
    let by = |total: u64, each: u64| total.checked_div(each).unwrap_or(u64::MAX);
    let reserved = u64::from(sizing.memories).saturating_mul(limits.memory_slot_bytes);
    let candidates = [
        ("memory", by(limits.memory_bytes, bytes)),
        ("address-space", by(limits.address_space_bytes, reserved)),
    ];
    let (first_limit, in_flight) = candidates
        .into_iter()
        .min_by_key(|(_, n)| *n)
        .unwrap_or(("memory", 0));
    let pool = |each: u32| in_flight.saturating_mul(u64::from(each));
    let default = limits.wasmtime_default_pool;
    Capacity {
        bytes_per_call: bytes,
        per_gib: (1u64 << 30) / bytes,
        in_flight,
        first_limit,
        pool_core_instances: pool(sizing.core_instances),
        pool_memories: pool(sizing.memories),
        pool_tables: pool(sizing.tables),
        pool_address_space_bytes: in_flight.saturating_mul(reserved),
        with_wasmtime_default_pool: by(default, call.core_instances)
            .min(by(default, call.memories))
            .min(in_flight),
    }
}
