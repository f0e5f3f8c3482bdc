//! How many calls of one entry point a host holds at once, and which limit binds first.

use crate::Counts;
use serde::Serialize;

/// The host's limits: its memory and the pooling allocator's totals.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    /// Memory the host gives the workload, in bytes.
    pub memory_bytes: u64,
    /// The pool's total core instances (Wasmtime's default: 1,000).
    pub total_core_instances: u64,
    /// The pool's total linear memories (Wasmtime's default: 1,000).
    pub total_memories: u64,
}

impl Limits {
    /// Wasmtime's pooling defaults with `memory_bytes` of memory.
    pub fn pooling_default(memory_bytes: u64) -> Self {
        Limits {
            memory_bytes,
            total_core_instances: 1000,
            total_memories: 1000,
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
    /// Calls in flight the host holds: the least over the limits.
    pub in_flight: u64,
    /// The limit that binds first: `memory`, `core-instances` or `memories`.
    pub first_limit: &'static str,
    /// Pool settings that fit `in_flight` calls: total core instances and memories.
    pub pool_core_instances: u64,
    /// Likewise, total memories.
    pub pool_memories: u64,
}

/// The capacity for calls that each instantiate `call` under `limits`.
///
/// A call's memory is `measured` (bytes of resident set per call in flight, from
/// [`measure`](crate::measure())) when given, else the initial linear memory of what it
/// instantiates — a prediction that leaves out Wasmtime's and the host's own memory per
/// store (docs/cost.md) — at least one page either way, so the answer stays finite.
pub fn capacity(call: &Counts, measured: Option<u64>, limits: &Limits) -> Capacity {
    let bytes = measured
        .unwrap_or(call.memory_initial_bytes)
        .max(crate::PAGE);
    let by = |total: u64, each: u64| total.checked_div(each).unwrap_or(u64::MAX);
    let candidates = [
        ("memory", by(limits.memory_bytes, bytes)),
        (
            "core-instances",
            by(limits.total_core_instances, call.core_instances),
        ),
        ("memories", by(limits.total_memories, call.memories)),
    ];
    let (first_limit, in_flight) = candidates
        .into_iter()
        .min_by_key(|(_, n)| *n)
        .unwrap_or(("memory", 0));
    Capacity {
        bytes_per_call: bytes,
        per_gib: (1u64 << 30) / bytes,
        in_flight,
        first_limit,
        pool_core_instances: in_flight * call.core_instances,
        pool_memories: in_flight * call.memories,
    }
}
