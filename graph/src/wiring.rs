//! What a picture is drawn from: the resolver's plan, or — for a workload that does not
//! resolve — the plan of the same workload with each broken import set aside.
//!
//! The resolver returns no partial plan with its error, and the graph must not match
//! imports itself (the plan is the single source of truth). So for a failing workload
//! [`Wiring::resolve`] asks the resolver again, after binding each broken import (named by
//! a [`Problem`]) explicitly to a stand-in: the host, or the first candidate of an
//! ambiguity. The bindings that worked come out of that plan exactly as the resolver made
//! them; the stand-ins are recorded in [`Wiring::broken`] and drawn as red dangling edges,
//! with the *original* problem. Problems of the workload as a whole (a cycle, an export
//! clash, an unreadable component) are kept in the original error and drawn as notes.
//!
//! When the resolver one day returns its partial bindings in [`ResolveError`], only this
//! module changes: [`Wiring`] stays what the renderers read.

use compose_resolver::{
    BindingTarget, ExplicitBinding, Located, Plan, Problem, ResolveError, Workload, resolve,
};
use std::collections::BTreeMap;

/// How many times the resolver is asked again, each time with more imports set aside.
/// Each round sets aside at least one more import or component, and problems of later
/// rounds only come from stand-ins (a first candidate that does not type-check), so a few
/// rounds always suffice in practice.
const MAX_ROUNDS: usize = 8;

/// An import of a component, by names: `(component, import)`.
pub(crate) type ImportKey = (String, String);

/// What a picture of one workload is drawn from.
#[derive(Debug)]
pub(crate) struct Wiring {
    /// The workload as written.
    pub workload: Workload,
    /// The plan: the resolver's, or the one with broken imports bound to stand-ins.
    /// `None` when no plan could be had (a cycle, an export clash).
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

    fn partial(workload: &Workload, error: ResolveError) -> Self {
        let mut wiring = Self {
            workload: workload.clone(),
            plan: None,
            broken: BTreeMap::new(),
            removed: BTreeMap::new(),
            error: None,
        };
        let mut repaired = workload.clone();
        let mut problems: Vec<Problem> = error.errors().map(|d| d.problem.clone()).collect();
        for _ in 0..MAX_ROUNDS {
            let mut progressed = false;
            for problem in &problems {
                progressed |= wiring.set_aside(&mut repaired, problem);
            }
            if !progressed {
                break;
            }
            match resolve(&repaired) {
                Ok(plan) => {
                    wiring.plan = Some(plan);
                    break;
                }
                Err(again) => problems = again.errors().map(|d| d.problem.clone()).collect(),
            }
        }
        wiring.error = Some(error);
        wiring
    }

    /// Changes `repaired` so that `problem` no longer stops it from resolving; `false` if
    /// it cannot (or already did).
    fn set_aside(&mut self, repaired: &mut Workload, problem: &Problem) -> bool {
        match problem {
            Problem::Unsatisfied { component, import }
            | Problem::TypeMismatch {
                component, import, ..
            } => self.stand_in(repaired, component, import, BindingTarget::Host, problem),
            Problem::MissingBackend {
                component, label, ..
            }
            | Problem::BackendMismatch {
                component, label, ..
            } => self.stand_in(repaired, component, label, BindingTarget::Host, problem),
            Problem::Ambiguous {
                component,
                import,
                candidates,
            } => {
                // The first candidate keeps the others' exports out of the workload's
                // implicit exports, as one of them would be once the user chooses.
                let target =
                    candidates
                        .first()
                        .map_or(BindingTarget::Host, |c| BindingTarget::Component {
                            component: c.clone(),
                            export: None,
                        });
                self.stand_in(repaired, component, import, target, problem)
            }
            Problem::UnknownComponent { purpose, .. } | Problem::UnknownExport { purpose, .. } => {
                match parse_purpose(purpose) {
                    Some(Purpose::Import { component, import }) => {
                        self.stand_in(repaired, &component, &import, BindingTarget::Host, problem)
                    }
                    Some(Purpose::Export(name)) => repaired
                        .exports
                        .as_mut()
                        .is_some_and(|e| e.shift_remove(&name).is_some()),
                    None => false,
                }
            }
            Problem::UnknownImport {
                component, import, ..
            } => repaired
                .components
                .get_mut(component)
                .is_some_and(|c| c.imports.shift_remove(import).is_some()),
            Problem::ReadComponent { component, .. } | Problem::NotAComponent { component, .. } => {
                self.removed
                    .entry(component.clone())
                    .or_insert_with(|| problem.clone());
                repaired.components.shift_remove(component).is_some()
            }
            Problem::DuplicateBackend { label } => {
                repaired.host.backends.shift_remove(label).is_some()
            }
            Problem::InvalidHostInterface { pattern } => {
                let before = repaired.host.interfaces.len() + repaired.host.backends.len();
                repaired.host.interfaces.retain(|p| p.value != *pattern);
                repaired
                    .host
                    .backends
                    .retain(|_, b| b.interface.value != *pattern);
                before != repaired.host.interfaces.len() + repaired.host.backends.len()
            }
            _ => false,
        }
    }

    /// Binds `import` of `component` explicitly to `target` in `repaired`, remembering
    /// `problem` as the reason (the first problem wins).
    fn stand_in(
        &mut self,
        repaired: &mut Workload,
        component: &str,
        import: &str,
        target: BindingTarget,
        problem: &Problem,
    ) -> bool {
        let key = (component.to_owned(), import.to_owned());
        let first = !self.broken.contains_key(&key);
        self.broken.entry(key).or_insert_with(|| problem.clone());
        let Some(decl) = repaired.components.get_mut(component) else {
            return false;
        };
        // Once set aside, an import only falls back to the host (its stand-in failed).
        let target = if first { target } else { BindingTarget::Host };
        let binding = ExplicitBinding {
            import_span: None,
            target: Located::new(target.clone()),
        };
        let changed = decl
            .imports
            .get(import)
            .is_none_or(|b| b.target.value != target);
        decl.imports.insert(import.to_owned(), binding);
        changed
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

/// What an [`Problem::UnknownComponent`] or [`Problem::UnknownExport`] was looked up for.
enum Purpose {
    Import { component: String, import: String },
    Export(String),
}

/// Reads the resolver's purpose phrases: `` import `x` of `y` `` and `` workload export `z` ``.
fn parse_purpose(purpose: &str) -> Option<Purpose> {
    if let Some(rest) = purpose.strip_prefix("import `") {
        let (import, rest) = rest.split_once("` of `")?;
        let component = rest.strip_suffix('`')?;
        return Some(Purpose::Import {
            component: component.to_owned(),
            import: import.to_owned(),
        });
    }
    let name = purpose
        .strip_prefix("workload export `")?
        .strip_suffix('`')?;
    Some(Purpose::Export(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_name_an_import_or_an_export() {
        assert!(matches!(
            parse_purpose("import `acme:kv/store@0.1.0` of `frontend`"),
            Some(Purpose::Import { component, import }) if component == "frontend" && import == "acme:kv/store@0.1.0"
        ));
        assert!(matches!(
            parse_purpose("workload export `handler`"),
            Some(Purpose::Export(name)) if name == "handler"
        ));
        assert!(parse_purpose("something else").is_none());
    }
}
