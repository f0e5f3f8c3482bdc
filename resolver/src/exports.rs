//! Rule 6: the workload's exports, from `[exports]` or from the components nothing
//! imports from. Export names must be component-model names (a kebab-case label or an
//! interface name with a full version) and unique ignoring case, as the component model
//! spec requires of a component's export names (wasmparser's `ComponentName`), so that what
//! resolves also encodes.

use crate::component::Item;
use crate::component::find_export;
use crate::diagnostic::{Problem, Referrer, WantedExport};
use crate::plan::{ComponentId, WorkloadExport};
use crate::resolve::{Bindings, Resolver, servers};
use std::collections::HashMap;
use wasmparser::names::{ComponentName, ComponentNameKind};

impl Resolver<'_> {
    pub(crate) fn exports(&mut self, bindings: &Bindings) -> Vec<WorkloadExport> {
        let Some(declared) = &self.workload.exports else {
            return self.implicit_exports(bindings);
        };
        let mut out = Vec::new();
        let mut by_lowercase: HashMap<String, &str> = HashMap::new();
        for (name, decl) in declared {
            if let Some(reason) = invalid_export_name(name) {
                let problem = Problem::InvalidExportName {
                    name: name.clone(),
                    reason,
                };
                self.report(problem, decl.span.clone(), "this export");
                continue;
            }
            if let Some(first) = by_lowercase.insert(name.to_lowercase(), name) {
                let problem = Problem::DuplicateExportName {
                    first: first.to_owned(),
                    second: name.clone(),
                };
                self.report(problem, decl.span.clone(), "this export");
                continue;
            }
            let referrer = Referrer::Export {
                export: name.clone(),
            };
            let Some(component) =
                self.component_named(&decl.value.component, &referrer, decl.span.clone())
            else {
                continue;
            };
            let Some(ty) = self.ty(component) else {
                continue;
            };
            let wanted = decl.value.export.as_deref().unwrap_or(name);
            match find_export(&ty.exports, wanted) {
                Some(export) => out.push(WorkloadExport {
                    name: name.clone(),
                    component,
                    export: export.clone(),
                }),
                None => {
                    let problem = Problem::UnknownExport {
                        target: decl.value.component.clone(),
                        wanted: WantedExport::Name(wanted.to_owned()),
                        referrer,
                        available: ty.exports.iter().map(Item::describe).collect(),
                    };
                    self.report(problem, decl.span.clone(), "no such export");
                }
            }
        }
        out
    }

    fn implicit_exports(&mut self, bindings: &Bindings) -> Vec<WorkloadExport> {
        let used = servers(bindings);
        let mut out: Vec<WorkloadExport> = Vec::new();
        // Export names are unique ignoring case (component model spec).
        let mut by_lowercase: HashMap<String, ComponentId> = HashMap::new();
        for i in 0..self.loaded.len() {
            let id = ComponentId(i);
            let Some(ty) = self.ty(id).filter(|_| !used.contains(&id)) else {
                continue;
            };
            for export in &ty.exports {
                let first = *by_lowercase.entry(export.name.to_lowercase()).or_insert(id);
                if first != id {
                    let problem = Problem::ExportClash {
                        export: export.name.clone(),
                        first: self.name(first),
                        second: self.name(id),
                    };
                    self.report(problem, self.decl(id).name_span.clone(), "exports it too");
                    continue;
                }
                out.push(WorkloadExport {
                    name: export.name.clone(),
                    component: id,
                    export: export.clone(),
                });
            }
        }
        out
    }
}

/// Why `name` cannot be a workload export's name: it must be a kebab-case label or an
/// interface name whose version, if any, is a full semver version (the component model
/// spec's `interfacename`; wasmparser's parser alone accepts `@1.2`, which validation of
/// the composed component then rejects).
fn invalid_export_name(name: &str) -> Option<String> {
    let parsed = match ComponentName::new(name, 0) {
        Ok(parsed) => parsed,
        Err(error) => return Some(error.message().to_owned()),
    };
    match parsed.kind() {
        ComponentNameKind::Label(_) => None,
        ComponentNameKind::Interface(interface) => interface
            .version(None)
            .err()
            .map(|e| format!("its version is not a full semver version (`1.2.0`): {e}")),
        _ => Some("a workload export is named by a label or an interface name".into()),
    }
}
