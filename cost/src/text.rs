//! The report as text for people: the components, then a table per entry point.

use crate::Report;
use std::fmt;

/// Bytes as MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "workload `{}`: one instantiation of each component",
            self.workload
        )?;
        writeln!(
            f,
            "  {:<18} {:>9} {:>7} {:>9} {:>8} {:>12} {:>7} {:>8}",
            "component",
            "bytes",
            "modules",
            "core inst",
            "memories",
            "initial",
            "tables",
            "globals"
        )?;
        for c in &self.components {
            let k = &c.counts;
            writeln!(
                f,
                "  {:<18} {:>9} {:>7} {:>9} {:>8} {:>12} {:>7} {:>8}",
                c.name,
                c.size,
                k.core_modules,
                k.core_instances,
                k.memories,
                mib(k.memory_initial_bytes),
                k.tables,
                k.globals
            )?;
        }
        let l = &self.limits;
        writeln!(
            f,
            "host: {} of memory, pool of {} core instances and {} memories (Wasmtime's defaults)",
            mib(l.memory_bytes),
            l.total_core_instances,
            l.total_memories
        )?;
        for entry in &self.entries {
            writeln!(f, "\n{}: one call instantiates (predicted)", entry.export)?;
            writeln!(
                f,
                "  {:<14} {:>10} {:>9} {:>8} {:>12} {:>8} {:>10}  first limit",
                "link", "components", "core inst", "memories", "initial", "per GiB", "in flight",
            )?;
            for m in &entry.modes {
                let (k, c) = (&m.counts, &m.capacity);
                writeln!(
                    f,
                    "  {:<14} {:>10} {:>9} {:>8} {:>12} {:>8} {:>10}  {}",
                    m.mode.name(),
                    m.components.len(),
                    k.core_instances,
                    k.memories,
                    mib(k.memory_initial_bytes),
                    c.per_gib,
                    c.in_flight,
                    c.first_limit
                )?;
            }
        }
        Ok(())
    }
}
