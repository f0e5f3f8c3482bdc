//! Limits: `max-memory` in the workload file, per-call deadlines (epoch interruption) and
//! per-component memory caps (the linker's `ResourceLimiter`), on WAT guests that loop
//! forever and that grow their memory on request; and the pooling allocator's sizing by
//! the components' counts and the units of the link mode.

use compose_linker::{
    CallError, CompiledWorkload, Deadlines, LinkMode, PoolSizing, WorkloadLinker, WorkloadState,
};
use compose_resolver::{
    ComponentCounts, ComponentDecl, ComponentType, Problem, Workload, resolve, resolve_file,
};
use std::time::{Duration, Instant};
use wasmtime::component::Val;
use wasmtime::{Engine, Store};

/// The test host's store data.
struct Host {
    workload: WorkloadState,
}

/// A component exporting `acme:x/looper@0.1.0` with `spin: func()`, which never returns,
/// and `ok: func() -> u32`, which returns 7.
const LOOPER: &str = r#"(component
  (core module $m
    (func (export "spin") (loop $l (br $l)))
    (func (export "ok") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m))
  (func $spin (canon lift (core func $i "spin")))
  (func $ok (result u32) (canon lift (core func $i "ok")))
  (instance $api (export "spin" (func $spin)) (export "ok" (func $ok)))
  (export "acme:x/looper@0.1.0" (instance $api)))"#;

/// A component exporting `acme:x/hungry@0.1.0` with `grow: func(pages: u32) -> s32`, which
/// grows its one memory (1 page, 64 KiB, at start) by `pages` and returns `memory.grow`'s
/// result.
const HUNGRY: &str = r#"(component
  (core module $m
    (memory 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
  (core instance $i (instantiate $m))
  (func $grow (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
  (instance $api (export "grow" (func $grow)))
  (export "acme:x/hungry@0.1.0" (instance $api)))"#;

/// A component that imports both of the above and exports `acme:x/app@0.1.0`: `spin`
/// and `ok` forward to the looper, `grow` to the hungry component, and `own: func(pages:
/// u32) -> s32` grows the app's own memory (1 page at start).
const APP: &str = r#"(component
  (import "acme:x/looper@0.1.0" (instance $l
    (export "spin" (func)) (export "ok" (func (result u32)))))
  (import "acme:x/hungry@0.1.0" (instance $h
    (export "grow" (func (param "pages" u32) (result s32)))))
  (core func $spin (canon lower (func $l "spin")))
  (core func $ok (canon lower (func $l "ok")))
  (core func $grow (canon lower (func $h "grow")))
  (core instance $imports
    (export "spin" (func $spin)) (export "ok" (func $ok)) (export "grow" (func $grow)))
  (core module $m
    (import "x" "spin" (func $spin))
    (import "x" "ok" (func $ok (result i32)))
    (import "x" "grow" (func $grow (param i32) (result i32)))
    (memory 1)
    (func (export "spin") (call $spin))
    (func (export "ok") (result i32) (call $ok))
    (func (export "grow") (param i32) (result i32) (call $grow (local.get 0)))
    (func (export "own") (param i32) (result i32) (memory.grow (local.get 0))))
  (core instance $i (instantiate $m (with "x" (instance $imports))))
  (func $a (canon lift (core func $i "spin")))
  (func $b (result u32) (canon lift (core func $i "ok")))
  (func $c (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
  (func $d (param "pages" u32) (result s32) (canon lift (core func $i "own")))
  (instance $api
    (export "spin" (func $a)) (export "ok" (func $b))
    (export "grow" (func $c)) (export "own" (func $d)))
  (export "acme:x/app@0.1.0" (instance $api)))"#;

fn component(wat: &str) -> ComponentDecl {
    ComponentDecl::from_bytes("<wat>", wat::parse_str(wat).expect("valid WAT"))
}

/// The workload `limits` (app, looper, hungry), with `max-memory` per component as given,
/// compiled for an engine with epoch interruption.
fn link(app_max: Option<u64>, hungry_max: Option<u64>) -> CompiledWorkload<Host> {
    let with_max = |decl: ComponentDecl, max: Option<u64>| match max {
        Some(bytes) => decl.with_max_memory(bytes),
        None => decl,
    };
    let workload = Workload::new("limits")
        .with_component("app", with_max(component(APP), app_max))
        .with_component("looper", component(LOOPER))
        .with_component("hungry", with_max(component(HUNGRY), hungry_max));
    let plan = resolve(&workload).expect("the limits workload resolves");
    let mut config = compose_linker::config_for(&plan);
    Deadlines::configure(&mut config);
    let engine = Engine::new(&config).expect("engine");
    WorkloadLinker::<Host>::new(&engine, &plan)
        .compile(|host| &mut host.workload)
        .expect("the limits workload links")
}

/// A store for `workload` with its memory caps installed and no deadline.
fn store(workload: &CompiledWorkload<Host>) -> Store<Host> {
    let mut store = Store::new(
        workload.engine(),
        Host {
            workload: workload.new_state(),
        },
    );
    workload.limit_memory(&mut store);
    Deadlines::clear(&mut store);
    store
}

/// Calls `acme:x/app@0.1.0#<function>` with `params`; the first result, if any.
fn call(
    workload: &CompiledWorkload<Host>,
    store: &mut Store<Host>,
    function: &str,
    params: &[Val],
) -> Result<Option<Val>, CallError> {
    let func = workload
        .func(Some("acme:x/app@0.1.0"), function)
        .expect("app function");
    let mut results = vec![Val::Bool(false); func.ty().results().len()];
    workload.call(store, &func, params, &mut results)?;
    Ok(results.into_iter().next())
}

/// The error and its causes, one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text += &format!(": {e}");
        cause = e.source();
    }
    text
}

#[test]
fn max_memory_is_read_with_units_and_validated() {
    let dir = std::env::temp_dir().join(format!("compose-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = compose_tests::fixture("x")
        .parent()
        .unwrap()
        .display()
        .to_string();
    let write = |max: &str| {
        let path = dir.join("workload.toml");
        let text = format!(
            "name = \"w\"\n[components.formatter]\npath = \"{fixtures}/formatter.wasm\"\nmax-memory = {max}\n"
        );
        std::fs::write(&path, text).unwrap();
        resolve_file(&path)
    };
    for (text, bytes) in [
        ("\"64MiB\"", 64 << 20),
        ("\"1 GiB\"", 1 << 30),
        ("\"640KiB\"", 640 << 10),
        ("\"70000B\"", 70000),
    ] {
        let plan = write(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert_eq!(plan.components[0].max_memory, Some(bytes), "{text}");
    }
    for (text, why) in [
        ("\"0MiB\"", "it must be positive"),
        ("\"64MB\"", "`MB` is not a unit"),
        ("\"64\"", "it has no unit"),
        ("67108864", "it has no unit"),
        ("\"-1MiB\"", "does not start with a whole number"),
        ("\"99999999999GiB\"", "it is too large"),
    ] {
        let error = write(text).expect_err(text);
        let problem = &error.diagnostics[0];
        assert!(
            matches!(problem.problem, Problem::InvalidWorkload { .. }),
            "{text}"
        );
        let message = problem.problem.to_string();
        assert!(
            message.contains("max-memory") && message.contains(why) && message.contains("MiB"),
            "{text}: {message}"
        );
        assert_eq!(problem.line_column(), Some((4, 14)), "{text}");
    }
    let plan = write("\"2MiB\"").unwrap();
    assert_eq!(plan.components[0].max_memory, Some(2 << 20));
}

#[test]
fn an_infinite_loop_in_a_callee_ends_the_call_with_a_deadline_error_naming_it() {
    let workload = link(None, None);
    let deadlines = Deadlines::start(workload.engine(), Duration::from_millis(5)).unwrap();
    let mut store = store(&workload);
    deadlines.set(&mut store, Duration::from_millis(100));
    let started = Instant::now();
    let error = call(&workload, &mut store, "spin", &[]).expect_err("the loop is interrupted");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(100) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert!(error.is_deadline(), "{}", chain(&error));
    let innermost = error.innermost();
    assert_eq!(innermost.component(), Some("looper"));
    assert_eq!(
        innermost.func().map(ToString::to_string).as_deref(),
        Some("acme:x/looper@0.1.0#spin")
    );
    assert_eq!(error.component(), Some("app"));
    let text = chain(&error);
    assert!(
        text.contains("`looper`") && text.contains("deadline"),
        "{text}"
    );

    // The next call, in a new store, gets fresh instances and completes.
    let mut store = self::store(&workload);
    deadlines.set(&mut store, Duration::from_millis(100));
    assert_eq!(
        call(&workload, &mut store, "ok", &[]).unwrap(),
        Some(Val::U32(7))
    );
}

#[test]
fn a_deadline_interrupts_a_loop_called_directly_by_the_host() {
    let workload = link(None, None);
    let deadlines = Deadlines::start(workload.engine(), Duration::from_millis(5)).unwrap();
    let mut store = store(&workload);
    deadlines.set(&mut store, Duration::from_millis(20));
    let spin = workload
        .component_func("looper", Some("acme:x/looper@0.1.0"), "spin")
        .unwrap();
    let error = workload.call(&mut store, &spin, &[], &mut []).unwrap_err();
    assert!(error.is_deadline());
    assert_eq!(error.innermost().component(), Some("looper"));
    assert!(error.to_string().contains("`looper`"), "{}", chain(&error));
}

#[test]
fn without_a_deadline_passing_calls_complete() {
    let workload = link(None, None);
    let deadlines = Deadlines::start(workload.engine(), Duration::from_millis(1)).unwrap();
    let mut store = store(&workload);
    deadlines.set(&mut store, Duration::from_secs(30));
    for _ in 0..3 {
        assert_eq!(
            call(&workload, &mut store, "ok", &[]).unwrap(),
            Some(Val::U32(7))
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_component_growing_past_its_max_memory_fails_the_call_naming_it() {
    // hungry: 1 page at start, at most 1 MiB (16 pages).
    let workload = link(None, Some(1 << 20));
    let mut store = store(&workload);
    assert_eq!(
        call(&workload, &mut store, "grow", &[Val::U32(15)]).unwrap(),
        Some(Val::S32(1)),
        "growing to exactly the cap is allowed"
    );
    assert_eq!(store.data().workload.memory("hungry"), 1 << 20);
    let error = call(&workload, &mut store, "grow", &[Val::U32(1)]).unwrap_err();
    let limit = error.memory_limit().expect("the cap failed the call");
    assert_eq!(limit.component, "hungry");
    assert_eq!(limit.limit, 1 << 20);
    assert_eq!(limit.requested, (1 << 20) + (64 << 10));
    assert_eq!(error.innermost().component(), Some("hungry"));
    let text = chain(&error);
    assert!(
        text.contains(
            "component `hungry` would hold 1088 KiB of linear memory, past its max-memory of 1 MiB"
        ),
        "{text}"
    );

    // The app's own memory is not charged to `hungry`, and it has no cap.
    let mut store = self::store(&workload);
    assert_eq!(
        call(&workload, &mut store, "own", &[Val::U32(100)]).unwrap(),
        Some(Val::S32(1))
    );
    assert_eq!(store.data().workload.memory("app"), 101 * (64 << 10));
    assert_eq!(store.data().workload.memory("hungry"), 0);
}

#[test]
fn the_cap_of_the_caller_does_not_limit_its_callee() {
    // app: at most 128 KiB (2 pages); hungry: unlimited.
    let workload = link(Some(128 << 10), None);
    let mut store = store(&workload);
    assert_eq!(
        call(&workload, &mut store, "grow", &[Val::U32(100)]).unwrap(),
        Some(Val::S32(1))
    );
    assert_eq!(store.data().workload.memory("hungry"), 101 * (64 << 10));
    let error = call(&workload, &mut store, "own", &[Val::U32(2)]).unwrap_err();
    assert_eq!(
        error.memory_limit().map(|l| l.component.as_str()),
        Some("app")
    );
}

#[test]
fn an_initial_memory_larger_than_the_cap_fails_instantiation_naming_the_component() {
    // hungry starts with 64 KiB; its cap is 32 KiB.
    let workload = link(None, Some(32 << 10));
    let mut store = store(&workload);
    let error = call(&workload, &mut store, "grow", &[Val::U32(1)]).unwrap_err();
    let innermost = error.innermost();
    assert!(
        matches!(innermost, CallError::Instantiate { component, .. } if component == "hungry"),
        "{}",
        chain(&error)
    );
    assert_eq!(error.memory_limit().map(|l| l.requested), Some(64 << 10));
}

#[test]
fn a_component_counts_the_core_instances_memories_and_tables_it_defines() {
    // Two instances of one module (its memory and table count once) and a nested
    // component with a module of its own.
    let bytes = wat::parse_str(
        r#"(component
  (core module $m (memory 1) (table 1 funcref))
  (core instance (instantiate $m))
  (core instance (instantiate $m))
  (component $inner
    (core module $n (memory 1) (memory 1))
    (core instance (instantiate $n)))
  (instance (instantiate $inner)))"#,
    )
    .expect("valid WAT");
    let ty = ComponentType::read(bytes.into(), &mut Default::default()).expect("a component");
    let expected = ComponentCounts {
        core_instances: 3,
        memories: 3,
        tables: 1,
    };
    assert_eq!(ty.counts, expected);
}

#[test]
fn the_pool_is_sized_by_the_units_of_the_link_mode() {
    let plan = resolve_file(compose_tests::example_workload("shop")).expect("the shop resolves");
    let memories = |name: &str| {
        let id = plan.find(name).expect("a component");
        2 * plan.component(id).ty.counts.memories
    };
    let each: Vec<u32> = plan.components.iter().map(|c| memories(&c.name)).collect();
    let total: u32 = each.iter().sum();
    let names = |units: Vec<Vec<compose_resolver::ComponentId>>| -> Vec<Vec<String>> {
        let name = |id| plan.component(id).name.clone();
        units
            .into_iter()
            .map(|u| u.into_iter().map(name).collect())
            .collect()
    };

    // Per component: each its own unit.
    assert_eq!(
        LinkMode::PerComponent.units(&plan).len(),
        plan.components.len()
    );
    let per_component = PoolSizing::new(&plan, LinkMode::PerComponent);
    assert_eq!(
        per_component.max_memories_per_unit,
        *each.iter().max().unwrap()
    );
    // Clusters: `hot` (frontend and formatter) is one unit, the others alone.
    let units = names(LinkMode::Clusters.units(&plan));
    assert!(
        units.contains(&vec!["frontend".to_owned(), "formatter".to_owned()]),
        "{units:?}"
    );
    assert_eq!(units.len(), plan.components.len() - 1);
    let clusters = PoolSizing::new(&plan, LinkMode::Clusters);
    let hot = memories("frontend") + memories("formatter");
    assert_eq!(
        clusters.max_memories_per_unit,
        hot.max(*each.iter().max().unwrap())
    );
    // Composed: one unit holding everything.
    assert_eq!(LinkMode::Composed.units(&plan).len(), 1);
    let composed = PoolSizing::new(&plan, LinkMode::Composed);
    assert_eq!(composed.max_memories_per_unit, total);

    // The totals are the same in every mode: one instance of every component per store.
    for sizing in [per_component, clusters, composed] {
        assert_eq!(sizing.memories, total);
        assert_eq!(sizing.component_instances, 6);
    }
}
