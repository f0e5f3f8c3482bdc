//! `compose-linker`: the example workload (`fixtures/shop`) run with every component
//! separately instantiated and linked by lazily instantiating trampolines; and the ledger,
//! whose custom interface (`acme:kv/store`) a backend of the test host's own serves.

use compose_host::HostView;
use compose_host::keyvalue::{KeyValue, MemoryStore};
use compose_linker::{CallError, CompiledWorkload, LinkMode, WorkloadLinker, WorkloadState};
use compose_resolver::{ComponentDecl, Workload, resolve, resolve_file};
use compose_tests::{example_workload, fixture_component};
use std::collections::BTreeMap;
use std::error::Error;
use std::sync::{Arc, OnceLock};
use wasmtime::component::{Component, Linker, LinkerInstance, ResourceTable, Val};
use wasmtime::{Engine, Store, StoreContextMut};

/// The test host's store data.
struct Host {
    workload: WorkloadState,
    /// What `wasi:cli/environment` returns.
    env: Vec<(String, String)>,
    /// The buckets of the `wasi:keyvalue` backends (compose-host's in-memory stores).
    table: ResourceTable,
    /// The ledger's custom backend `ledger-store` (`acme:kv/store@0.1.0`).
    ledger: BTreeMap<String, String>,
}

impl Host {
    fn new(workload: &CompiledWorkload<Host>) -> Self {
        Self {
            workload: workload.new_state(),
            env: Vec::new(),
            table: ResourceTable::new(),
            ledger: BTreeMap::new(),
        }
    }
}

impl HostView for Host {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

type Reenter = Arc<OnceLock<CompiledWorkload<Host>>>;

/// The shop workload linked with a test host: `wasi:cli/environment` from `Host::env`, and
/// the backend `team-c-postgres` (`wasi:keyvalue/store`) over `team_c`. Linked per
/// component, without fusing its cluster: these tests are about trampolines and lazy
/// instances (`hybrid` checks that the other link modes agree).
fn link_shop(team_c: Arc<MemoryStore>) -> CompiledWorkload<Host> {
    let plan = resolve_file(example_workload("shop")).expect("the shop resolves");
    let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
    let mut linker = WorkloadLinker::<Host>::new(&engine, &plan);
    linker.link_mode(LinkMode::PerComponent);
    define_environment(linker.host()).expect("define get-environment");
    linker
        .backend("team-c-postgres", |kv| {
            compose_host::keyvalue::define(
                kv,
                team_c,
                compose_host::keyvalue::Served::new("memory", "team-c-postgres"),
            )
        })
        .expect("define backend");
    linker
        .compile(|host| &mut host.workload)
        .expect("the shop links")
}

/// `wasi:cli/environment@0.2.0#get-environment`, from `Host::env`.
fn define_environment(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    linker.instance("wasi:cli/environment@0.2.0")?.func_wrap(
        "get-environment",
        |cx: StoreContextMut<'_, Host>, (): ()| Ok((cx.data().env.clone(),)),
    )
}

/// The ledger (`fixtures/components/ledger.wasm`) linked with the test host's own backend
/// `ledger-store` for the custom interface `acme:kv/store@0.1.0`, from `Host::ledger`.
/// When `reenter` is set, the backend's `keys` calls back into the workload
/// (`ledger#summary`) and returns the error's text as its only key.
fn link_ledger(reenter: Option<Reenter>) -> CompiledWorkload<Host> {
    let workload = Workload::new("ledger")
        .with_component("ledger", fixture_component("ledger"))
        .with_host_backend("ledger-store", "acme:kv/store@0.1.0");
    let plan = resolve(&workload).expect("the ledger resolves");
    let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
    let mut linker = WorkloadLinker::<Host>::new(&engine, &plan);
    linker
        .backend("ledger-store", move |kv| define_ledger_store(kv, reenter))
        .expect("define backend");
    linker
        .compile(|host| &mut host.workload)
        .expect("the ledger links")
}

/// The backend `ledger-store` (`acme:kv/store@0.1.0`, a custom interface), from
/// `Host::ledger`.
fn define_ledger_store(
    kv: &mut LinkerInstance<'_, Host>,
    reenter: Option<Reenter>,
) -> wasmtime::Result<()> {
    kv.func_wrap("get", |cx: StoreContextMut<'_, Host>, (key,): (String,)| {
        Ok((cx.data().ledger.get(&key).cloned(),))
    })?;
    kv.func_wrap(
        "set",
        |mut cx: StoreContextMut<'_, Host>, (key, value): (String, String)| {
            cx.data_mut().ledger.insert(key, value);
            Ok(())
        },
    )?;
    kv.func_wrap("keys", move |mut cx: StoreContextMut<'_, Host>, (): ()| {
        if let Some(workload) = reenter.as_ref().and_then(|w| w.get()) {
            let summary = workload.func(Some("acme:app/ledger@0.1.0"), "summary")?;
            let mut results = [Val::Bool(false)];
            let error = workload
                .call(&mut cx, &summary, &[], &mut results)
                .expect_err("re-entering the ledger fails");
            return Ok((vec![error.to_string()],));
        }
        Ok((cx.data().ledger.keys().cloned().collect::<Vec<_>>(),))
    })
}

/// The shop, compiled once for all tests, with an empty `team-c-postgres` that no test
/// writes to (tests that need its data link a shop of their own).
fn shop() -> &'static CompiledWorkload<Host> {
    static SHOP: OnceLock<CompiledWorkload<Host>> = OnceLock::new();
    SHOP.get_or_init(|| link_shop(Arc::default()))
}

fn new_store(workload: &CompiledWorkload<Host>) -> Store<Host> {
    let mut store = Store::new(workload.engine(), Host::new(workload));
    workload
        .instantiate(&mut store)
        .expect("eager components instantiate");
    store
}

fn string(s: &str) -> Val {
    Val::String(s.into())
}

/// Calls the shop's `acme:app/handler@0.1.0#<function>` with string arguments.
fn handler(
    store: &mut Store<Host>,
    function: &str,
    args: &[&str],
) -> Result<Option<Val>, CallError> {
    let workload = shop();
    let func = workload
        .func(Some("acme:app/handler@0.1.0"), function)
        .expect("the handler exports the function");
    let args: Vec<Val> = args.iter().map(|a| string(a)).collect();
    let mut results = vec![Val::Bool(false); func.ty().results().len()];
    workload.call(store, &func, &args, &mut results)?;
    Ok(results.pop())
}

fn some(s: &str) -> Option<Val> {
    Some(Val::Option(Some(Box::new(string(s)))))
}

fn live(store: &Store<Host>) -> Vec<&str> {
    store
        .data()
        .workload
        .live_instances()
        .map(|i| i.component)
        .collect()
}

/// The error and all its causes, one line.
pub(crate) fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(" <- ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[test]
fn two_labels_of_one_interface_reach_two_backends_with_separate_state() {
    let mut store = new_store(shop());
    handler(&mut store, "put", &["a", "k", "from-a"]).unwrap();
    handler(&mut store, "put", &["b", "k", "from-b"]).unwrap();
    assert_eq!(
        handler(&mut store, "get", &["a", "k"]).unwrap(),
        some("from-a")
    );
    assert_eq!(
        handler(&mut store, "get", &["b", "k"]).unwrap(),
        some("from-b")
    );
    handler(&mut store, "put", &["a", "only-a", "1"]).unwrap();
    assert_eq!(
        handler(&mut store, "get", &["b", "only-a"]).unwrap(),
        Some(Val::Option(None))
    );
}

#[test]
fn a_component_no_call_reaches_is_never_instantiated() {
    let mut store = new_store(shop());
    assert_eq!(live(&store), ["reporter"], "only the eager component");
    handler(&mut store, "put", &["a", "k", "v"]).unwrap();
    assert_eq!(live(&store), ["frontend", "team-a-postgres", "reporter"]);
    handler(&mut store, "get", &["a", "k"]).unwrap();
    let state = &store.data().workload;
    assert_eq!(
        state.instantiations("team-a-postgres"),
        1,
        "reused, not re-created"
    );
    for unreached in ["team-b-postgres", "formatter", "sessions"] {
        assert!(!state.is_live(unreached), "{unreached} was instantiated");
        assert_eq!(state.instantiations(unreached), 0);
    }
}

#[test]
fn eager_components_are_instantiated_with_the_workload() {
    let workload = shop();
    let mut store = Store::new(workload.engine(), Host::new(workload));
    assert!(live(&store).is_empty());
    workload.instantiate(&mut store).unwrap();
    assert_eq!(live(&store), ["reporter"]);
    // Instantiating again does not create a second instance.
    workload.instantiate(&mut store).unwrap();
    assert_eq!(store.data().workload.instantiations("reporter"), 1);
}

#[test]
fn a_host_backend_serves_a_label_no_component_serves() {
    let team_c = Arc::new(MemoryStore::default());
    team_c.set("shop", "c2", b"x").unwrap();
    team_c.set("shop", "c1", b"y").unwrap();
    let workload = link_shop(team_c);
    let mut store = new_store(&workload);
    let summary = workload.func(Some("report"), "summary").unwrap();
    let mut results = [Val::Bool(false)];
    workload
        .call(&mut store, &summary, &[], &mut results)
        .unwrap();
    assert_eq!(results[0], string("c1,c2"));
}

#[test]
fn a_host_backend_of_a_custom_interface_serves_its_label() {
    let workload = link_ledger(None);
    let mut store = new_store(&workload);
    store.data_mut().ledger.insert("rent".into(), "10".into());
    let add = workload.func(Some("ledger"), "add").unwrap();
    let mut results = [Val::Bool(false)];
    for (account, amount) in [("rent", 5), ("food", 3), ("rent", 1)] {
        workload
            .call(
                &mut store,
                &add,
                &[string(account), Val::U32(amount)],
                &mut results,
            )
            .unwrap();
    }
    assert_eq!(results[0], Val::U32(16));
    assert_eq!(store.data().ledger["food"], "3");
    let summary = workload.func(Some("ledger"), "summary").unwrap();
    workload
        .call(&mut store, &summary, &[], &mut results)
        .unwrap();
    assert_eq!(results[0], string("food=3,rent=16"));
}

#[test]
fn a_trap_in_a_callee_is_reported_by_name_and_its_instance_is_never_entered_again() {
    let mut store = new_store(shop());
    store.data_mut().env = vec![("GREETING".into(), "Hi".into())];
    assert_eq!(
        handler(&mut store, "greet", &["ann"]).unwrap(),
        Some(string("Hi, ann! (#1)"))
    );
    assert_eq!(
        handler(&mut store, "greet", &["bob"]).unwrap(),
        Some(string("Hi, bob! (#2)"))
    );

    let error = handler(&mut store, "greet", &[""]).expect_err("formatter traps on an empty name");
    let text = chain(&error);
    for name in [
        "shop",
        "frontend",
        "formatter",
        "acme:text/format@0.1.0#greet",
    ] {
        assert!(text.contains(name), "`{name}` missing from: {text}");
    }
    // The innermost error is the formatter's: the callee, its interface and function.
    let mut inner = None;
    let mut cause: Option<&(dyn Error + 'static)> = Some(&error);
    while let Some(c) = cause {
        if let Some(call) = c.downcast_ref::<CallError>() {
            inner = Some(call);
        }
        cause = c.source();
    }
    match inner.expect("a CallError in the chain") {
        CallError::Trap {
            workload,
            caller,
            component,
            func,
            ..
        } => {
            assert_eq!(workload, "shop");
            assert_eq!(caller, "frontend");
            assert_eq!(component, "formatter");
            assert_eq!(func.interface.as_deref(), Some("acme:text/format@0.1.0"));
            assert_eq!(func.function, "greet");
        }
        other => panic!("expected a trap, got {other}"),
    }
    assert!(
        !store.data().workload.is_live("formatter"),
        "the trapped instance is discarded"
    );
    assert!(
        !store.data().workload.is_live("frontend"),
        "the trap went through the frontend"
    );

    // Wasmtime 48 enters no component instance of a store after a trap: the next call in
    // this store is refused with an error naming the trap's origin...
    let error = handler(&mut store, "greet", &["cy"]).expect_err("the store is poisoned");
    match &error {
        CallError::Poisoned {
            trap_component,
            trap_func,
            ..
        } => {
            assert_eq!(trap_component, "formatter");
            assert_eq!(trap_func.function, "greet");
        }
        other => panic!("expected Poisoned, got {other}"),
    }
    assert_eq!(
        store.data().workload.instantiations("formatter"),
        1,
        "never re-entered"
    );

    // ...and the next request, in a new store, gets fresh instances: the counter restarts.
    let mut store = new_store(shop());
    store.data_mut().env = vec![("GREETING".into(), "Hi".into())];
    assert_eq!(
        handler(&mut store, "greet", &["cy"]).unwrap(),
        Some(string("Hi, cy! (#1)"))
    );
}

#[test]
fn a_resource_of_one_component_dropped_by_another_runs_its_destructor_once() {
    let mut store = new_store(shop());
    assert_eq!(
        handler(&mut store, "open-session", &["alice"]).unwrap(),
        Some(string("alice:1"))
    );
    assert_eq!(
        handler(&mut store, "open-session", &["bob"]).unwrap(),
        Some(string("bob:2"))
    );
    assert_eq!(
        store.data().workload.forwarded_handles(),
        0,
        "no handle leaks"
    );
    assert_eq!(store.data().workload.instantiations("sessions"), 1);
}

#[test]
fn two_threads_run_one_compiled_workload_in_two_stores_with_separate_state() {
    let workload = shop().clone();
    let threads: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|name| {
            let workload = workload.clone();
            std::thread::spawn(move || {
                let mut store = new_store(&workload);
                for i in 0..20 {
                    let value = format!("{name}-{i}");
                    handler(&mut store, "put", &["a", "k", &value]).unwrap();
                    assert_eq!(
                        handler(&mut store, "get", &["a", "k"]).unwrap(),
                        some(&value)
                    );
                }
                handler(&mut store, "greet", &[name]).unwrap()
            })
        })
        .collect();
    for (thread, name) in threads.into_iter().zip(["one", "two"]) {
        let greeting = thread.join().expect("the thread ran");
        assert_eq!(greeting, Some(string(&format!("Hello, {name}! (#1)"))));
    }
}

#[test]
fn components_from_one_file_are_compiled_once() {
    let plan = resolve_file(example_workload("shop")).unwrap();
    let a = &plan.component(plan.find("team-a-postgres").unwrap()).ty;
    let b = &plan.component(plan.find("team-b-postgres").unwrap()).ty;
    assert!(Arc::ptr_eq(a, b));
    assert_eq!(shop().components().len(), 6);
    assert_eq!(shop().compiled_files(), 5);
}

#[test]
fn an_instance_on_the_call_stack_is_never_re_entered() {
    let cell: Reenter = Arc::new(OnceLock::new());
    let workload = link_ledger(Some(cell.clone()));
    cell.set(workload.clone()).unwrap();
    let mut store = new_store(&workload);
    let summary = workload.func(Some("ledger"), "summary").unwrap();
    let mut results = [Val::Bool(false)];
    // ledger -> backend `ledger-store` -> host calls the ledger again: refused.
    workload
        .call(&mut store, &summary, &[], &mut results)
        .unwrap();
    let Val::String(text) = &results[0] else {
        panic!("summary returns a string")
    };
    assert!(text.contains("already on the call stack"), "{text}");
    assert!(text.contains("`ledger`"), "{text}");
}

#[test]
fn unknown_exports_and_functions_are_listed() {
    let workload = shop();
    let error = workload
        .func(Some("acme:app/nothing@0.1.0"), "x")
        .unwrap_err();
    assert!(
        error.to_string().contains("acme:app/handler@0.1.0"),
        "{error}"
    );
    let error = workload.func(Some("handler"), "nope").unwrap_err();
    assert!(error.to_string().contains("open-session"), "{error}");
    let error = workload.component_func("nobody", None, "x").unwrap_err();
    assert!(error.to_string().contains("formatter"), "{error}");
}

#[test]
fn a_component_export_can_be_called_directly() {
    let workload = shop();
    let mut store = new_store(workload);
    let store_interface = Some("wasi:keyvalue/store@0.2.0-draft");
    let open = workload
        .component_func("team-b-postgres", store_interface, "open")
        .unwrap();
    let mut results = [Val::Bool(false)];
    workload
        .call(&mut store, &open, &[string("shop")], &mut results)
        .unwrap();
    let Val::Result(Ok(Some(bucket))) = &results[0] else {
        panic!("open returns a bucket: {:?}", results[0])
    };
    let Val::Resource(handle) = **bucket else {
        panic!("a bucket is a resource")
    };
    let set = workload
        .component_func("team-b-postgres", Some("store"), "[method]bucket.set")
        .unwrap();
    let value = Val::List(b"direct".iter().map(|b| Val::U8(*b)).collect());
    workload
        .call(
            &mut store,
            &set,
            &[Val::Resource(handle), string("k"), value],
            &mut results,
        )
        .unwrap();
    assert_eq!(results[0], Val::Result(Ok(None)));
    handle.resource_drop(&mut store).unwrap();
    assert_eq!(
        handler(&mut store, "get", &["b", "k"]).unwrap(),
        some("direct")
    );
    assert_eq!(live(&store), ["frontend", "team-b-postgres", "reporter"]);
}

#[test]
fn an_unserved_backend_is_a_link_error_naming_the_component() {
    let plan = resolve_file(example_workload("shop")).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let linker = WorkloadLinker::<Host>::new(&engine, &plan);
    let error = linker.compile(|host| &mut host.workload).unwrap_err();
    let text = chain(&error);
    assert!(
        text.contains("frontend") || text.contains("reporter"),
        "{text}"
    );
}

/// The benchmark pair, linked with and without the typed fast paths: same results.
#[test]
fn typed_and_dynamic_trampolines_give_the_same_results() {
    let workload = Workload::new("bench")
        .with_component("caller", fixture_component("bench-caller"))
        .with_component("callee", fixture_component("bench-callee"));
    let plan = resolve(&workload).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    for fast in [true, false] {
        let mut linker = WorkloadLinker::<WorkloadState>::new(&engine, &plan);
        linker.typed_fast_paths(fast);
        let workload = linker.compile(|state| state).unwrap();
        let mut store = Store::new(&engine, workload.new_state());
        let run_add = workload.func(Some("driver"), "run-add").unwrap();
        let mut results = [Val::Bool(false)];
        workload
            .call(&mut store, &run_add, &[Val::U32(1000)], &mut results)
            .unwrap();
        assert_eq!(results[0], Val::U32(1000), "fast paths: {fast}");
        let run_echo = workload.func(Some("driver"), "run-echo").unwrap();
        workload
            .call(
                &mut store,
                &run_echo,
                &[Val::U32(10), string("four")],
                &mut results,
            )
            .unwrap();
        assert_eq!(results[0], Val::U64(40), "fast paths: {fast}");
    }
}

/// The calls of the comparison, as `(interface, function, arguments)`.
const SAME_CALLS: &[(&str, &str, &[&str])] = &[
    ("acme:app/handler@0.1.0", "put", &["a", "k", "from-a"]),
    ("acme:app/handler@0.1.0", "put", &["b", "k", "from-b"]),
    ("acme:app/handler@0.1.0", "get", &["a", "k"]),
    ("acme:app/handler@0.1.0", "get", &["b", "k"]),
    ("acme:app/handler@0.1.0", "get", &["a", "missing"]),
    ("acme:app/handler@0.1.0", "greet", &["ann"]),
    ("acme:app/handler@0.1.0", "greet", &["bob"]),
    ("acme:app/handler@0.1.0", "open-session", &["alice"]),
    ("acme:app/handler@0.1.0", "open-session", &["bob"]),
    ("acme:app/report@0.1.0", "summary", &[]),
];

#[test]
fn the_linked_and_the_composed_workload_give_the_same_results() {
    let team_c = || {
        let store = Arc::new(MemoryStore::default());
        store.set("shop", "c1", b"1").unwrap();
        store
    };
    let workload = &link_shop(team_c());
    let host = || Host {
        env: vec![("GREETING".into(), "Hey".into())],
        ..Host::new(workload)
    };
    let mut store = Store::new(workload.engine(), host());
    workload.instantiate(&mut store).unwrap();
    let linked: Vec<Vec<Val>> = SAME_CALLS
        .iter()
        .map(|(interface, function, args)| {
            let func = workload.func(Some(interface), function).unwrap();
            let args: Vec<Val> = args.iter().map(|a| string(a)).collect();
            let mut results = vec![Val::Bool(false); func.ty().results().len()];
            workload
                .call(&mut store, &func, &args, &mut results)
                .unwrap();
            results
        })
        .collect();

    let plan = resolve_file(example_workload("shop")).unwrap();
    let bytes = compose_static::compose(&plan, &compose_static::ComposeOptions::default())
        .expect("the shop composes");
    let engine = workload.engine();
    let component = Component::new(engine, bytes).unwrap();
    let mut linker = Linker::<Host>::new(engine);
    define_environment(&mut linker).unwrap();
    compose_host::keyvalue::define(
        &mut linker.instance("team-c-postgres").unwrap(),
        team_c(),
        compose_host::keyvalue::Served::new("memory", "team-c-postgres"),
    )
    .unwrap();
    let mut store = Store::new(engine, host());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let composed: Vec<Vec<Val>> = SAME_CALLS
        .iter()
        .map(|(interface, function, args)| {
            let func = compose_tests::exported_func(&instance, &mut store, interface, function);
            let args: Vec<Val> = args.iter().map(|a| string(a)).collect();
            let mut results = vec![Val::Bool(false); func.ty(&store).results().len()];
            func.call(&mut store, &args, &mut results).unwrap();
            results
        })
        .collect();
    assert_eq!(linked, composed);
    assert_eq!(linked[7], [string("alice:1")]);
    assert_eq!(linked[9], [string("c1")]);
}

#[test]
fn two_labels_served_by_the_host_reach_two_host_backends() {
    let workload = Workload::new("hosted")
        .with_component("frontend", fixture_component("frontend"))
        .with_component("formatter", fixture_component("formatter"))
        .with_component("sessions", fixture_component("session-store"))
        .with_host_interface("wasi:cli/*@0.2.0")
        .with_host_backend("team-a-postgres", "wasi:keyvalue/store@0.2.0-draft")
        .with_host_backend("team-b-postgres", "wasi:keyvalue/store@0.2.0-draft");
    let plan = resolve(&workload).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let mut linker = WorkloadLinker::<Host>::new(&engine, &plan);
    define_environment(linker.host()).unwrap();
    let stores = [
        Arc::new(MemoryStore::default()),
        Arc::new(MemoryStore::default()),
    ];
    for (label, store) in ["team-a-postgres", "team-b-postgres"].iter().zip(&stores) {
        linker
            .backend(label, |kv| {
                compose_host::keyvalue::define(
                    kv,
                    store.clone(),
                    compose_host::keyvalue::Served::new("memory", label),
                )
            })
            .unwrap();
    }
    let workload = linker.compile(|host| &mut host.workload).unwrap();
    let mut store = new_store(&workload);
    let put = workload.func(Some("handler"), "put").unwrap();
    for (team, value) in [("a", "va"), ("b", "vb")] {
        let args = [string(team), string("k"), string(value)];
        workload.call(&mut store, &put, &args, &mut []).unwrap();
    }
    let [a, b] = &stores;
    assert_eq!(a.get("shop", "k").unwrap().as_deref(), Some(&b"va"[..]));
    assert_eq!(b.get("shop", "k").unwrap().as_deref(), Some(&b"vb"[..]));
    assert_eq!(a.list_keys("shop", None).unwrap().keys, ["k"]);
    assert_eq!(live(&store), ["frontend"], "no component serves the labels");
}

#[test]
fn a_store_keeps_its_compiled_workload_alive() {
    let workload = Workload::new("bench")
        .with_component("caller", fixture_component("bench-caller"))
        .with_component("callee", fixture_component("bench-callee"));
    let plan = resolve(&workload).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let workload = WorkloadLinker::<WorkloadState>::new(&engine, &plan)
        .compile(|state| state)
        .unwrap();
    let mut store = Store::new(&engine, workload.new_state());
    let run_add = workload.func(Some("driver"), "run-add").unwrap();
    let mut results = [Val::Bool(false)];
    workload
        .call(&mut store, &run_add, &[Val::U32(3)], &mut results)
        .unwrap();
    let caller = store
        .data()
        .live_instances()
        .find(|i| i.component == "caller")
        .unwrap()
        .instance;
    drop(workload);
    // `echo` was never called: its trampoline still finds the callee's function lazily.
    let driver = caller
        .get_export_index(&mut store, None, "acme:bench/driver@0.1.0")
        .unwrap();
    let run_echo = caller
        .get_export_index(&mut store, Some(&driver), "run-echo")
        .unwrap();
    let run_echo = caller
        .get_typed_func::<(u32, String), (u64,)>(&mut store, run_echo)
        .unwrap();
    assert_eq!(run_echo.call(&mut store, (2, "abc".into())).unwrap(), (6,));
}

#[test]
fn a_plain_named_function_import_is_forwarded() {
    let callee = wat::parse_str(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 42))
            (core instance $i (instantiate $m))
            (func (export "answer") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let caller = wat::parse_str(
        r#"(component
            (import "answer" (func $answer (result u32)))
            (core func $lowered (canon lower (func $answer)))
            (core module $m
              (import "host" "answer" (func $a (result i32)))
              (func (export "run") (result i32) call $a i32.const 1 i32.add))
            (core instance $i
              (instantiate $m (with "host" (instance (export "answer" (func $lowered))))))
            (func (export "run") (result u32) (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let workload = Workload::new("plain")
        .with_component("caller", ComponentDecl::from_bytes("caller.wat", caller))
        .with_component("callee", ComponentDecl::from_bytes("callee.wat", callee));
    let plan = resolve(&workload).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    for fast in [true, false] {
        let mut linker = WorkloadLinker::<WorkloadState>::new(&engine, &plan);
        linker.typed_fast_paths(fast);
        let workload = linker.compile(|state| state).unwrap();
        let mut store = Store::new(&engine, workload.new_state());
        let run = workload.func(None, "run").unwrap();
        let mut results = [Val::Bool(false)];
        workload.call(&mut store, &run, &[], &mut results).unwrap();
        assert_eq!(results[0], Val::U32(43), "fast paths: {fast}");
    }
}

/// A component exporting `t:r/res`: resource `r` (rep = the value given to `make`),
/// `consume(own<r>) -> u32` (returns the rep and drops the handle) and `drops()` (how many
/// times `r`'s destructor ran).
pub(crate) const RESOURCE_OWNER: &str = r#"(component
  (core module $dtor
    (global $drops (export "drops") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      global.get $drops i32.const 1 i32.add global.set $drops))
  (core instance $d (instantiate $dtor))
  (type $r (resource (rep i32) (dtor (func $d "dtor"))))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "d" "drops" (global $drops (mut i32)))
    (func (export "make") (param i32) (result i32) local.get 0 call $new)
    (func (export "consume") (param i32) (result i32) (local i32)
      local.get 0 call $rep local.set 1
      local.get 0 call $drop
      local.get 1)
    (func (export "drops") (result i32) global.get $drops))
  (core instance $i (instantiate $m
    (with "" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))
    (with "d" (instance $d))))
  (func $make (param "v" u32) (result (own $r)) (canon lift (core func $i "make")))
  (func $consume (param "x" (own $r)) (result u32) (canon lift (core func $i "consume")))
  (func $drops (result u32) (canon lift (core func $i "drops")))
  (component $wrap
    (import "r" (type $R (sub resource)))
    (import "make" (func $make (param "v" u32) (result (own $R))))
    (import "consume" (func $consume (param "x" (own $R)) (result u32)))
    (import "drops" (func $drops (result u32)))
    (export $Rx "r" (type $R))
    (export "make" (func $make) (func (param "v" u32) (result (own $Rx))))
    (export "consume" (func $consume) (func (param "x" (own $Rx)) (result u32)))
    (export "drops" (func $drops)))
  (instance $inst (instantiate $wrap
    (with "r" (type $r)) (with "make" (func $make)) (with "consume" (func $consume))
    (with "drops" (func $drops))))
  (export "t:r/res" (instance $inst)))"#;

/// A component that makes two `r`s: gives the first back to its owner with `consume`,
/// drops the second itself; `run` returns `100 * consumed rep + owner's drops`.
pub(crate) const RESOURCE_USER: &str = r#"(component
  (import "t:r/res" (instance $res
    (export "r" (type $R (sub resource)))
    (export "make" (func (param "v" u32) (result (own $R))))
    (export "consume" (func (param "x" (own $R)) (result u32)))
    (export "drops" (func (result u32)))))
  (alias export $res "make" (func $make))
  (alias export $res "consume" (func $consume))
  (alias export $res "drops" (func $drops))
  (alias export $res "r" (type $R))
  (core func $make_l (canon lower (func $make)))
  (core func $consume_l (canon lower (func $consume)))
  (core func $drops_l (canon lower (func $drops)))
  (core func $rdrop (canon resource.drop $R))
  (core module $m
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "consume" (func $consume (param i32) (result i32)))
    (import "" "drops" (func $drops (result i32)))
    (import "" "rdrop" (func $rdrop (param i32)))
    (func (export "run") (result i32) (local $v i32)
      i32.const 7 call $make call $consume local.set $v
      i32.const 8 call $make call $rdrop
      local.get $v i32.const 100 i32.mul call $drops i32.add))
  (core instance $i (instantiate $m (with "" (instance
    (export "make" (func $make_l)) (export "consume" (func $consume_l))
    (export "drops" (func $drops_l)) (export "rdrop" (func $rdrop))))))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))"#;

#[test]
fn an_own_handle_passed_back_to_its_owner_and_one_dropped_by_the_user_both_reach_the_owner() {
    let workload = Workload::new("resources")
        .with_component(
            "user",
            ComponentDecl::from_bytes("user.wat", wat::parse_str(RESOURCE_USER).unwrap()),
        )
        .with_component(
            "owner",
            ComponentDecl::from_bytes("owner.wat", wat::parse_str(RESOURCE_OWNER).unwrap()),
        );
    let plan = resolve(&workload).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let workload = WorkloadLinker::<WorkloadState>::new(&engine, &plan)
        .compile(|state| state)
        .unwrap();
    let mut store = Store::new(&engine, workload.new_state());
    let run = workload.func(None, "run").unwrap();
    let mut results = [Val::Bool(false)];
    workload.call(&mut store, &run, &[], &mut results).unwrap();
    // `consume` got the owner's own handle back (rep 7) and dropped it; the user's drop of
    // the second handle ran the owner's destructor: two destructor runs.
    assert_eq!(results[0], Val::U32(702));
    assert_eq!(store.data().forwarded_handles(), 0);
}

#[test]
fn a_name_matching_several_semver_compatible_exports_is_ambiguous_not_a_silent_pick() {
    // One component exports two versions of one interface on the same semver track.
    let both = compose_tests::wat_component(
        &[],
        compose_tests::GET_U32,
        &["acme:app/handler@1.2.0", "acme:app/handler@1.3.0"],
    );
    let workload =
        Workload::new("versions").with_component("app", ComponentDecl::from_bytes("app.wat", both));
    let plan = resolve(&workload).unwrap();
    let engine = Engine::new(&compose_linker::config_for(&plan)).unwrap();
    let linked = WorkloadLinker::<WorkloadState>::new(&engine, &plan)
        .compile(|state| state)
        .unwrap();
    // Exact names still choose.
    let exact = linked.func(Some("acme:app/handler@1.3.0"), "get").unwrap();
    assert_eq!(
        exact.name().interface.as_deref(),
        Some("acme:app/handler@1.3.0")
    );
    // A version that matches both, or the short name, is an error listing both.
    for wanted in ["acme:app/handler@1.0.0", "handler"] {
        let error = linked.func(Some(wanted), "get").unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, compose_linker::LookupError::AmbiguousExport { .. })
                && text.contains("acme:app/handler@1.2.0, acme:app/handler@1.3.0"),
            "{wanted}: {text}"
        );
    }
}

/// No two modules of any library crate or of the CLI import from each other, directly or
/// around a loop: `scripts/module-cycles.sh` reads their `use crate::`
/// and `crate::x::` paths and fails on a cycle.
#[test]
fn no_two_modules_of_a_crate_import_from_each_other() {
    let script = compose_tests::workspace_root().join("scripts/module-cycles.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .args([
            "resolver", "compose", "linker", "host", "graph", "cli", "registry", "cost",
        ])
        .output()
        .expect("bash runs the script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("linker\n"), "{stdout}");
}
