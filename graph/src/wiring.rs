//! What a picture is drawn from: the resolver's plan, or — for a workload that does not
//! resolve — the resolver's partial plan ([`compose_resolver::PartialPlan`]) with its
//! unbound imports, drawn as red dangling edges with their problems. The graph never
//! matches imports itself: the plan is the single source of truth. Problems of the
//! workload as a whole (a cycle, an export clash) are drawn as notes.

use compose_resolver::{Plan, Problem, ResolveError, Workload, resolve};
use std::collections::BTreeMap;

/// An import of a component, by names: `(component, import)`.
pub(crate) type ImportKey = (String, String);

/// What a picture of one workload is drawn from.
#[derive(Debug)]
pub(crate) struct Wiring {
    /// The workload as written.
    pub workload: Workload,
    /// The plan: the resolver's, or its partial plan of what did resolve. `None` when the
    /// workload file could not be parsed.
    pub plan: Option<Plan>,
    /// The broken imports, each with the first problem that named it.
    pub broken: BTreeMap<ImportKey, Problem>,
    /// Components left out because they could not be read, with the problem.
    pub removed: BTreeMap<String, Problem>,
    /// Why the workload does not resolve; `None` when it does.
    pub error: Option<ResolveError>,
}

impl Wiring {
    /// Resolves `workload`; when it does not resolve, builds the partial wiring.
    pub fn resolve(workload: &Workload) -> Self {
        match resolve(workload) {
            Ok(plan) => Self {
                workload: workload.clone(),
                plan: Some(plan),
                broken: BTreeMap::new(),
                removed: BTreeMap::new(),
                error: None,
            },
            Err(error) => Self::partial(workload, error),
        }
    }

    /// The wiring of a workload that resolved to `plan`.
    pub fn from_plan(workload: &Workload, plan: Plan) -> Self {
        Self {
            workload: workload.clone(),
            plan: Some(plan),
            broken: BTreeMap::new(),
            removed: BTreeMap::new(),
            error: None,
        }
    }

    /// The wiring of a workload that does not resolve: the resolver's partial plan, with
    /// each unbound import and unreadable component named by its diagnostic's problem.
    fn partial(workload: &Workload, error: ResolveError) -> Self {
        let mut wiring = Self {
            workload: workload.clone(),
            plan: None,
            broken: BTreeMap::new(),
            removed: BTreeMap::new(),
            error: None,
        };
        if let Some(partial) = &error.partial {
            let problem = |index: usize| error.diagnostics[index].problem.clone();
            for unbound in &partial.unbound {
                if let Some(index) = unbound.diagnostic {
                    let component = &partial.plan.component(unbound.component).name;
                    wiring
                        .broken
                        .entry((component.clone(), unbound.import.name.clone()))
                        .or_insert_with(|| problem(index));
                }
            }
            for unreadable in &partial.unreadable {
                wiring
                    .removed
                    .insert(unreadable.name.clone(), problem(unreadable.diagnostic));
            }
            wiring.plan = Some(partial.plan.clone());
        }
        wiring.error = Some(error);
        wiring
    }

    /// The problem of `import` of `component`, if it is broken.
    pub fn problem(&self, component: &str, import: &str) -> Option<&Problem> {
        self.broken.get(&(component.to_owned(), import.to_owned()))
    }

    /// Whether `problem` is drawn on an edge or a component (else it is drawn as a note).
    pub fn drawn_in_place(&self, problem: &Problem) -> bool {
        self.broken.values().any(|p| p == problem) || self.removed.values().any(|p| p == problem)
    }
}
