//! The `compose` command as a user runs it: exit statuses, what it prints, what it writes.
//! (The libraries' behaviour is tested in `tests/all`; this binary only checks the CLI.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[cfg(unix)]
mod metrics;
#[cfg(unix)]
mod otlp;
mod ui;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The compiled-code cache of these tests (not the user's).
fn test_cache() -> PathBuf {
    root().join("target/tmp/cli-tests-cache")
}

/// The `compose` command in the workspace's root, with the tests' cache and none of the
/// OpenTelemetry variables of the tests' own environment (a test sets the ones it wants).
fn command() -> Command {
    command_in(None)
}

/// [`command`], run in the network namespace `netns` when given (`ip netns exec`, which
/// execs the binary: the child is compose itself).
fn command_in(netns: Option<&str>) -> Command {
    let binary = env!("CARGO_BIN_EXE_compose");
    let mut command = match netns {
        Some(netns) => {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", netns, binary]);
            command
        }
        None => Command::new(binary),
    };
    command
        .env("COMPOSE_CACHE_DIR", test_cache())
        .current_dir(root());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| n.starts_with("OTEL_")) {
            command.env_remove(name);
        }
    }
    command
}

fn compose(args: &[&str]) -> Output {
    compose_in(args, &[])
}

/// `compose ARGS` with `envs` set.
fn compose_in(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = command();
    command.args(args).envs(envs.iter().copied());
    command.output().expect("compose runs")
}

/// A fresh folder under the target folder for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = root()
        .join("target/tmp/cli-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn resolve_prints_the_plan_and_exits_0() {
    let out = compose(&["resolve", "fixtures/shop/workload.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(
        "team-a-postgres (implements wasi:keyvalue/store@0.2.0-draft) <- team-a-postgres: wasi:keyvalue/store@0.2.0-draft"
    ));
    assert!(stdout.contains(
        "team-c-postgres (implements wasi:keyvalue/store@0.2.0-draft) <- host backend team-c-postgres"
    ));
    assert!(stdout.contains("workload `shop` resolves: 6 component(s), 6 binding(s), 2 host import(s), 2 export(s), 0 warning(s)"), "{stdout}");
}

#[test]
fn resolve_json_is_the_plan_for_tools() {
    let out = compose(&["resolve", "--format", "json", "fixtures/shop/workload.toml"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["name"], "shop");
    assert_eq!(json["components"].as_array().unwrap().len(), 6);
}

#[test]
fn resolve_failure_exits_1_with_located_diagnostics() {
    let dir = std::env::temp_dir().join(format!("compose-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let workload = dir.join("workload.toml");
    let frontend = root().join("fixtures/components/frontend.wasm");
    std::fs::write(
        &workload,
        format!(
            "name = \"broken\"\n[components.frontend]\npath = {:?}\n",
            frontend.display().to_string()
        ),
    )
    .unwrap();
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let out = compose(&["resolve", workload.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("compose::missing-backend"), "{stderr}");
    assert!(stderr.contains("workload.toml:2:13"), "{stderr}");
    assert!(
        stderr.contains("the workload does not resolve: 5 error(s)"),
        "{stderr}"
    );
    // It reads only.
    let after: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(compose(&["resolve"]).status.code(), Some(2));
    assert_eq!(
        compose(&["resolve", "x.toml", "--format", "yaml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(compose(&["frobnicate"]).status.code(), Some(2));
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn cli_build_of_a_failing_workload_writes_nothing_and_exits_1() {
    let compose = env!("CARGO_BIN_EXE_compose");
    let dir = scratch_dir("cli-failing");
    // The frontend alone: nothing serves its imports.
    let workload = format!(
        "name = \"broken\"\n[components.frontend]\npath = \"{}\"\n",
        root().join("fixtures/components/frontend.wasm").display()
    );
    std::fs::write(dir.join("workload.toml"), workload).unwrap();
    std::fs::write(dir.join("app.wasm"), b"previous build").unwrap();
    let output = Command::new(compose)
        .args(["build", "workload.toml", "-o", "app.wasm"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not resolve"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(
        files_in(&dir),
        ["app.wasm", "workload.toml"],
        "no temporary file is left"
    );
    assert_eq!(
        std::fs::read(dir.join("app.wasm")).unwrap(),
        b"previous build"
    );
    // The same diagnostics as `compose resolve`.
    let resolve = Command::new(compose)
        .args(["resolve", "workload.toml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(resolve.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&resolve.stderr), stderr);
    // No output and no `--wat`: a usage error.
    let usage = Command::new(compose)
        .args(["build", "workload.toml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn cli_build_writes_the_component_a_file_or_stdout() {
    let compose = env!("CARGO_BIN_EXE_compose");
    let dir = scratch_dir("cli-shop");
    let workload = root().join("fixtures/shop/workload.toml");
    let run = |args: &[&str]| {
        Command::new(compose)
            .arg("build")
            .arg(&workload)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let to_file = run(&["-o", "out/app.wasm"]);
    assert_eq!(
        to_file.status.code(),
        Some(1),
        "a missing folder is an error"
    );
    std::fs::create_dir(dir.join("out")).unwrap();
    let to_file = run(&["-o", "out/app.wasm"]);
    let stderr = String::from_utf8_lossy(&to_file.stderr);
    assert!(to_file.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "6 component(s) from 5 file(s), 4 binding(s), 2 host import(s) left, 2 export(s)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("import team-c-postgres (implements wasi:keyvalue/store@0.2.0-draft)"),
        "{stderr}"
    );
    let written = std::fs::read(dir.join("out/app.wasm")).unwrap();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&written)
        .expect("the component validates");
    assert_eq!(files_in(&dir.join("out")), ["app.wasm"]);
    let to_stdout = run(&["-o", "-"]);
    assert!(to_stdout.status.success());
    assert!(
        to_stdout.stdout == written,
        "stdout and the file hold the same component"
    );
    let wat = run(&["--wat"]);
    assert!(wat.status.success());
    let text = String::from_utf8(wat.stdout).unwrap();
    assert!(
        text.starts_with("(component"),
        "{}",
        &text[..100.min(text.len())]
    );
    assert!(
        text.contains(
            r#"(import "team-c-postgres" (implements "wasi:keyvalue/store@0.2.0-draft")"#
        )
    );
}

/// The import names of a component's binary (its top-level imports).
fn imports_of(component: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.expect("the component parses") {
            wasmparser::Payload::ComponentImportSection(imports) => {
                names.extend(imports.into_iter().map(|i| i.unwrap().name.name.to_owned()));
            }
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => break,
            _ => {}
        }
    }
    names
}

#[test]
fn resolve_and_build_take_the_host_section_as_declared_and_check_and_host_compose_refuse_it() {
    // A workload written for another host: an interface and a label backend that
    // compose-host does not serve.
    let dir = scratch_dir("elsewhere");
    let components = root().join("fixtures/components");
    let workload = dir.join("workload.toml");
    std::fs::write(
        &workload,
        format!(
            r#"name = "elsewhere"
[host]
interfaces = ["wasi:cli/*@0.2.0", "acme:text/format@0.1.0", "acme:session/sessions@0.1.0"]
backends = {{ ledger-store = "acme:kv/store@0.1.0", team-a-postgres = "wasi:keyvalue/store@0.2.0-draft", team-b-postgres = "wasi:keyvalue/store@0.2.0-draft" }}
[components.frontend]
path = {frontend:?}
[components.ledger]
path = {ledger:?}
"#,
            frontend = components.join("frontend.wasm"),
            ledger = components.join("ledger.wasm"),
        ),
    )
    .unwrap();
    let workload = workload.to_str().unwrap();
    let out = compose(&["resolve", workload]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(
        plan.contains("ledger-store (implements acme:kv/store@0.1.0) <- host backend ledger-store"),
        "{plan}"
    );
    let built = dir.join("elsewhere.wasm");
    let out = compose(&["build", workload, "-o", built.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let imports = imports_of(&std::fs::read(&built).unwrap());
    for name in [
        "acme:text/format@0.1.0",
        "acme:session/sessions@0.1.0",
        "ledger-store",
    ] {
        assert!(imports.iter().any(|i| i == name), "{name} in {imports:?}");
    }
    let out = compose(&["graph", workload]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Against compose-host, as `compose check` runs it, the same diagnostics as before.
    let expected = [
        "compose::host-cannot-serve",
        "acme:text/format@0.1.0",
        "acme:session/sessions@0.1.0",
        "compose::no-plugin",
        "ledger-store",
    ];
    for args in [
        &["resolve", "--host", "compose", workload][..],
        &["build", "--host", "compose", workload, "-o", "-"],
        &["graph", "--host", "compose", workload],
        &["check", workload],
    ] {
        let out = compose(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        for needle in expected {
            assert!(stderr.contains(needle), "{args:?}: {needle} in {stderr}");
        }
    }
}

#[test]
fn run_calls_a_workload_export_and_prints_wave() {
    let run = |args: &[&str]| {
        let mut all = vec!["run", "fixtures/shop/workload.toml"];
        all.extend_from_slice(args);
        compose(&all)
    };
    let greet = run(&[
        "--env",
        "GREETING=Hi",
        "--invoke",
        r#"acme:app/handler@0.1.0#greet("ann")"#,
    ]);
    assert_eq!(greet.status.code(), Some(0), "{}", text(&greet.stderr));
    assert_eq!(text(&greet.stdout), "\"Hi, ann! (#1)\"\n");
    let get = run(&["--invoke", r#"handler#get("a", "nothing")"#]);
    assert_eq!(text(&get.stdout), "none\n");
    // The built-in in-memory backend serves the host's `team-c-postgres`: empty at start.
    let summary = run(&["--invoke", "report#summary()"]);
    assert_eq!(text(&summary.stdout), "\"\"\n");
    let direct = run(&[
        "--component",
        "sessions",
        "--invoke",
        "sessions#closed-count()",
    ]);
    assert_eq!(text(&direct.stdout), "0\n");
}

#[test]
fn run_links_per_component_with_clusters_or_composed_alike() {
    let run = |mode: &str, call: &str| {
        let args = ["run", "fixtures/shop/workload.toml", "--link", mode];
        compose(&[&args[..], &["--env", "GREETING=Hi", "--invoke", call]].concat())
    };
    for mode in ["per-component", "clusters", "composed"] {
        let greet = run(mode, r#"handler#greet("ann")"#);
        assert_eq!(
            greet.status.code(),
            Some(0),
            "{mode}: {}",
            text(&greet.stderr)
        );
        assert_eq!(text(&greet.stdout), "\"Hi, ann! (#1)\"\n", "{mode}");
        assert!(greet.stderr.is_empty(), "{mode}: {}", text(&greet.stderr));
    }
    // Per component, a trap is named where it starts, at the trampoline.
    let trap = run("per-component", r#"handler#greet("")"#);
    let expected = "acme:text/format@0.1.0#greet of `formatter` (called by `frontend`) failed";
    assert!(
        text(&trap.stderr).contains(expected),
        "{}",
        text(&trap.stderr)
    );
    let bad = run("fused", "handler#greet(\"ann\")");
    assert_eq!(bad.status.code(), Some(2));
    let expected = "`fused` is not a link mode: use per-component, clusters or composed";
    assert!(
        text(&bad.stderr).contains(expected),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn run_reports_bad_calls_and_traps_with_exit_1() {
    let run = |call: &str| compose(&["run", "fixtures/shop/workload.toml", "--invoke", call]);
    let cases = [
        (r#"handler#greet(""#, "invalid call expression"),
        (
            "handler#nope()",
            "has no function `nope` (functions: put, get, greet, open-session)",
        ),
        (
            "handler#get(1)",
            "expected func(string, string) -> option<string>",
        ),
        // `formatter` traps inside the cluster it is fused into with `frontend`.
        (
            r#"handler#greet("")"#,
            "in the fused cluster of `frontend`, `formatter`",
        ),
    ];
    for (call, expected) in cases {
        let out = run(call);
        assert_eq!(out.status.code(), Some(1), "{call}");
        assert!(
            text(&out.stderr).contains(expected),
            "{call}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn graph_draws_to_stdout_or_a_file_even_when_the_workload_fails() {
    let dot = compose(&["graph", "fixtures/shop/workload.toml"]);
    assert_eq!(dot.status.code(), Some(0));
    assert!(text(&dot.stdout).starts_with("digraph"));
    assert!(text(&dot.stdout).contains("team-a-postgres: wasi:keyvalue/store@0.2.0-draft"));

    let dir = scratch_dir("graph");
    let svg = dir.join("broken.svg");
    let out = compose(&[
        "graph",
        "fixtures/broken/workload.toml",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the exit status says it did not resolve"
    );
    let picture = std::fs::read_to_string(&svg).expect("the picture is written");
    assert!(
        picture.contains("<svg"),
        "the format comes from the extension"
    );
    assert!(text(&out.stderr).contains("compose::unsatisfied-import"));
}

#[test]
fn resolve_condenses_repeated_diagnostics_and_json_lists_them_all() {
    let dir = scratch_dir("condense");
    let kv = root().join("fixtures/components/kv-memory.wasm");
    let mut workload =
        String::from("name = \"many\"\n[exports]\n\"wasi:keyvalue/store@0.2.0-draft\" = \"c0\"\n");
    for i in 0..20 {
        workload += &format!("[components.c{i}]\npath = \"{}\"\n", kv.display());
    }
    let path = dir.join("workload.toml");
    std::fs::write(&path, workload).unwrap();
    let out = compose(&["resolve", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings only: {}",
        text(&out.stderr)
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("compose::unused-component\n").count(),
        5,
        "{stderr}"
    );
    assert!(
        stderr
            .contains("… and 14 more compose::unused-component (like: component `c6` is not used"),
        "{stderr}"
    );
    let out = compose(&["resolve", "--format", "json", path.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["warnings"].as_array().unwrap().len(), 19);
    assert_eq!(json["schema"], 1);
}

/// The teams' connection strings from `scripts/postgres.sh`, or `None` (said on stderr)
/// outside CI when they are not set; in CI a missing one fails the test.
fn database(test: &str) -> Option<[String; 2]> {
    let vars = ["TEAM_A_DATABASE_URL", "TEAM_B_DATABASE_URL"];
    if let [Some(a), Some(b)] = vars.map(|v| std::env::var(v).ok()) {
        return Some([a, b]);
    }
    let why = "TEAM_A_DATABASE_URL and TEAM_B_DATABASE_URL not set; run under scripts/postgres.sh";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {why}"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
    None
}

/// `compose` with the teams' variables set to `a` and `b` (`None`: unset).
fn compose_with(args: &[&str], a: Option<&str>, b: Option<&str>) -> Output {
    let mut command = command();
    command.args(args);
    for (name, value) in [("TEAM_A_DATABASE_URL", a), ("TEAM_B_DATABASE_URL", b)] {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    command.output().expect("compose runs")
}

#[test]
fn check_accepts_an_http_service_as_serve_serves_it() {
    for workload in [
        "fixtures/web/workload.toml",
        "fixtures/web-js/workload.toml",
    ] {
        let out = compose(&["check", workload]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{workload}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("this host can serve it now"));
    }
}

#[test]
fn check_says_whether_the_host_can_serve_the_backends_now() {
    let check = ["check", "fixtures/teams/workload.toml"];
    // Without the variables: both labels, each with its cause, exit status 1.
    let out = compose_with(&check, None, None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for label in ["team-a-postgres", "team-b-postgres"] {
        assert!(
            stderr.contains(&format!(
                "backend `{label}` (plugin `postgres`) cannot be served"
            )),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("`TEAM_A_DATABASE_URL` is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("2 backend(s) cannot be served"), "{stderr}");
    // Each points at its backend's table in the workload file.
    for at in ["workload.toml:11:16", "workload.toml:16:16"] {
        assert!(stderr.contains(at), "{stderr}");
    }
    // The example without PostgreSQL: the default plugin serves it.
    let out = compose(&["check", "fixtures/shop/workload.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let Some([a, b]) = database("check_says_whether_the_host_can_serve_the_backends_now") else {
        return;
    };
    let out = compose_with(&check, Some(&a), Some(&b));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("can serve it now (2 backend(s))"));
    let (role, rest) = a.split_once('@').unwrap();
    let wrong = format!("{}:wrong@{rest}", role.rsplit_once(':').unwrap().0);
    let out = compose_with(&check, Some(&wrong), Some(&b));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("backend `team-a-postgres`"), "{stderr}");
    assert!(
        stderr.contains("password authentication failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("team-b-postgres"), "{stderr}");
    assert!(
        !stderr.contains("wrong"),
        "the password is never printed: {stderr}"
    );
}

#[test]
fn run_on_postgres_writes_and_reads_through_two_labels() {
    let run = |a: Option<&str>, b: Option<&str>, call: &str| {
        compose_with(
            &["run", "fixtures/teams/workload.toml", "--invoke", call],
            a,
            b,
        )
    };
    // A backend that cannot be served: nothing runs, the message is check's.
    let out = run(None, None, r#"teams#get("a", "x", "y")"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("`TEAM_A_DATABASE_URL` is not set"));
    assert!(!text(&out.stderr).contains("wasm backtrace"));

    let Some([a, b]) = database("run_on_postgres_writes_and_reads_through_two_labels") else {
        return;
    };
    let bucket = format!("cli-{}", std::process::id());
    let put = run(
        Some(&a),
        Some(&b),
        &format!(r#"teams#put("a", "{bucket}", "k", "red")"#),
    );
    assert_eq!(text(&put.stdout), "ok\n", "{}", text(&put.stderr));
    let get = |team: &str| {
        let out = run(
            Some(&a),
            Some(&b),
            &format!(r#"teams#get("{team}", "{bucket}", "k")"#),
        );
        text(&out.stdout)
    };
    assert_eq!(get("a"), "ok(some(\"red\"))\n");
    assert_eq!(get("b"), "ok(none)\n");
}

#[test]
fn run_without_invoke_runs_a_command_with_its_arguments_and_exit_status() {
    let greet = compose(&[
        "run",
        "fixtures/greet/workload.toml",
        "--env",
        "GREETING=Hi",
        "--",
        "ann",
        "bob",
    ]);
    assert_eq!(greet.status.code(), Some(0), "{}", text(&greet.stderr));
    assert_eq!(text(&greet.stdout), "Hi, ann! (#1)\nHi, bob! (#2)\n");

    let exit = compose(&[
        "run",
        "fixtures/greet/workload.toml",
        "--",
        "ann",
        "--exit=7",
    ]);
    assert_eq!(exit.status.code(), Some(7), "{}", text(&exit.stderr));
    assert_eq!(text(&exit.stdout), "Hello, ann! (#1)\n");

    let dir = scratch_dir("run-dir");
    std::fs::write(dir.join("note.txt"), "preopened\n").unwrap();
    let preopen = format!("{}::/data", dir.display());
    let cat = compose(&[
        "run",
        "fixtures/greet/workload.toml",
        "--dir",
        &preopen,
        "--",
        "--cat=note.txt",
    ]);
    assert_eq!(cat.status.code(), Some(0), "{}", text(&cat.stderr));
    assert_eq!(text(&cat.stdout), "preopened\n");
}

#[test]
fn run_timeout_and_max_memory_end_a_command_naming_the_component() {
    let looping = compose(&[
        "run",
        "fixtures/greet/workload.toml",
        "--timeout",
        "300ms",
        "--",
        "--loop",
    ]);
    assert_eq!(looping.status.code(), Some(1));
    let stderr = text(&looping.stderr);
    assert!(
        stderr.contains("of `command`") && stderr.contains("ran past its deadline"),
        "{stderr}"
    );
    let hungry = compose(&["run", "fixtures/greet/workload.toml", "--", "--alloc=64"]);
    assert_eq!(hungry.status.code(), Some(1));
    let stderr = text(&hungry.stderr);
    assert!(
        stderr.contains("component `command` would hold")
            && stderr.contains("past its max-memory of 32 MiB"),
        "{stderr}"
    );
}

#[test]
fn run_without_invoke_of_a_workload_that_is_not_a_command_lists_its_exports() {
    let out = compose(&["run", "fixtures/web/workload.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("does not export wasi:cli/run")
            && stderr.contains("its exports: wasi:http/incoming-handler@0.2.12")
            && stderr.contains("--invoke")
            && stderr.contains("compose serve"),
        "{stderr}"
    );
}

#[cfg(unix)]
/// A started `compose serve`: the child, its HTTP address, and its standard error after
/// the line that gave the address.
type Serving = (
    std::process::Child,
    String,
    std::io::BufReader<std::process::ChildStderr>,
);

#[cfg(unix)]
/// `compose serve ARGS --addr 127.0.0.1:0` with `envs` (and no OpenTelemetry variable of
/// the test's own environment): the process, its address and its standard error after the
/// line that names the address.
fn start_serve(args: &[&str], envs: &[(&str, &str)]) -> Serving {
    spawn_serve(args, envs, std::process::Stdio::inherit())
}

#[cfg(unix)]
/// [`start_serve`] with the server's standard output going to `stdout`.
fn spawn_serve(args: &[&str], envs: &[(&str, &str)], stdout: std::process::Stdio) -> Serving {
    spawn_serve_at(None, "127.0.0.1:0", args, envs, stdout)
}

#[cfg(unix)]
/// [`spawn_serve`] in the network namespace `netns` when given, listening on `addr`.
fn spawn_serve_at(
    netns: Option<&str>,
    addr: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    stdout: std::process::Stdio,
) -> Serving {
    use std::io::BufRead;
    let mut child = command_in(netns)
        .arg("serve")
        .args(args)
        .args(["--addr", addr])
        .envs(envs.iter().copied())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("compose serve starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr = address_after(&first, "listening on http://");
    (child, addr, stderr)
}

/// The address after `marker` in a server's start line.
fn address_after(line: &str, marker: &str) -> String {
    let address = line.split(marker).nth(1);
    let address = address.unwrap_or_else(|| panic!("no `{marker}` address in {line:?}"));
    address.trim().to_owned()
}

/// `GET http://ADDR/PATH`: the status and the body (an error status is not an error).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    http_get_with(addr, path, &[])
}

/// `GET http://ADDR/PATH` with `headers`: the status and the body.
fn http_get_with(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let client: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut request = client.get(&format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// Sends SIGTERM to `child`.
fn terminate(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

#[test]
fn serve_answers_http_logs_requests_and_stops_on_sigterm() {
    use std::io::Read;
    let args = ["fixtures/web/workload.toml", "--verbose", "--timeout", "2s"];
    let (mut child, addr, mut stderr) = start_serve(&args, &[]);
    let get = |path: &str| http_get(&addr, path);
    assert_eq!(
        get("/greet/ann"),
        (200, "Hello, ann! (#1)\nvisits: 1\n".into())
    );
    assert_eq!(get("/greet/").0, 500);
    assert_eq!(
        get("/greet/ann"),
        (200, "Hello, ann! (#1)\nvisits: 2\n".into())
    );

    terminate(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert!(
        log.contains("GET /greet/ann 200 ") && log.contains("instantiated: [greeter, formatter]"),
        "{log}"
    );
    assert!(
        log.contains(
            "error: workload `web`, component `formatter`, acme:text/format@0.1.0#greet: wasm trap"
        ),
        "{log}"
    );
}

/// The `[host]` table and the greeter of the example `fixtures/web`, as a workload file
/// elsewhere writes them.
fn web_host_and_greeter(name: &str) -> String {
    let components = root().join("fixtures/components");
    format!(
        "name = \"{name}\"\n[host]\ninterfaces = [\"wasi:*@0.2.0\"]\n\
         backends = {{ visits = \"wasi:keyvalue/store@0.2.0-draft\" }}\n\
         [components.greeter]\npath = \"{}\"\n",
        components.join("http-greeter.wasm").display()
    )
}

/// A network namespace joined to this one by a veth pair (`ip netns`, as root): another
/// machine's network stack for a host of the split test. Deleted on drop (which deletes
/// the pair).
#[cfg(unix)]
struct Namespace {
    name: String,
    /// The address of the namespace's end of the pair (this one's is `10.213.47.2`).
    inside: &'static str,
}

#[cfg(unix)]
impl Namespace {
    /// A new namespace, or `None` when it cannot be made here (no `ip`, not root, no
    /// network namespaces in this container).
    fn create() -> Option<Self> {
        let id = std::process::id();
        let namespace = Self {
            name: format!("compose-split-{id}"),
            inside: "10.213.47.1",
        };
        let (inner, outer) = (format!("cs{id}a"), format!("cs{id}b"));
        let ns = namespace.name.as_str();
        let steps: [&[&str]; 8] = [
            &["netns", "add", ns],
            &[
                "link", "add", &inner, "type", "veth", "peer", "name", &outer,
            ],
            &["link", "set", &inner, "netns", ns],
            &["-n", ns, "addr", "add", "10.213.47.1/30", "dev", &inner],
            &["-n", ns, "link", "set", &inner, "up"],
            &["-n", ns, "link", "set", "lo", "up"],
            &["addr", "add", "10.213.47.2/30", "dev", &outer],
            &["link", "set", &outer, "up"],
        ];
        for step in steps {
            let ran = Command::new("ip").args(step).output();
            if !ran.is_ok_and(|out| out.status.success()) {
                // Dropping the namespace deletes it and the pair's end moved into it.
                let _ = Command::new("ip").args(["link", "del", &outer]).output();
                return None;
            }
        }
        Some(namespace)
    }
}

#[cfg(unix)]
impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

#[test]
#[cfg(unix)]
fn two_hosts_split_over_wrpc_answer_as_the_single_host_workload_does() {
    // Host A in a network namespace of its own, reached over a veth pair, as the issue
    // asks where namespaces can be made; else both hosts on this machine's loopback.
    let namespace = Namespace::create();
    if namespace.is_none() {
        eprintln!("no network namespace here (needs root and `ip`): both hosts on loopback");
    }
    split_over_wrpc(namespace.as_ref());
}

/// Serves the example split over two hosts, A (in `namespace` when given) serving the
/// formatter over wRPC and B binding it as a remote, and checks both answer as the
/// single-host workload does.
#[cfg(unix)]
fn split_over_wrpc(namespace: Option<&Namespace>) {
    use std::io::BufRead;
    let dir = scratch_dir("split");
    let formatter = root().join("fixtures/components/formatter.wasm");
    // Host A: the whole example, exporting the formatter as well, served over wRPC beside
    // HTTP.
    let a = dir.join("a.toml");
    let exports = "[exports]\n\"wasi:http/incoming-handler@0.2.12\" = \"greeter\"\n\
                   \"acme:text/format@0.1.0\" = \"formatter\"\n";
    let a_text = format!(
        "{}[components.formatter]\npath = \"{}\"\n{exports}",
        web_host_and_greeter("front"),
        formatter.display()
    );
    std::fs::write(&a, a_text).unwrap();
    let a_ip = namespace.map_or("127.0.0.1", |n| n.inside);
    let wrpc = format!("tcp://{a_ip}:0");
    let a_args = [a.to_str().unwrap(), "--wrpc", &wrpc];
    let inherit = std::process::Stdio::inherit;
    let in_a = namespace.map(|n| n.name.as_str());
    let (host_a, a_http, mut a_log) =
        spawn_serve_at(in_a, &format!("{a_ip}:0"), &a_args, &[], inherit());
    let mut line = String::new();
    a_log.read_line(&mut line).unwrap();
    let a_wrpc = address_after(&line, "over wRPC on tcp://");
    // Host B: the greeter alone, its formatter the remote served by host A.
    let b = dir.join("b.toml");
    let b_text = format!(
        "{}[remotes.formatter]\nurl = \"tcp://{a_wrpc}\"\n\
         exports = [\"acme:text/format@0.1.0\"]\ntypes = \"{}\"\n",
        web_host_and_greeter("split"),
        formatter.display()
    );
    std::fs::write(&b, b_text).unwrap();
    let b_args = [b.to_str().unwrap(), "--timeout", "5s"];
    let (host_b, b_http, _b_log) = start_serve(&b_args, &[]);
    if let Some(namespace) = namespace {
        // Host B (this stack) reaches A only through the pair: A listens on its end.
        assert!(a_wrpc.starts_with(namespace.inside), "{a_wrpc}");
    }
    let (single, single_http, _single_log) = start_serve(&["fixtures/web/workload.toml"], &[]);
    // (The servers' standard errors stay open: a server whose stderr is closed cannot log.)
    let mut servers = Servers(vec![host_a, host_b, single]);
    for path in [
        "/greet/ann",
        "/greet/ann",
        "/greet/bob",
        "/greet/",
        "/nothing",
    ] {
        let expected = http_get(&single_http, path);
        assert_eq!(
            http_get(&b_http, path),
            expected,
            "{path} split across two hosts"
        );
        assert_eq!(http_get(&a_http, path), expected, "{path} on host A");
    }
    for child in &mut servers.0 {
        terminate(child);
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}

#[test]
#[cfg(unix)]
fn serve_wrpc_alone_serves_a_workload_without_an_http_handler_and_exits_0_on_sigterm() {
    use std::io::BufRead;
    let dir = scratch_dir("wrpc-alone");
    let workload = dir.join("text.toml");
    let formatter = root().join("fixtures/components/formatter.wasm");
    let text = format!(
        "name = \"text\"\n[components.formatter]\npath = \"{}\"\n",
        formatter.display()
    );
    std::fs::write(&workload, text).unwrap();
    let mut child = command()
        .args([
            "serve",
            workload.to_str().unwrap(),
            "--wrpc",
            "tcp://127.0.0.1:0",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("compose serve starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let mut servers = Servers(vec![child]);
    let addr = address_after(&line, "over wRPC on tcp://");
    // Something listens there (the formatter's functions, for another host's remote).
    std::net::TcpStream::connect(&addr).expect("the wRPC port accepts");
    terminate(&servers.0[0]);
    assert_eq!(servers.0[0].wait().unwrap().code(), Some(0));
}

#[test]
#[cfg(unix)]
fn serve_keeps_answering_after_its_stderr_is_closed() {
    // The reader of its stderr gone (a pipe to a log shipper that exited): the failed
    // request's log line is lost, not a panic that drops the connection.
    let (child, addr, stderr) = start_serve(&["fixtures/web/workload.toml", "--verbose"], &[]);
    drop(stderr);
    let mut servers = Servers(vec![child]);
    assert_eq!(http_get(&addr, "/greet/").0, 500);
    assert_eq!(
        http_get(&addr, "/greet/ann"),
        (200, "Hello, ann! (#1)\nvisits: 1\n".into())
    );
    terminate(&servers.0[0]);
    assert_eq!(servers.0[0].wait().unwrap().code(), Some(0));
}

/// Server processes, killed if a test fails before it stops them.
struct Servers(Vec<std::process::Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn guest_log_calls_reach_stderr_naming_the_component_beside_the_result_and_the_trace() {
    let call = r#"acme:text/format@0.1.0#greet("Hi", "ann")"#;
    for trace in [false, true] {
        let mut args = vec!["run", "fixtures/logging/workload.toml", "--invoke", call];
        if trace {
            args.push("--trace");
        }
        let run = compose(&args);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(0), "{stderr}");
        assert_eq!(text(&run.stdout), "\"Hi, ann!\"\n");
        // At INFO and above: the guest's `debug` call is not written.
        assert!(
            stderr.contains("logger: INFO greet: greeting ann\n"),
            "{stderr}"
        );
        assert!(!stderr.contains("about to greet"), "{stderr}");
        assert_eq!(
            trace,
            stderr.contains("call host -> logger acme:text/format@0.1.0#greet: ok"),
            "{stderr}"
        );
    }
}

/// Serves with `args` and the standard output piped, lets `send` send its requests to the
/// address, then SIGTERM: what the server wrote to its standard output and error.
#[cfg(unix)]
fn serve_output_of(args: &[&str], send: impl FnOnce(&str)) -> (String, String) {
    use std::io::Read;
    let (child, addr, mut stderr) = spawn_serve(args, &[], std::process::Stdio::piped());
    let mut servers = Servers(vec![child]);
    send(&addr);
    let child = &mut servers.0[0];
    terminate(child);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let (mut out, mut err) = (String::new(), String::new());
    let stdout = child.stdout.take();
    stdout.unwrap().read_to_string(&mut out).unwrap();
    stderr.read_to_string(&mut err).unwrap();
    (out, err)
}

/// `GET http://ADDR/PATH` of a logging fixture, answered `200 logged`.
fn get_logged(addr: &str, path: &str) {
    assert_eq!(http_get(addr, path), (200, "logged\n".into()), "{path}");
}

#[cfg(unix)]
#[test]
fn serve_prefixes_each_guest_output_line_with_its_stream_request_and_component() {
    let web = ["fixtures/logging-web/workload.toml"];
    let (out, err) = serve_output_of(&web, |addr| {
        get_logged(addr, "/one");
        get_logged(addr, "/two");
    });
    // `done` is written without a newline: the line is ended when its request ends.
    assert_eq!(
        out,
        "stdout [1] http-logger :: handling /one\nstdout [1] http-logger :: done\n\
         stdout [2] http-logger :: handling /two\nstdout [2] http-logger :: done\n"
    );
    for line in [
        "stderr [1] http-logger :: to stderr\n",
        "stderr [2] http-logger :: to stderr\n",
        "http-logger: INFO request: GET /one\n",
        "http-logger: INFO request: GET /two\n",
    ] {
        assert!(err.contains(line), "{line:?} in {err}");
    }
}

#[cfg(unix)]
#[test]
fn serve_prefixes_a_wasi_0_3_guests_output_with_each_requests_id_though_one_instance_serves_them() {
    // One after another within the idle timeout, the three requests are served by one
    // store, its instances reused (wasmtime serve's defaults), yet each line names its own
    // request.
    let web = ["fixtures/logging-web-p3/workload.toml", "--verbose"];
    let (out, err) = serve_output_of(&web, |addr| {
        for path in ["/one", "/two", "/three"] {
            get_logged(addr, path);
        }
    });
    // `done` is written without a newline: the line is ended when its request ends.
    // `echo` is another component, called through a trampoline: its line is the
    // request's too.
    assert_eq!(
        out,
        "stdout [1] p3-logger :: handling /one\nstdout [1] echo :: echo /one\n\
         stdout [1] p3-logger :: done\n\
         stdout [2] p3-logger :: handling /two\nstdout [2] echo :: echo /two\n\
         stdout [2] p3-logger :: done\n\
         stdout [3] p3-logger :: handling /three\nstdout [3] echo :: echo /three\n\
         stdout [3] p3-logger :: done\n"
    );
    for request in 1..=3 {
        let line = format!("stderr [{request}] p3-logger :: to stderr\n");
        assert!(err.contains(&line), "{line:?} in {err}");
    }
    // Only the first request instantiated the components: the others ran on its instances.
    let logged = |path: &str| {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("GET {path} 200 ")));
        line.unwrap_or_else(|| panic!("no log line of {path} in {err}"))
            .ends_with(" instantiated: [p3-logger, echo]")
    };
    assert_eq!(
        [logged("/one"), logged("/two"), logged("/three")],
        [true, false, false],
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn serve_names_each_of_concurrent_wasi_0_3_requests_on_shared_instances_by_its_own_id() {
    let paths: Vec<String> = (1..=8).map(|i| format!("/c{i}")).collect();
    let web = ["fixtures/logging-web-p3/workload.toml"];
    let (out, err) = serve_output_of(&web, |addr| {
        std::thread::scope(|scope| {
            for path in &paths {
                scope.spawn(move || get_logged(addr, path));
            }
        });
    });
    // Each request's lines, by the id they show: one `handling PATH`, then `done`, the
    // echo of PATH by the other component, and one line on stderr; every request has an
    // id of its own.
    let mut seen = Vec::new();
    for id in 1..=paths.len() {
        let prefix = format!("stdout [{id}] p3-logger :: ");
        let lines: Vec<&str> = (out.lines())
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .collect();
        let [handling, "done"] = lines[..] else {
            panic!("request {id}: {lines:?} in\n{out}");
        };
        let path = handling.strip_prefix("handling ").unwrap();
        let echoed = format!("stdout [{id}] echo :: echo {path}\n");
        assert_eq!(out.matches(&echoed).count(), 1, "{echoed:?} in {out}");
        seen.push(path.to_owned());
        let line = format!("stderr [{id}] p3-logger :: to stderr\n");
        assert_eq!(err.matches(&line).count(), 1, "{line:?} in {err}");
    }
    seen.sort();
    let mut sent = paths.clone();
    sent.sort();
    assert_eq!(seen, sent, "{out}");
    assert_eq!(out.lines().count(), 3 * paths.len(), "{out}");
}

#[test]
fn run_without_invoke_runs_a_wasi_0_3_command_in_every_link_mode() {
    // `greeter` exports `wasi:cli/run@0.3.0` (async) and writes, through a WASI 0.3 stdout
    // stream, what `ops` (another component, async) echoes.
    for mode in ["per-component", "clusters", "composed"] {
        let out = compose(&[
            "run",
            "fixtures/greet-p3/workload.toml",
            "--link",
            mode,
            "--",
            "ann",
        ]);
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "Hello, ann!\n", "{mode}");
    }
    let failed = compose(&["run", "fixtures/greet-p3/workload.toml", "--", "fail"]);
    assert_eq!(failed.status.code(), Some(1), "`run` returned err");
    assert!(failed.stdout.is_empty());
}

#[test]
fn a_wasi_0_3_command_sees_the_variables_granted_to_it_and_not_anothers() {
    // Grants that differ (GREETING to one component only): each WASI 0.3 component's
    // `wasi:cli/environment@0.3.0` answers from its own grants, in one store.
    let dir = scratch_dir("p3-grants");
    let fixtures = root().join("fixtures/components");
    let greet = |granted: &str| {
        let workload = format!(
            "name = \"greet-p3\"\n[host]\ninterfaces = [\"wasi:cli/*@0.3.0\"]\n\
             [components.greeter]\npath = \"{0}/p3-command.wasm\"\n\
             [components.ops]\npath = \"{0}/async-callee.wasm\"\n\
             [components.{granted}.allow]\nenv = [\"GREETING\"]\n",
            fixtures.display()
        );
        let path = dir.join(format!("{granted}.toml"));
        std::fs::write(&path, workload).unwrap();
        let path = path.to_str().unwrap();
        let out = compose(&[
            "run",
            path,
            "--link",
            "per-component",
            "--env",
            "GREETING=Hi",
            "--",
            "ann",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(greet("greeter"), "Hi, ann!\n");
    assert_eq!(greet("ops"), "Hello, ann!\n");
}

/// Sends SIGTERM to a `compose serve --grace 1s` whose request to `blocked` (sent after
/// `prepare`) is blocked in a host call, and checks that it exits 0 within the grace and a
/// second, with no panic on stderr.
fn shut_down_while_blocked(
    args: &[&str],
    envs: &[(&str, &str)],
    prepare: impl FnOnce(),
    blocked: &str,
) {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let (mut child, addr, mut stderr) = start_serve(args, envs);
    prepare();
    let request = {
        let (addr, path) = (addr.clone(), blocked.to_owned());
        std::thread::spawn(move || {
            let client: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into();
            client
                .get(&format!("http://{addr}{path}"))
                .call()
                .map(|_| ())
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    terminate(&child);
    let status = child.wait().unwrap();
    let took = signalled.elapsed();
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        took < Duration::from_secs(2),
        "exited {took:?} after SIGTERM: {log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("abandoned"), "{log}");
    assert!(
        request.join().unwrap().is_err(),
        "the abandoned request got no answer"
    );
}

/// The OS threads of process `pid` (`Threads:` in `/proc/PID/status`).
fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    (status.lines())
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a thread count")
}

#[test]
fn serve_holds_64_slow_requests_on_its_workers_and_answers_a_fast_one_meanwhile() {
    use std::time::Instant;
    let (mut child, addr, _stderr) = start_serve(&["fixtures/web/workload.toml"], &[]);
    // Warm: the first request instantiates nothing shared, but starts the runtime's threads.
    assert_eq!(http_get(&addr, "/greet/ann").0, 200);
    let idle = threads_of(child.id());
    let started = Instant::now();
    let slow: Vec<_> = (0..64)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let answer = http_get(&addr, "/sleep/1500");
                (answer, Instant::now())
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(700));
    // All 64 are waiting on their guests' clocks now, each in its own store.
    let busy = threads_of(child.id());
    let fast = http_get(&addr, "/greet/bob");
    let fast_answered = Instant::now();
    let answers: Vec<_> = slow.into_iter().map(|t| t.join().unwrap()).collect();
    for (answer, _) in &answers {
        assert_eq!(answer, &(200, "slept 1500 ms\n".to_owned()));
    }
    let first_slow = answers.iter().map(|(_, at)| *at).min().unwrap();
    assert_eq!(fast.0, 200, "{fast:?}");
    assert!(
        fast_answered < first_slow,
        "the fast request waited for slow ones: answered {:?} after the start, the first slow \
         one {:?}",
        fast_answered - started,
        first_slow - started
    );
    // The requests wait on the runtime's worker threads, not on a thread each (the
    // workers are one per core, started with the runtime).
    assert!(
        busy <= idle + 4,
        "{busy} threads with 64 requests in flight, {idle} idle"
    );
    terminate(&child);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn serve_exits_0_after_its_grace_without_a_panic_while_a_request_waits_on_a_clock() {
    let args = ["fixtures/web/workload.toml", "--grace", "1s"];
    shut_down_while_blocked(&args, &[], || (), "/sleep/10000");
}

#[test]
fn serve_exits_0_after_its_grace_without_a_panic_while_a_request_waits_on_postgres() {
    let Some([team_a, _]) = database("serve_exits_0_..._waits_on_postgres") else {
        return;
    };
    // The handler's `visits` on PostgreSQL, its table locked by another session for 4 s:
    // the request waits inside the plugin's query.
    let dir = scratch_dir("serve-postgres");
    let web = root().join("fixtures/web/workload.toml");
    let text = std::fs::read_to_string(&web).unwrap().replace(
        "backends = { visits = \"wasi:keyvalue/store@0.2.0-draft\" }",
        "[host.backends.visits]\ninterface = \"wasi:keyvalue/store@0.2.0-draft\"\nplugin = \"postgres\"\nurl-env = \"TEAM_A_DATABASE_URL\"",
    );
    let text = text.replace(
        "\"../components/",
        &format!("\"{}/fixtures/components/", root().display()),
    );
    let workload = dir.join("workload.toml");
    std::fs::write(&workload, text).unwrap();
    let lock = "BEGIN; LOCK TABLE keyvalue IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;";
    let mut locker = None;
    let take_the_lock = || {
        let psql = Command::new("psql")
            .args([team_a.as_str(), "-q", "-c", lock])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("psql runs");
        locker = Some(psql);
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    let args = [workload.to_str().unwrap(), "--grace", "1s"];
    let envs = [("TEAM_A_DATABASE_URL", team_a.as_str())];
    shut_down_while_blocked(&args, &envs, take_the_lock, "/greet/ann");
    let _ = locker.map(|mut psql| psql.wait());
}

/// The entries of the cache in `dir`, by name, with when each was last written.
fn cache_entries(dir: &Path) -> Vec<(String, std::time::SystemTime)> {
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("components"))
        .map(|read| read.map(|e| e.unwrap()).collect())
        .unwrap_or_else(|_| Vec::new())
        .into_iter()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, e.metadata().unwrap().modified().unwrap())
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn run_compiles_through_the_cache_and_two_runs_at_once_leave_valid_entries() {
    let cache = scratch_dir("cache").join("cache");
    let greet = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(["run", "fixtures/shop/workload.toml", "--env", "GREETING=Hi"])
            .args(["--invoke", r#"handler#greet("ci")"#])
            .args(extra)
            .env("COMPOSE_CACHE_DIR", &cache)
            .current_dir(root())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("compose runs")
    };
    let greeted = |child: std::process::Child| {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        text(&out.stdout)
    };
    assert_eq!(greeted(greet(&["--no-cache"])), "\"Hi, ci! (#1)\"\n");
    assert_eq!(cache_entries(&cache), [], "--no-cache writes nothing");
    // Two processes compiling the same components at once.
    let (one, two) = (greet(&[]), greet(&[]));
    assert_eq!(greeted(one), "\"Hi, ci! (#1)\"\n");
    assert_eq!(greeted(two), "\"Hi, ci! (#1)\"\n");
    let written = cache_entries(&cache);
    assert!(!written.is_empty());
    assert!(
        written.iter().all(|(name, _)| name.ends_with(".cwasm")),
        "{written:?}"
    );
    // A warm run reads them, valid, and rewrites none.
    assert_eq!(greeted(greet(&[])), "\"Hi, ci! (#1)\"\n");
    assert_eq!(cache_entries(&cache), written);
    let clean = Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(["cache", "clean"])
        .env("COMPOSE_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    assert_eq!(cache_entries(&cache), []);
}

#[test]
fn the_cache_is_in_compose_cache_dir_else_where_the_xdg_base_directory_spec_says() {
    let dir = |envs: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(["cache", "dir"])
            .env_remove("COMPOSE_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME")
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    };
    assert_eq!(
        dir(&[("COMPOSE_CACHE_DIR", "/c"), ("XDG_CACHE_HOME", "/x")]),
        "/c"
    );
    assert_eq!(
        dir(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]),
        "/x/compose"
    );
    // A relative XDG_CACHE_HOME is ignored, as the spec says.
    assert_eq!(
        dir(&[("XDG_CACHE_HOME", "x"), ("HOME", "/h")]),
        "/h/.cache/compose"
    );
    assert_eq!(dir(&[("HOME", "/h")]), "/h/.cache/compose");
}

#[test]
fn cost_prints_json_whose_counts_add_up_and_refuses_a_size_without_unit() {
    let out = compose(&[
        "cost",
        "fixtures/web/workload.toml",
        "--format",
        "json",
        "--memory",
        "1GiB",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["limits"]["memory_bytes"], 1u64 << 30);
    let sum: u64 = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["counts"]["core_instances"].as_u64().unwrap())
        .sum();
    assert_eq!(
        json["entries"][0]["modes"][2]["counts"]["core_instances"],
        sum
    );
    let text_out = compose(&["cost", "fixtures/web/workload.toml"]);
    assert!(text(&text_out.stdout).contains("first limit"));
    let bad = compose(&["cost", "fixtures/web/workload.toml", "--memory", "8"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn cost_measure_calls_the_handler_and_counts_with_what_a_request_held() {
    let out = compose(&[
        "cost",
        "fixtures/web/workload.toml",
        "--measure",
        "--path",
        "/sleep/500",
        "--hold",
        "4",
        "--link",
        "per-component",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mode = &json["entries"][0]["modes"];
    assert_eq!(mode.as_array().unwrap().len(), 1, "{json:#}");
    let (mode, measured) = (&mode[0], &mode[0]["measured"]);
    assert_eq!(mode["mode"], "per-component");
    assert_eq!(measured["entry"], "GET /sleep/500");
    assert_eq!(measured["components"][0]["name"], "greeter");
    // All four requests were in flight at once, and each grew the resident set (this
    // process's alone).
    assert_eq!(measured["held"], 4);
    let per_call = measured["resident_per_call"].as_u64().unwrap();
    assert!(per_call > 0, "{measured:#}");
    assert_eq!(mode["capacity"]["bytes_per_call"], per_call.max(65536));
    let missing = compose(&["cost", "fixtures/web/workload.toml", "--measure"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
    let unknown = compose(&["cost", "fixtures/web/workload.toml", "--export", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("no export `nope`"),
        "{}",
        text(&unknown.stderr)
    );
}

/// The registry of `scripts/registry.sh` that asks for a login, with its user and
/// password; `None` (after saying so) outside CI when it is not running.
fn auth_registry(test: &str) -> Option<[String; 3]> {
    let names = [
        "COMPOSE_TEST_AUTH_REGISTRY",
        "COMPOSE_TEST_AUTH_USER",
        "COMPOSE_TEST_AUTH_PASSWORD",
    ];
    let values: Option<Vec<String>> = names.iter().map(|n| std::env::var(n).ok()).collect();
    if let Some(values) = values {
        return values.try_into().ok();
    }
    let why = "COMPOSE_TEST_AUTH_REGISTRY is not set; run the tests under scripts/registry.sh";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {why}"
    );
    eprintln!("skipped {test}: {why}");
    None
}

/// `compose ARGS` with the Docker configuration in `docker_config` (a folder), and a blob
/// cache of its own there, so that nothing pulled with other credentials is reused.
fn compose_as(docker_config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(args)
        .env("COMPOSE_CACHE_DIR", docker_config.join("cache"))
        .env("DOCKER_CONFIG", docker_config)
        .current_dir(root())
        .output()
        .expect("compose runs")
}

#[test]
fn a_registry_that_asks_for_a_login_is_reached_with_the_docker_configs_credentials() {
    let test = "a_registry_that_asks_for_a_login_is_reached_with_the_docker_configs_credentials";
    let Some([registry, user, password]) = auth_registry(test) else {
        return;
    };
    let dir = scratch_dir("auth-registry");
    // A Docker configuration (`$DOCKER_CONFIG/config.json`) with `password` for the registry.
    let docker_config = |name: &str, password: &str| {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let auths = serde_json::json!({
            "auths": { registry.as_str(): { "username": user, "password": password } }
        });
        std::fs::write(folder.join("config.json"), auths.to_string()).unwrap();
        folder
    };
    let (good, wrong, none) = (
        docker_config("good", &password),
        docker_config("wrong", "not-the-password"),
        dir.join("none"),
    );
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let reference = format!("oci://{registry}/compose-tests/auth-{nanos}:1.0.0");
    let workload = "fixtures/shop/workload.toml";
    let pushed = compose_as(&good, &["push", workload, &reference]);
    assert_eq!(pushed.status.code(), Some(0), "{}", text(&pushed.stderr));
    for refused in [&none, &wrong] {
        let file = refused.join("pulled.wasm");
        let out = compose_as(refused, &["pull", &reference, "-o", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("compose::pull-failed"), "{stderr}");
        assert!(stderr.contains("refused authentication"), "{stderr}");
        assert!(!file.exists(), "nothing is written");
    }
    let file = good.join("pulled.wasm");
    let pulled = compose_as(&good, &["pull", &reference, "-o", file.to_str().unwrap()]);
    assert_eq!(pulled.status.code(), Some(0), "{}", text(&pulled.stderr));
    let built = compose(&["build", workload, "-o", "-"]);
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes == built.stdout, "the pushed component, byte for byte");
}
