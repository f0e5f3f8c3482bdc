//! The cost of one `get` through a named backend, against the same query issued directly.
//!
//! Each benchmark is one call of the `teams` fixture's `get("a", bucket, key)` on a key
//! that exists: the guest opens the bucket of `team-a-postgres`, calls `get` on it and
//! drops it (three host calls), with the label served by:
//!
//! - `label_memory`: the `memory` plugin;
//! - `label_postgres`: the `postgres` plugin (one `SELECT` with bind parameters);
//! - `direct_postgres`: no component at all — the same prepared `SELECT` issued with the
//!   `postgres` crate on one connection (the floor).
//!
//! The postgres benchmarks need `TEAM_A_DATABASE_URL` (`scripts/postgres.sh run -- cargo
//! bench -p compose-host --bench backends`); without it they say so and measure nothing.

use compose_host::keyvalue::PostgresPlugin;
use compose_host::{Host, HostState, Plugins};
use compose_linker::WorkloadFunc;
use compose_resolver::{BackendConfig, ComponentDecl, Workload, resolve_with};
use divan::Bencher;
use postgres::{Client, NoTls};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::Store;
use wasmtime::component::Val;

const KEYVALUE: &str = "wasi:keyvalue/store@0.2.0-draft";
const BUCKET: &str = "bench";
const KEY: &str = "key";
const VALUE: &str = "a value of some thirty bytes..";

fn main() {
    divan::main();
}

fn url() -> Option<String> {
    let url = std::env::var("TEAM_A_DATABASE_URL").ok();
    if url.is_none() {
        eprintln!("TEAM_A_DATABASE_URL is not set: the postgres benchmarks measure nothing");
    }
    url
}

/// The `teams` workload with both labels served by `plugin`, linked, with the key set.
fn linked(plugin: &str, url: Option<&str>) -> (Host, Store<HostState>, WorkloadFunc) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/components/teams.wasm");
    let mut workload =
        Workload::new("teams").with_component("teams", ComponentDecl::from_path(path));
    for (label, variable) in [("team-a-postgres", "A"), ("team-b-postgres", "B")] {
        let config = match plugin {
            "postgres" => BackendConfig::default().with("url-env", variable),
            _ => BackendConfig::default(),
        };
        workload = workload.with_plugin_backend(label, KEYVALUE, Some(plugin), config);
    }
    let mut plugins = Plugins::<HostState>::builtin();
    let url = url.unwrap_or_default();
    plugins.register(Arc::new(PostgresPlugin::with_variables([
        ("A", url),
        ("B", url),
    ])));
    let plan = resolve_with(&workload, &plugins.profile()).expect("resolves");
    let host = Host::link(&plan, &plugins).expect("links");
    let mut store = host
        .new_store(&compose_host::grants::Offer::default())
        .expect("a store");
    let workload = host.workload();
    let put = workload.func(Some("teams"), "put").unwrap();
    let args = ["a", BUCKET, KEY, VALUE].map(|s| Val::String(s.into()));
    let mut results = [Val::Bool(false)];
    workload
        .call(&mut store, &put, &args, &mut results)
        .expect("put");
    let get = workload.func(Some("teams"), "get").unwrap();
    (host, store, get)
}

fn bench_label(bencher: Bencher, plugin: &str, url: Option<&str>) {
    let (host, mut store, get) = linked(plugin, url);
    let workload = host.workload();
    let args = ["a", BUCKET, KEY].map(|s| Val::String(s.into()));
    let mut results = [Val::Bool(false)];
    bencher.bench_local(|| {
        workload
            .call(&mut store, &get, &args, &mut results)
            .expect("get");
    });
    let expected = Val::Result(Ok(Some(Box::new(Val::Option(Some(Box::new(
        Val::String(VALUE.into()),
    )))))));
    assert_eq!(results[0], expected);
}

#[divan::bench]
fn label_memory(bencher: Bencher) {
    bench_label(bencher, "memory", None);
}

#[divan::bench]
fn label_postgres(bencher: Bencher) {
    if let Some(url) = url() {
        bench_label(bencher, "postgres", Some(&url));
    }
}

#[divan::bench]
fn direct_postgres(bencher: Bencher) {
    let Some(url) = url() else {
        return;
    };
    // The key is there: label_postgres's setup (or an earlier run) wrote it; write it anyway.
    drop(linked("postgres", Some(&url)));
    let mut client = Client::connect(&url, NoTls).expect("connects");
    let statement = client
        .prepare("SELECT value FROM keyvalue WHERE bucket = $1 AND key = $2")
        .unwrap();
    let mut value = None;
    bencher.bench_local(|| {
        let row = client
            .query_opt(&statement, &[&BUCKET, &KEY])
            .expect("the query");
        value = row.map(|row| row.get::<_, Vec<u8>>(0));
    });
    assert_eq!(value.as_deref(), Some(VALUE.as_bytes()));
}
