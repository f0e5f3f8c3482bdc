//! Which components one call of an entry point instantiates, per link mode, from the plan.

use compose_linker::LinkMode;
use compose_resolver::{ComponentId, Instantiation, Plan, WorkloadExport};

/// Serialises a link mode by its name on the command line (`per-component`, …).
pub(crate) fn mode_name<S: serde::Serializer>(mode: &LinkMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(mode.name())
}

/// The components one call of the component `entry` instantiates in `mode`, in plan order:
/// those reached along the plan's bindings and the eager ones, widened to whole clusters
/// (`Clusters`) or to every component (`Composed`).
pub fn reached(plan: &Plan, entry: ComponentId, mode: LinkMode) -> Vec<ComponentId> {
    let mut seen = vec![false; plan.components.len()];
    let mut todo = vec![entry];
    todo.extend(eager(plan));
    while let Some(id) = todo.pop() {
        if std::mem::replace(&mut seen[id.index()], true) {
            continue;
        }
        let component = &plan.components[id.index()];
        todo.extend(component.component_bindings().map(|(_, server, _)| server));
        if mode == LinkMode::Clusters {
            let cluster = plan.clusters.iter().find(|c| c.members.contains(&id));
            todo.extend(cluster.into_iter().flat_map(|c| c.members.iter().copied()));
        }
    }
    plan.order
        .iter()
        .copied()
        .filter(|id| mode == LinkMode::Composed || seen[id.index()])
        .collect()
}

/// The components instantiated when a store starts.
fn eager(plan: &Plan) -> Vec<ComponentId> {
    plan.order
        .iter()
        .copied()
        .filter(|id| plan.components[id.index()].instantiate == Instantiation::Eager)
        .collect()
}

/// The workload export named `name`: its full name, one that [`names_match`] accepts
/// (`acme:app/handler@0.1.1` for `@0.1.0`), or an interface's short name (`handler`, as
/// `--invoke 'handler#f()'` takes it) when only one export has it.
///
/// [`names_match`]: compose_resolver::names_match
pub fn export_named<'p>(plan: &'p Plan, name: &str) -> Option<&'p WorkloadExport> {
    let exports = || plan.exports.iter();
    if let Some(export) = exports().find(|e| compose_resolver::names_match(name, &e.name)) {
        return Some(export);
    }
    let short = |e: &&WorkloadExport| {
        let path = e.name.split_once('/').map_or(e.name.as_str(), |(_, p)| p);
        path.split('@').next() == Some(name)
    };
    let mut found = exports().filter(short);
    let first = found.next();
    found.next().is_none().then_some(first).flatten()
}
