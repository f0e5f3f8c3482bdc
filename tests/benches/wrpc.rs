//! Calls to a remote over wRPC (issue 22): what one `u32 -> u32` call and one 1 KiB
//! `string -> string` call cost over loopback TCP, compose's linker against
//! wit-bindgen-wrpc's own client calling the same server, and against the in-process
//! trampoline.
//!
//! The server is a wit-bindgen-wrpc peer serving `acme:bench/ops` (wit/bench) on loopback.
//! - `remote`: `bench-caller`'s `run-add(100)` / `run-echo(100, 1 KiB)` with its `ops`
//!   import bound to the peer as a remote: 100 wRPC invocations per outer call (report /
//!   100 per call), each a connection of its own, as wRPC's TCP transport makes them.
//! - `client`: wit-bindgen-wrpc's generated client calling the peer 100 times.
//! - `trampoline`: the same outer call with `ops` served by `bench-callee` in-process.
//!
//! Run: `cargo bench -p compose-tests --bench wrpc`.

use compose_linker::{CompiledWorkload, LinkMode, WorkloadLinker, WorkloadState};
use compose_resolver::{ComponentDecl, RemoteDecl, Workload, resolve};
use divan::Bencher;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use wasmtime::component::Val;
use wasmtime::{Engine, Store};

const N: u32 = 100;
const OPS: &str = "acme:bench/ops@0.1.0";
const DRIVER: &str = "acme:bench/driver@0.1.0";

#[path = "../wrpc_peer.rs"]
mod wrpc_peer;

mod client {
    wit_bindgen_wrpc::generate!({ path: "../wit/bench", world: "acme:bench/ops-client" });
}

fn main() {
    divan::main();
}

/// The peer's address and the runtime it serves on (for the life of the bench).
fn peer() -> &'static (SocketAddr, tokio::runtime::Runtime) {
    static PEER: OnceLock<(SocketAddr, tokio::runtime::Runtime)> = OnceLock::new();
    PEER.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        (wrpc_peer::ops::serve(&runtime), runtime)
    })
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/components/{name}.wasm"))
}

struct Host {
    workload: WorkloadState,
}

/// The caller with `ops` bound to the peer (`remote`) or to bench-callee (in-process).
fn link(remote: bool) -> (Engine, CompiledWorkload<Host>) {
    let mut workload = Workload::new("bench")
        .with_component("caller", ComponentDecl::from_path(fixture("bench-caller")));
    workload = if remote {
        let url = format!("tcp://{}", peer().0);
        workload.with_remote("ops", RemoteDecl::new(url, [OPS], fixture("bench-callee")))
    } else {
        workload.with_component("callee", ComponentDecl::from_path(fixture("bench-callee")))
    };
    let plan = resolve(&workload).expect("resolves");
    let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
    let mut linker = WorkloadLinker::<Host>::new(&engine, &plan);
    linker.link_mode(LinkMode::PerComponent);
    let compiled = linker.compile(|h| &mut h.workload).expect("links");
    (engine, compiled)
}

fn run(bencher: Bencher, remote: bool, function: &str, params: Vec<Val>) {
    let (engine, workload) = link(remote);
    let func = workload.func(Some(DRIVER), function).expect("a function");
    let mut store = Store::new(
        &engine,
        Host {
            workload: workload.new_state(),
        },
    );
    bencher.bench_local(|| {
        let mut out = [Val::Bool(false)];
        workload
            .call(&mut store, &func, &params, &mut out)
            .expect("calls");
        out
    });
}

fn kib() -> String {
    "x".repeat(1024)
}

mod add_one {
    use super::*;

    #[divan::bench(sample_count = 20)]
    fn remote(bencher: Bencher) {
        run(bencher, true, "run-add", vec![Val::U32(N)]);
    }

    #[divan::bench(sample_count = 20)]
    fn client(bencher: Bencher) {
        let (addr, runtime) = peer();
        let wrpc = wrpc_transport::tcp::Client::from(*addr);
        bencher.bench_local(|| {
            runtime.block_on(async {
                let mut x = 0;
                for _ in 0..N {
                    x = client::acme::bench::ops::add_one(&wrpc, (), x)
                        .await
                        .expect("calls");
                }
                x
            })
        });
    }

    #[divan::bench(sample_count = 20)]
    fn trampoline(bencher: Bencher) {
        run(bencher, false, "run-add", vec![Val::U32(N)]);
    }
}

mod echo_1k {
    use super::*;

    #[divan::bench(sample_count = 20)]
    fn remote(bencher: Bencher) {
        run(
            bencher,
            true,
            "run-echo",
            vec![Val::U32(N), Val::String(kib())],
        );
    }

    #[divan::bench(sample_count = 20)]
    fn client(bencher: Bencher) {
        let (addr, runtime) = peer();
        let wrpc = wrpc_transport::tcp::Client::from(*addr);
        let s = kib();
        bencher.bench_local(|| {
            runtime.block_on(async {
                let mut total = 0;
                for _ in 0..N {
                    total += client::acme::bench::ops::echo(&wrpc, (), &s)
                        .await
                        .expect("calls")
                        .len();
                }
                total
            })
        });
    }

    #[divan::bench(sample_count = 20)]
    fn trampoline(bencher: Bencher) {
        run(
            bencher,
            false,
            "run-echo",
            vec![Val::U32(N), Val::String(kib())],
        );
    }
}
