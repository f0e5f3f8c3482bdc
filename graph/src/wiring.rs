//! What a picture is drawn from: the resolver's plan, or — for a workload that does not
//! resolve — the resolver's partial plan ([`compose_resolver::PartialPlan`]) with its
//! unbound imports, drawn as red dangling edges with their problems, and its unreadable
//! components. The graph reads the plan and nothing else: it never matches imports, reads
//! the workload file or looks at the disk. Problems of the workload as a whole (a cycle, an
//! export clash) are drawn as notes.

use compose_resolver::{Instantiation, Plan, Problem, ResolveError};
use std::collections::BTreeMap;

/// An import of a component, by names: `(component, import)`.
pub(crate) type ImportKey = (String, String);

/// What a picture of one workload is drawn from.
#[derive(Debug)]
pub(crate) struct Wiring {
    /// The plan: the resolver's, or its partial plan of what did resolve. `None` only when
    /// the workload could not be parsed.
    pub plan: Option<Plan>,
    /// The broken imports, each with the first problem that named it.
    pub broken: BTreeMap<ImportKey, Problem>,
    /// Why the workload does not resolve; `None` when it does.
    pub error: Option<ResolveError>,
}

/// One component box: a planned component, or one that could not be read.
pub(crate) struct ComponentBox<'a> {
    pub name: &'a str,
    /// The file as the workload writes it.
    pub file: &'a str,
    pub size: Option<usize>,
    pub instantiate: Instantiation,
    /// Why it could not be used.
    pub problem: Option<&'a Problem>,
}

impl Wiring {
    /// The wiring of the resolver's outcome.
    pub fn new(outcome: Result<Plan, ResolveError>) -> Self {
        match outcome {
            Ok(plan) => Self {
                plan: Some(plan),
                broken: BTreeMap::new(),
                error: None,
            },
            Err(error) => Self::partial(error),
        }
    }

    /// The wiring of a workload that does not resolve: the resolver's partial plan, with
    /// each unbound import named by its diagnostic's problem.
    fn partial(error: ResolveError) -> Self {
        let mut broken = BTreeMap::new();
        let plan = error.partial.as_ref().map(|partial| {
            for unbound in &partial.unbound {
                if let Some(index) = unbound.diagnostic {
                    let component = &partial.plan.component(unbound.component).name;
                    broken
                        .entry((component.clone(), unbound.import.name.clone()))
                        .or_insert_with(|| error.diagnostics[index].problem.clone());
                }
            }
            partial.plan.clone()
        });
        Self {
            plan,
            broken,
            error: Some(error),
        }
    }

    /// Every component in the order of the workload file, including those that could not
    /// be read.
    pub fn components(&self) -> Vec<ComponentBox<'_>> {
        let mut boxes: Vec<ComponentBox<'_>> = self
            .plan
            .iter()
            .flat_map(|plan| {
                plan.components.iter().map(move |c| {
                    let file = plan.file(c.file);
                    ComponentBox {
                        name: &c.name,
                        file: &file.written,
                        size: Some(file.size()),
                        instantiate: c.instantiate,
                        problem: None,
                    }
                })
            })
            .collect();
        let partial = self.error.as_ref().and_then(|e| e.partial.as_ref());
        for unreadable in partial.map(|p| p.unreadable.as_slice()).unwrap_or_default() {
            let problem = &self.error.as_ref().expect("partial").diagnostics[unreadable.diagnostic];
            let component = ComponentBox {
                name: &unreadable.name,
                file: &unreadable.written,
                size: unreadable.size,
                instantiate: unreadable.instantiate,
                problem: Some(&problem.problem),
            };
            boxes.insert(unreadable.position.min(boxes.len()), component);
        }
        boxes
    }

    /// The problem of `import` of `component`, if it is broken.
    pub fn problem(&self, component: &str, import: &str) -> Option<&Problem> {
        self.broken.get(&(component.to_owned(), import.to_owned()))
    }

    /// Whether `problem` is drawn on an edge or a component (else it is drawn as a note).
    pub fn drawn_in_place(&self, problem: &Problem) -> bool {
        let unreadable = self
            .error
            .as_ref()
            .and_then(|e| e.partial.as_ref().map(|p| (e, p)))
            .is_some_and(|(e, p)| {
                p.unreadable
                    .iter()
                    .any(|u| &e.diagnostics[u.diagnostic].problem == problem)
            });
        unreadable || self.broken.values().any(|p| p == problem)
    }
}
