//! compose-linker under load (issue 9): resources created and dropped across components
//! many times leave nothing behind, and many threads running many stores on one compiled
//! workload each see only their own instances. The long runs (1,000,000 calls, memory) are
//! the benchmark `cargo bench -p compose-tests --bench linker_soak` (docs/benchmarks.md).
//!
//! The host's interfaces are served by the generic test host (`compose_tests::host`), so
//! these tests depend only on the shop's own components' behaviour.

use compose_linker::{CompiledWorkload, WorkloadLinker, WorkloadState};
use compose_resolver::resolve_file;
use compose_tests::example_workload;
use std::sync::OnceLock;
use wasmtime::component::Val;
use wasmtime::{Engine, Store};

/// The store data: the workload's state only.
struct Load {
    workload: WorkloadState,
}

/// The shop, linked once, with the generic host serving what it leaves to the host.
fn shop() -> &'static CompiledWorkload<Load> {
    static SHOP: OnceLock<CompiledWorkload<Load>> = OnceLock::new();
    SHOP.get_or_init(|| {
        let plan = resolve_file(example_workload("shop")).expect("the shop resolves");
        let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
        let mut linker = WorkloadLinker::<Load>::new(&engine, &plan);
        compose_tests::host::define_plan(linker.host(), &engine, &plan).expect("host");
        linker
            .compile(|host| &mut host.workload)
            .expect("the shop links")
    })
}

fn new_store() -> Store<Load> {
    let workload = shop();
    let mut store = Store::new(
        workload.engine(),
        Load {
            workload: workload.new_state(),
        },
    );
    workload.instantiate(&mut store).expect("eager components");
    store
}

/// Calls `handler#<function>` with string arguments; its result, if any.
fn handler(store: &mut Store<Load>, function: &str, args: &[&str]) -> Option<Val> {
    let workload = shop();
    let func = workload.func(Some("handler"), function).expect("function");
    let args: Vec<Val> = args.iter().map(|a| Val::String((*a).into())).collect();
    let mut results = vec![Val::Bool(false); func.ty().results().len()];
    workload
        .call(store, &func, &args, &mut results)
        .unwrap_or_else(|e| panic!("handler#{function} fails: {e}"));
    results.pop()
}

fn string(s: &str) -> Option<Val> {
    Some(Val::String(s.into()))
}

#[test]
fn sessions_created_and_dropped_across_components_leave_no_handle_behind() {
    let mut store = new_store();
    for i in 1..=3_000u32 {
        // `open-session` makes a session in `sessions` (the resource crosses to the
        // frontend), reads its user and drops it: its destructor runs, once.
        assert_eq!(
            handler(&mut store, "open-session", &["u"]),
            string(&format!("u:{i}"))
        );
        assert_eq!(store.data().workload.forwarded_handles(), 0, "call {i}");
    }
    assert_eq!(store.data().workload.instantiations("sessions"), 1);
}

/// `threads` threads, each running `stores` stores one after another on one compiled
/// workload, with a few calls each: every result is the store's own.
fn stores_on_threads(threads: usize, stores: usize) {
    let results: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (0..stores).map(|s| one_store(t, s)).sum::<usize>()))
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(results, threads * stores * 6);
}

/// One store's calls; each result would differ if the store shared an instance with
/// another (the key-value store, the formatter's call counter, the session store's
/// destructor counter are per instance). Returns how many results were right.
fn one_store(thread: usize, store_number: usize) -> usize {
    let mut store = new_store();
    let me = format!("t{thread}-s{store_number}");
    assert_eq!(
        handler(&mut store, "get", &["a", "k"]),
        Some(Val::Option(None))
    );
    handler(&mut store, "put", &["a", "k", &me]);
    let mine = Some(Val::Option(Some(Box::new(Val::String(me.clone())))));
    assert_eq!(handler(&mut store, "get", &["a", "k"]), mine);
    assert_eq!(
        handler(&mut store, "greet", &[&me]),
        string(&format!("Hello, {me}! (#1)"))
    );
    assert_eq!(
        handler(&mut store, "greet", &[&me]),
        string(&format!("Hello, {me}! (#2)"))
    );
    assert_eq!(
        handler(&mut store, "open-session", &[&me]),
        string(&format!("{me}:1"))
    );
    let state = &store.data().workload;
    for component in state.live_instances().map(|i| i.component) {
        assert_eq!(state.instantiations(component), 1, "{component} in {me}");
    }
    6
}

#[test]
fn two_threads_of_a_hundred_stores_each_see_only_their_own_instances() {
    stores_on_threads(2, 100);
}

#[test]
fn eight_threads_of_a_hundred_stores_each_see_only_their_own_instances() {
    stores_on_threads(8, 100);
}
