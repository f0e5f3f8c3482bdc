//! `compose cost`: what one instantiation creates, counted from the binary, and what one
//! call reaches per link mode, from the plan.

use compose_cost::{Counts, LinkMode, PAGE, count, reached, report};

/// Module `A` (a memory of 2 pages up to 10, a table of 5, 3 globals) instantiated twice,
/// `B` (1 global) once, a `FromExports` instance (creates nothing), and a nested component
/// with one module (a memory of 1 page, no maximum) instantiated twice.
const NESTED: &str = r#"(component
  (core module $A
    (memory (export "memory") 2 10)
    (table 5 funcref)
    (global i32 (i32.const 0)) (global i32 (i32.const 1)) (global i32 (i32.const 2)))
  (core module $B (global i32 (i32.const 0)))
  (core instance $a1 (instantiate $A))
  (core instance $a2 (instantiate $A))
  (core instance $b (instantiate $B))
  (alias core export $a1 "memory" (core memory $m))
  (core instance $e (export "m" (memory $m)))
  (component $C
    (core module $M (memory 1))
    (core instance (instantiate $M)))
  (instance (instantiate $C))
  (instance (instantiate $C))
)"#;

#[test]
fn one_instantiation_counts_each_instantiated_module_as_often_as_it_is_instantiated() {
    let bytes = wat::parse_str(NESTED).unwrap();
    let counts = count(&bytes).unwrap();
    assert_eq!(
        counts,
        Counts {
            core_modules: 3,
            core_instances: 2 + 1 + 2,
            component_instances: 2,
            memories: 2 + 2,
            memory_initial_bytes: (2 * 2 + 2) * PAGE,
            memory_maximum_bytes: None,
            tables: 2,
            table_elements: 10,
            globals: 3 * 2 + 1,
        }
    );
}

#[test]
fn a_memory_maximum_is_summed_when_every_memory_has_one() {
    let bytes = wat::parse_str(
        "(component (core module $A (memory 1 3)) (core instance (instantiate $A)) (core instance (instantiate $A)))",
    )
    .unwrap();
    let counts = count(&bytes).unwrap();
    assert_eq!(counts.memory_maximum_bytes, Some(6 * PAGE));
    assert_eq!(counts.memory_initial_bytes, 2 * PAGE);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(count(b"\0asm\x0d\0\x01\0garbage").is_err());
}

fn shop() -> compose_resolver::Plan {
    compose_resolver::resolve_file(
        compose_tests::workspace_root().join("fixtures/shop/workload.toml"),
    )
    .unwrap()
}

fn names(plan: &compose_resolver::Plan, export: &str, mode: LinkMode) -> Vec<String> {
    let entry = plan
        .exports
        .iter()
        .find(|e| e.name == export)
        .unwrap()
        .component;
    reached(plan, entry, mode)
        .into_iter()
        .map(|id| plan.components[id.index()].name.clone())
        .collect()
}

#[test]
fn a_call_reaches_fewer_components_per_component_than_composed() {
    let plan = shop();
    let report_lazy = names(&plan, "acme:app/report@0.1.0", LinkMode::PerComponent);
    let report_composed = names(&plan, "acme:app/report@0.1.0", LinkMode::Composed);
    assert_eq!(report_lazy, ["reporter"]);
    assert_eq!(report_composed.len(), plan.components.len());
    let handler = names(&plan, "acme:app/handler@0.1.0", LinkMode::PerComponent);
    assert!(handler.contains(&"frontend".to_owned()) && handler.contains(&"formatter".to_owned()));
    // reporter is eager: every store instantiates it.
    assert!(handler.contains(&"reporter".to_owned()));
}

#[test]
fn an_entry_points_cost_is_the_sum_of_the_components_it_reaches() {
    let plan = shop();
    let report = report(&plan, 8 << 30).unwrap();
    for entry in &report.entries {
        for mode in &entry.modes {
            let by_name = |n: &String| report.components.iter().find(|c| &c.name == n).unwrap();
            let memories: u64 = mode
                .components
                .iter()
                .map(|n| by_name(n).counts.memories)
                .sum();
            let instances: u64 = mode
                .components
                .iter()
                .map(|n| by_name(n).counts.core_instances)
                .sum();
            assert_eq!(mode.counts.memories, memories);
            assert_eq!(mode.counts.core_instances, instances);
            assert!(mode.counts.core_instances >= 2 * mode.components.len() as u64);
            let held = mode.capacity.in_flight;
            assert!(held * mode.counts.core_instances <= 1000);
            assert!(held * mode.counts.memory_initial_bytes <= 8 << 30);
        }
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["entries"][0]["modes"][2]["mode"], "composed");
}

#[test]
fn every_fixture_component_parses() {
    let dir = compose_tests::workspace_root().join("fixtures/components");
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let counts = count(&std::fs::read(&path).unwrap()).unwrap();
            assert!(counts.core_instances >= 1, "{}", path.display());
        }
    }
}
