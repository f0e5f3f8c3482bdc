//! `compose cost`: what one instantiation creates, counted from the binary, and what one
//! call reaches per link mode, from the plan.

use compose_cost::{
    Counts, Entry, Limits, LinkMode, MeasureOptions, Measurement, PAGE, ReportOptions, count,
    reached, report,
};

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
    let report = report(&plan, &ReportOptions::default()).unwrap();
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
            let c = &mode.capacity;
            assert!(c.in_flight * mode.counts.memory_initial_bytes <= 8 << 30);
            assert!(c.pool_address_space_bytes <= 1 << 47);
            // The pool `compose serve --pool <in flight>` makes: per store, two of every
            // memory of the workload (room to instantiate again after a trap).
            let memories: u64 = report.components.iter().map(|c| c.counts.memories).sum();
            assert_eq!(c.pool_memories, c.in_flight * 2 * memories);
            assert!(c.with_wasmtime_default_pool * mode.counts.core_instances <= 1000);
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

fn measure(plan: &compose_resolver::Plan, entry: Entry, link: LinkMode) -> Measurement {
    let offer = compose_host::grants::Offer::default().env("GREETING", "Hi");
    let options = MeasureOptions {
        entry,
        link,
        held: 8,
        offer,
        timeout: Some(std::time::Duration::from_secs(60)),
        pooling: None,
        compile: Default::default(),
    };
    compose_cost::measure(plan, &options).unwrap()
}

/// The static count of component `name` of `plan`.
fn counted(plan: &compose_resolver::Plan, name: &str) -> Counts {
    let component = plan.components.iter().find(|c| c.name == name).unwrap();
    count(&component.ty.bytes).unwrap()
}

#[test]
fn a_measured_call_reports_what_each_component_it_reached_holds() {
    let plan = crate::serve::plan("shop");
    let call = compose_host::Call::parse(r#"handler#greet("ann")"#).unwrap();
    let entry = Entry::Call {
        call,
        component: None,
    };
    let measured = measure(&plan, entry, LinkMode::PerComponent);
    assert_eq!(measured.export.as_deref(), Some("acme:app/handler@0.1.0"));
    let names: Vec<_> = measured
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    // The eager reporter, the frontend called, the formatter and the session store it
    // calls; never the teams' backends, which greet does not touch.
    let reached = reached(&plan, plan.exports[0].component, LinkMode::PerComponent);
    for name in &names {
        let id = plan
            .components
            .iter()
            .position(|c| c.name == *name)
            .unwrap();
        assert!(
            reached.iter().any(|r| r.index() == id),
            "{name} is reachable"
        );
    }
    assert!(
        names.contains(&"frontend") && names.contains(&"reporter"),
        "{names:?}"
    );
    assert!(!names.contains(&"team-a-postgres"), "{names:?}");
    for c in &measured.components {
        let counts = counted(&plan, &c.name);
        // Instantiation creates the memories and tables the binary defines, at their
        // initial sizes; the call may only have grown them.
        assert!(
            c.memory_bytes >= counts.memory_initial_bytes,
            "{c:?} {counts:?}"
        );
        assert!(
            c.table_elements >= counts.table_elements,
            "{c:?} {counts:?}"
        );
        assert!(c.instantiation_us > 0, "{c:?}");
    }
    // The resident set is the whole test process's, which other tests share: its growth
    // is asserted in a process of its own (cli/tests, `compose cost --measure`).
    assert_eq!(measured.held, 8);
    let grown = measured
        .resident_held
        .saturating_sub(measured.resident_before);
    assert_eq!(measured.resident_per_call, grown / 8);
}

#[test]
fn a_measured_http_request_holds_its_requests_open_and_replaces_the_prediction() {
    let plan = crate::serve::plan("web");
    let entry = Entry::Http {
        path: "/sleep/500".into(),
    };
    let measured = measure(&plan, entry, LinkMode::PerComponent);
    // `/sleep` does not format: only the greeter is instantiated per component.
    let names: Vec<_> = measured
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["greeter"]);
    // Each request sleeps half a second: all eight are in flight at once.
    assert_eq!(measured.held, 8, "{measured:?}");
    let export = measured.export.clone().unwrap();
    assert!(
        export.starts_with("wasi:http/incoming-handler@0.2"),
        "{export}"
    );
    let options = ReportOptions {
        export: Some("incoming-handler".into()),
        link: Some(LinkMode::PerComponent),
        measured: Some(measured.clone()),
        ..ReportOptions::default()
    };
    let report = report(&plan, &options).unwrap();
    assert_eq!(report.entries.len(), 1);
    let mode = &report.entries[0].modes[..];
    assert_eq!(mode.len(), 1);
    assert_eq!(
        mode[0].capacity.bytes_per_call,
        measured.resident_per_call.max(PAGE)
    );
    assert_eq!(
        mode[0].capacity.per_gib,
        (1 << 30) / mode[0].capacity.bytes_per_call
    );
}

#[test]
fn a_failing_request_is_a_measurement_error_naming_its_status() {
    let plan = crate::serve::plan("web");
    let options = MeasureOptions {
        entry: Entry::Http {
            path: "/alloc/100".into(),
        },
        link: LinkMode::PerComponent,
        held: 2,
        offer: compose_host::grants::Offer::default(),
        timeout: None,
        pooling: Some(4),
        compile: Default::default(),
    };
    let error = compose_cost::measure(&plan, &options)
        .unwrap_err()
        .to_string();
    assert!(error.contains("GET /alloc/100 answered 500"), "{error}");
    assert!(error.contains("greeter"), "{error}");
}

#[test]
fn an_export_the_workload_does_not_have_is_an_error_listing_those_it_has() {
    let options = ReportOptions {
        export: Some("nope".into()),
        ..ReportOptions::default()
    };
    let error = report(&shop(), &options).unwrap_err().to_string();
    assert!(error.contains("no export `nope`"), "{error}");
    assert!(error.contains("acme:app/report@0.1.0"), "{error}");
}

#[test]
fn compiled_code_sizes_come_through_the_cache_and_agree_with_a_cold_compile() {
    use compose_linker::{CodeCache, CompileEvent, CompileOptions};
    use std::sync::{Arc, Mutex};
    let plan = crate::serve::plan("web");
    let dir = tempfile::tempdir().unwrap();
    let compiled = Arc::new(Mutex::new(0));
    let seen = compiled.clone();
    let options = CompileOptions {
        cache: Some(CodeCache::new(dir.path())),
        observer: Some(Arc::new(move |event: &CompileEvent<'_>| {
            if let CompileEvent::Started { .. } = event {
                *seen.lock().unwrap() += 1;
            }
        })),
    };
    let cold = compose_cost::compiled_sizes(&plan, &options).unwrap();
    assert_eq!(
        *compiled.lock().unwrap(),
        2,
        "greeter and formatter compiled"
    );
    let warm = compose_cost::compiled_sizes(&plan, &options).unwrap();
    assert_eq!(
        *compiled.lock().unwrap(),
        2,
        "the second time, both come from the cache"
    );
    assert_eq!(cold, warm);
    // Machine code is bigger than nothing and, for these two, than a tenth of the binary.
    for (size, c) in cold.iter().zip(&plan.components) {
        assert!(*size > c.ty.bytes.len() as u64 / 10, "{}: {size}", c.name);
    }
    let options = ReportOptions {
        compile: Some(CompileOptions::default()),
        ..ReportOptions::default()
    };
    let report = report(&plan, &options).unwrap();
    let sizes: Vec<_> = report
        .components
        .iter()
        .map(|c| c.compiled_bytes.unwrap())
        .collect();
    assert_eq!(sizes, cold, "an uncached compile gives the same sizes");
}

#[test]
fn a_large_host_is_bounded_by_the_address_space_its_pool_reserves() {
    let plan = shop();
    let sizing = compose_linker::PoolSizing::new(&plan, LinkMode::PerComponent);
    let call = counted(&plan, "frontend");
    // 8 GiB at 64 KiB a call: 131,072 calls by memory.
    let small = compose_cost::capacity(&call, Some(PAGE), &sizing, &Limits::new(8 << 30));
    // Each store's pool reserves 4 GiB + 32 MiB per memory, for every memory of every
    // component twice: 128 TiB holds fewer stores than that.
    let per_store = u64::from(sizing.memories) * ((4 << 30) + (32 << 20));
    assert_eq!(small.first_limit, "address-space");
    assert_eq!(small.in_flight, (1 << 47) / per_store);
    assert_eq!(small.pool_address_space_bytes, small.in_flight * per_store);
    // At 64 MiB a call, memory binds first.
    let big = compose_cost::capacity(&call, Some(64 << 20), &sizing, &Limits::new(8 << 30));
    assert_eq!((big.first_limit, big.in_flight), ("memory", 128));
    assert_eq!(
        big.pool_core_instances,
        128 * u64::from(sizing.core_instances)
    );
}
