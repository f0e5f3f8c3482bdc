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
use tracing::{Dispatch, Level, Subscriber as _};

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
    every_dispatcher_asked();
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

/// See traces.rs: a second dispatcher makes tracing-core ask every dispatcher about a
/// callsite that another test's thread met first.
fn every_dispatcher_asked() {
    static EVERY_DISPATCHER_ASKED: LazyLock<Dispatch> =
        LazyLock::new(|| Dispatch::new(tracing_subscriber::registry()));
    LazyLock::force(&EVERY_DISPATCHER_ASKED);
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

#[test]
fn with_only_the_guest_log_no_span_is_live() {
    // What `compose serve` and `compose run` install without `--trace` or OTLP. A span
    // of compose's, or of any other target (Wasmtime's bindings trace each host call),
    // must be of interest to none of its layers, so that tracing disables it at its
    // callsite, as with no subscriber. (Asked of the subscriber itself: in this test
    // binary other dispatchers exist, and tracing-core then asks each span's `enabled`,
    // where per-layer filters let every span through to the registry.)
    let captured = Captured::default();
    let (subscriber, _installed) = telemetry::subscriber(Telemetry {
        guests: Some(GuestLog::new(Level::INFO, captured.clone())),
        ..Telemetry::default()
    })
    .unwrap();
    let (compose, other) =
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            let compose = tracing::info_span!(target: "compose", "compose.call");
            let other = tracing::trace_span!(target: "wasmtime_wasi", "wit-bindgen import");
            (compose.metadata().unwrap(), other.metadata().unwrap())
        });
    for metadata in [compose, other] {
        let interest = subscriber.register_callsite(metadata);
        assert!(interest.is_never(), "{}: {interest:?}", metadata.target());
    }
    every_dispatcher_asked();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: telemetry::GUEST_TARGET, component = "c", message = "m");
    });
    assert_eq!(captured.text(), "c: INFO m\n");
}
