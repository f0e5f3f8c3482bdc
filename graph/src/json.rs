//! JSON for tools: the resolver's plan JSON (`compose resolve --format json`), with
//! component paths as the workload file writes them, plus what a failing workload needs.

use crate::model::WorkloadGraph;
use compose_resolver::{PathStyle, WorkloadJson};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// The picture's data: the resolver's [`WorkloadJson`] with paths as written, plus `host`.
#[derive(Serialize)]
struct GraphJson<'a> {
    #[serde(flatten)]
    workload: WorkloadJson<'a>,
    host: HostJson<'a>,
}

/// `[host]` as the resolver checked it.
#[derive(Serialize)]
struct HostJson<'a> {
    /// The patterns of `[host] interfaces`.
    interfaces: Vec<String>,
    /// Each backend's label and the interface it implements.
    backends: IndexMap<&'a str, &'a str>,
}

impl WorkloadGraph {
    /// The picture's data as JSON: the resolver's JSON schema (`compose resolve --format
    /// json`, [`WorkloadJson`]) with each component's `path` as the workload file writes
    /// it (relative to the workload file's folder), so that the output does not depend on
    /// where the workload is, plus `host`: `interfaces` (the patterns of `[host]
    /// interfaces`) and `backends` (label to interface).
    pub fn to_json(&self) -> Value {
        let wiring = &self.wiring;
        let workload = match (&wiring.error, &wiring.plan) {
            (Some(error), _) => error.json(PathStyle::Written),
            (None, Some(plan)) => plan.json(PathStyle::Written),
            (None, None) => unreachable!("a wiring has a plan or an error"),
        };
        let host = wiring.plan.as_ref().map(|p| &p.host);
        let json = GraphJson {
            workload,
            host: HostJson {
                interfaces: host.map_or_else(Vec::new, |h| {
                    h.interfaces.iter().map(ToString::to_string).collect()
                }),
                backends: host.map_or_else(IndexMap::new, |h| {
                    h.backends
                        .values()
                        .map(|b| (b.label.as_str(), b.interface.as_str()))
                        .collect()
                }),
            },
        };
        serde_json::to_value(json).expect("the schema serializes")
    }
}
