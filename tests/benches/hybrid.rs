//! Hybrid linking (issue 13): what a call on an edge inside a fused cluster costs, what the
//! first call of a workload with one hot cluster and many lazy components costs, and what
//! fusing adds to compile time.
//!
//! - `add_one` / `echo_1k`: `bench-caller`'s `run-add(1000)` / `run-echo(1000, 1 KiB)`,
//!   each 1000 calls of `bench-callee`'s `add-one` (u32 -> u32) / `echo` (string ->
//!   string), so the time per inner call is the reported time / 1000. The host's one
//!   outer call goes through `CompiledWorkload::call` in every linked variant:
//!   - `per_component`: the edge is a trampoline (`LinkMode::PerComponent`);
//!   - `cluster`: caller and callee in one `[clusters]` entry (`LinkMode::Clusters`);
//!   - `composed`: the whole workload composed by the linker (`LinkMode::Composed`);
//!   - `static`: `compose build`'s component called by plain Wasmtime with a typed
//!     function (no linker at all), the floor.
//! - `first_call`: a new store's first `run-add(1)` in a workload whose caller and one
//!   callee form a cluster, with 0 or 198 more lazy callees.
//! - `compile`: compiling and linking the example workload (`fixtures/shop`, with
//!   compose-host's built-in plugins) per component and with its cluster fused.
//!
//! Run: `cargo bench -p compose-tests --bench hybrid`.

use compose_host::EngineOptions;
use compose_host::{Host, Plugins};
use compose_linker::{CompiledWorkload, LinkMode, WorkloadLinker, WorkloadState};
use compose_resolver::{BindingTarget, ComponentDecl, Plan, Workload, resolve, resolve_file};
use divan::Bencher;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Engine, Store};

const N: u32 = 1000;
const DRIVER: &str = "acme:bench/driver@0.1.0";

fn main() {
    divan::main();
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn fixture(name: &str) -> Arc<[u8]> {
    let path = fixtures().join("components").join(format!("{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .into()
}

/// The caller and `1 + lazy` callees; the caller and `callee-0` form the cluster `hot`.
fn plan(lazy: usize) -> Plan {
    let callee = fixture("bench-callee");
    let to_callee_0 = BindingTarget::Component {
        component: "callee-0".into(),
        export: None,
    };
    let mut workload = Workload::new("hybrid")
        .with_component(
            "caller",
            ComponentDecl::from_bytes("bench-caller.wasm", fixture("bench-caller"))
                .with_binding("acme:bench/ops@0.1.0", to_callee_0),
        )
        .with_component(
            "callee-0",
            ComponentDecl::from_bytes("bench-callee.wasm", callee.clone()),
        );
    for i in 1..=lazy {
        workload = workload.with_component(
            format!("callee-{i}"),
            ComponentDecl::from_bytes("bench-callee.wasm", callee.clone()),
        );
    }
    let workload = workload
        .with_export(DRIVER, "caller", None)
        .with_cluster("hot", ["caller", "callee-0"]);
    resolve(&workload).expect("the workload resolves")
}

fn compile(plan: &Plan, mode: LinkMode) -> (Engine, CompiledWorkload<WorkloadState>) {
    let engine = Engine::new(&compose_linker::config_for(plan)).expect("engine");
    let mut linker = WorkloadLinker::<WorkloadState>::new(&engine, plan);
    linker.link_mode(mode);
    let workload = linker.compile(|state| state).expect("the workload links");
    (engine, workload)
}

/// A function of the driver, called `(n, extra)` times per iteration.
type Run = Box<dyn FnMut(&[Val]) -> Val>;

/// `run-<function>` of the caller in `variant`, in a store of its own.
fn driver(variant: &str, function: &str) -> Run {
    let plan = plan(0);
    let mode = match variant {
        "per_component" => LinkMode::PerComponent,
        "cluster" => LinkMode::Clusters,
        "composed" => LinkMode::Composed,
        _ => return static_driver(&plan, function),
    };
    let (engine, workload) = compile(&plan, mode);
    let func = workload.func(Some(DRIVER), function).expect("the driver");
    let mut store = Store::new(&engine, workload.new_state());
    Box::new(move |args| {
        let mut results = [Val::U32(0)];
        workload
            .call(&mut store, &func, args, &mut results)
            .expect("the call");
        results[0].clone()
    })
}

/// `run-<function>` of `compose build`'s component, called by plain Wasmtime.
fn static_driver(plan: &Plan, function: &str) -> Run {
    let bytes = compose_static::compose(plan, &compose_static::ComposeOptions::default())
        .expect("the workload composes");
    let engine = Engine::new(&compose_linker::config_for(plan)).expect("engine");
    let component = Component::new(&engine, bytes).expect("compiles");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .expect("instantiates");
    let driver = instance.get_export_index(&mut store, None, DRIVER);
    let index = instance
        .get_export_index(&mut store, driver.as_ref(), function)
        .expect("the function");
    let func = instance.get_func(&mut store, index).expect("a function");
    Box::new(move |args| {
        let mut results = [Val::U32(0)];
        func.call(&mut store, args, &mut results).expect("the call");
        results[0].clone()
    })
}

const VARIANTS: &[&str] = &["per_component", "cluster", "composed", "static"];

/// `u32 -> u32`: 1000 calls of `add-one` per iteration.
#[divan::bench(args = VARIANTS, sample_count = 300)]
fn add_one(bencher: Bencher, variant: &str) {
    let mut run = driver(variant, "run-add");
    bencher
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| assert_eq!(run(&[Val::U32(N)]), Val::U32(N)));
}

/// 1 KiB `string -> string`: 1000 calls of `echo` per iteration.
#[divan::bench(args = VARIANTS, sample_count = 300)]
fn echo_1k(bencher: Bencher, variant: &str) {
    let mut run = driver(variant, "run-echo");
    let args = [Val::U32(N), Val::String("x".repeat(1024))];
    bencher
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| assert_eq!(run(&args), Val::U64(u64::from(N) * 1024)));
}

/// A new store's first call (`run-add(1)`), which instantiates the cluster `hot`, in a
/// workload of 2 and of 200 components. The store is dropped untimed.
#[divan::bench(args = [0, 198])]
fn first_call(bencher: Bencher, lazy: usize) {
    let (engine, workload) = compile(&plan(lazy), LinkMode::Clusters);
    assert_eq!(workload.fused_clusters().len(), 1, "the cluster is fused");
    let run_add = workload.func(Some(DRIVER), "run-add").expect("run-add");
    bencher
        .with_inputs(|| Store::new(&engine, workload.new_state()))
        .bench_local_values(|mut store| {
            let mut results = [Val::U32(0)];
            workload
                .call(&mut store, &run_add, &[Val::U32(1)], &mut results)
                .expect("run-add");
            store
        });
}

/// Compiling and linking the example workload with compose-host (engine included, no
/// compilation cache).
#[divan::bench(args = ["per-component", "clusters"], sample_count = 10)]
fn compile_shop(bencher: Bencher, mode: &str) {
    let plan = resolve_file(Path::new(&fixtures()).join("shop/workload.toml")).expect("shop");
    let limits = EngineOptions {
        link: mode.parse().expect("a link mode"),
        ..EngineOptions::default()
    };
    let plugins = Plugins::builtin();
    bencher.bench_local(|| {
        let host = Host::link_with(&plan, &plugins, &limits).expect("the shop links");
        assert_eq!(
            host.workload().fused_clusters().len(),
            usize::from(mode == "clusters")
        );
        host
    });
}
