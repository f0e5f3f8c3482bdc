//! The report as text for people: the components, then a table per entry point.

use crate::{EntryCost, Measurement, Report};
use std::fmt;

/// Bytes as MiB with one decimal, or as KiB below one MiB.
fn mib(bytes: u64) -> String {
    if bytes < 1 << 20 {
        return format!("{} KiB", bytes.div_ceil(1024));
    }
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
            "  {:<18} {:>9} {:>10} {:>7} {:>9} {:>8} {:>12} {:>7} {:>8}",
            "component",
            "bytes",
            "compiled",
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
                "  {:<18} {:>9} {:>10} {:>7} {:>9} {:>8} {:>12} {:>7} {:>8}",
                c.name,
                c.size,
                c.compiled_bytes.map_or_else(|| "-".into(), mib),
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
            "host: {} of memory, {} TiB of address space\n\
             in flight: under `compose serve --pool <in flight>`, whose pool reserves {} of \
             address space per memory\n\
             default pool: under Wasmtime's default pool of {} core instances and {} memories",
            mib(l.memory_bytes),
            l.address_space_bytes >> 40,
            mib(l.memory_slot_bytes),
            l.wasmtime_default_pool,
            l.wasmtime_default_pool,
        )?;
        for entry in &self.entries {
            entry.fmt(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for EntryCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n{}: one call instantiates", self.export)?;
        writeln!(
            f,
            "  {:<14} {:>10} {:>9} {:>8} {:>12} {:>13} {:>8} {:>10} {:>14} {:>12}",
            "link",
            "components",
            "core inst",
            "memories",
            "initial",
            "per call",
            "per GiB",
            "in flight",
            "first limit",
            "default pool",
        )?;
        for m in &self.modes {
            let (k, c) = (&m.counts, &m.capacity);
            let per_call = match m.measured {
                Some(_) => format!("{} (m)", mib(c.bytes_per_call)),
                None => mib(c.bytes_per_call),
            };
            writeln!(
                f,
                "  {:<14} {:>10} {:>9} {:>8} {:>12} {:>13} {:>8} {:>10} {:>14} {:>12}",
                m.mode.name(),
                m.components.len(),
                k.core_instances,
                k.memories,
                mib(k.memory_initial_bytes),
                per_call,
                c.per_gib,
                c.in_flight,
                c.first_limit,
                c.with_wasmtime_default_pool,
            )?;
        }
        for measured in self.modes.iter().filter_map(|m| m.measured.as_ref()) {
            measured.fmt(f)?;
        }
        Ok(())
    }
}

/// The measurement under its entry point's table: `(m)` there marks the figure it gave.
impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  (m) measured, {} linked {}: {} in flight add {} to the resident set ({} -> {})",
            self.entry,
            self.mode.name(),
            self.held,
            mib(self.resident_held.saturating_sub(self.resident_before)),
            mib(self.resident_before),
            mib(self.resident_held),
        )?;
        writeln!(
            f,
            "    {:<18} {:>12} {:>12} {:>14}",
            "component", "instantiate", "memory", "table elements"
        )?;
        for c in &self.components {
            let ms = format!("{:.3} ms", c.instantiation_us as f64 / 1000.0);
            writeln!(
                f,
                "    {:<18} {:>12} {:>12} {:>14}",
                c.name,
                ms,
                mib(c.memory_bytes),
                c.table_elements
            )?;
        }
        Ok(())
    }
}
