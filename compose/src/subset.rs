//! Composing part of a plan: some of its components, with exports chosen by the caller.
//! The run-time linker uses it to fuse a cluster of components into one component whose
//! exports are what the rest of the workload (and the host) may call.

use crate::{ComposeError, ComposeOptions, Composition, graph};
use compose_resolver::{ComponentId, Plan};
use std::collections::HashMap;

/// A part of a plan to compose on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subset {
    /// The components to compose (each instantiated once, in the plan's order). Their
    /// imports served by components outside the subset stay imports of the composition,
    /// under the import's name, as the host's do.
    pub members: Vec<ComponentId>,
    /// What the composition exports.
    pub exports: Vec<SubsetExport>,
}

/// One export of a [`Subset`]'s composition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsetExport {
    /// The member whose export it is.
    pub component: ComponentId,
    /// The member's export (an instance or a function).
    pub export: String,
    /// The composition's name for it: a component-model name, unique ignoring case.
    pub name: String,
}

impl Composition {
    /// Composes `subset` of `plan` into one component: as [`Composition::build`], but with
    /// only the subset's members, their imports from components outside it left as imports
    /// of the result, and the subset's exports (no `implements` restored on them).
    ///
    /// Two members that import one name from different servers cannot share the one
    /// import the composition has for it: that is the caller's to avoid (wac merges the
    /// import, typed as the first importer's).
    ///
    /// # Errors
    /// As [`Composition::build`]; [`ComposeError::InvalidPlan`] also when a member or an
    /// export's component is not from `plan`, or an export's component is not a member.
    pub fn build_subset(
        plan: &Plan,
        subset: &Subset,
        options: &ComposeOptions,
    ) -> Result<Self, ComposeError> {
        let mut members = vec![false; plan.components.len()];
        for id in subset
            .members
            .iter()
            .chain(subset.exports.iter().map(|e| &e.component))
        {
            match members.get_mut(id.index()) {
                Some(member) if subset.members.contains(id) => *member = true,
                _ => {
                    return Err(ComposeError::InvalidPlan {
                        workload: plan.name.clone(),
                        reason: format!(
                            "component #{} is not a member of the subset to compose",
                            id.index()
                        ),
                    });
                }
            }
        }
        let count = members.iter().filter(|m| **m).count();
        let part = graph::Part {
            members: Some(members),
            exports: subset
                .exports
                .iter()
                .map(|e| (e.component, e.export.as_str(), e.name.as_str()))
                .collect(),
        };
        let built = graph::build_part(plan, options, &part)?;
        Self::encode(plan, built, options, &HashMap::new(), count)
    }
}
