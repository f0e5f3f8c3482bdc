//! From a resolved plan to a wac-graph [`CompositionGraph`]: one package per component
//! file, one instantiation per workload component, one argument per component binding,
//! one export per workload export. Host imports are left unsatisfied: wac turns them into
//! imports of the composition when it encodes the graph.

use crate::{ComposeError, ComposeOptions};
use compose_resolver::{ComponentId, Plan, PlannedComponent};
use std::collections::HashMap;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, NodeId, PackageId};

/// A composition graph built from a plan, with what went into it.
pub(crate) struct Built {
    /// The graph, ready to encode.
    pub graph: CompositionGraph,
    /// How many packages (distinct component files or byte buffers) were registered.
    pub packages: usize,
    /// How many instantiation arguments were set (bindings served by components).
    pub bindings: usize,
    /// The workload component of each instantiation node, to name them in errors.
    pub instances: HashMap<NodeId, String>,
}

/// Which part of a plan to compose: its members (`None`: every component) and what to
/// export, as `(component, its export, the composition's export name)`.
pub(crate) struct Part<'a> {
    pub members: Option<Vec<bool>>,
    pub exports: Vec<(ComponentId, &'a str, &'a str)>,
}

impl Part<'_> {
    fn has(&self, id: ComponentId) -> bool {
        self.members
            .as_ref()
            .is_none_or(|m| m.get(id.index()).copied().unwrap_or(false))
    }
}

/// Builds the composition graph of `plan`.
pub(crate) fn build(plan: &Plan, options: &ComposeOptions) -> Result<Built, ComposeError> {
    let exports = plan
        .exports
        .iter()
        .map(|e| (e.component, e.export.name.as_str(), e.name.as_str()))
        .collect();
    let part = Part {
        members: None,
        exports,
    };
    build_part(plan, options, &part)
}

/// Builds the composition graph of `part` of `plan`: imports served by components outside
/// it stay unsatisfied, so they become imports of the composition, as host imports do.
pub(crate) fn build_part(
    plan: &Plan,
    options: &ComposeOptions,
    part: &Part<'_>,
) -> Result<Built, ComposeError> {
    check_order(plan)?;
    let mut graph = CompositionGraph::new();
    // Components read from the same file share one `FileId`: register that file as a
    // single package, instantiated once per workload component.
    let mut packages: Vec<Option<PackageId>> = vec![None; plan.files.len()];
    let mut instances: Vec<Option<NodeId>> = vec![None; plan.components.len()];
    let mut bindings = 0;
    for &id in plan.order.iter().filter(|id| part.has(**id)) {
        let component = &plan.components[id.index()];
        let package = match packages[component.file.index()] {
            Some(package) => package,
            None => {
                let package = register(&mut graph, plan, component)?;
                packages[component.file.index()] = Some(package);
                package
            }
        };
        let instance = graph.instantiate(package);
        if options.names {
            graph.set_node_name(instance, &component.name);
        }
        bindings += wire(&mut graph, plan, &instances, component, instance, part)?;
        instances[id.index()] = Some(instance);
    }
    for &export in &part.exports {
        export_one(&mut graph, plan, &instances, export)?;
    }
    let instances = plan
        .order
        .iter()
        .filter_map(|id| {
            Some((
                instances[id.index()]?,
                plan.components[id.index()].name.clone(),
            ))
        })
        .collect();
    Ok(Built {
        graph,
        packages: packages.iter().flatten().count(),
        bindings,
        instances,
    })
}

/// Registers the file of `component` as a package named `<workload>:<component>`, after
/// the first workload component that uses it (names are unique, so keys are too).
fn register(
    graph: &mut CompositionGraph,
    plan: &Plan,
    component: &PlannedComponent,
) -> Result<PackageId, ComposeError> {
    let file = plan
        .file(component.file)
        .path
        .as_ref()
        .map_or_else(|| "<memory>".to_owned(), |p| p.display().to_string());
    let name = format!("{}:{}", plan.name, component.name);
    let package = Package::from_bytes(&name, None, component.ty.bytes.to_vec(), graph.types_mut())
        .map_err(|source| ComposeError::Package {
            component: component.name.clone(),
            file: file.clone(),
            source,
        })?;
    graph
        .register_package(package)
        .map_err(|source| ComposeError::Register {
            component: component.name.clone(),
            file,
            source,
        })
}

/// The instance of `server`, which must already be instantiated when `user` needs it.
fn instance_of(
    plan: &Plan,
    instances: &[Option<NodeId>],
    server: ComponentId,
    user: &str,
) -> Result<NodeId, ComposeError> {
    match instances.get(server.index()) {
        Some(Some(instance)) => Ok(*instance),
        Some(None) => Err(invalid(
            plan,
            format!(
                "`{user}` uses `{}`, which does not come before it in `order`",
                plan.components[server.index()].name
            ),
        )),
        None => Err(invalid(
            plan,
            format!(
                "`{user}` uses component #{}, which does not exist",
                server.index()
            ),
        )),
    }
}

/// `plan.order` must list every component exactly once.
fn check_order(plan: &Plan) -> Result<(), ComposeError> {
    let mut seen = vec![false; plan.components.len()];
    for id in &plan.order {
        match seen.get_mut(id.index()) {
            None => {
                return Err(invalid(
                    plan,
                    format!(
                        "`order` names component #{}, which does not exist",
                        id.index()
                    ),
                ));
            }
            Some(true) => {
                return Err(invalid(
                    plan,
                    format!("`order` lists `{}` twice", plan.components[id.index()].name),
                ));
            }
            Some(seen) => *seen = true,
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(invalid(
            plan,
            format!("`order` leaves out `{}`", plan.components[missing].name),
        ));
    }
    Ok(())
}

fn invalid(plan: &Plan, reason: String) -> ComposeError {
    ComposeError::InvalidPlan {
        workload: plan.name.clone(),
        reason,
    }
}

/// Sets an instantiation argument of `instance` for each of `component`'s bindings served
/// by a component; host interfaces and host backends stay unsatisfied, so wac imports them.
/// Returns how many arguments were set.
fn wire(
    graph: &mut CompositionGraph,
    plan: &Plan,
    instances: &[Option<NodeId>],
    component: &PlannedComponent,
    instance: NodeId,
    part: &Part<'_>,
) -> Result<usize, ComposeError> {
    let mut bindings = 0;
    let inside = component
        .component_bindings()
        .filter(|(_, server, _)| part.has(*server));
    for (binding, server, export) in inside {
        let source = instance_of(plan, instances, server, &component.name)?;
        let argument = graph
            .alias_instance_export(source, export)
            .map_err(|source| ComposeError::Alias {
                component: plan.components[server.index()].name.clone(),
                export: export.to_owned(),
                source,
            })?;
        graph
            .set_instantiation_argument(instance, &binding.import.name, argument)
            .map_err(|source| ComposeError::Argument {
                component: component.name.clone(),
                import: binding.import.name.clone(),
                server: plan.components[server.index()].name.clone(),
                export: export.to_owned(),
                source: Box::new(source),
            })?;
        bindings += 1;
    }
    Ok(bindings)
}

/// Exports export `export` of `component`'s instance as `exported`.
fn export_one(
    graph: &mut CompositionGraph,
    plan: &Plan,
    instances: &[Option<NodeId>],
    (component, export, exported): (ComponentId, &str, &str),
) -> Result<(), ComposeError> {
    let name = plan
        .components
        .get(component.index())
        .map_or("?", |c| c.name.as_str());
    let instance = instance_of(plan, instances, component, "the workload's exports")?;
    let node = graph
        .alias_instance_export(instance, export)
        .map_err(|source| ComposeError::Alias {
            component: name.to_owned(),
            export: export.to_owned(),
            source,
        })?;
    graph
        .export(node, exported)
        .map_err(|source| ComposeError::Export {
            name: exported.to_owned(),
            component: name.to_owned(),
            export: export.to_owned(),
            source,
        })
}
