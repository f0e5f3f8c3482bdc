//! The cost of one cross-component call, and of the first call of a workload.
//!
//! `bench-caller`'s `run-add(n)` / `run-echo(n, s)` call `bench-callee`'s `add-one` (u32 ->
//! u32) / `echo` (string -> string) `n` = 1000 times; every benchmark below is one such
//! outer call, so the time per inner call is the reported time / 1000. The caller reaches
//! the callee through:
//!
//! - `library`: compose-linker's trampoline (typed fast path);
//! - `library_dynamic`: compose-linker's trampoline with `Val`s (`typed_fast_paths(false)`);
//! - `hand_typed`: a hand-written `func_wrap` calling a cached `TypedFunc` of the callee;
//! - `composed`: the statically composed component (compose-static: a fused adapter);
//! - `host`: a plain host function instead of the callee.
//!
//! Each with concurrency support off (`off`) and, when the crate's `component-model-async`
//! feature is on, on (`on`). `add_one_on_fibers` calls (a) on Wasmtime fibers, as `compose
//! serve` does ([`Execution::Async`]): through the library, through a hand-written
//! `func_wrap_async` calling the callee with `call_async`, and composed. `first_call`
//! measures a new store's first call (instantiation included) in workloads of 2 and 200
//! components, lazy and eager, and of the 2 composed into one.
//!
//! Run: `cargo bench -p compose-linker --features component-model-async`.

use compose_linker::{
    CompiledWorkload, Execution, LinkMode, Meter, Observe, Outcome, WorkloadLinker, WorkloadState,
};
use compose_resolver::{BindingTarget, ComponentDecl, Instantiation, Plan, Workload, resolve};
use divan::Bencher;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::component::{Component, Linker, TypedFunc, Val};
use wasmtime::{Config, Engine, Store, StoreContextMut};

const N: u32 = 1000;
const OPS: &str = "acme:bench/ops@0.1.0";
const DRIVER: &str = "acme:bench/driver@0.1.0";

fn main() {
    divan::main();
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/components")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The store data of every variant.
#[derive(Default)]
struct Data {
    workload: Option<WorkloadState>,
    add: Option<TypedFunc<(u32,), (u32,)>>,
    echo: Option<TypedFunc<(String,), (String,)>>,
}

fn workload_state(data: &mut Data) -> &mut WorkloadState {
    data.workload
        .as_mut()
        .expect("the benchmark puts a WorkloadState in every store")
}

/// A store and the caller's driver functions.
struct Driver {
    store: Store<Data>,
    run_add: TypedFunc<(u32,), (u32,)>,
    run_echo: TypedFunc<(u32, String), (u64,)>,
}

impl Driver {
    fn from_instance(mut store: Store<Data>, instance: wasmtime::component::Instance) -> Self {
        let driver = instance
            .get_export_index(&mut store, None, DRIVER)
            .expect("the caller exports the driver");
        let add = instance
            .get_export_index(&mut store, Some(&driver), "run-add")
            .expect("run-add");
        let echo = instance
            .get_export_index(&mut store, Some(&driver), "run-echo")
            .expect("run-echo");
        let run_add = instance
            .get_typed_func(&mut store, add)
            .expect("run-add type");
        let run_echo = instance
            .get_typed_func(&mut store, echo)
            .expect("run-echo type");
        Self {
            store,
            run_add,
            run_echo,
        }
    }
}

fn engine(concurrency: bool) -> Engine {
    let mut config: Config = compose_linker::config();
    config.concurrency_support(concurrency);
    Engine::new(&config).expect("engine")
}

fn pair_plan() -> Plan {
    let workload = Workload::new("bench")
        .with_component(
            "caller",
            ComponentDecl::from_bytes("bench-caller.wasm", fixture("bench-caller")),
        )
        .with_component(
            "callee",
            ComponentDecl::from_bytes("bench-callee.wasm", fixture("bench-callee")),
        );
    resolve(&workload).expect("the pair resolves")
}

fn library(concurrency: bool, fast: bool) -> Driver {
    library_metered(concurrency, fast, None)
}

/// [`library`], telling each call and instantiation to `meter`.
fn library_metered(concurrency: bool, fast: bool, meter: Option<Arc<dyn Meter>>) -> Driver {
    library_with(engine(concurrency), fast, meter, Execution::Sync)
}

/// The pair linked per component by the library on `engine`, calling as `execution` says.
fn library_with(
    engine: Engine,
    fast: bool,
    meter: Option<Arc<dyn Meter>>,
    execution: Execution,
) -> Driver {
    let plan = pair_plan();
    let mut linker = WorkloadLinker::<Data>::new(&engine, &plan);
    linker
        .typed_fast_paths(fast)
        .link_mode(LinkMode::PerComponent)
        .meter(meter)
        .execution(execution);
    let workload = linker.compile(workload_state).expect("the pair links");
    let mut store = Store::new(
        &engine,
        Data {
            workload: Some(workload.new_state()),
            ..Data::default()
        },
    );
    // One call through the library instantiates the caller (and the callee).
    let run_add = workload.func(Some(DRIVER), "run-add").expect("run-add");
    let mut results = [Val::U32(0)];
    let called = match execution {
        Execution::Sync => workload.call(&mut store, &run_add, &[Val::U32(1)], &mut results),
        Execution::Async => {
            block_on(workload.call_async(&mut store, &run_add, &[Val::U32(1)], &mut results))
        }
    };
    called.expect("run-add");
    let caller = store
        .data()
        .workload
        .as_ref()
        .and_then(|s| s.live_instances().find(|i| i.component == "caller"))
        .expect("the caller is live")
        .instance;
    Driver::from_instance(store, caller)
}

/// Caches the callee's `add-one` and `echo` in the store's data, for the hand-written
/// trampolines.
fn cache_callee(store: &mut Store<Data>, callee: wasmtime::component::Instance) {
    let ops = callee
        .get_export_index(&mut *store, None, OPS)
        .expect("ops");
    let add = callee
        .get_export_index(&mut *store, Some(&ops), "add-one")
        .expect("add-one");
    let echo = callee
        .get_export_index(&mut *store, Some(&ops), "echo")
        .expect("echo");
    let add = callee.get_typed_func(&mut *store, add).expect("add-one");
    let echo = callee.get_typed_func(&mut *store, echo).expect("echo");
    store.data_mut().add = Some(add);
    store.data_mut().echo = Some(echo);
}

fn hand_typed(concurrency: bool) -> Driver {
    let engine = engine(concurrency);
    let callee = Component::new(&engine, fixture("bench-callee")).expect("callee");
    let caller = Component::new(&engine, fixture("bench-caller")).expect("caller");
    let mut store = Store::new(&engine, Data::default());
    let callee_instance = Linker::new(&engine)
        .instantiate(&mut store, &callee)
        .expect("callee instance");
    cache_callee(&mut store, callee_instance);
    let mut linker = Linker::<Data>::new(&engine);
    let mut instance = linker.instance(OPS).expect("ops instance");
    instance
        .func_wrap(
            "add-one",
            |mut cx: StoreContextMut<'_, Data>, (x,): (u32,)| {
                let add = cx.data().add.expect("cached");
                add.call(&mut cx, (x,))
            },
        )
        .expect("add-one");
    instance
        .func_wrap(
            "echo",
            |mut cx: StoreContextMut<'_, Data>, (s,): (String,)| {
                let echo = cx.data().echo.expect("cached");
                echo.call(&mut cx, (s,))
            },
        )
        .expect("echo");
    let instance = linker
        .instantiate(&mut store, &caller)
        .expect("caller instance");
    Driver::from_instance(store, instance)
}

/// [`hand_typed`] on fibers: a hand-written `func_wrap_async` calling a cached `TypedFunc`
/// of the callee with `call_async` (a fiber of its own per call, nested in the caller's),
/// the floor for [`Execution::Async`].
fn hand_async() -> Driver {
    let engine = engine(false);
    let callee = Component::new(&engine, fixture("bench-callee")).expect("callee");
    let caller = Component::new(&engine, fixture("bench-caller")).expect("caller");
    let mut store = Store::new(&engine, Data::default());
    let callee_instance = block_on(Linker::new(&engine).instantiate_async(&mut store, &callee))
        .expect("callee instance");
    cache_callee(&mut store, callee_instance);
    let mut linker = Linker::<Data>::new(&engine);
    let mut instance = linker.instance(OPS).expect("ops instance");
    instance
        .func_wrap_async(
            "add-one",
            |mut cx: StoreContextMut<'_, Data>, (x,): (u32,)| {
                Box::new(async move {
                    let add = cx.data().add.expect("cached");
                    add.call_async(&mut cx, (x,)).await
                })
            },
        )
        .expect("add-one");
    instance
        .func_wrap("echo", |_cx: StoreContextMut<'_, Data>, (s,): (String,)| {
            Ok((s,))
        })
        .expect("echo");
    let instance = block_on(linker.instantiate_async(&mut store, &caller)).expect("caller");
    Driver::from_instance(store, instance)
}

/// The pair composed into one component by compose-static.
fn composed_pair(engine: &Engine) -> Component {
    let bytes = compose_static::compose(&pair_plan(), &compose_static::ComposeOptions::default())
        .expect("the pair composes");
    Component::new(engine, bytes).expect("composed")
}

/// The composed pair instantiated for `call_async`: one fiber per outer call.
fn composed_async() -> Driver {
    let engine = engine(false);
    let component = composed_pair(&engine);
    let mut store = Store::new(&engine, Data::default());
    let instance = block_on(Linker::new(&engine).instantiate_async(&mut store, &component))
        .expect("composed instance");
    Driver::from_instance(store, instance)
}

/// Runs `future` to completion on a current-thread tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime")
        })
        .block_on(future)
}

fn host(concurrency: bool) -> Driver {
    let engine = engine(concurrency);
    let caller = Component::new(&engine, fixture("bench-caller")).expect("caller");
    let mut linker = Linker::<Data>::new(&engine);
    let mut instance = linker.instance(OPS).expect("ops instance");
    instance
        .func_wrap("add-one", |_cx: StoreContextMut<'_, Data>, (x,): (u32,)| {
            Ok((x.wrapping_add(1),))
        })
        .expect("add-one");
    instance
        .func_wrap("echo", |_cx: StoreContextMut<'_, Data>, (s,): (String,)| {
            Ok((s,))
        })
        .expect("echo");
    let mut store = Store::new(&engine, Data::default());
    let instance = linker
        .instantiate(&mut store, &caller)
        .expect("caller instance");
    Driver::from_instance(store, instance)
}

fn composed(concurrency: bool) -> Driver {
    let engine = engine(concurrency);
    let component = composed_pair(&engine);
    let mut store = Store::new(&engine, Data::default());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .expect("composed instance");
    Driver::from_instance(store, instance)
}

fn setup(variant: &str, concurrency: bool) -> Driver {
    match variant {
        "library" => library(concurrency, true),
        "library_dynamic" => library(concurrency, false),
        "hand_typed" => hand_typed(concurrency),
        "composed" => composed(concurrency),
        "host" => host(concurrency),
        other => panic!("unknown variant {other}"),
    }
}

const VARIANTS: &[&str] = &[
    "library",
    "library_dynamic",
    "hand_typed",
    "composed",
    "host",
];

#[cfg(feature = "component-model-async")]
const CONCURRENCY: &[bool] = &[false, true];
#[cfg(not(feature = "component-model-async"))]
const CONCURRENCY: &[bool] = &[false];

fn label(concurrency: bool) -> &'static str {
    if concurrency { "on" } else { "off" }
}

/// Times `driver`'s `run-add` of [`N`] calls of `add-one` per iteration.
fn run_adds(bencher: Bencher, mut driver: Driver) {
    bencher
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| {
            let (r,) = driver
                .run_add
                .call(&mut driver.store, (N,))
                .expect("run-add");
            assert_eq!(r, N);
        });
}

/// (a) `u32 -> u32`: 1000 calls of `add-one` per iteration.
#[divan::bench(args = VARIANTS, consts = [false, true], sample_count = 400)]
fn add_one<const CONCURRENCY_ON: bool>(bencher: Bencher, variant: &str) {
    if !CONCURRENCY.contains(&CONCURRENCY_ON) {
        eprintln!("(concurrency {}: not compiled in)", label(CONCURRENCY_ON));
        return;
    }
    let driver = setup(variant, CONCURRENCY_ON);
    run_adds(bencher, driver);
}

/// (a) on Wasmtime fibers, as `compose serve` calls ([`Execution::Async`], concurrency
/// off): every trampolined call runs the callee with `call_async`, on a fiber of its own.
#[divan::bench(args = ["library", "library_dynamic", "hand_async", "composed"], sample_count = 400)]
fn add_one_on_fibers(bencher: Bencher, variant: &str) {
    let mut driver = match variant {
        "library" => library_with(engine(false), true, None, Execution::Async),
        "library_dynamic" => library_with(engine(false), false, None, Execution::Async),
        "hand_async" => hand_async(),
        "composed" => composed_async(),
        other => panic!("unknown variant {other}"),
    };
    bencher
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| {
            let (r,) =
                block_on(driver.run_add.call_async(&mut driver.store, (N,))).expect("run-add");
            assert_eq!(r, N);
        });
}

/// (a) through compose-linker's typed trampoline (concurrency off) with no subscriber
/// (`none`), with one that filters the `compose` spans out (`filtered`: what sampling off
/// costs), and with a registry that records each span (`recording`, no layer).
#[divan::bench(args = ["none", "filtered", "recording"], sample_count = 400)]
fn add_one_traced(bencher: Bencher, subscriber: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    let _guard = match subscriber {
        "none" => None,
        "filtered" => {
            let off = tracing_subscriber::filter::filter_fn(|m| m.target() != "compose");
            Some(tracing::subscriber::set_default(
                tracing_subscriber::registry().with(off),
            ))
        }
        _ => Some(tracing::subscriber::set_default(
            tracing_subscriber::registry(),
        )),
    };
    let driver = setup("library", false);
    run_adds(bencher, driver);
}

/// A meter whose observers add each call's nanoseconds to one atomic: what telling a
/// meter costs the trampoline (two clock reads, a dynamic call), without a metrics
/// library's own cost.
#[derive(Debug, Default)]
struct Summing(Arc<AtomicU64>);

impl Observe for Summing {
    fn observe(&self, took: Duration, _: Outcome) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Meter for Summing {
    fn calls(&self, _: &str, _: Option<&str>) -> Arc<dyn Observe> {
        Arc::new(Summing(self.0.clone()))
    }

    fn instantiations(&self, _: &str) -> Arc<dyn Observe> {
        Arc::new(Summing(self.0.clone()))
    }
}

/// (a) through compose-linker's typed trampoline (concurrency off), without (`none`) and
/// with a meter (`metered`, [`Summing`]): what `compose serve --metrics` adds to a call.
#[divan::bench(args = ["none", "metered"], sample_count = 400)]
fn add_one_metered(bencher: Bencher, meter: &str) {
    let meter = (meter == "metered").then(|| Arc::new(Summing::default()) as Arc<dyn Meter>);
    let driver = library_metered(false, true, meter);
    run_adds(bencher, driver);
}

/// (b) 1 KiB `string -> string`: 1000 calls of `echo` per iteration.
#[divan::bench(args = VARIANTS, consts = [false, true], sample_count = 400)]
fn echo_1k<const CONCURRENCY_ON: bool>(bencher: Bencher, variant: &str) {
    if !CONCURRENCY.contains(&CONCURRENCY_ON) {
        eprintln!("(concurrency {}: not compiled in)", label(CONCURRENCY_ON));
        return;
    }
    let mut driver = setup(variant, CONCURRENCY_ON);
    let text = "x".repeat(1024);
    bencher
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| {
            let (r,) = driver
                .run_echo
                .call(&mut driver.store, (N, text.clone()))
                .expect("run-echo");
            assert_eq!(r, u64::from(N) * 1024);
        });
}

/// A compiled workload of some size, with its engine.
type SizedWorkload = (Engine, CompiledWorkload<Data>);

/// Sized workloads by `(size, mode)`, compiled once.
type Cache = Mutex<Vec<((usize, &'static str), SizedWorkload)>>;

/// A workload of `size` components: the caller bound to `callee-0`, and `size - 1` callees;
/// `mode` is `lazy` or `eager` (every component its own instance, so instantiated as
/// named), or `composed` (lazy, linked as one fused component: [`LinkMode::Composed`]).
fn sized(size: usize, mode: &str) -> SizedWorkload {
    let instantiate = if mode == "eager" {
        Instantiation::Eager
    } else {
        Instantiation::Lazy
    };
    let link = if mode == "composed" {
        LinkMode::Composed
    } else {
        LinkMode::PerComponent
    };
    let caller: std::sync::Arc<[u8]> = fixture("bench-caller").into();
    let callee: std::sync::Arc<[u8]> = fixture("bench-callee").into();
    let mut workload = Workload::new("sized").with_component(
        "caller",
        ComponentDecl::from_bytes("bench-caller.wasm", caller)
            .with_binding(
                OPS,
                BindingTarget::Component {
                    component: "callee-0".into(),
                    export: None,
                },
            )
            .with_instantiation(instantiate),
    );
    for i in 0..size - 1 {
        workload = workload.with_component(
            format!("callee-{i}"),
            ComponentDecl::from_bytes("bench-callee.wasm", callee.clone())
                .with_instantiation(instantiate),
        );
    }
    workload = workload.with_export(DRIVER, "caller", None);
    let plan = resolve(&workload).expect("the sized workload resolves");
    let engine = engine(false);
    let compiled = WorkloadLinker::<Data>::new(&engine, &plan)
        // Every component its own instance unless composed (eager ones would otherwise be
        // fused).
        .link_mode(link)
        .compile(workload_state)
        .expect("the sized workload links");
    (engine, compiled)
}

/// A new store's first call (`run-add(1)`): store, state, eager instantiation, lazy
/// instantiation of what the call reaches, the call. The store is dropped untimed.
#[divan::bench(args = [(2, "lazy"), (2, "eager"), (2, "composed"), (200, "lazy"), (200, "eager")])]
fn first_call(bencher: Bencher, (size, mode): (usize, &'static str)) {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let (engine, workload) = {
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().expect("cache");
        match cache.iter().find(|(key, _)| *key == (size, mode)) {
            Some((_, found)) => found.clone(),
            None => {
                let made = sized(size, mode);
                cache.push(((size, mode), made.clone()));
                made
            }
        }
    };
    let run_add = workload.func(Some(DRIVER), "run-add").expect("run-add");
    bencher
        .with_inputs(|| {
            Store::new(
                &engine,
                Data {
                    workload: Some(workload.new_state()),
                    ..Data::default()
                },
            )
        })
        .bench_local_values(|mut store| {
            workload.instantiate(&mut store).expect("instantiate");
            let mut results = [Val::U32(0)];
            workload
                .call(&mut store, &run_add, &[Val::U32(1)], &mut results)
                .expect("run-add");
            store
        });
}
