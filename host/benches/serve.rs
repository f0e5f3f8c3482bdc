//! The cost of one `compose serve` request without the network: a new store, the lazy
//! instantiation of what the request reaches, the handler and reading the body — for the
//! linked workload (`fixtures/web`: greeter + formatter, `visits` served by the host's
//! memory plugin) and the same workload composed into one component by `compose build`,
//! each with Wasmtime's pooling allocator on and off (and the linked one with a deadline,
//! which compiles in epoch interruption).
//!
//! `cargo bench -p compose-host --bench serve` (not part of CI; figures in
//! docs/benchmarks.md). `/greet/ann` reaches both components, `/nope` only the greeter.

use bytes::Bytes;
use compose_host::EngineOptions;
use compose_host::Plugins;
use compose_host::serve::{HttpWorkload, SERVED, ServeOptions, ServeState};
use compose_resolver::{Plan, resolve_file_with};
use http_body_util::{BodyExt, Empty};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

fn main() {
    divan::main();
}

const PATHS: &[&str] = &["/greet/ann", "/nope"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

fn resolve(path: &Path) -> Plan {
    let plugins = Plugins::<ServeState>::builtin();
    let profile = plugins.profile().with_interfaces(SERVED.iter().copied());
    resolve_file_with(path, &profile).expect("the workload resolves")
}

/// `fixtures/web`, linked at run time.
fn linked() -> Plan {
    resolve(&root().join("fixtures/web/workload.toml"))
}

/// `fixtures/web` composed into one component, in a workload of its own with the same
/// `[host]` section (the composition keeps the `visits` import for the host).
fn composed() -> Plan {
    let bytes = compose_static::compose(&linked(), &Default::default()).expect("it composes");
    let dir = std::env::temp_dir().join(format!("compose-bench-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    std::fs::write(dir.join("web.wasm"), bytes).expect("write the component");
    let workload = "name = \"web-composed\"\n[host]\ninterfaces = [\"wasi:*@0.2.0\"]\n\
                    backends = { visits = \"wasi:keyvalue/store@0.2.0-draft\" }\n\
                    [components.web]\npath = \"web.wasm\"\n";
    std::fs::write(dir.join("workload.toml"), workload).expect("write the workload");
    resolve(&dir.join("workload.toml"))
}

fn link(plan: &Plan, pooling: bool, deadline: bool) -> Arc<HttpWorkload> {
    let options = ServeOptions {
        engine: EngineOptions {
            timeout: deadline.then_some(std::time::Duration::from_secs(30)),
            pooling: pooling.then_some(64),
            ..EngineOptions::default()
        },
        ..ServeOptions::default()
    };
    Arc::new(HttpWorkload::link(plan, &Plugins::builtin(), options).expect("it links"))
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// One request to `path`, its body read to the end.
fn request(workload: &Arc<HttpWorkload>, path: &str) -> usize {
    let request = hyper::Request::get(format!("http://bench{path}"))
        .body(Empty::<Bytes>::new().map_err(
            |never: std::convert::Infallible| -> wasmtime_wasi_http::Error { match never {} },
        ))
        .expect("a request");
    runtime().block_on(async {
        let response = workload.clone().respond(request).await;
        let body = response.into_body().collect().await.expect("a body");
        body.to_bytes().len()
    })
}

fn bench(bencher: divan::Bencher, plan: fn() -> Plan, pooling: bool, path: &str) {
    run(bencher, link(&plan(), pooling, false), path);
}

fn run(bencher: divan::Bencher, workload: Arc<HttpWorkload>, path: &str) {
    request(&workload, path);
    bencher.bench(|| request(&workload, path));
}

#[divan::bench(args = PATHS)]
fn linked_on_demand(bencher: divan::Bencher, path: &str) {
    bench(bencher, linked, false, path);
}

#[divan::bench(args = PATHS)]
fn linked_pooling(bencher: divan::Bencher, path: &str) {
    bench(bencher, linked, true, path);
}

/// With a deadline: epoch interruption compiled in, and a store deadline set per request.
#[divan::bench(args = PATHS)]
fn linked_pooling_deadline(bencher: divan::Bencher, path: &str) {
    run(bencher, link(&linked(), true, true), path);
}

#[divan::bench(args = PATHS)]
fn composed_on_demand(bencher: divan::Bencher, path: &str) {
    bench(bencher, composed, false, path);
}

#[divan::bench(args = PATHS)]
fn composed_pooling(bencher: divan::Bencher, path: &str) {
    bench(bencher, composed, true, path);
}
