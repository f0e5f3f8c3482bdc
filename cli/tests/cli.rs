//! The `compose` command as a user runs it: exit statuses, what it prints, what it writes.
//! (The libraries' behaviour is tested in `tests/all`; this binary only checks the CLI.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn compose(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compose"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("compose runs")
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
        "team-a-postgres (implements acme:kv/store@0.1.0) <- team-a-postgres: acme:kv/store@0.1.0"
    ));
    assert!(stdout.contains("team-c-postgres (implements acme:kv/store@0.1.0) <- host backend team-c-postgres"));
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
        format!("name = \"broken\"\n[components.frontend]\npath = {:?}\n", frontend.display().to_string()),
    )
    .unwrap();
    let before: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    let out = compose(&["resolve", workload.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("compose::missing-backend"), "{stderr}");
    assert!(stderr.contains("workload.toml:2:13"), "{stderr}");
    assert!(stderr.contains("the workload does not resolve: 5 error(s)"), "{stderr}");
    // It reads only.
    let after: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(before, after);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(compose(&["resolve"]).status.code(), Some(2));
    assert_eq!(compose(&["resolve", "x.toml", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(compose(&["frobnicate"]).status.code(), Some(2));
}
