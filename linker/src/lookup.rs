//! Finding a workload's functions by name: an export of the workload
//! ([`CompiledWorkload::func`]) or of one of its components
//! ([`CompiledWorkload::component_func`]), by full, semver-compatible or short name.

use crate::cluster::unit_export;
use crate::compiled::{CompiledWorkload, WorkloadFunc};
use crate::error::{FuncName, LookupError};
use compose_resolver::{InterfaceName, names_match};
use wasmtime::component::types::ComponentItem;

impl<T: 'static> CompiledWorkload<T> {
    /// The workload's exported function `function` of the export `interface` (or the
    /// workload's export named `function` that is a function when `interface` is `None`).
    /// `interface` may be the export's full name, a semver-compatible name, or its short
    /// name (`handler` for `acme:app/handler@0.1.0`) when that names one export.
    ///
    /// # Errors
    /// [`LookupError::UnknownExport`] or [`LookupError::UnknownFunction`], listing what
    /// there is.
    pub fn func(
        &self,
        interface: Option<&str>,
        function: &str,
    ) -> Result<WorkloadFunc, LookupError> {
        let owner = format!("workload `{}`", self.name());
        let exports = &self.info.exports;
        let wanted = interface.unwrap_or(function);
        let names = exports.iter().map(|e| e.0.as_str());
        let found = find_name(names.clone(), wanted)
            .map_err(|matching| lookup_error(&owner, wanted, matching, names))?;
        let (name, component, export) = &exports[found];
        self.lookup(*component, export, name, interface.map(|_| function), owner)
    }

    /// Function `function` of export `interface` of component `component` (or its export
    /// named `function` when `interface` is `None`), whether or not the workload exports it.
    /// `interface` is matched as in [`CompiledWorkload::func`].
    ///
    /// # Errors
    /// [`LookupError::UnknownComponent`], [`LookupError::UnknownExport`] or
    /// [`LookupError::UnknownFunction`], listing what there is.
    pub fn component_func(
        &self,
        component: &str,
        interface: Option<&str>,
        function: &str,
    ) -> Result<WorkloadFunc, LookupError> {
        let names = &self.runtime.names;
        let id = names
            .components
            .iter()
            .position(|c| c == component)
            .ok_or_else(|| LookupError::UnknownComponent {
                workload: names.workload.clone(),
                component: component.to_owned(),
                available: names.components.clone(),
            })?;
        let owner = format!("component `{component}`");
        let exports: Vec<String> = match &self.runtime.components[id].renamed {
            Some(renamed) => renamed.iter().map(|(own, _)| own.clone()).collect(),
            None => {
                let ty = self.runtime.components[id].pre.component().component_type();
                let exports = ty.exports(&self.info.engine);
                exports.map(|(n, _)| n.to_owned()).collect()
            }
        };
        let wanted = interface.unwrap_or(function);
        let names = exports.iter().map(String::as_str);
        let found = find_name(names.clone(), wanted)
            .map_err(|matching| lookup_error(&owner, wanted, matching, names))?;
        let export = &exports[found];
        self.lookup(id, export, export, interface.map(|_| function), owner)
    }

    fn lookup(
        &self,
        id: usize,
        export: &str,
        shown: &str,
        function: Option<&str>,
        owner: String,
    ) -> Result<WorkloadFunc, LookupError> {
        let engine = &self.info.engine;
        let unit = &self.runtime.components[id];
        let component = unit.pre.component();
        let ty = component.component_type();
        let inner = unit_export(unit.renamed.as_ref(), export);
        let unknown = |available: Vec<String>| LookupError::UnknownFunction {
            owner: owner.clone(),
            export: shown.to_owned(),
            function: function.unwrap_or(shown).to_owned(),
            available,
        };
        let item = ty
            .get_export(engine, inner)
            .ok_or_else(|| unknown(Vec::new()))?;
        let export_index = component
            .get_export_index(None, inner)
            .ok_or_else(|| unknown(Vec::new()))?;
        let (index, func_ty, name) = match (item.ty, function) {
            (ComponentItem::ComponentInstance(instance), Some(function)) => {
                let funcs = || {
                    instance
                        .exports(engine)
                        .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
                        .map(|(n, _)| n.to_owned())
                        .collect::<Vec<_>>()
                };
                let Some(ComponentItem::ComponentFunc(func_ty)) =
                    instance.get_export(engine, function).map(|e| e.ty)
                else {
                    return Err(unknown(funcs()));
                };
                let index = component
                    .get_export_index(Some(&export_index), function)
                    .ok_or_else(|| unknown(funcs()))?;
                let name = FuncName {
                    interface: Some(export.to_owned()),
                    function: function.to_owned(),
                };
                (index, func_ty, name)
            }
            (ComponentItem::ComponentFunc(func_ty), None) => {
                let name = FuncName {
                    interface: None,
                    function: export.to_owned(),
                };
                (export_index, func_ty, name)
            }
            _ => return Err(unknown(Vec::new())),
        };
        let meter = (self.runtime.meter.as_ref()).map(|meter| {
            meter.calls(
                &self.runtime.names.components[id],
                name.interface.as_deref(),
            )
        });
        Ok(WorkloadFunc {
            names: self.runtime.names.clone(),
            component: id,
            index,
            name,
            ty: func_ty,
            meter,
        })
    }
}

/// The one name among `names` that `wanted` names: the name itself, else the one
/// semver-compatible name, else the one interface whose short name it is
/// (`handler` for `acme:app/handler@0.1.0`). `Err` lists the names that matched when more
/// than one did (an ambiguity, never a silent pick), and is empty when none did.
fn find_name<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    wanted: &str,
) -> Result<usize, Vec<String>> {
    if let Some(i) = names.clone().position(|n| n == wanted) {
        return Ok(i);
    }
    let short = |name: &str| InterfaceName::parse(name).is_some_and(|n| n.interface == wanted);
    for matches in [
        &(|n: &str| names_match(wanted, n)) as &dyn Fn(&str) -> bool,
        &short,
    ] {
        let found: Vec<(usize, &str)> = names
            .clone()
            .enumerate()
            .filter(|(_, n)| matches(n))
            .collect();
        match found.as_slice() {
            [] => continue,
            [(i, _)] => return Ok(*i),
            several => return Err(several.iter().map(|(_, n)| n.to_string()).collect()),
        }
    }
    Err(Vec::new())
}

/// Why `wanted` names no single export of `owner`.
fn lookup_error<'a>(
    owner: &str,
    wanted: &str,
    matching: Vec<String>,
    names: impl Iterator<Item = &'a str>,
) -> LookupError {
    if matching.is_empty() {
        LookupError::UnknownExport {
            owner: owner.to_owned(),
            export: wanted.to_owned(),
            available: names.map(str::to_owned).collect(),
        }
    } else {
        LookupError::AmbiguousExport {
            owner: owner.to_owned(),
            export: wanted.to_owned(),
            matching,
        }
    }
}
