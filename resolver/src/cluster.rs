//! Clusters: the sets of workload components that the run-time linker instantiates
//! together (and may compose into one component, so that calls between them do not cross
//! the host).
//!
//! The `[clusters]` table of `workload.toml` names clusters explicitly
//! (`hot = ["frontend", "formatter"]`). Every other `instantiate = "eager"` component is
//! clustered with the eager components it imports from, and with those that import from
//! it (connected groups: instantiated together anyway, so nothing is lost by fusing them);
//! every other lazy component is a cluster of one.

use crate::diagnostic::Problem;
use crate::plan::{Cluster, ComponentId, Instantiation, Plan, Provider};
use crate::resolve::{Bindings, Resolver};

use petgraph::unionfind::UnionFind;

impl Cluster {
    /// By component index (`count` components): the index in `clusters` of the cluster of
    /// more than one member the component is in, if it is in one. Two components whose
    /// entries are the same `Some` are fused together; computed once, in linear time.
    pub(crate) fn fused_index(clusters: &[Cluster], count: usize) -> Vec<Option<usize>> {
        let mut index = vec![None; count];
        for (at, cluster) in clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.members.len() > 1)
        {
            for member in &cluster.members {
                if let Some(slot) = index.get_mut(member.0) {
                    *slot = Some(at);
                }
            }
        }
        index
    }
}

impl Plan {
    /// The index in [`Plan::clusters`] of the cluster of component `id` (every component
    /// is in exactly one cluster), or `None` for an id that is not from this plan.
    pub fn cluster_of(&self, id: ComponentId) -> Option<usize> {
        self.clusters.iter().position(|c| c.members.contains(&id))
    }
}

impl Resolver<'_> {
    /// The clusters of the loaded components (ids before renumbering): the explicit ones
    /// checked and reported, then the default rule's for the others, ordered by their
    /// first member.
    pub(crate) fn clusters(&mut self, bindings: &Bindings) -> Vec<Cluster> {
        let count = self.loaded.len();
        let mut assigned: Vec<Option<usize>> = vec![None; count];
        let mut clusters = self.explicit_clusters(&mut assigned);
        for cluster in &clusters {
            self.warn_disconnected(cluster, bindings);
        }
        let mut groups = UnionFind::<usize>::new(count);
        let free_eager = |id: usize, assigned: &[Option<usize>]| {
            assigned[id].is_none() && self.decl(ComponentId(id)).instantiate == Instantiation::Eager
        };
        for (id, server) in edges(bindings) {
            if free_eager(id, &assigned) && free_eager(server, &assigned) {
                groups.union(id, server);
            }
        }
        let mut by_root: Vec<Option<usize>> = vec![None; count];
        for id in (0..count).filter(|&i| self.loaded[i].is_some() && assigned[i].is_none()) {
            let root = groups.find(id);
            match by_root[root] {
                Some(at) => clusters[at].members.push(ComponentId(id)),
                None => {
                    by_root[root] = Some(clusters.len());
                    clusters.push(Cluster {
                        name: self.name(ComponentId(id)),
                        members: vec![ComponentId(id)],
                        explicit: false,
                    });
                }
            }
        }
        clusters.retain(|c| !c.members.is_empty());
        clusters.sort_by_key(|c| c.members[0]);
        clusters
    }

    /// The clusters of `[clusters]`, reporting members that are not components and
    /// components listed twice; `assigned` records each member's cluster.
    fn explicit_clusters(&mut self, assigned: &mut [Option<usize>]) -> Vec<Cluster> {
        let mut clusters: Vec<Cluster> = Vec::new();
        for (name, decl) in &self.workload.clusters {
            let at = clusters.len();
            let mut members = Vec::new();
            for member in &decl.members {
                let Some(&id) = self.by_name.get(member.value.as_str()) else {
                    let problem = Problem::UnknownClusterMember {
                        cluster: name.clone(),
                        component: member.value.clone(),
                        known: self.names.iter().map(|n| (*n).to_owned()).collect(),
                    };
                    self.report(problem, member.span.clone(), "no such component");
                    continue;
                };
                if let Some(first) = assigned[id.0] {
                    let first = clusters.get(first).map_or(name, |c| &c.name).clone();
                    let problem = Problem::DuplicateClusterMember {
                        component: member.value.clone(),
                        first,
                        second: name.clone(),
                    };
                    self.report(problem, member.span.clone(), "listed again here");
                    continue;
                }
                assigned[id.0] = Some(at);
                if self.loaded[id.0].is_some() {
                    members.push(id);
                }
            }
            members.sort();
            clusters.push(Cluster {
                name: name.clone(),
                members,
                explicit: true,
            });
        }
        clusters
    }

    /// Warns when the members of an explicit cluster do not all import from each other
    /// (directly or through other members): the cluster then fuses unrelated components.
    fn warn_disconnected(&mut self, cluster: &Cluster, bindings: &Bindings) {
        if cluster.members.len() < 2 {
            return;
        }
        let count = self.loaded.len();
        let inside = |id: usize| cluster.members.contains(&ComponentId(id));
        let mut groups = UnionFind::<usize>::new(count);
        for (id, server) in edges(bindings) {
            if inside(id) && inside(server) {
                groups.union(id, server);
            }
        }
        let mut parts: Vec<(usize, Vec<String>)> = Vec::new();
        for member in &cluster.members {
            let root = groups.find(member.0);
            match parts.iter_mut().find(|(r, _)| *r == root) {
                Some((_, names)) => names.push(self.name(*member)),
                None => parts.push((root, vec![self.name(*member)])),
            }
        }
        if parts.len() > 1 {
            let problem = Problem::DisconnectedCluster {
                cluster: cluster.name.clone(),
                parts: parts.into_iter().map(|(_, names)| names).collect(),
            };
            let span = self
                .workload
                .clusters
                .get(&cluster.name)
                .and_then(|d| d.name_span.clone());
            self.report(problem, span, "this cluster");
        }
    }
}

/// Every (importer, server) pair of component indices that a binding connects.
fn edges(bindings: &Bindings) -> impl Iterator<Item = (usize, usize)> + '_ {
    bindings.iter().enumerate().flat_map(|(id, imports)| {
        imports
            .iter()
            .flatten()
            .filter_map(move |b| match &b.provider {
                Provider::Component { component, .. } => Some((id, component.0)),
                _ => None,
            })
    })
}
