//! JSON for tools: the resolver's plan JSON (`compose resolve --format json`), with
//! component paths as the workload file writes them, plus what a failing workload needs.

use crate::model::{Node, WorkloadGraph, display_path};
use compose_resolver::{ComponentSource, Severity};
use serde_json::{Value, json};

impl WorkloadGraph {
    /// The picture's data as JSON: a superset of [`Plan::to_json`] (`compose resolve
    /// --format json`):
    ///
    /// - `name`, `components`, `order`, `exports`, `host-imports`, `warnings` as there,
    ///   except that each component's `path` is the file as the workload file writes it
    ///   (relative to the workload file's folder), so the output does not depend on where
    ///   the workload is;
    /// - `resolved`: whether the workload resolves;
    /// - `problems`: every error and warning of a workload that does not resolve, each with
    ///   `severity`, `code` (`compose::unsatisfied-import`), `message` and `help`;
    /// - `host`: `interfaces` (the patterns of `[host] interfaces`) and `backends` (label to
    ///   interface, from `[host] backends`).
    ///
    /// For a workload that does not resolve, the components, exports and host imports are
    /// those that did resolve: a broken import has `provider` and `rule` `null` and a
    /// `problem` code; a component that could not be read has `size` `null`, no imports or
    /// exports, and a `problem` code; `order` is `null`; `warnings` are the resolver's.
    ///
    /// [`Plan::to_json`]: compose_resolver::Plan::to_json
    pub fn to_json(&self) -> Value {
        let wiring = &self.wiring;
        let workload = &wiring.workload;
        let mut plan = wiring.plan.as_ref().map_or_else(
            || json!({ "name": workload.name.value, "components": [], "exports": [], "host-imports": [], "warnings": [] }),
            |p| p.to_json(),
        );
        let planned = plan["components"].as_array().cloned().unwrap_or_default();
        let mut components = Vec::new();
        for (name, decl) in &workload.components {
            let path = match &decl.source.value {
                ComponentSource::Path(path) => Value::from(display_path(path)),
                ComponentSource::Bytes { .. } => Value::Null,
            };
            let mut component = planned
                .iter()
                .find(|c| c["name"] == name.as_str())
                .cloned()
                .unwrap_or_else(|| {
                    let size = self.nodes().find_map(|(_, n)| match n {
                        Node::Component { name: n, size, .. } if n == name => *size,
                        _ => None,
                    });
                    json!({
                        "name": name,
                        "size": size,
                        "instantiate": decl.instantiate,
                        "imports": [],
                        "exports": [],
                    })
                });
            component["path"] = path;
            if let Some(problem) = wiring.removed.get(name) {
                component["size"] = Value::Null;
                component["problem"] = problem.code().into();
            }
            // The plan lists bound imports only: put the broken ones back in import order.
            let planned = wiring
                .plan
                .as_ref()
                .and_then(|p| Some(p.component(p.find(name)?)));
            if let Some(planned) = planned {
                let bound = component["imports"].as_array().cloned().unwrap_or_default();
                let types = &wiring.plan.as_ref().expect("planned").types;
                component["imports"] = planned
                    .ty
                    .imports
                    .iter()
                    .filter_map(|import| match wiring.problem(name, &import.name) {
                        Some(problem) => Some(json!({
                            "name": import.name,
                            "implements": import.implements,
                            "kind": import.kind.desc(types),
                            "provider": null,
                            "rule": null,
                            "problem": problem.code(),
                        })),
                        None => bound
                            .iter()
                            .find(|b| b["name"] == import.name.as_str())
                            .cloned(),
                    })
                    .collect();
            }
            components.push(component);
        }
        plan["components"] = components.into();

        if let Some(error) = &wiring.error {
            plan["order"] = Value::Null;
            plan["warnings"] = error
                .diagnostics
                .iter()
                .filter(|d| d.severity() == Severity::Warning)
                .map(|d| json!({ "code": d.problem.code(), "message": d.problem.to_string() }))
                .collect();
            plan["problems"] = error
                .diagnostics
                .iter()
                .map(|d| {
                    json!({
                        "severity": d.severity(),
                        "code": d.problem.code(),
                        "message": d.problem.to_string(),
                        "help": d.problem.help(),
                    })
                })
                .collect();
        } else {
            plan["problems"] = json!([]);
        }
        plan["resolved"] = self.resolved().into();
        plan["host"] = json!({
            "interfaces": self.host_patterns,
            "backends": workload
                .host
                .backends
                .iter()
                .map(|(label, b)| (label.clone(), Value::from(b.interface.value.clone())))
                .collect::<serde_json::Map<_, _>>(),
        });
        plan
    }
}
