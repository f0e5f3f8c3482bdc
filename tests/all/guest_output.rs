//! Guests' own output (docs/tracing.md#guests-own-output): a guest's
//! `wasi:logging/logging@0.1.0-draft` call is a `tracing` event naming its component, which
//! compose-host's [`GuestLog`] writes as one line, beside the call tree. (The prefixed
//! stdout and stderr lines of `compose serve` go to the process's own streams: the CLI's
//! tests read them.)

use compose_host::telemetry::{self, CallTree, GuestLog, Telemetry};
use compose_host::{Call, Host, HostState, Plugins};
use compose_resolver::resolve_file_with;
use compose_tests::example_workload;
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};
use tracing::{Dispatch, Level};

/// What a [`GuestLog`] wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Calls `calls` on `fixtures/logging` (component `logger`) in one store, with the
/// subscriber `compose run --trace` installs (a [`GuestLog`], at `max`, and a
/// [`CallTree`]) as the thread's: the results, what the guest log wrote, and the call
/// tree.
fn logged(max: Level, calls: &[&str]) -> (Vec<Option<String>>, String, String) {
    // See traces.rs: a second dispatcher makes tracing-core ask every dispatcher about a
    // callsite that another test's thread met first.
    static EVERY_DISPATCHER_ASKED: LazyLock<Dispatch> =
        LazyLock::new(|| Dispatch::new(tracing_subscriber::registry()));
    LazyLock::force(&EVERY_DISPATCHER_ASKED);
    let plugins = Plugins::<HostState>::builtin();
    let plan = resolve_file_with(example_workload("logging"), &plugins.profile()).unwrap();
    let host = Host::link(&plan, &plugins).unwrap();
    let (captured, tree) = (Captured::default(), CallTree::new());
    let (subscriber, _installed) = telemetry::subscriber(Telemetry {
        tree: Some(tree.clone()),
        guests: Some(GuestLog::new(max, captured.clone())),
        ..Telemetry::default()
    })
    .unwrap();
    let results = tracing::subscriber::with_default(subscriber, || {
        let mut store = host
            .new_store(&compose_host::grants::Offer::default())
            .unwrap();
        (calls.iter())
            .map(|call| {
                let call = Call::parse(call).unwrap();
                host.invoke(&mut store, None, &call).unwrap()
            })
            .collect()
    });
    (results, captured.text(), tree.render())
}

const GREET_ANN: &str = r#"acme:text/format@0.1.0#greet("Hi", "ann")"#;

#[test]
fn a_guests_log_call_is_a_line_naming_its_component_at_info_and_above() {
    let (results, log, _) = logged(Level::INFO, &[GREET_ANN]);
    assert_eq!(results, [Some(r#""Hi, ann!""#.to_owned())]);
    // The guest's `debug` call is below the level: only its `info` call is written.
    assert_eq!(log, "logger: INFO greet: greeting ann\n");
}

#[test]
fn a_guest_log_at_debug_shows_its_debug_calls_too() {
    let (_, log, _) = logged(Level::DEBUG, &[GREET_ANN]);
    assert_eq!(
        log,
        "logger: DEBUG greet: about to greet ann\nlogger: INFO greet: greeting ann\n"
    );
}

#[test]
fn critical_is_written_as_critical_and_an_empty_context_is_left_out() {
    let (results, log, _) = logged(
        Level::ERROR,
        &[GREET_ANN, r#"acme:text/format@0.1.0#greet("Hi", "")"#],
    );
    assert_eq!(results[1].as_deref(), Some(r#""Hi!""#));
    assert_eq!(log, "logger: CRITICAL an empty name\n");
}

#[test]
fn the_call_tree_does_not_swallow_guest_log_events_nor_they_the_tree() {
    let (_, log, tree) = logged(Level::INFO, &[GREET_ANN]);
    assert_eq!(log, "logger: INFO greet: greeting ann\n");
    assert!(
        tree.contains("call host -> logger acme:text/format@0.1.0#greet: ok"),
        "{tree}"
    );
}
