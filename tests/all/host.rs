//! `compose-host`: named backends served by host plugins — `memory`, and `postgres` on the
//! real database that `scripts/postgres.sh` starts — and `wasi:config/store` per component.
//!
//! The PostgreSQL tests read `TEAM_A_DATABASE_URL` and `TEAM_B_DATABASE_URL` (roles
//! `team_a` and `team_b`, each with its own schema and table `keyvalue`). In CI
//! (`CI=true`) a missing variable fails the test; elsewhere the test says it is skipped.

use compose_host::Call;
use compose_host::keyvalue::PostgresPlugin;
use compose_host::{BackendError, Host, HostError, HostState, Plugins};
use compose_resolver::{BackendConfig, Plan, Problem, Workload, resolve_file_with, resolve_with};
use compose_tests::{example_workload, fixture_component};
use postgres::error::SqlState;
use postgres::{Client, NoTls};
use std::io::Write;
use std::sync::Arc;
use wasmtime::Store;

pub(crate) const KEYVALUE: &str = "wasi:keyvalue/store@0.2.0-draft";
const LABELS: [&str; 2] = ["team-a-postgres", "team-b-postgres"];
pub(crate) const VARIABLES: [&str; 2] = ["TEAM_A_DATABASE_URL", "TEAM_B_DATABASE_URL"];

// --- the database -------------------------------------------------------------------------

/// The connection strings of team A's and team B's roles, or `None` (after saying so) when
/// they are not set outside CI. In CI a missing variable fails the test.
pub(crate) fn database(test: &str) -> Option<[String; 2]> {
    let urls = VARIABLES.map(|v| std::env::var(v).ok());
    if let [Some(a), Some(b)] = urls {
        return Some([a, b]);
    }
    let why = format!(
        "{} not set; run the tests under scripts/postgres.sh (`scripts/postgres.sh run -- cargo test`)",
        VARIABLES.join(" and ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why}");
    }
    // Straight to the process's stderr: the test harness shows it even when the test passes.
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
    None
}

/// A bucket no other test (or earlier run) uses.
pub(crate) fn fresh_bucket(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{test}-{}-{nanos}", std::process::id())
}

pub(crate) fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).expect("the role logs in")
}

/// `postgresql://ROLE:PASSWORD@HOST:PORT/DB` with another password.
fn with_password(url: &str, password: &str) -> String {
    let (credentials, rest) = url.split_once('@').expect("a URL with credentials");
    let (role, _) = credentials.rsplit_once(':').expect("a password");
    format!("{role}:{password}@{rest}")
}

/// The same URL on a port of 127.0.0.1 where nothing listens.
fn with_closed_port(url: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (credentials, rest) = url.split_once('@').unwrap();
    let (_, database) = rest.split_once('/').unwrap();
    format!("{credentials}@127.0.0.1:{port}/{database}")
}

// --- the workload -------------------------------------------------------------------------

/// The `teams` component with `team-a-postgres` and `team-b-postgres` served by `plugin`,
/// each `postgres` backend from its own variable.
fn teams(plugin: &str) -> Workload {
    let mut workload = Workload::new("teams").with_component("teams", fixture_component("teams"));
    for (label, variable) in LABELS.iter().zip(VARIABLES) {
        let config = match plugin {
            "postgres" => BackendConfig::default().with("url-env", variable),
            _ => BackendConfig::default(),
        };
        workload = workload.with_plugin_backend(*label, KEYVALUE, Some(plugin), config);
    }
    workload
}

/// `workload` resolved against `plugins`' profile.
pub(crate) fn plan(workload: &Workload, plugins: &Plugins<HostState>) -> Plan {
    resolve_with(workload, &plugins.profile())
        .unwrap_or_else(|e| panic!("the workload resolves: {:?}", e.diagnostics))
}

/// The built-in plugins, with `postgres` reading its variables from `variables` only.
pub(crate) fn plugins_with(variables: &[(&str, &str)]) -> Plugins<HostState> {
    let mut plugins = Plugins::builtin();
    plugins.register(Arc::new(PostgresPlugin::with_variables(
        variables.iter().map(|(k, v)| (*k, *v)),
    )));
    plugins
}

/// Calls `call` (`--invoke` syntax) and returns the result in WAVE.
pub(crate) fn invoke(host: &Host, store: &mut Store<HostState>, call: &str) -> String {
    let parsed = Call::parse(call).unwrap();
    host.invoke(store, None, &parsed)
        .unwrap_or_else(|e| panic!("{call}: {e}"))
        .unwrap_or_default()
}

pub(crate) fn new_store(host: &Host) -> Store<HostState> {
    host.new_store(&compose_host::grants::Offer::default())
        .unwrap()
}

// --- postgres -----------------------------------------------------------------------------

#[test]
fn postgres_backends_serve_calls_made_inside_a_tokio_runtime() {
    // A WASI 0.3 workload's store runs inside a tokio runtime (`compose serve`, `compose
    // run`); the `postgres` client drives a runtime of its own, which tokio refuses to
    // start there: the plugin must run its queries off the runtime's thread.
    let Some([a_url, b_url]) = database("postgres_backends_inside_a_runtime") else {
        return;
    };
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let host = Host::link(&plan(&teams("postgres"), &plugins), &plugins).unwrap();
    let mut store = new_store(&host);
    let bucket = fresh_bucket("runtime");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let put = format!(r#"teams#put("a", "{bucket}", "k", "v")"#);
        assert_eq!(invoke(&host, &mut store, &put), "ok");
        let get = format!(r#"teams#get("a", "{bucket}", "k")"#);
        assert_eq!(invoke(&host, &mut store, &get), r#"ok(some("v"))"#);
    });
}

#[test]
fn postgres_writes_through_a_label_land_in_its_teams_table_as_its_role() {
    let Some([a_url, b_url]) = database("postgres_writes_through_a_label") else {
        return;
    };
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let host = Host::link(&plan(&teams("postgres"), &plugins), &plugins).unwrap();
    let mut store = new_store(&host);
    let bucket = fresh_bucket("isolation");
    let put = |store: &mut _, team: &str, key: &str, value: &str| {
        let call = format!(r#"teams#put("{team}", "{bucket}", "{key}", "{value}")"#);
        assert_eq!(invoke(&host, store, &call), "ok");
    };
    put(&mut store, "a", "color", "red");
    put(&mut store, "b", "color", "blue");
    put(&mut store, "a", "only-a", "1");

    // In team A's table, written by role team_a; in team B's, by team_b.
    let row = |url: &str, key: &str| {
        connect(url)
            .query_opt(
                "SELECT value, written_by::text FROM keyvalue WHERE bucket = $1 AND key = $2",
                &[&bucket, &key],
            )
            .unwrap()
            .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, String>(1)))
    };
    assert_eq!(
        row(&a_url, "color"),
        Some((b"red".to_vec(), "team_a".into()))
    );
    assert_eq!(
        row(&b_url, "color"),
        Some((b"blue".to_vec(), "team_b".into()))
    );
    assert_eq!(row(&b_url, "only-a"), None, "team B's table never gets it");

    // Team B's role cannot even read team A's table.
    let error = connect(&b_url)
        .query("SELECT key FROM team_a.keyvalue", &[])
        .unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));

    // Through the labels: each team sees its own rows only.
    let get = |store: &mut _, team: &str, key: &str| {
        invoke(
            &host,
            store,
            &format!(r#"teams#get("{team}", "{bucket}", "{key}")"#),
        )
    };
    assert_eq!(get(&mut store, "a", "color"), r#"ok(some("red"))"#);
    assert_eq!(get(&mut store, "b", "color"), r#"ok(some("blue"))"#);
    assert_eq!(get(&mut store, "b", "only-a"), "ok(none)");
    let keys = format!(r#"teams#keys("b", "{bucket}")"#);
    assert_eq!(invoke(&host, &mut store, &keys), r#"ok(["color"])"#);
}

#[test]
fn postgres_errors_reach_the_guest_as_the_interfaces_error_not_a_trap() {
    let Some([a_url, b_url]) = database("postgres_errors_reach_the_guest") else {
        return;
    };
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let host = Host::link(&plan(&teams("postgres"), &plugins), &plugins).unwrap();
    let mut store = new_store(&host);
    let bucket = fresh_bucket("errors");
    // PostgreSQL's text cannot hold NUL: the database refuses the key.
    let call = format!(r#"teams#put("a", "{bucket}", "nul\u{{0}}", "v")"#);
    let result = invoke(&host, &mut store, &call);
    assert!(
        result.starts_with(r#"err("other: invalid byte sequence"#),
        "{result}"
    );
    // The store is not poisoned: no trap happened.
    let call = format!(r#"teams#exists("a", "{bucket}", "nul")"#);
    assert_eq!(invoke(&host, &mut store, &call), "ok(false)");
}

#[test]
fn check_passes_with_the_right_variables_and_names_each_backend_that_cannot_be_served() {
    let Some([a_url, b_url]) = database("check") else {
        return;
    };
    let good = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let plan = plan(&teams("postgres"), &good);
    assert_eq!(compose_host::check(&plan, &good), []);

    let wrong_password = with_password(&a_url, "wrong");
    let stopped = with_closed_port(&a_url);
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[(VARIABLES[0], &wrong_password), (VARIABLES[1], &b_url)],
            r#"password authentication failed for user "team_a""#,
        ),
        (
            &[(VARIABLES[0], &stopped), (VARIABLES[1], &b_url)],
            "Connection refused",
        ),
        (
            &[(VARIABLES[1], &b_url)],
            "environment variable `TEAM_A_DATABASE_URL` is not set",
        ),
    ];
    for (variables, cause) in cases {
        let plugins = plugins_with(variables);
        let errors = compose_host::check(&plan, &plugins);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].label, "team-a-postgres");
        assert!(errors[0].cause.contains(cause), "{}", errors[0]);
        // `compose run` fails the same way, before anything runs.
        match Host::link(&plan, &plugins) {
            Err(HostError::Backends(linked)) => assert_eq!(linked, errors),
            other => panic!("expected the backend errors, got {:?}", other.err()),
        }
    }

    // Every failing backend at once: both teams, each with its own cause.
    let plugins = plugins_with(&[(VARIABLES[0], &wrong_password)]);
    let errors: Vec<(String, bool)> = compose_host::check(&plan, &plugins)
        .into_iter()
        .map(|e: BackendError| (e.label.clone(), e.cause.contains("not set")))
        .collect();
    assert_eq!(
        errors,
        [
            ("team-a-postgres".to_string(), false),
            ("team-b-postgres".to_string(), true)
        ]
    );
}

#[test]
fn check_names_a_role_without_privileges_on_its_table() {
    let Some([a_url, b_url]) = database("check_privileges") else {
        return;
    };
    // Team B's role, pointed at team A's table.
    let workload = Workload::new("intruder")
        .with_component("teams", fixture_component("teams"))
        .with_plugin_backend(
            "team-a-postgres",
            KEYVALUE,
            Some("postgres"),
            BackendConfig::default()
                .with("url-env", "TEAM_B_DATABASE_URL")
                .with("table", "team_a.keyvalue"),
        )
        .with_plugin_backend(
            "team-b-postgres",
            KEYVALUE,
            Some("postgres"),
            BackendConfig::default().with("url-env", "TEAM_B_DATABASE_URL"),
        );
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let errors = compose_host::check(&plan(&workload, &plugins), &plugins);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].label, "team-a-postgres");
    assert!(
        errors[0]
            .cause
            .contains("permission denied for schema team_a"),
        "{}",
        errors[0]
    );
    assert!(errors[0].help.as_deref().unwrap().contains("grant"));
}

/// The same calls through both teams' labels: every function of the interface, paging
/// and a missing key.
fn same_calls(bucket: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for team in ["a", "b"] {
        for (key, value) in [("pear", "5"), ("apple", "3"), ("fig", "0")] {
            calls.push(format!(
                r#"teams#put("{team}", "{bucket}", "{key}", "{team}{value}")"#
            ));
        }
        calls.push(format!(
            r#"teams#put("{team}", "{bucket}", "apple", "again")"#
        ));
    }
    for team in ["a", "b"] {
        calls.extend([
            format!(r#"teams#get("{team}", "{bucket}", "apple")"#),
            format!(r#"teams#get("{team}", "{bucket}", "missing")"#),
            format!(r#"teams#exists("{team}", "{bucket}", "fig")"#),
            format!(r#"teams#delete("{team}", "{bucket}", "fig")"#),
            format!(r#"teams#delete("{team}", "{bucket}", "never-there")"#),
            format!(r#"teams#exists("{team}", "{bucket}", "fig")"#),
            format!(r#"teams#keys("{team}", "{bucket}")"#),
            format!(r#"teams#keys("{team}", "{bucket}-empty")"#),
        ]);
    }
    calls
}

#[test]
fn memory_and_postgres_give_the_same_results_on_the_same_calls() {
    let Some([a_url, b_url]) = database("memory_and_postgres") else {
        return;
    };
    let plugins = plugins_with(&[(VARIABLES[0], &a_url), (VARIABLES[1], &b_url)]);
    let bucket = fresh_bucket("same");
    let results = |plugin: &str| -> Vec<String> {
        let host = Host::link(&plan(&teams(plugin), &plugins), &plugins).unwrap();
        let mut store = new_store(&host);
        same_calls(&bucket)
            .iter()
            .map(|call| invoke(&host, &mut store, call))
            .collect()
    };
    let memory = results("memory");
    assert_eq!(memory, results("postgres"));
    assert_eq!(memory[8], r#"ok(some("again"))"#);
    assert_eq!(memory[14], r#"ok(["apple", "pear"])"#);
    assert_eq!(memory[15], "ok([])");
}

// --- memory -------------------------------------------------------------------------------

#[test]
fn memory_data_is_held_by_the_host_each_label_its_own() {
    let plugins = Plugins::<HostState>::builtin();
    let host = Host::link(&plan(&teams("memory"), &plugins), &plugins).unwrap();
    let mut first = new_store(&host);
    invoke(&host, &mut first, r#"teams#put("a", "cache", "k", "v")"#);
    drop(first);
    // A new store (request) of the same host sees what the first one wrote...
    let mut second = new_store(&host);
    assert_eq!(
        invoke(&host, &mut second, r#"teams#get("a", "cache", "k")"#),
        r#"ok(some("v"))"#
    );
    // ...and the other label does not.
    assert_eq!(
        invoke(&host, &mut second, r#"teams#get("b", "cache", "k")"#),
        "ok(none)"
    );
}

#[test]
fn a_backend_without_a_plugin_is_served_by_the_default_of_its_interface() {
    let plugins = Plugins::<HostState>::builtin();
    let plan = resolve_file_with(example_workload("shop"), &plugins.profile()).unwrap();
    assert_eq!(
        plan.host.backends["team-c-postgres"].plugin.as_deref(),
        Some("memory")
    );
    assert_eq!(compose_host::check(&plan, &plugins), []);
    let host = Host::link(&plan, &plugins).unwrap();
    let mut store = new_store(&host);
    assert_eq!(invoke(&host, &mut store, "report#summary()"), r#""""#);
}

#[test]
fn the_plugins_check_their_keys_when_the_workload_resolves() {
    let plugins = Plugins::<HostState>::builtin();
    let postgres = |config: BackendConfig| {
        Workload::new("bad")
            .with_component("teams", fixture_component("teams"))
            .with_plugin_backend(LABELS[0], KEYVALUE, Some("postgres"), config)
            .with_plugin_backend(
                LABELS[1],
                KEYVALUE,
                Some("memory"),
                BackendConfig::default(),
            )
    };
    let codes = |workload: &Workload| -> Vec<String> {
        let error = resolve_with(workload, &plugins.profile()).unwrap_err();
        error
            .problems()
            .map(|p: &Problem| format!("{}: {p}", p.code()))
            .collect()
    };
    let missing = codes(&postgres(BackendConfig::default()));
    assert!(
        missing[0].contains("needs the key `url-env`"),
        "{missing:?}"
    );
    let bad = codes(&postgres(
        BackendConfig::default()
            .with("url-env", "NOT A NAME")
            .with("table", "x; DROP TABLE y"),
    ));
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad[0].contains("not an environment variable's name"),
        "{bad:?}"
    );
    assert!(bad[1].contains("not a table name"), "{bad:?}");
    let unknown = codes(&postgres(
        BackendConfig::default()
            .with("url-env", "X")
            .with("password", "secret"),
    ));
    assert!(unknown[0].contains("password"), "{unknown:?}");
}

// --- wasi:config --------------------------------------------------------------------------

#[test]
fn config_values_reach_only_their_own_component() {
    let plugins = Plugins::<HostState>::builtin();
    let settings = resolve_file_with(example_workload("settings"), &plugins.profile()).unwrap();
    let host = Host::link(&settings, &plugins).unwrap();
    let mut store = new_store(&host);
    assert_eq!(
        invoke(&host, &mut store, "alpha#all()"),
        r#"ok([("greeting", "Hi"), ("region", "eu")])"#
    );
    assert_eq!(
        invoke(&host, &mut store, "beta#all()"),
        r#"ok([("greeting", "Hello")])"#
    );
    assert_eq!(
        invoke(&host, &mut store, r#"beta#get("region")"#),
        "ok(none)"
    );
    assert_eq!(
        invoke(&host, &mut store, r#"alpha#get("greeting")"#),
        r#"ok(some("Hi"))"#
    );
    // A component without a table sees an empty configuration.
    let workload = Workload::new("bare")
        .with_component("solo", fixture_component("settings"))
        .with_host_interface("wasi:config/store@0.2.0-draft");
    let host = Host::link(&plan(&workload, &plugins), &plugins).unwrap();
    let mut store = new_store(&host);
    assert_eq!(invoke(&host, &mut store, "settings#all()"), "ok([])");
}

#[test]
fn an_interface_the_host_does_not_serve_fails_when_resolving() {
    let plugins = Plugins::<HostState>::builtin();
    let workload = Workload::new("ledger")
        .with_component("ledger", fixture_component("ledger"))
        .with_host_backend("ledger-store", "acme:kv/store@0.1.0");
    let error = resolve_with(&workload, &plugins.profile()).unwrap_err();
    assert_eq!(
        error.problems().next().map(Problem::code),
        Some("compose::no-plugin"),
        "{:?}",
        error.diagnostics
    );
}
