//! The cost of async cross-component calls and of streams (component-model async).
//!
//! `add_one`: `async-caller`'s `run-add(n)` awaits `async-callee`'s async `add-one` (u32 ->
//! u32) `n` = 1000 times; one iteration is one outer call (inside `Store::run_concurrent`),
//! so the time per inner call is the reported time / 1000. The caller reaches the callee
//! through:
//!
//! - `library`: compose-linker's concurrent trampoline (`async_call`);
//! - `hand`: a hand-written `func_wrap_concurrent` calling a cached `TypedFunc` of the callee
//!   with `call_concurrent` (the floor: no lazy instantiation, no bookkeeping);
//! - `composed`: the statically composed component (compose-static).
//!
//! `stream_1mib`: `pipe-sink`'s `run(1 MiB)` pulls `pipe-source`'s stream through
//! `pipe-transform` (two stream hops), `linked` vs `composed`.
//!
//! Run: `cargo bench -p compose-linker --bench async_trampoline`.

use compose_linker::{CompiledWorkload, WorkloadLinker, WorkloadState};
use compose_resolver::{Plan, Workload, resolve};
use divan::Bencher;
use std::path::PathBuf;
use wasmtime::component::{Component, Func, Instance, Linker, TypedFunc, Val};
use wasmtime::{Engine, Store};

const N: u32 = 1000;
const MIB: u32 = 1024 * 1024;

fn main() {
    divan::main();
}

fn fixture(name: &str) -> compose_resolver::ComponentDecl {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/components")
        .join(format!("{name}.wasm"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    compose_resolver::ComponentDecl::from_bytes(format!("{name}.wasm"), bytes)
}

/// The store data of every variant.
#[derive(Default)]
struct Data {
    workload: Option<WorkloadState>,
}

fn workload_state(data: &mut Data) -> &mut WorkloadState {
    data.workload
        .as_mut()
        .expect("the benchmark puts a WorkloadState in every store")
}

fn plan(components: &[(&str, &str)]) -> Plan {
    let workload = components
        .iter()
        .fold(Workload::new("bench"), |w, (name, file)| {
            w.with_component(*name, fixture(file))
        });
    resolve(&workload).expect("the workload resolves")
}

fn pair_plan() -> Plan {
    plan(&[
        ("caller", "async-caller"),
        ("callee", "async-callee"),
        ("sync-ops", "bench-callee"),
    ])
}

fn pipe_plan() -> Plan {
    plan(&[
        ("source", "pipe-source"),
        ("transform", "pipe-transform"),
        ("sink", "pipe-sink"),
    ])
}

/// A store and the function an iteration calls.
struct Setup {
    store: Store<Data>,
    func: Func,
}

fn export(store: &mut Store<Data>, instance: Instance, interface: &str, name: &str) -> Func {
    let outer = instance
        .get_export_index(&mut *store, None, interface)
        .expect("the interface");
    let index = instance
        .get_export_index(&mut *store, Some(&outer), name)
        .expect("the function");
    instance.get_func(&mut *store, index).expect("a function")
}

/// The workload linked by compose-linker; `func` is reached through its own export.
fn library(plan: &Plan, interface: &str, name: &str) -> Setup {
    let engine = Engine::new(&compose_linker::config_for(plan)).expect("engine");
    let linker = WorkloadLinker::<Data>::new(&engine, plan);
    let workload: CompiledWorkload<Data> = linker.compile(workload_state).expect("links");
    let data = Data {
        workload: Some(workload.new_state()),
    };
    let mut store = Store::new(&engine, data);
    let f = workload.func(Some(interface), name).expect("the export");
    // One call instantiates what the benchmark reaches; the WorkloadFunc's instance is the
    // one later calls use.
    let component = f.component().to_owned();
    let mut out = vec![Val::Bool(false); f.ty().results().len()];
    let args = vec![Val::U32(1); f.ty().params().len()];
    block_on(workload.call_async(&mut store, &f, &args, &mut out)).expect("first call");
    let instance = store
        .data()
        .workload
        .as_ref()
        .and_then(|w| w.live_instances().find(|l| l.component == component))
        .expect("live")
        .instance;
    let func = export(&mut store, instance, interface, name);
    Setup { store, func }
}

/// The caller linked against a hand-written concurrent trampoline into the callee.
fn hand() -> Setup {
    let plan = pair_plan();
    let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
    let mut store = Store::new(&engine, Data::default());
    let component = |name: &str| {
        let id = plan.find(name).expect("component");
        let bytes = &plan.file(plan.components[id.index()].file).ty.bytes;
        Component::new(&engine, bytes).expect("compiles")
    };
    let callee = Linker::new(&engine)
        .instantiate(&mut store, &component("callee"))
        .expect("callee");
    let add = export(&mut store, callee, "acme:pipe/ops@0.1.0", "add-one");
    let add: TypedFunc<(u32,), (u32,)> = add.typed(&store).expect("add-one type");
    let mut linker = Linker::<Data>::new(&engine);
    let mut ops = linker.instance("acme:pipe/ops@0.1.0").expect("instance");
    ops.func_wrap_concurrent("add-one", move |accessor, (x,): (u32,)| {
        Box::pin(async move { add.call_concurrent(accessor, (x,)).await })
    })
    .expect("add-one");
    // What `run-add` does not call: defined so that the caller links.
    for name in ["echo", "fail"] {
        ops.func_new_concurrent(name, |_, _, _, _| {
            Box::pin(async { Err(wasmtime::format_err!("not benchmarked")) })
        })
        .expect("unused ops");
    }
    let mut bench = linker.instance("acme:bench/ops@0.1.0").expect("instance");
    for name in ["add-one", "echo"] {
        bench
            .func_new(name, |_, _, _, _| {
                Err(wasmtime::format_err!("not benchmarked"))
            })
            .expect("unused bench ops");
    }
    let caller =
        block_on(linker.instantiate_async(&mut store, &component("caller"))).expect("caller");
    let func = export(&mut store, caller, "acme:pipe/driver@0.1.0", "run-add");
    Setup { store, func }
}

/// The statically composed workload.
fn composed(plan: &Plan, interface: &str, name: &str) -> Setup {
    let engine = Engine::new(&compose_linker::config_for(plan)).expect("engine");
    let bytes = compose_static::compose(plan, &compose_static::ComposeOptions::default())
        .expect("composes");
    let component = Component::new(&engine, bytes).expect("composed");
    let mut store = Store::new(&engine, Data::default());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .expect("composed instance");
    let func = export(&mut store, instance, interface, name);
    Setup { store, func }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// Calls `func(args)` in `run_concurrent` on `runtime`; returns the first result.
fn run(runtime: &tokio::runtime::Runtime, setup: &mut Setup, args: &[Val]) -> Val {
    let func = setup.func;
    let mut out = [Val::Bool(false)];
    runtime
        .block_on(
            setup.store.run_concurrent(async |accessor| {
                func.call_concurrent(accessor, args, &mut out).await
            }),
        )
        .expect("run_concurrent")
        .expect("the call");
    out[0].clone()
}

/// `u32 -> u32`, async caller to async callee: 1000 calls of `add-one` per iteration.
#[divan::bench(args = ["library", "hand", "composed"], sample_count = 200)]
fn add_one(bencher: Bencher, variant: &str) {
    const DRIVER: &str = "acme:pipe/driver@0.1.0";
    let mut setup = match variant {
        "library" => library(&pair_plan(), DRIVER, "run-add"),
        "hand" => hand(),
        _ => composed(&pair_plan(), DRIVER, "run-add"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    bencher
        .counter(divan::counter::ItemsCount::new(N))
        .bench_local(|| assert_eq!(run(&runtime, &mut setup, &[Val::U32(N)]), Val::U32(N)));
}

/// 1 MiB through `source -> transform -> sink` (two stream hops) per iteration.
#[divan::bench(args = ["linked", "composed"], sample_count = 50)]
fn stream_1mib(bencher: Bencher, variant: &str) {
    const SINK: &str = "acme:pipe/sink@0.1.0";
    let mut setup = match variant {
        "linked" => library(&pipe_plan(), SINK, "run"),
        _ => composed(&pipe_plan(), SINK, "run"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    bencher
        .counter(divan::counter::BytesCount::new(MIB))
        .bench_local(|| {
            let out = run(&runtime, &mut setup, &[Val::U32(MIB)]);
            assert!(matches!(out, Val::Tuple(ref t) if t[0] == Val::U64(u64::from(MIB))));
        });
}
