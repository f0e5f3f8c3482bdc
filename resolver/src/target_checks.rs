//! The resolver's check of a workload against its target world (`--target`,
//! [`crate::TargetWorld`]): the imports it leaves to the host and its exports, as one
//! component type, through wac-types' `validate_target`.

use crate::diagnostic::Problem;
use crate::plan::{ComponentId, Provider, WorkloadExport};
use crate::resolve::{Bindings, Resolver};
use indexmap::IndexMap;
use wac_types::{TargetValidationReport, World};

impl Resolver<'_> {
    /// Checks the workload against the profile's target world, if it has one: every
    /// export the world requires that the workload lacks ([`Problem::MissingTargetExport`]),
    /// every import left to the host that the world does not import
    /// ([`Problem::NotInTarget`]) and every type that does not fit
    /// ([`Problem::TargetMismatch`]).
    pub(crate) fn check_target(&mut self, bindings: &Bindings, exports: &[WorkloadExport]) {
        let Some(target) = self.profile.target() else {
            return;
        };
        let (world, importers) = self.workload_world(bindings, exports);
        let mut types = self.types.clone();
        let report = target.load(&mut types).map(|target| {
            let workload = types.add_world(world);
            wac_types::validate_target(&types, target, workload)
        });
        match report {
            Ok(Ok(())) => {}
            Ok(Err(report)) => self.report_target(target.name(), &report, &importers),
            Err(reason) => {
                let problem = Problem::TargetMismatch {
                    target: target.name().into(),
                    what: "world".into(),
                    name: target.name().into(),
                    detail: reason,
                };
                self.report(problem, None, "");
            }
        }
    }

    /// The workload as one component type: the imports left to the host (with the
    /// components that import each) and the workload's exports.
    fn workload_world(
        &self,
        bindings: &Bindings,
        exports: &[WorkloadExport],
    ) -> (World, IndexMap<String, Vec<ComponentId>>) {
        let mut world = World {
            id: None,
            uses: IndexMap::new(),
            imports: IndexMap::new(),
            exports: IndexMap::new(),
        };
        let mut importers: IndexMap<String, Vec<ComponentId>> = IndexMap::new();
        for (i, component) in bindings.iter().enumerate() {
            for binding in component.iter().flatten() {
                if matches!(binding.provider, Provider::Component { .. }) {
                    continue;
                }
                let name = &binding.import.name;
                world
                    .imports
                    .entry(name.clone())
                    .or_insert(binding.import.kind);
                importers
                    .entry(name.clone())
                    .or_default()
                    .push(ComponentId(i));
            }
        }
        for export in exports {
            world
                .exports
                .insert(export.name.clone(), export.export.kind);
        }
        (world, importers)
    }

    /// One diagnostic per finding of `report` against world `target`.
    fn report_target(
        &mut self,
        target: &str,
        report: &TargetValidationReport,
        importers: &IndexMap<String, Vec<ComponentId>>,
    ) {
        for import in report.imports_not_in_target() {
            let first = importers.get(import).and_then(|ids| ids.first().copied());
            let components = (importers.get(import).into_iter().flatten())
                .map(|id| format!("`{}`", self.name(*id)))
                .collect::<Vec<_>>()
                .join(", ");
            let problem = Problem::NotInTarget {
                import: import.into(),
                components,
                target: target.into(),
            };
            let span = first.and_then(|id| self.decl(id).name_span.clone());
            self.report(problem, span, "imports it");
        }
        for (export, _) in report.missing_exports() {
            let problem = Problem::MissingTargetExport {
                export: export.into(),
                target: target.into(),
            };
            self.report(
                problem,
                self.workload.name.span.clone(),
                "exports none of it",
            );
        }
        for (name, kind, error) in report.mismatched_types() {
            let problem = Problem::TargetMismatch {
                target: target.into(),
                what: kind.to_string(),
                name: name.into(),
                detail: format!("{error:#}"),
            };
            let span = (importers.get(name).and_then(|ids| ids.first()))
                .and_then(|id| self.decl(*id).name_span.clone());
            self.report(problem, span, "imports it");
        }
    }
}
