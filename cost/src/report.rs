//! The cost report of a whole plan: per component, per entry point and link mode.

use crate::{Capacity, Counts, Limits, Measurement, capacity, count, reached};
use compose_linker::{CompileOptions, LinkMode, PoolSizing};
use compose_resolver::Plan;
use serde::Serialize;

/// What [`report`] reports on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The host's memory, in bytes.
    pub memory_bytes: u64,
    /// Only this workload export (its full name, or one [`names_match`] accepts).
    ///
    /// [`names_match`]: compose_resolver::names_match
    pub export: Option<String>,
    /// Only this link mode.
    pub link: Option<LinkMode>,
    /// A measurement ([`measure`](crate::measure())) of one entry point in one mode: its
    /// resident set per call replaces the prediction there.
    pub measured: Option<Measurement>,
    /// Compile each component (through this cache) to report its compiled code size;
    /// `None` reports none.
    pub compile: Option<CompileOptions>,
}

impl Default for ReportOptions {
    /// 8 GiB, every export in every mode, nothing measured or compiled.
    fn default() -> Self {
        Self {
            memory_bytes: 8 << 30,
            export: None,
            link: None,
            measured: None,
            compile: None,
        }
    }
}

/// The cost of a workload.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The workload's name.
    pub workload: String,
    /// The limits the capacity is computed for.
    pub limits: Limits,
    /// Each component's static cost, in the order of the workload file.
    pub components: Vec<ComponentCost>,
    /// Each workload export reported on.
    pub entries: Vec<EntryCost>,
}

/// One component's static cost.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentCost {
    /// Its name in the workload.
    pub name: String,
    /// Its binary's size, in bytes.
    pub size: usize,
    /// Its compiled code's size, in bytes ([`compiled_sizes`](crate::compiled_sizes)),
    /// when compiled.
    pub compiled_bytes: Option<u64>,
    /// What one instantiation creates.
    pub counts: Counts,
}

/// One entry point (a workload export).
#[derive(Debug, Clone, Serialize)]
pub struct EntryCost {
    /// The workload's export name.
    pub export: String,
    /// One per link mode reported on, in [`LinkMode::ALL`]'s order.
    pub modes: Vec<ModeCost>,
}

/// What one call of an entry point instantiates in one link mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeCost {
    /// The link mode.
    #[serde(serialize_with = "crate::reach::mode_name")]
    pub mode: LinkMode,
    /// The components instantiated, by name.
    pub components: Vec<String>,
    /// Their counts, summed.
    pub counts: Counts,
    /// How many such calls the host holds.
    pub capacity: Capacity,
    /// The measurement of this entry point in this mode, when there is one.
    pub measured: Option<Measurement>,
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
    /// A component did not compile.
    #[error(transparent)]
    Compile(#[from] crate::CompileError),
    /// `--export` names no export of the workload.
    #[error("the workload has no export `{export}`; it exports {}", .exports.join(", "))]
    NoSuchExport {
        /// The name asked for.
        export: String,
        /// The workload's exports.
        exports: Vec<String>,
    },
}

/// Reports the cost of `plan` with `options`: every component's static cost, and each
/// export's (or `options.export`'s) per link mode (or `options.link`'s), on a host of
/// `options.memory_bytes` ([`Limits::new`]).
///
/// # Errors
/// [`ReportError::Parse`] when a component's binary does not parse;
/// [`ReportError::NoSuchExport`] when `options.export` names no export;
/// [`ReportError::Compile`] when a component does not compile.
pub fn report(plan: &Plan, options: &ReportOptions) -> Result<Report, ReportError> {
    let limits = Limits::new(options.memory_bytes);
    let compiled = match &options.compile {
        Some(compile) => crate::compiled_sizes(plan, compile)?
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None; plan.components.len()],
    };
    let components = (plan.components.iter().zip(compiled))
        .map(|(c, compiled_bytes)| {
            let counts = count(&c.ty.bytes).map_err(|source| ReportError::Parse {
                component: c.name.clone(),
                source,
            })?;
            Ok(ComponentCost {
                name: c.name.clone(),
                size: c.ty.bytes.len(),
                compiled_bytes,
                counts,
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    let exports = selected_exports(plan, options.export.as_deref())?;
    // Each mode with the pool `compose serve --pool` sizes for it.
    let modes: Vec<_> = (LinkMode::ALL.into_iter())
        .filter(|mode| options.link.is_none_or(|only| only == *mode))
        .map(|mode| (mode, PoolSizing::new(plan, mode)))
        .collect();
    let entries = exports
        .into_iter()
        .map(|e| EntryCost {
            export: e.name.clone(),
            modes: (modes.iter())
                .map(|(mode, sizing)| {
                    let measured = (options.measured.as_ref())
                        .filter(|m| m.mode == *mode && m.export.as_deref() == Some(&e.name));
                    let call = Call {
                        plan,
                        costs: &components,
                        entry: e.component,
                        mode: *mode,
                        sizing,
                    };
                    mode_cost(&call, measured.cloned(), &limits)
                })
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

/// The exports `only` selects: all of them without it.
fn selected_exports<'p>(
    plan: &'p Plan,
    only: Option<&str>,
) -> Result<Vec<&'p compose_resolver::WorkloadExport>, ReportError> {
    let Some(only) = only else {
        return Ok(plan.exports.iter().collect());
    };
    let found = crate::export_named(plan, only).ok_or_else(|| ReportError::NoSuchExport {
        export: only.to_owned(),
        exports: plan.exports.iter().map(|e| e.name.clone()).collect(),
    })?;
    Ok(vec![found])
}

/// One call of an entry point: the plan, its components' costs, the component serving the
/// export, the link mode and the pool sized for it.
struct Call<'a> {
    plan: &'a Plan,
    costs: &'a [ComponentCost],
    entry: compose_resolver::ComponentId,
    mode: LinkMode,
    sizing: &'a PoolSizing,
}

/// The cost of `call`, its capacity from `measured` when given.
fn mode_cost(call: &Call<'_>, measured: Option<Measurement>, limits: &Limits) -> ModeCost {
    let Call {
        plan,
        costs,
        entry,
        mode,
        sizing,
    } = *call;
    let ids = reached(plan, entry, mode);
    let mut counts = Counts::default();
    for id in &ids {
        counts.add(&costs[id.index()].counts);
        counts.core_modules += costs[id.index()].counts.core_modules;
    }
    let per_call = measured.as_ref().map(|m| m.resident_per_call);
    ModeCost {
        mode,
        components: ids
            .iter()
            .map(|id| plan.components[id.index()].name.clone())
            .collect(),
        capacity: capacity(&counts, per_call, sizing, limits),
        counts,
        measured,
    }
}
