//! Commands (`compose_host::command`): the example workload `fixtures/greet`, whose
//! `wasi:cli/run` greets its arguments through the formatter component, run with
//! arguments, environment, a preopened directory, a deadline and a memory cap.

use compose_host::EngineOptions;
use compose_host::{CommandError, CommandOptions, run_command};
use compose_host::{HostError, Plugins};
use compose_resolver::{HostProfile, Plan, resolve_file_with};
use compose_tests::example_workload;
use std::time::{Duration, Instant};

fn plan(name: &str) -> Plan {
    resolve_file_with(example_workload(name), &HostProfile::any()).expect("the workload resolves")
}

fn options(args: &[&str]) -> CommandOptions {
    CommandOptions {
        program: "greet".into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        ..CommandOptions::default()
    }
}

fn run(options: &CommandOptions) -> Result<i32, CommandError> {
    run_command(&plan("greet"), &Plugins::builtin(), options)
}

#[test]
fn a_command_runs_with_arguments_and_returns_its_exit_status() {
    assert_eq!(run(&options(&["ann", "bob"])).unwrap(), 0);
    assert_eq!(run(&options(&["ann", "--exit=7"])).unwrap(), 7);
    assert_eq!(run(&options(&["--exit=0", "never"])).unwrap(), 0);
    // `--cat` of a file no directory holds: `run` returns `err`, status 1.
    assert_eq!(run(&options(&["--cat=missing.txt"])).unwrap(), 1);
}

#[test]
fn a_preopened_directory_is_readable() {
    let dir = std::env::temp_dir().join(format!("compose-command-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "from the host\n").unwrap();
    let mut options = options(&["--cat=a.txt"]);
    options.dirs = vec![(dir.clone(), "/data".into())];
    assert_eq!(run(&options).unwrap(), 0);
    options.dirs = vec![(dir.join("absent"), "/data".into())];
    let error = run(&options).unwrap_err();
    assert!(
        matches!(error, CommandError::Host(HostError::Grants(_)))
            && error.to_string().contains("absent"),
        "{error}"
    );
}

#[test]
fn a_trap_in_a_component_the_command_calls_is_an_error_naming_it() {
    let Err(CommandError::Host(HostError::Call(error))) = run(&options(&[""])) else {
        panic!("an empty name makes the formatter trap");
    };
    assert_eq!(error.innermost().component(), Some("formatter"));
}

#[test]
fn a_looping_command_ends_at_its_deadline_naming_the_component() {
    let mut options = options(&["--loop"]);
    options.engine = EngineOptions {
        timeout: Some(Duration::from_millis(200)),
        pooling: None,
        ..EngineOptions::default()
    };
    let started = Instant::now();
    let Err(CommandError::Host(HostError::Call(error))) = run(&options) else {
        panic!("the loop is interrupted");
    };
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(error.is_deadline());
    assert_eq!(error.innermost().component(), Some("command"));
}

#[test]
fn a_command_past_its_max_memory_fails_naming_it() {
    // fixtures/greet: the command may hold 32 MiB.
    assert_eq!(run(&options(&["--alloc=8"])).unwrap(), 0);
    let Err(CommandError::Host(HostError::Call(error))) = run(&options(&["--alloc=64"])) else {
        panic!("the cap fails the command");
    };
    let limit = error.memory_limit().expect("the memory cap");
    assert_eq!(
        (limit.component.as_str(), limit.limit),
        ("command", 32 << 20)
    );
}

#[test]
fn a_workload_that_is_not_a_command_is_refused_listing_its_exports() {
    let plan = plan("web");
    let error = run_command(&plan, &Plugins::builtin(), &options(&[])).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, CommandError::NotACommand { .. })
            && message.contains("wasi:http/incoming-handler@0.2.12")
            && message.contains("--invoke")
            && message.contains("compose serve"),
        "{message}"
    );
}

#[test]
fn a_wasi_0_3_command_linked_to_an_async_component_returns_its_exit_status() {
    let plan = plan("greet-p3");
    let run = |args: &[&str]| run_command(&plan, &Plugins::builtin(), &options(args));
    assert_eq!(run(&["ann"]).unwrap(), 0);
    assert_eq!(run(&["fail"]).unwrap(), 1, "`run` returned err");
}

#[test]
fn a_wasi_0_2_command_runs_in_a_workload_with_async_functions() {
    // The greet command fused with its formatter (a synchronous call), beside an async
    // component: the store runs concurrently inside a tokio runtime, so WASI 0.2 is linked
    // asynchronously (its synchronous I/O would block on a runtime of its own there, which
    // tokio refuses with a panic).
    let mut workload = compose_resolver::Workload::from_file(example_workload("greet")).unwrap();
    // Its `max-memory` would keep it from being fused (charged per component).
    workload.components["command"].max_memory = None;
    // Nor would its own grants (GREETING, /data), which the formatter does not have.
    workload.components["command"].allow = Default::default();
    let workload = workload
        .with_component("ops", compose_tests::fixture_component("async-callee"))
        .with_export("wasi:cli/run@0.2.0", "command", None)
        .with_export("acme:pipe/ops@0.1.0", "ops", None)
        .with_cluster("cmd", ["command", "formatter"]);
    let plan = compose_resolver::resolve_with(&workload, &HostProfile::any()).unwrap();
    assert!(compose_linker::has_async_functions(&plan));
    let run = |args: &[&str]| run_command(&plan, &Plugins::builtin(), &options(args));
    assert_eq!(run(&["ann"]).unwrap(), 0);
    assert_eq!(run(&["ann", "--exit=7"]).unwrap(), 7);
}
