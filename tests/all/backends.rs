//! The key-value backends for production: `wasi:keyvalue/atomics` and `batch` served by
//! `memory` and `postgres` atomically (called sync and async, from several hosts and
//! through one label's pool of connections), the `postgres` plugin creating its missing
//! table (`create-table`), and its TLS from the connection string (`sslmode`,
//! `sslrootcert`); and 64 concurrent increments through `compose serve`'s HTTP, by the
//! `http-counter` handler calling the counter.
//!
//! The guest is `fixtures/counter/counter.wat` (compiled here with the `wat` crate): it
//! imports the label `counter-store` as implementing `wasi:keyvalue/atomics@0.2.0-draft`,
//! with `store`'s `open` and `batch`'s functions in the same instance. The PostgreSQL tests
//! read the variables of `scripts/postgres.sh` (with `COMPOSE_POSTGRES_TLS=1` for TLS); in
//! CI (`CI=true`) a missing one fails the test, elsewhere the test says it is skipped.

use crate::host::{
    KEYVALUE, VARIABLES, connect, database, fresh_bucket, invoke, new_store, plan, plugins_with,
};
use crate::serve::Running;
use compose_host::keyvalue::{Error, KeyValue, MemoryPlugin, PostgresPlugin};
use compose_host::serve::{SERVED, ServeOptions, ServeState};
use compose_host::{Host, HostState, HostView, Plugins};
use compose_resolver::{
    BackendConfig, ComponentDecl, Plan, Problem, Workload, resolve, resolve_with,
};
use compose_tests::workspace_root;
use std::io::Write;
use std::sync::Arc;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};

const LABEL: &str = "counter-store";

/// The value of environment variable `name`, or `None` (after saying so) outside CI when
/// it is not set; in CI a missing variable fails the test.
fn variable(test: &str, name: &str, how: &str) -> Option<String> {
    if let Ok(value) = std::env::var(name) {
        return Some(value);
    }
    let why = format!("{name} not set; run the tests under {how}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why}");
    }
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
    None
}

/// The `counter` guest with its `counter-store` backend served by `plugin` with `config`.
pub(crate) fn counter(plugin: &str, config: BackendConfig) -> Workload {
    let wat = workspace_root().join("fixtures/counter/counter.wat");
    let bytes = wat::parse_file(&wat).unwrap_or_else(|e| panic!("{}: {e}", wat.display()));
    Workload::new("counter")
        .with_component("counter", ComponentDecl::from_bytes("counter.wasm", bytes))
        .with_plugin_backend(LABEL, KEYVALUE, Some(plugin), config)
}

#[test]
fn an_atomics_import_binds_to_a_store_backend_whose_plugin_serves_atomics() {
    // The guest's label implements `wasi:keyvalue/atomics`; its backend declares `store`.
    let plugins = Plugins::<HostState>::builtin();
    let plan = plan(&counter("memory", BackendConfig::default()), &plugins);
    assert_eq!(plan.host.backends[LABEL].plugin.as_deref(), Some("memory"));
    // Without a plugin the host knows (a declaration only, for another host), the
    // backend serves only the interface it declares.
    let wat = workspace_root().join("fixtures/counter/counter.wat");
    let declared = Workload::new("counter")
        .with_component(
            "counter",
            ComponentDecl::from_bytes("counter.wasm", wat::parse_file(&wat).unwrap()),
        )
        .with_host_backend(LABEL, KEYVALUE);
    let error = resolve(&declared).unwrap_err();
    assert!(
        error
            .problems()
            .any(|p| matches!(p, Problem::BackendMismatch { label, .. } if label == LABEL)),
        "{:?}",
        error.diagnostics
    );
}

/// `per_host` threads on each of `hosts` (each host with its own connections), each thread
/// its own store making one `increment` of `hits` in `bucket` by 1: the values returned,
/// sorted.
fn concurrent_increments(hosts: &[Host], per_host: usize, bucket: &str) -> Vec<u64> {
    let call = format!(r#"counter#increment("{bucket}", "hits", 1)"#);
    // Every thread calls at once: the calls overlap.
    let start = std::sync::Barrier::new(hosts.len() * per_host);
    let mut values: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = hosts
            .iter()
            .flat_map(|host| std::iter::repeat_n(host, per_host))
            .map(|host| {
                let (call, start) = (&call, &start);
                scope.spawn(move || {
                    let mut store = new_store(host);
                    start.wait();
                    invoke(host, &mut store, call).parse::<u64>().unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    values.sort_unstable();
    values
}

#[test]
fn sixty_four_concurrent_increments_give_64_in_memory() {
    let plugins = Plugins::<HostState>::builtin();
    let plan = plan(&counter("memory", BackendConfig::default()), &plugins);
    // Two hosts of one plugin share the label's data, as `compose serve`'s requests do.
    let hosts = [(); 2].map(|()| Host::link(&plan, &plugins).unwrap());
    let values = concurrent_increments(&hosts, 32, "hits");
    assert_eq!(values, (1..=64).collect::<Vec<u64>>());
    let host = Host::link(&plan, &plugins).unwrap();
    let mut store = new_store(&host);
    assert_eq!(
        invoke(&host, &mut store, r#"counter#increment("hits", "hits", 0)"#),
        "64"
    );
}

#[test]
fn sixty_four_concurrent_increments_give_64_in_postgres() {
    let Some([a_url, b_url]) = database("sixty_four_concurrent_increments_give_64_in_postgres")
    else {
        return;
    };
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let config = BackendConfig::default().with("url-env", VARIABLES[0]);
    let plan = plan(&counter("postgres", config), &plugins);
    let bucket = fresh_bucket("increments");
    // Eight hosts, eight connections: the increments race in the database, not in a lock
    // of the host.
    let hosts = [(); 8].map(|()| Host::link(&plan, &plugins).unwrap());
    let values = concurrent_increments(&hosts, 8, &bucket);
    drop(hosts);
    assert_eq!(values, (1..=64).collect::<Vec<u64>>());
    // One host: its label's pool serves the overlapping calls on more than one connection
    // and at most DEFAULT_POOL_SIZE.
    let (values, connections) = increments_on_one_host(&a_url, &b_url, &bucket, None);
    assert_eq!(values, (1..=64).collect::<Vec<u64>>());
    let pool = compose_host::keyvalue::DEFAULT_POOL_SIZE as i64;
    assert!(
        (2..=pool).contains(&connections),
        "{connections} connection(s)"
    );
    // The counter is the decimal text, in team A's table.
    let row = connect(&a_url)
        .query_one(
            "SELECT value FROM keyvalue WHERE bucket = $1 AND key = 'hits'",
            &[&bucket],
        )
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), b"64");
}

/// 64 concurrent increments on one host whose label has `pool-size` (`None`: the
/// default), in bucket `{bucket}-pool`: the values returned, sorted, and how many
/// connections the label held open (counted by PostgreSQL, through a tag in the
/// connection string).
fn increments_on_one_host(
    a_url: &str,
    b_url: &str,
    bucket: &str,
    pool_size: Option<i64>,
) -> (Vec<u64>, i64) {
    let tag = fresh_table("pool");
    let tagged = format!("{a_url}?application_name={tag}");
    let plugins = plugins_with(&[(VARIABLES[0], &tagged), (VARIABLES[1], b_url)]);
    let mut config = BackendConfig::default().with("url-env", VARIABLES[0]);
    if let Some(size) = pool_size {
        config = config.with("pool-size", size);
    }
    let plan = plan(&counter("postgres", config), &plugins);
    let host = [Host::link(&plan, &plugins).unwrap()];
    let values = concurrent_increments(&host, 64, &format!("{bucket}-pool"));
    let connections: i64 = connect(a_url)
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&tag],
        )
        .unwrap()
        .get(0);
    (values, connections)
}

#[test]
fn pool_size_bounds_the_connections_a_label_opens() {
    let Some([a_url, b_url]) = database("pool_size_bounds_the_connections_a_label_opens") else {
        return;
    };
    let bucket = fresh_bucket("pool-size");
    let (values, connections) = increments_on_one_host(&a_url, &b_url, &bucket, Some(1));
    assert_eq!(values, (1..=64).collect::<Vec<u64>>());
    assert_eq!(connections, 1);
    // Out of range: a diagnostic at resolve time, nothing connected.
    let plugins = plugins_with(&[(VARIABLES[0], &a_url)]);
    for size in [0, 65] {
        let config = BackendConfig::default()
            .with("url-env", VARIABLES[0])
            .with("pool-size", size);
        let workload = counter("postgres", config);
        let error = compose_resolver::resolve_with(&workload, &plugins.profile()).unwrap_err();
        let message = error.diagnostics[0].to_string();
        assert!(
            message.contains("`pool-size` must be from 1 to 64"),
            "{message}"
        );
    }
}

/// The `http-counter` handler over the `counter` guest, its backend served by `plugin`
/// with `config`, resolved as `compose serve` resolves it.
pub(crate) fn served_counter(plugin: &str, config: BackendConfig) -> Plan {
    let handler = workspace_root().join("fixtures/components/http-counter.wasm");
    let workload = counter(plugin, config)
        .with_component("handler", ComponentDecl::from_path(handler))
        .with_host_interface("wasi:*@0.2.0");
    let plugins = Plugins::<ServeState>::builtin();
    let profile = plugins.profile().with_interfaces(SERVED.iter().copied());
    resolve_with(&workload, &profile)
        .unwrap_or_else(|e| panic!("the workload resolves: {:?}", e.diagnostics))
}

/// 64 `GET /increment/BUCKET/hits` sent at once, each on its own connection, to `plan`
/// served on a loopback port: the values answered, sorted, and then `GET /count`'s.
pub(crate) fn increments_through_http(plan: Plan, bucket: &str) -> (Vec<u64>, String) {
    let server = Running::start_serving(plan, ServeOptions::default());
    let start = std::sync::Barrier::new(64);
    let path = format!("/increment/{bucket}/hits");
    let mut values: Vec<u64> = std::thread::scope(|scope| {
        let requests: Vec<_> = (0..64)
            .map(|_| {
                let (server, path, start) = (&server, &path, &start);
                scope.spawn(move || {
                    start.wait();
                    let (status, body) = server.get(path);
                    assert_eq!(status, 200, "{body}");
                    body.trim().parse::<u64>().unwrap()
                })
            })
            .collect();
        requests.into_iter().map(|r| r.join().unwrap()).collect()
    });
    values.sort_unstable();
    let (_, count) = server.get(&format!("/count/{bucket}/hits"));
    (values, count)
}

#[test]
fn sixty_four_concurrent_increments_through_http_give_64_in_memory_and_postgres() {
    let plan = served_counter("memory", BackendConfig::default());
    let (values, count) = increments_through_http(plan, "hits");
    assert_eq!(values, (1..=64).collect::<Vec<u64>>());
    assert_eq!(count, "64\n");
    let Some([a_url, _]) = database("sixty_four_concurrent_increments_through_http") else {
        return;
    };
    let config = BackendConfig::default().with("url-env", VARIABLES[0]);
    let bucket = fresh_bucket("http");
    let (values, count) = increments_through_http(served_counter("postgres", config), &bucket);
    assert_eq!(values, (1..=64).collect::<Vec<u64>>());
    assert_eq!(count, "64\n");
    // The counter is the decimal text in the table, as PostgreSQL itself reads it.
    let row = connect(&a_url)
        .query_one(
            "SELECT value FROM keyvalue WHERE bucket = $1 AND key = 'hits'",
            &[&bucket],
        )
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), b"64");
}

/// The store data of [`async_increments`]: the table of the buckets.
#[derive(Default)]
struct Buckets {
    table: ResourceTable,
}

impl HostView for Buckets {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

/// 64 increments of `key` by 1, called async on a multi-threaded tokio runtime (as
/// `compose serve` calls a workload), `store` served with `define_blocking`: each
/// operation on tokio's blocking pool. The values returned, sorted.
fn async_increments(store: Arc<dyn KeyValue>, bucket: &str) -> Vec<u64> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_implements(true);
    let engine = Engine::new(&config).unwrap();
    let mut linker = Linker::<Buckets>::new(&engine);
    compose_host::keyvalue::define_blocking(
        &mut linker.instance(LABEL).unwrap(),
        store,
        compose_host::keyvalue::Served::new("postgres", LABEL),
    )
    .unwrap();
    let wat = workspace_root().join("fixtures/counter/counter.wat");
    let component = Component::new(&engine, wat::parse_file(&wat).unwrap()).unwrap();
    let pre = Arc::new(linker.instantiate_pre(&component).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let mut values: Vec<u64> = runtime.block_on(async {
        let calls: Vec<_> = (0..64)
            .map(|_| {
                let (engine, pre, bucket) = (engine.clone(), pre.clone(), bucket.to_owned());
                tokio::spawn(async move {
                    let mut store = Store::new(&engine, Buckets::default());
                    let instance = pre.instantiate_async(&mut store).await.unwrap();
                    let func = compose_tests::exported_func(
                        &instance,
                        &mut store,
                        "acme:app/counter@0.1.0",
                        "increment",
                    );
                    let func = func.typed::<(&str, &str, u64), (u64,)>(&store).unwrap();
                    let (value,) = func
                        .call_async(&mut store, (&bucket, "hits", 1))
                        .await
                        .unwrap();
                    value
                })
            })
            .collect();
        let mut values = Vec::new();
        for call in calls {
            values.push(call.await.unwrap());
        }
        values
    });
    values.sort_unstable();
    values
}

#[test]
fn increments_called_async_on_the_blocking_pool_are_atomic_too() {
    let memory = MemoryPlugin::new().store(LABEL);
    assert_eq!(
        async_increments(memory, "hits"),
        (1..=64).collect::<Vec<u64>>()
    );
    let Some([a_url, _]) = database("increments_called_async_on_the_blocking_pool") else {
        return;
    };
    let plugin = PostgresPlugin::with_variables([(VARIABLES[0], a_url)]);
    let plugins = Plugins::<HostState>::builtin();
    let config = BackendConfig::default().with("url-env", VARIABLES[0]);
    let plan = plan(&counter("postgres", config), &plugins);
    let store = Arc::new(plugin.connect(&plan.host.backends[LABEL]).unwrap());
    assert_eq!(
        async_increments(store, &fresh_bucket("async")),
        (1..=64).collect::<Vec<u64>>()
    );
}

/// `set-many`, `get-many` (a missing key in the middle) and `delete-many` in `bucket`.
pub(crate) fn batch_calls(host: &Host, bucket: &str) -> Vec<String> {
    let mut store = new_store(host);
    [
        format!(r#"counter#set-many("{bucket}", [("a", [49]), ("b", [50]), ("a", [51])])"#),
        format!(r#"counter#get-many("{bucket}", ["a", "missing", "b"])"#),
        format!(r#"counter#delete-many("{bucket}", ["a", "never-there"])"#),
        format!(r#"counter#get-many("{bucket}", ["a", "b"])"#),
        format!(r#"counter#get-many("{bucket}", [])"#),
    ]
    .iter()
    .map(|call| invoke(host, &mut store, call))
    .collect()
}

/// What [`batch_calls`] return from every store.
pub(crate) fn expected_batch() -> [&'static str; 5] {
    [
        "",
        r#"[some(("a", [51])), none, some(("b", [50]))]"#,
        "",
        r#"[none, some(("b", [50]))]"#,
        "[]",
    ]
}

#[test]
fn batch_round_trips_in_memory_and_postgres_alike() {
    let plugins = Plugins::<HostState>::builtin();
    let memory = Host::link(
        &plan(&counter("memory", BackendConfig::default()), &plugins),
        &plugins,
    )
    .unwrap();
    let expected = expected_batch();
    assert_eq!(batch_calls(&memory, "batch"), expected);

    let Some([a_url, b_url]) = database("batch_round_trips_in_memory_and_postgres_alike") else {
        return;
    };
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let config = BackendConfig::default().with("url-env", VARIABLES[0]);
    let postgres = Host::link(&plan(&counter("postgres", config), &plugins), &plugins).unwrap();
    assert_eq!(batch_calls(&postgres, &fresh_bucket("batch")), expected);
}

/// `store`'s increments of a value that is not a counter, and of one about to overflow.
fn refuses_what_is_not_a_counter(store: &dyn KeyValue, bucket: &str) {
    store.set(bucket, "word", b"abc").unwrap();
    assert!(
        matches!(store.increment(bucket, "word", 1), Err(Error::Other(m)) if m.contains("not a counter"))
    );
    assert_eq!(
        store.get(bucket, "word").unwrap().as_deref(),
        Some(&b"abc"[..])
    );
    store
        .set(bucket, "big", u64::MAX.to_string().as_bytes())
        .unwrap();
    assert!(store.increment(bucket, "big", 1).is_err());
    assert_eq!(store.increment(bucket, "big", 0).unwrap(), u64::MAX);
    assert_eq!(store.increment(bucket, "new", 5).unwrap(), 5);
    assert_eq!(
        store.get(bucket, "new").unwrap().as_deref(),
        Some(&b"5"[..])
    );
}

#[test]
fn increment_refuses_a_value_that_is_not_a_counter_and_leaves_it() {
    refuses_what_is_not_a_counter(MemoryPlugin::new().store(LABEL).as_ref(), "words");
    let Some([a_url, _]) = database("increment_refuses_a_value_that_is_not_a_counter") else {
        return;
    };
    let plugin = PostgresPlugin::with_variables([(VARIABLES[0], a_url)]);
    let plugins = Plugins::<HostState>::builtin();
    let config = BackendConfig::default().with("url-env", VARIABLES[0]);
    let plan = plan(&counter("postgres", config), &plugins);
    let store = plugin.connect(&plan.host.backends[LABEL]).unwrap();
    refuses_what_is_not_a_counter(&store, &fresh_bucket("words"));
}

// --- create-table -----------------------------------------------------------------------

/// A table name no other test (or earlier run) uses.
fn fresh_table(test: &str) -> String {
    fresh_bucket(test).replace('-', "_").to_lowercase()
}

#[test]
fn postgres_creates_its_missing_table_and_serves() {
    let test = "postgres_creates_its_missing_table_and_serves";
    let Some(c_url) = variable(test, "TEAM_C_DATABASE_URL", "scripts/postgres.sh") else {
        return;
    };
    let plugins = plugins_with(&[("TEAM_C_DATABASE_URL", &c_url)]);
    let table = fresh_table("created");
    let config = BackendConfig::default()
        .with("url-env", "TEAM_C_DATABASE_URL")
        .with("table", table.as_str());
    let plan = plan(&counter("postgres", config), &plugins);
    assert_eq!(compose_host::check(&plan, &plugins), []);
    let host = Host::link(&plan, &plugins).unwrap();
    let mut store = new_store(&host);
    assert_eq!(
        invoke(&host, &mut store, r#"counter#increment("b", "k", 3)"#),
        "3"
    );
    // In team C's own schema, the first of its search_path.
    let rows = connect(&c_url)
        .query(&format!("SELECT value FROM team_c.{table}"), &[])
        .unwrap();
    assert_eq!(rows.len(), 1);
}

#[test]
fn a_missing_table_is_an_error_without_create_table_or_the_create_privilege() {
    let test = "a_missing_table_is_an_error";
    let Some(c_url) = variable(test, "TEAM_C_DATABASE_URL", "scripts/postgres.sh") else {
        return;
    };
    let Some([a_url, _]) = database(test) else {
        return;
    };
    let plugins = plugins_with(&[("TEAM_C_DATABASE_URL", &c_url), (VARIABLES[0], &a_url)]);
    let table = fresh_table("absent");
    let check = |variable: &str, create: Option<bool>| {
        let mut config = BackendConfig::default()
            .with("url-env", variable)
            .with("table", table.as_str());
        if let Some(create) = create {
            config = config.with("create-table", create);
        }
        compose_host::check(&plan(&counter("postgres", config), &plugins), &plugins)
    };
    // `create-table = false`: today's diagnostic, and the table is still missing.
    let errors = check("TEAM_C_DATABASE_URL", Some(false));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].cause.contains("does not exist"), "{}", errors[0]);
    assert!(errors[0].help.as_deref().unwrap().starts_with("create it"));
    // Team A's role may not create tables in its schema: the same diagnostic, and why.
    let errors = check(VARIABLES[0], None);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].cause.contains("does not exist"), "{}", errors[0]);
    let help = errors[0].help.as_deref().unwrap();
    assert!(help.starts_with("create it"), "{help}");
    assert!(
        help.contains("could not create it: permission denied for schema team_a"),
        "{help}"
    );
    // Nothing was created by either.
    let found = connect(&c_url)
        .query("SELECT 1 FROM pg_tables WHERE tablename = $1", &[&table])
        .unwrap();
    assert!(found.is_empty());
}

// --- TLS --------------------------------------------------------------------------------

#[test]
fn tls_verify_full_accepts_its_root_and_refuses_another() {
    let test = "tls_verify_full_accepts_its_root_and_refuses_another";
    let how = "COMPOSE_POSTGRES_TLS=1 scripts/postgres.sh";
    let (Some(url), Some(wrong)) = (
        variable(test, "TEAM_A_TLS_DATABASE_URL", how),
        variable(test, "COMPOSE_POSTGRES_WRONG_CA", how),
    ) else {
        return;
    };
    let (_, right) = url
        .split_once("sslrootcert=")
        .expect("the URL names its root");
    let with_root = |root: &str| url.replace(right, root);
    let no_check = url.replace("verify-full", "require").replace(right, "");
    let no_check = no_check.trim_end_matches("&sslrootcert=").to_owned();
    let variables = [
        ("RIGHT", url.clone()),
        ("WRONG", with_root(&wrong)),
        ("REQUIRE", no_check),
        ("MISSING", with_root("/nonexistent/ca.pem")),
    ];
    let plugins = Plugins::<HostState>::builtin();
    let plugin = Arc::new(PostgresPlugin::with_variables(variables.clone()));
    let mut tls_plugins = Plugins::<HostState>::builtin();
    tls_plugins.register(plugin);
    let check = |variable: &str| {
        let config = BackendConfig::default().with("url-env", variable);
        compose_host::check(&plan(&counter("postgres", config), &plugins), &tls_plugins)
    };
    assert_eq!(check("RIGHT"), []);
    assert_eq!(check("REQUIRE"), []);
    let errors = check("WRONG");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].cause.contains("certificate"),
        "refused for its certificate: {}",
        errors[0]
    );
    // verify-full checks the name the string connects to, verify-ca does not: the same
    // server reached as `wrong.invalid` (its certificate names 127.0.0.1 and localhost).
    let misnamed = |mode: &str| {
        let url = url
            .replace("verify-full", mode)
            .replace("@127.0.0.1:", "@wrong.invalid:");
        format!("{url}&hostaddr=127.0.0.1")
    };
    let variables = [
        ("FULL", misnamed("verify-full")),
        ("CA", misnamed("verify-ca")),
    ];
    let mut named = Plugins::<HostState>::builtin();
    named.register(Arc::new(PostgresPlugin::with_variables(variables)));
    let check_named = |variable: &str| {
        let config = BackendConfig::default().with("url-env", variable);
        compose_host::check(&plan(&counter("postgres", config), &plugins), &named)
    };
    let errors = check_named("FULL");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .cause
            .contains("certificate not valid for name \"wrong.invalid\""),
        "{}",
        errors[0]
    );
    assert_eq!(check_named("CA"), []);
    let errors = check("MISSING");
    assert!(
        errors[0].cause.contains("cannot read `sslrootcert`"),
        "{}",
        errors[0]
    );
    // And it serves through TLS.
    let config = BackendConfig::default().with("url-env", "RIGHT");
    let host = Host::link(&plan(&counter("postgres", config), &plugins), &tls_plugins).unwrap();
    let mut store = new_store(&host);
    let bucket = fresh_bucket("tls");
    assert_eq!(
        invoke(
            &host,
            &mut store,
            &format!(r#"counter#increment("{bucket}", "k", 2)"#)
        ),
        "2"
    );
}
