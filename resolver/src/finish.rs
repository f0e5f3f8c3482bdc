//! The end of resolving: the plan, or every diagnostic with the partial plan of what did
//! resolve.

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::ResolveError;
use crate::plan::Cluster;
use crate::plan::{
    Binding, ComponentId, PartialPlan, Plan, PlannedComponent, Provider, Unbound, Unreadable,
    WorkloadExport,
};
use crate::resolve::{Bindings, Resolver};
use crate::workload::{ComponentSource, Workload};
use std::collections::HashMap;

impl Resolver<'_> {
    pub(crate) fn finish(
        self,
        bindings: Bindings,
        order: Vec<ComponentId>,
        exports: Vec<WorkloadExport>,
        clusters: Vec<Cluster>,
    ) -> Result<Plan, ResolveError> {
        // Components that could not be loaded are left out and the others renumbered
        // (without errors nothing is left out and the numbering stays as it is).
        let mut next = 0;
        let renumbered: Vec<Option<ComponentId>> = self
            .loaded
            .iter()
            .map(|file| {
                file.map(|_| {
                    next += 1;
                    ComponentId(next - 1)
                })
            })
            .collect();
        let new_id = |id: ComponentId| {
            renumbered[id.0].expect("bindings and exports name loaded components")
        };
        let components = self.planned_components(bindings, &new_id);
        let plan = Plan {
            name: self.workload.name.value.clone(),
            types: self.types,
            files: self.files,
            components,
            order: order
                .into_iter()
                .filter_map(|id| renumbered[id.0])
                .collect(),
            exports: exports
                .into_iter()
                .map(|export| WorkloadExport {
                    component: new_id(export.component),
                    ..export
                })
                .collect(),
            warnings: Vec::new(),
            host: self.host,
            remotes: self.remotes,
            allow: self.workload.allow.grants.clone(),
            source: self.workload.text.clone(),
            clusters: clusters
                .into_iter()
                .map(|c| Cluster {
                    members: c
                        .members
                        .into_iter()
                        .filter_map(|id| renumbered[id.0])
                        .collect(),
                    ..c
                })
                .collect(),
        };
        let diagnostics = self.diagnostics;
        if !diagnostics.iter().any(|d| d.severity() == Severity::Error) {
            return Ok(Plan {
                warnings: diagnostics,
                ..plan
            });
        }
        let failures = Failures {
            workload: self.workload,
            unbound: self.unbound,
            load_failures: self.load_failures,
        };
        Err(failures.partial(plan, diagnostics, &new_id))
    }
}

/// What a failed resolution leaves beside the plan.
struct Failures<'w> {
    workload: &'w Workload,
    unbound: Vec<(ComponentId, usize, Option<usize>)>,
    load_failures: HashMap<ComponentId, (usize, Option<usize>)>,
}

impl Failures<'_> {
    /// What did resolve of a workload that does not: the plan so far, its unbound imports
    /// and the components that could not be read.
    fn partial(
        self,
        plan: Plan,
        diagnostics: Vec<Diagnostic>,
        new_id: &dyn Fn(ComponentId) -> ComponentId,
    ) -> ResolveError {
        let unbound = self
            .unbound
            .into_iter()
            .map(|(id, index, diagnostic)| {
                let component = new_id(id);
                let import = plan.component(component).ty.imports[index].clone();
                Unbound {
                    component,
                    import,
                    diagnostic,
                }
            })
            .collect();
        let mut unreadable: Vec<Unreadable> = self
            .load_failures
            .into_iter()
            .map(|(id, (diagnostic, size))| {
                let (name, decl) = self
                    .workload
                    .components
                    .get_index(id.0)
                    .expect("load failures name components");
                Unreadable {
                    name: name.clone(),
                    position: id.0,
                    written: match &decl.source.value {
                        ComponentSource::Path(path) => path.to_string_lossy().replace('\\', "/"),
                        ComponentSource::Bytes { name, .. } => name.clone(),
                        ComponentSource::Oci(oci) => oci.reference.to_string(),
                    },
                    size,
                    instantiate: decl.instantiate,
                    diagnostic,
                }
            })
            .collect();
        unreadable.sort_by_key(|u| u.position);
        let partial = PartialPlan {
            plan,
            unbound,
            unreadable,
        };
        ResolveError {
            diagnostics,
            partial: Some(Box::new(partial)),
        }
    }
}

impl Resolver<'_> {
    /// The loaded components with their bindings, renumbered by `new_id`.
    fn planned_components(
        &self,
        bindings: Bindings,
        new_id: &dyn Fn(ComponentId) -> ComponentId,
    ) -> Vec<PlannedComponent> {
        let renumber = |mut binding: Binding| {
            if let Provider::Component { component, .. } = &mut binding.provider {
                *component = new_id(*component);
            }
            binding
        };
        self.workload
            .components
            .iter()
            .zip(&self.loaded)
            .zip(bindings)
            .filter_map(|(((name, decl), file), bindings)| {
                let file = (*file)?;
                Some(PlannedComponent {
                    name: name.clone(),
                    file,
                    ty: self.files[file.0].ty.clone(),
                    instantiate: decl.instantiate,
                    max_memory: decl.max_memory,
                    bindings: bindings.into_iter().flatten().map(renumber).collect(),
                    config: decl
                        .config
                        .iter()
                        .map(|(k, v)| (k.clone(), v.value.clone()))
                        .collect(),
                    grants: self.workload.allow.grants.with(&decl.allow.grants),
                    allow_span: decl.allow.spans.table.clone(),
                })
            })
            .collect()
    }
}
