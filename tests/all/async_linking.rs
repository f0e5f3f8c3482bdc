//! Async functions, streams and futures (component-model async) forwarded through the
//! linker's trampolines, on the `fixtures/async` and `fixtures/pipe` workloads (Rust guests
//! built with wit-bindgen 0.61's async support): plain values, sync and async callers and
//! callees, traps, `stream<u8>` across two hops, dropped readers, `future<u32>`, lazy
//! instantiation, and the same results composed statically.

use compose_linker::{CallError, CompiledWorkload, WorkloadFunc, WorkloadLinker, WorkloadState};
use compose_resolver::{Plan, resolve_file};
use compose_tests::example_workload;
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Engine, Store};

/// The test host's store data: only the workload's state (the fixtures import no host
/// interfaces).
struct Host {
    workload: WorkloadState,
}

/// The plan of the example workload `name` and its engine (`config_for`).
fn plan(name: &str) -> (Plan, Engine) {
    let plan = resolve_file(example_workload(name)).expect("the workload resolves");
    let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
    (plan, engine)
}

fn link(name: &str) -> CompiledWorkload<Host> {
    let (plan, engine) = plan(name);
    WorkloadLinker::<Host>::new(&engine, &plan)
        .compile(|host| &mut host.workload)
        .expect("the workload links")
}

fn store(workload: &CompiledWorkload<Host>) -> Store<Host> {
    let state = workload.new_state();
    Store::new(workload.engine(), Host { workload: state })
}

/// Runs `future` to completion on a single-threaded tokio runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Calls `interface#function(args)` of the workload in `store`.
fn call(
    workload: &CompiledWorkload<Host>,
    store: &mut Store<Host>,
    interface: &str,
    function: &str,
    args: &[Val],
) -> Result<Vec<Val>, CallError> {
    let func = workload
        .func(Some(interface), function)
        .expect("the export exists");
    call_func(workload, store, &func, args)
}

fn call_func(
    workload: &CompiledWorkload<Host>,
    store: &mut Store<Host>,
    func: &WorkloadFunc,
    args: &[Val],
) -> Result<Vec<Val>, CallError> {
    let mut results = vec![Val::Bool(false); func.ty().results().len()];
    block_on(workload.call_async(store, func, args, &mut results))?;
    Ok(results)
}

fn live(store: &Store<Host>) -> Vec<&str> {
    store
        .data()
        .workload
        .live_instances()
        .map(|l| l.component)
        .collect()
}

/// The checksum of `n` bytes of the source (`b'a' + i % 26`), upper-cased when `upper`.
fn checksum(n: u64, upper: bool) -> u64 {
    let base = if upper { b'A' } else { b'a' };
    (0..n).map(|i| u64::from(base) + i % 26).sum()
}

fn pair(a: u64, b: u64) -> Val {
    Val::Tuple(vec![Val::U64(a), Val::U64(b)])
}

const MIB: u32 = 1024 * 1024;

#[test]
fn an_async_caller_awaits_an_async_callee_instantiated_on_first_call() {
    let workload = link("async");
    let mut store = store(&workload);
    let out = call(
        &workload,
        &mut store,
        "driver",
        "run-add",
        &[Val::U32(1000)],
    )
    .unwrap();
    assert_eq!(out, [Val::U32(1000)]);
    assert_eq!(live(&store), ["caller", "callee"]);
    let s = Val::String("héllo".into());
    let out = call(
        &workload,
        &mut store,
        "driver",
        "run-echo",
        &[Val::U32(3), s],
    )
    .unwrap();
    assert_eq!(out, [Val::U64(18)]);
    assert_eq!(store.data().workload.instantiations("callee"), 1);
}

#[test]
fn an_async_caller_calling_a_sync_callee_fails_with_the_reason() {
    // Wasmtime 48 cannot forward a synchronous call in a store that runs concurrently (see
    // compose-linker's `async_call`); the call fails with an error that says so.
    let workload = link("async");
    let mut store = store(&workload);
    let args = [Val::U32(5)];
    let error = call(
        &workload,
        &mut store,
        "driver",
        "run-add-sync-callee",
        &args,
    )
    .unwrap_err();
    let text = format!("{error}: {}", chain(&error));
    assert!(
        text.contains("acme:bench/ops@0.1.0#add-one of `sync-ops`"),
        "{text}"
    );
    assert!(
        text.contains("is a synchronous function and the workload has async functions"),
        "{text}"
    );
    // The callee was never instantiated: the call stopped in the trampoline.
    assert!(!store.data().workload.is_live("sync-ops"));
}

#[test]
fn resolve_warns_about_each_synchronous_import_served_by_a_component() {
    // The same limit, before anything runs: one warning for `caller`'s synchronous
    // `acme:bench/ops` (served by `sync-ops`); none for the async `ops` imports, none in
    // the stream pipeline, whose imports are all async.
    let (ops, _) = plan("async");
    let warnings: Vec<_> = ops.warnings.iter().map(|w| &w.problem).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let compose_resolver::Problem::SyncCallInAsyncWorkload {
        component,
        import,
        server,
        functions,
    } = warnings[0]
    else {
        panic!("{warnings:?}");
    };
    assert_eq!(
        (component.as_str(), import.as_str(), server.as_str()),
        ("caller", "acme:bench/ops@0.1.0", "sync-ops")
    );
    assert!(functions.contains("add-one"), "{functions}");
    assert_eq!(ops.warnings[0].line_column(), Some((8, 13)));
    // In the pipeline every import is async; `transform.check` passes an error-context.
    let pipe = plan("pipe").0;
    let codes: Vec<_> = pipe.warnings.iter().map(|w| w.problem.code()).collect();
    assert_eq!(codes, ["compose::error-context-across-components"]);
    let text = pipe.warnings[0].to_string();
    assert!(
        text.contains("import `acme:pipe/transform@0.1.0` of `sink` is served by `transform`"),
        "{text}"
    );
    assert!(text.contains("(check)"), "{text}");
}

#[test]
fn a_sync_caller_cannot_block_on_an_async_callee() {
    // The component model's rule: a synchronous export's task may not block before it
    // returns; Wasmtime traps, linked or composed alike (see `linked_and_composed`).
    let workload = link("async");
    let mut store = store(&workload);
    let error = call(
        &workload,
        &mut store,
        "sync-driver",
        "run-add",
        &[Val::U32(3)],
    )
    .unwrap_err();
    let text = format!("{error}: {}", chain(&error));
    assert!(text.contains("run-add of `blocking`"), "{text}");
    assert!(
        text.contains("cannot block a synchronous task before returning"),
        "{text}"
    );
}

#[test]
fn a_trap_in_an_async_callee_reaches_the_caller_with_names() {
    let workload = link("async");
    let mut store = store(&workload);
    let error = call(&workload, &mut store, "driver", "run-fail", &[Val::U32(1)]).unwrap_err();
    let text = format!("{error}: {}", chain(&error));
    assert!(text.contains("`caller`"), "{text}");
    assert!(text.contains("`callee`"), "{text}");
    assert!(text.contains("acme:pipe/ops@0.1.0#fail"), "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert_eq!(
        store
            .data()
            .workload
            .poisoned_by()
            .map(|(c, f)| (c, f.to_string())),
        Some(("callee", "acme:pipe/ops@0.1.0#fail".to_string()))
    );
}

/// The error's causes, joined.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!("{e}; "));
        source = e.source();
    }
    text
}

#[test]
fn one_mib_crosses_two_stream_hops_intact() {
    let workload = link("pipe");
    let mut store = store(&workload);
    let out = call(&workload, &mut store, "sink", "run", &[Val::U32(MIB)]).unwrap();
    assert_eq!(out, [pair(u64::from(MIB), checksum(u64::from(MIB), true))]);
    assert_eq!(live(&store), ["source", "transform", "sink"]);
}

#[test]
fn a_stream_never_instantiates_a_component_the_data_does_not_reach() {
    let workload = link("pipe");
    let mut store = store(&workload);
    let out = call(
        &workload,
        &mut store,
        "sink",
        "run-direct",
        &[Val::U32(4096)],
    )
    .unwrap();
    assert_eq!(out, [pair(4096, checksum(4096, false))]);
    assert_eq!(live(&store), ["source", "sink"]);
}

#[test]
fn a_slow_consumer_keeps_memory_bounded() {
    // `sink` reads 256 bytes at a time and yields between reads; upstream, `source` writes
    // 16 KiB chunks and `transform` forwards them. A stream end moves as a handle in the
    // store and a write completes only as the reader takes it (the component model's
    // backpressure), so nothing buffers what the consumer has not read: the linear memory
    // of the three instances is the same after 16 MiB as after 64 KiB.
    let workload = link("pipe");
    let memory_after = |n: u32| {
        let mut store = store(&workload);
        workload.limit_memory(&mut store);
        let out = call(
            &workload,
            &mut store,
            "sink",
            "run-slow",
            &[Val::U32(n), Val::U32(256)],
        )
        .expect("the slow pipeline runs");
        assert_eq!(out, [pair(u64::from(n), checksum(u64::from(n), true))]);
        let state = &store.data().workload;
        let each = ["source", "transform", "sink"].map(|c| state.memory(c));
        assert!(
            each.iter().all(|m| *m > 0),
            "each instance's memory is counted: {each:?}"
        );
        each.iter().sum::<u64>()
    };
    let small = memory_after(64 * 1024);
    let large = memory_after(16 * MIB);
    assert!(
        large <= small + 128 * 1024,
        "16 MiB held {large} bytes of linear memory, 64 KiB held {small}"
    );
}

/// The resident set of this process, in KiB (Linux: `VmRSS` of `/proc/self/status`).
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

/// Run alone in a child process by `a_slow_consumer_keeps_host_memory_bounded` (other
/// tests would move the resident set): streams 32 MiB to the slow consumer after a warm-up
/// and prints how much the process's resident set grew.
#[test]
#[ignore = "run in a process of its own by a_slow_consumer_keeps_host_memory_bounded"]
fn slow_consumer_resident_set_probe() {
    let workload = link("pipe");
    let run = |n: u32| {
        let mut store = store(&workload);
        let args = [Val::U32(n), Val::U32(256)];
        call(&workload, &mut store, "sink", "run-slow", &args).expect("runs");
    };
    run(64 * 1024);
    let before = resident_kib();
    run(32 * MIB);
    println!(
        "resident-growth-kib={}",
        resident_kib().saturating_sub(before)
    );
}

#[test]
fn a_slow_consumer_keeps_host_memory_bounded() {
    // The host side of the same property: the process's resident set does not grow with
    // the bytes streamed (no host buffer between the stream's ends).
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--ignored", "--exact", "--nocapture"])
        .arg("async_linking::slow_consumer_resident_set_probe")
        .output()
        .expect("the probe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let growth: u64 = (text.lines())
        .find_map(|l| l.strip_prefix("resident-growth-kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no figure from the probe: {text}"));
    assert!(
        growth < 8 * 1024,
        "32 MiB streamed, the resident set grew {growth} KiB"
    );
}

#[test]
fn dropping_the_reader_mid_stream_ends_the_writer() {
    let workload = link("pipe");
    let mut store = store(&workload);
    let sink = workload.func(Some("sink"), "run-partial").unwrap();
    let status = workload
        .component_func("source", Some("acme:pipe/source@0.1.0"), "dropped-after")
        .expect("source exports dropped-after");
    let run = store.run_concurrent(async |accessor| {
        let mut out = [Val::Bool(false)];
        let args = [Val::U32(MIB), Val::U32(100_000)];
        workload
            .call_concurrent(accessor, &sink, &args, &mut out)
            .await?;
        assert_eq!(out, [Val::U64(100_000)]);
        // The drop travels back through `transform` to `source` as the event loop runs.
        for _ in 0..1000 {
            workload
                .call_concurrent(accessor, &status, &[], &mut out)
                .await?;
            if let Val::Option(Some(written)) = &out[0] {
                return Ok(Some((**written).clone()));
            }
            tokio::task::yield_now().await;
        }
        Ok::<_, CallError>(None)
    });
    let written = block_on(run).unwrap().unwrap();
    let Some(Val::U64(written)) = written else {
        panic!("the source's writer did not see the drop: {written:?}");
    };
    assert!(
        (100_000..u64::from(MIB)).contains(&written),
        "the writer stopped after {written} bytes"
    );
}

#[test]
fn a_trap_in_transform_reaches_sinks_caller_with_names() {
    let workload = link("pipe");
    let mut store = store(&workload);
    let error = call(
        &workload,
        &mut store,
        "sink",
        "run-explode",
        &[Val::U32(4096)],
    )
    .unwrap_err();
    let text = format!("{error}: {}", chain(&error));
    assert!(text.contains("`transform`"), "{text}");
    assert!(text.contains("acme:pipe/transform@0.1.0#explode"), "{text}");
}

#[test]
fn an_error_context_crosses_only_inside_a_composition() {
    // `transform.check` returns `err(error-context)` for an odd number; `sink` reads the
    // context's debug message. Through a trampoline Wasmtime 48 loses the context (see
    // compose-linker's `error_context`): the call fails there, saying so. Fused in one
    // cluster with `sink`, the context arrives with its message.
    let check = |workload: &CompiledWorkload<Host>, n: u32| {
        let mut store = store(workload);
        call(workload, &mut store, "sink", "run-check", &[Val::U32(n)])
    };
    let linked = link("pipe");
    let ok = Val::Result(Ok(Some(Box::new(Val::U32(4)))));
    assert_eq!(check(&linked, 4).unwrap(), [ok]);
    let error = check(&linked, 5).unwrap_err();
    let text = chain(&error);
    for part in [
        "check of `transform` (called by `sink`)",
        "passes an error-context, which Wasmtime 48 cannot hand from one component to another",
        "`[clusters]`",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
    let workload = compose_resolver::Workload::from_file(example_workload("pipe"))
        .unwrap()
        .with_cluster("checked", ["transform", "sink"]);
    let plan = compose_resolver::resolve(&workload).unwrap();
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let fused = WorkloadLinker::<Host>::new(&engine, &plan)
        .compile(|host| &mut host.workload)
        .unwrap();
    let err = Val::Result(Err(Some(Box::new(Val::String("odd: 5".into())))));
    assert_eq!(check(&fused, 5).unwrap(), [err]);
}

#[test]
fn a_future_crosses_two_components() {
    let workload = link("pipe");
    let mut store = store(&workload);
    let out = call(&workload, &mut store, "sink", "run-future", &[Val::U32(20)]).unwrap();
    assert_eq!(out, [Val::U32(41)]);
}

/// Every call of [`SAME_CALLS`] on `name` linked and composed (`compose build`'s
/// composition, instantiated in a plain Wasmtime linker).
fn linked_and_composed(name: &str, calls: &[(&str, &str, Vec<Val>)]) {
    let workload = link(name);
    // A trap poisons the store: every call gets a store of its own, on both sides.
    let linked: Vec<Outcome> = calls
        .iter()
        .map(|(i, f, args)| {
            outcome(
                call(&workload, &mut store(&workload), i, f, args)
                    .map_err(|e| format!("{e}: {}", chain(&e))),
            )
        })
        .collect();

    let (plan, engine) = plan(name);
    let bytes = compose_static::compose(&plan, &compose_static::ComposeOptions::default())
        .expect("the workload composes");
    let component = Component::new(&engine, bytes).unwrap();
    let linker = Linker::<Host>::new(&engine);
    let composed: Vec<Outcome> = calls
        .iter()
        .map(|(interface, function, args)| {
            let mut store = store_for(&engine, &workload);
            let instance = block_on(linker.instantiate_async(&mut store, &component)).unwrap();
            let func = compose_tests::exported_func(&instance, &mut store, interface, function);
            let mut results = vec![Val::Bool(false); func.ty(&store).results().len()];
            let called = block_on(func.call_async(&mut store, args, &mut results));
            outcome(called.map(|()| results).map_err(|e| format!("{e:?}")))
        })
        .collect();
    assert_eq!(linked, composed);
}

/// A call's results, or the trap that ended it (the `wasm trap: ...` text, wherever in
/// the error's causes it is).
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Vec<Val>),
    Trap(String),
}

fn outcome(result: Result<Vec<Val>, String>) -> Outcome {
    match result {
        Ok(values) => Outcome::Ok(values),
        Err(text) => {
            let trap = text.split("wasm trap: ").nth(1).unwrap_or(&text);
            let end = trap.find(['\n', ';', '"']).unwrap_or(trap.len());
            Outcome::Trap(trap[..end].trim().to_owned())
        }
    }
}

fn store_for(engine: &Engine, workload: &CompiledWorkload<Host>) -> Store<Host> {
    Store::new(
        engine,
        Host {
            workload: workload.new_state(),
        },
    )
}

#[test]
fn linked_and_composed_give_the_same_results() {
    linked_and_composed(
        "async",
        &[
            ("acme:pipe/driver@0.1.0", "run-add", vec![Val::U32(100)]),
            (
                "acme:pipe/driver@0.1.0",
                "run-echo",
                vec![Val::U32(2), Val::String("abc".into())],
            ),
            // Both trap: "cannot block a synchronous task before returning".
            ("acme:pipe/sync-driver@0.1.0", "run-add", vec![Val::U32(9)]),
            // Both trap: `unreachable` in `callee`.
            ("acme:pipe/driver@0.1.0", "run-fail", vec![Val::U32(1)]),
            // Not here: `run-add-sync-callee`, which works composed but not linked (a
            // synchronous call forwarded in a concurrent store; see compose-linker's
            // `async_call`).
        ],
    );
    linked_and_composed(
        "pipe",
        &[
            ("acme:pipe/sink@0.1.0", "run", vec![Val::U32(MIB)]),
            ("acme:pipe/sink@0.1.0", "run-direct", vec![Val::U32(1000)]),
            (
                "acme:pipe/sink@0.1.0",
                "run-partial",
                vec![Val::U32(10_000), Val::U32(777)],
            ),
            ("acme:pipe/sink@0.1.0", "run-future", vec![Val::U32(5)]),
            ("acme:pipe/sink@0.1.0", "run-check", vec![Val::U32(4)]),
            // Not here: `run-check(5)`, whose error-context crosses composed but not
            // linked (see `an_error_context_crosses_only_inside_a_composition`).
            ("acme:pipe/sink@0.1.0", "run-explode", vec![Val::U32(100)]),
        ],
    );
}

/// `compose run --invoke`'s call (`compose_host::Host::invoke`) on async exports: inside
/// `run_concurrent`, printed as WAVE.
#[test]
fn compose_run_invoke_calls_async_exports() {
    use compose_host::Call;
    use compose_host::{Host as ComposeHost, Plugins};
    let plugins = Plugins::new();
    let invoke = |name: &str, call: &str| {
        let (plan, _) = plan(name);
        let host = ComposeHost::link(&plan, &plugins).expect("links");
        let mut store = host
            .new_store(&compose_host::grants::Offer::default())
            .expect("store");
        host.invoke(&mut store, None, &Call::parse(call).unwrap())
    };
    let printed = invoke("async", "driver#run-echo(2, \"ab\")").unwrap();
    assert_eq!(printed.as_deref(), Some("4"));
    let printed = invoke("pipe", "sink#run(1048576)").unwrap();
    let expected = format!("({}, {})", MIB, checksum(u64::from(MIB), true));
    assert_eq!(printed, Some(expected));
    let error = invoke("pipe", "sink#run-explode(10)").unwrap_err();
    let error = format!("{error}: {}", chain(&error));
    assert!(
        error.contains("explode of `transform` (called by `sink`)"),
        "{error}"
    );
}

/// Eager components of a workload with async functions are instantiated up front (with
/// `instantiate_async`, as lazy ones are), and the synchronous `call` refuses the workload
/// with the reason.
#[test]
fn eager_instantiation_and_the_synchronous_call_in_an_async_workload() {
    use compose_resolver::{Instantiation, Workload, resolve};
    use compose_tests::fixture_component;
    let workload = Workload::new("pipe")
        .with_component(
            "source",
            fixture_component("pipe-source").with_instantiation(Instantiation::Eager),
        )
        .with_component("transform", fixture_component("pipe-transform"))
        .with_component("sink", fixture_component("pipe-sink"));
    let plan = resolve(&workload).expect("resolves");
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let workload = WorkloadLinker::<Host>::new(&engine, &plan)
        .compile(|host| &mut host.workload)
        .unwrap();
    assert!(workload.is_concurrent());
    let mut store = store(&workload);
    workload.instantiate(&mut store).unwrap();
    assert_eq!(live(&store), ["source"]);
    let out = call(&workload, &mut store, "sink", "run-direct", &[Val::U32(10)]).unwrap();
    assert_eq!(out, [pair(10, checksum(10, false))]);
    let run = workload.func(Some("sink"), "run-direct").unwrap();
    let error = workload
        .call(&mut store, &run, &[Val::U32(1)], &mut [Val::Bool(false)])
        .unwrap_err();
    assert!(
        error.to_string().contains("run-direct of `sink`"),
        "{error}"
    );
    assert!(
        chain(&error).contains("has async functions: call it with `call_async`"),
        "{error:?}"
    );
}
