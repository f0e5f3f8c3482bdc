//! Hybrid linking: which clusters of the plan are fused into one component with
//! compose-static (calls inside them are fused adapters that never cross the host), and
//! what such a cluster exports, so that trampolines reach its members from outside.
//!
//! A fused cluster is one Wasmtime instance in a store, standing for each of its members:
//! the first call into any member instantiates it, and every member is live from then on.
//! A cluster is left linked per component (each member its own instance, as in
//! [`LinkMode::PerComponent`]) when fusing it would change what the workload does; the
//! reason is kept ([`CompiledWorkload::unfused_clusters`](crate::CompiledWorkload::unfused_clusters)).

use crate::compile::CompileOptions;
use crate::error::{BuildError, boxed};
use compose_resolver::wac_types::ItemKind;
use compose_resolver::{ComponentId, Plan, Provider};
use compose_static::{ComposeOptions, Composition, Subset, SubsetExport};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::Component;

/// How [`WorkloadLinker::compile`](crate::WorkloadLinker::compile) links a workload's
/// components.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LinkMode {
    /// Every component is its own instance, instantiated lazily on its first call; every
    /// call between components goes through a trampoline.
    PerComponent,
    /// Each cluster of the plan ([`Plan::clusters`]) of more than one component is composed
    /// into one component at compile time, so calls inside it are direct; clusters are
    /// linked to each other, to lazy components and to the host by trampolines.
    #[default]
    Clusters,
    /// The whole workload is composed into one component (as `compose build` does), linked
    /// to the host alone: the first call instantiates every component.
    Composed,
}

impl LinkMode {
    /// Every mode, finest first.
    pub const ALL: [LinkMode; 3] = [
        LinkMode::PerComponent,
        LinkMode::Clusters,
        LinkMode::Composed,
    ];

    /// The components instantiated together, as one Wasmtime component instance, under
    /// this mode: every component in exactly one unit — each on its own
    /// ([`LinkMode::PerComponent`]), each cluster of the plan ([`LinkMode::Clusters`]) or
    /// all of them ([`LinkMode::Composed`]). A unit of more than one component is fused
    /// when the workload is compiled, unless fusing it would change what the workload
    /// does ([`CompiledWorkload::unfused_clusters`](crate::CompiledWorkload::unfused_clusters)):
    /// its members are then instances of their own.
    pub fn units(self, plan: &Plan) -> Vec<Vec<ComponentId>> {
        match self {
            LinkMode::PerComponent => plan.components().map(|(id, _)| vec![id]).collect(),
            LinkMode::Clusters => plan.clusters.iter().map(|c| c.members.clone()).collect(),
            LinkMode::Composed => vec![plan.components().map(|(id, _)| id).collect()],
        }
    }

    /// Its name on the command line: `per-component`, `clusters` or `composed`.
    pub fn name(self) -> &'static str {
        match self {
            LinkMode::PerComponent => "per-component",
            LinkMode::Clusters => "clusters",
            LinkMode::Composed => "composed",
        }
    }
}

impl fmt::Display for LinkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `per-component`, `clusters` or `composed`.
impl FromStr for LinkMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            LinkMode::PerComponent,
            LinkMode::Clusters,
            LinkMode::Composed,
        ]
        .into_iter()
        .find(|mode| mode.name() == text)
        .ok_or_else(|| {
            format!("`{text}` is not a link mode: use per-component, clusters or composed")
        })
    }
}

/// A cluster fused into one component.
pub(crate) struct Fused {
    /// Its members, in the plan's component order.
    pub(crate) members: Vec<ComponentId>,
    /// The composed component's bytes.
    pub(crate) bytes: Vec<u8>,
    /// For each member (by position in `members`): its exports as `(the member's export
    /// name, the composed component's export name)`.
    pub(crate) renamed: Vec<Vec<(String, String)>>,
}

/// What [`fuse`] decided: the fused clusters and, for each cluster left per component,
/// its members' names and why.
pub(crate) struct Fusion {
    pub(crate) fused: Vec<Fused>,
    pub(crate) unfused: Vec<(Vec<String>, String)>,
}

/// Composes the clusters that `mode` fuses. `own` holds the indices of the components
/// with host definitions of their own
/// ([`WorkloadLinker::component_host`](crate::WorkloadLinker::component_host)).
pub(crate) fn fuse(plan: &Plan, mode: LinkMode, own: &HashSet<usize>) -> Fusion {
    let mut fusion = Fusion {
        fused: Vec::new(),
        unfused: Vec::new(),
    };
    for members in mode.units(plan).into_iter().filter(|m| m.len() > 1) {
        let outcome = why_not(plan, &members, own).map_or_else(|| compose(plan, &members), Err);
        match outcome {
            Ok(fused) => fusion.fused.push(fused),
            Err(why) => {
                let names = members
                    .iter()
                    .map(|id| plan.component(*id).name.clone())
                    .collect();
                fusion.unfused.push((names, why));
            }
        }
    }
    fusion
}

/// Why fusing `members` would change what the workload does, if it would: a member with
/// a `max-memory` (charged per component); members with different grants (enforced at
/// each component's own WASI imports); two members with host definitions of their own
/// (one composition has one import of each name, so it could not tell them apart); two
/// members importing one name from different providers (likewise).
fn why_not(plan: &Plan, members: &[ComponentId], own: &HashSet<usize>) -> Option<String> {
    let name = |id: ComponentId| &plan.component(id).name;
    if let Some(&id) = members
        .iter()
        .find(|id| plan.component(**id).max_memory.is_some())
    {
        return Some(format!(
            "`{}` has a max-memory, which is charged per component",
            name(id)
        ));
    }
    if let Some(pair) = members
        .windows(2)
        .find(|pair| plan.component(pair[0]).grants != plan.component(pair[1]).grants)
    {
        return Some(format!(
            "`{}` and `{}` have different grants (`allow`), which are enforced per component",
            name(pair[0]),
            name(pair[1])
        ));
    }
    let owning: Vec<_> = members
        .iter()
        .filter(|id| own.contains(&id.index()))
        .collect();
    if let [first, second, ..] = owning[..] {
        return Some(format!(
            "`{}` and `{}` each have host definitions of their own (such as their configuration)",
            name(*first),
            name(*second)
        ));
    }
    clashing_import(plan, members).map(|(first, second, import)| {
        format!(
            "`{}` and `{}` import `{import}` from different providers, and one component has one import of a name",
            name(first),
            name(second)
        )
    })
}

/// Who serves an import: a component's export, or the host (`None`).
type Server<'a> = Option<(ComponentId, &'a str)>;

/// Two members that import one name, left outside the cluster, from different providers
/// (each such name becomes one import of the composition), and the name.
fn clashing_import<'p>(
    plan: &'p Plan,
    members: &[ComponentId],
) -> Option<(ComponentId, ComponentId, &'p str)> {
    let mut outside: HashMap<&str, (ComponentId, Server<'p>)> = HashMap::new();
    for &id in members {
        for binding in &plan.component(id).bindings {
            let server = match &binding.provider {
                Provider::Component { component, .. } if members.contains(component) => continue,
                Provider::Component { component, export } => Some((*component, export.as_str())),
                Provider::HostInterface
                | Provider::HostBackend { .. }
                | Provider::Remote { .. } => None,
            };
            let import = binding.import.name.as_str();
            match outside.get(import) {
                Some(&(first, first_server)) if first_server != server => {
                    return Some((first, id, import));
                }
                Some(_) => {}
                None => {
                    outside.insert(import, (id, server));
                }
            }
        }
    }
    None
}

/// Composes `members` with compose-static, exporting every instance and function export
/// of every member under a new name (`m<component>-x<export>`), so that trampolines from
/// outside and the host's calls reach any of them.
fn compose(plan: &Plan, members: &[ComponentId]) -> Result<Fused, String> {
    let mut exports = Vec::new();
    let mut renamed = Vec::new();
    for &id in members {
        let mut names = Vec::new();
        for (index, export) in plan.component(id).ty.exports.iter().enumerate() {
            if !matches!(export.kind, ItemKind::Instance(_) | ItemKind::Func(_)) {
                continue;
            }
            let name = format!("m{}-x{index}", id.index());
            exports.push(SubsetExport {
                component: id,
                export: export.name.clone(),
                name: name.clone(),
            });
            names.push((export.name.clone(), name));
        }
        renamed.push(names);
    }
    let subset = Subset {
        members: members.to_vec(),
        exports,
    };
    // Wasmtime validates the composition when it compiles it.
    let options = ComposeOptions::default().with_validation(false);
    let composition = Composition::build_subset(plan, &subset, &options)
        .map_err(|e| format!("it cannot be composed: {:#}", anyhow::Error::new(e)))?;
    Ok(Fused {
        members: members.to_vec(),
        bytes: composition.bytes,
        renamed,
    })
}

/// The compiled unit of each workload component: its own compiled file, or its fused
/// cluster's composition.
pub(crate) struct Units {
    /// By component index.
    pub(crate) components: Vec<Component>,
    /// By component index: the other members of its fused cluster (empty when unfused).
    pub(crate) mates: Vec<Vec<usize>>,
    /// By component index: a fused member's exports as named in its cluster's component.
    pub(crate) renamed: Vec<Option<Renamed>>,
}

/// A fused member's exports: `(the member's export name, the cluster component's name)`.
pub(crate) type Renamed = Arc<[(String, String)]>;

/// The name under which `export` of a component is found in its unit.
pub(crate) fn unit_export<'a>(renamed: Option<&'a Renamed>, export: &'a str) -> &'a str {
    match renamed {
        Some(renamed) => renamed
            .iter()
            .find(|(own, _)| own == export)
            .map_or(export, |(_, unit)| unit.as_str()),
        None => export,
    }
}

/// Compiles each fused cluster and puts it beside the compiled files of the other
/// components (`files`, by component index; `None` for fused members).
///
/// # Errors
/// [`BuildError::Compile`] naming the cluster's members when Wasmtime refuses a composition.
pub(crate) fn units(
    engine: &Engine,
    compile: &CompileOptions,
    plan: &Plan,
    fusion: &Fusion,
    mut files: Vec<Option<Component>>,
) -> Result<Units, BuildError> {
    let count = plan.components.len();
    let mut mates = vec![Vec::new(); count];
    let mut renamed = vec![None; count];
    for fused in &fusion.fused {
        let members = members_text(plan, &fused.members);
        let component = compile
            .compile(engine, &members, &fused.bytes)
            .map_err(|e| BuildError::Compile {
                workload: plan.name.clone(),
                component: members,
                source: boxed(e),
            })?;
        for (member, names) in fused.members.iter().zip(&fused.renamed) {
            let i = member.index();
            files[i] = Some(component.clone());
            mates[i] = fused
                .members
                .iter()
                .map(|m| m.index())
                .filter(|m| *m != i)
                .collect();
            renamed[i] = Some(Renamed::from(names.as_slice()));
        }
    }
    let components = files
        .into_iter()
        .zip(&plan.components)
        .map(|(file, planned)| {
            file.ok_or_else(|| BuildError::Compile {
                workload: plan.name.clone(),
                component: planned.name.clone(),
                source: boxed(wasmtime::format_err!("the component was not compiled")),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Units {
        components,
        mates,
        renamed,
    })
}

/// `a + b + c`: the members of a cluster, for messages.
pub(crate) fn members_text(plan: &Plan, members: &[ComponentId]) -> String {
    let names: Vec<&str> = members
        .iter()
        .map(|id| plan.component(*id).name.as_str())
        .collect();
    names.join(" + ")
}
