//! Which components one call of an entry point instantiates, per link mode, from the plan.

use compose_resolver::{ComponentId, Instantiation, Plan};
use serde::Serialize;

/// How the run-time linker links a workload (`--link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkMode {
    /// Each component its own instance, instantiated on its first call (eager ones at start).
    PerComponent,
    /// Each cluster fused; a call instantiates whole clusters.
    Clusters,
    /// One composed component: every component instantiated.
    Composed,
}

impl LinkMode {
    /// Every mode, in the order reports list them.
    pub const ALL: [LinkMode; 3] = [
        LinkMode::PerComponent,
        LinkMode::Clusters,
        LinkMode::Composed,
    ];

    /// The name `--link` takes.
    pub fn name(self) -> &'static str {
        match self {
            LinkMode::PerComponent => "per-component",
            LinkMode::Clusters => "clusters",
            LinkMode::Composed => "composed",
        }
    }
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
