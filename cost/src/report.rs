//! The cost report of a whole plan: per component, per entry point and link mode.

use crate::{Capacity, Counts, Limits, LinkMode, capacity, count, reached};
use compose_resolver::Plan;
use serde::Serialize;

/// The cost of a workload.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The workload's name.
    pub workload: String,
    /// The limits the capacity is computed for.
    pub limits: Limits,
    /// Each component's static cost, in the order of the workload file.
    pub components: Vec<ComponentCost>,
    /// Each workload export.
    pub entries: Vec<EntryCost>,
}

/// One component's static cost.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentCost {
    /// Its name in the workload.
    pub name: String,
    /// Its binary's size, in bytes.
    pub size: usize,
    /// What one instantiation creates.
    pub counts: Counts,
}

/// One entry point (a workload export).
#[derive(Debug, Clone, Serialize)]
pub struct EntryCost {
    /// The workload's export name.
    pub export: String,
    /// One per link mode, in [`LinkMode::ALL`]'s order.
    pub modes: Vec<ModeCost>,
}

/// What one call of an entry point instantiates in one link mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeCost {
    /// The link mode.
    pub mode: LinkMode,
    /// The components instantiated, by name.
    pub components: Vec<String>,
    /// Their counts, summed.
    pub counts: Counts,
    /// How many such calls the host holds.
    pub capacity: Capacity,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A component's binary did not parse.
    #[error("component `{component}` does not parse")]
    Parse {
        /// The component.
        component: String,
        /// The parse error.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
}

/// Reports the cost of `plan` on a host of `memory_bytes` with Wasmtime's pooling defaults.
///
/// # Errors
/// [`ReportError::Parse`] when a component's binary does not parse.
pub fn report(plan: &Plan, memory_bytes: u64) -> Result<Report, ReportError> {
    let limits = Limits::pooling_default(memory_bytes);
    let components = plan
        .components
        .iter()
        .map(|c| {
            let counts = count(&c.ty.bytes).map_err(|source| ReportError::Parse {
                component: c.name.clone(),
                source,
            })?;
            Ok(ComponentCost {
                name: c.name.clone(),
                size: c.ty.bytes.len(),
                counts,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entries = plan
        .exports
        .iter()
        .map(|e| EntryCost {
            export: e.name.clone(),
            modes: LinkMode::ALL
                .iter()
                .map(|&mode| mode_cost(plan, &components, e.component, mode, &limits))
                .collect(),
        })
        .collect();
    Ok(Report {
        workload: plan.name.clone(),
        limits,
        components,
        entries,
    })
}

/// The cost of one call of the component `entry` in `mode`.
fn mode_cost(
    plan: &Plan,
    costs: &[ComponentCost],
    entry: compose_resolver::ComponentId,
    mode: LinkMode,
    limits: &Limits,
) -> ModeCost {
    let ids = reached(plan, entry, mode);
    let mut counts = Counts::default();
    for id in &ids {
        counts.add(&costs[id.index()].counts);
        counts.core_modules += costs[id.index()].counts.core_modules;
    }
    ModeCost {
        mode,
        components: ids
            .iter()
            .map(|id| plan.components[id.index()].name.clone())
            .collect(),
        capacity: capacity(&counts, limits),
        counts,
    }
}
