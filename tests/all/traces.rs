//! Traces of a workload (docs/tracing.md): the spans compose-linker and compose-host emit
//! for every run, request, instantiation, call between components and plugin call, as
//! compose-host's [`CallTree`] records them (what `compose run --trace` prints).

use compose_host::serve::{HttpWorkload, SERVED, ServeOptions, ServeState, Server};
use compose_host::telemetry::{CallTree, run_span};
use compose_host::{Call, Host, HostState, Plugins};
use compose_linker::{Meter, Observe, Outcome};
use compose_resolver::resolve_file_with;
use compose_tests::example_workload;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// `tree`'s text with every duration masked (`(0.125 ms)` becomes `(… ms)`).
fn masked(tree: &CallTree) -> String {
    let mut out = String::new();
    for line in tree.render().lines() {
        match line.rfind(" (").filter(|_| line.ends_with(" ms)")) {
            Some(at) => out.push_str(&format!("{} (… ms)\n", &line[..at])),
            None => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// Runs `f` with `tree` as this thread's subscriber.
///
/// Other tests run on other threads with no subscriber. When a single dispatcher is
/// registered, tracing-core 0.1 works out a callsite's interest, the first time the
/// callsite is hit, from the default dispatcher of the thread that hits it; a callsite
/// first met on another test's thread would be cached as wanted by no one, and its spans
/// would never reach `tree`. A second dispatcher, alive for the whole test binary, makes
/// tracing-core ask every registered dispatcher instead.
fn recording<R>(tree: &CallTree, f: impl FnOnce() -> R) -> R {
    static EVERY_DISPATCHER_ASKED: LazyLock<Dispatch> =
        LazyLock::new(|| Dispatch::new(tracing_subscriber::registry()));
    LazyLock::force(&EVERY_DISPATCHER_ASKED);
    let subscriber = tracing_subscriber::registry().with(tree.clone());
    tracing::subscriber::with_default(subscriber, f)
}

/// Runs `call` on the shop workload as `compose run --trace --invoke CALL` does, with
/// `tree` as the thread's subscriber; the result (`None` for no result).
fn run_shop(tree: &CallTree, call: &str) -> Option<String> {
    let plugins = Plugins::<HostState>::builtin();
    let plan = resolve_file_with(example_workload("shop"), &plugins.profile()).unwrap();
    let host = Host::link(&plan, &plugins).unwrap();
    recording(tree, || {
        let _run = run_span(&plan.name, call).entered();
        let mut store = host
            .new_store(&compose_host::grants::Offer::default())
            .unwrap();
        let parsed = Call::parse(call).unwrap();
        host.invoke(&mut store, None, &parsed).unwrap()
    })
}

#[test]
fn compose_run_trace_prints_each_instantiation_and_call_under_its_caller() {
    let tree = CallTree::new();
    // The eager reporter, then the frontend (fused with the formatter: one instance, one
    // span) calling team-a-postgres's kv-memory through its label.
    let call = r#"acme:app/handler@0.1.0#put("a", "k", "v")"#;
    assert_eq!(run_shop(&tree, call), None);
    insta::assert_snapshot!("shop_call_tree", masked(&tree));
}

#[test]
fn a_span_is_closed_with_its_duration_and_none_is_left_open() {
    let tree = CallTree::new();
    let greeted = run_shop(&tree, r#"acme:app/handler@0.1.0#greet("bob")"#);
    assert_eq!(greeted.as_deref(), Some(r#""Hello, bob! (#1)""#));
    let text = tree.render();
    assert!(!text.contains("(open)"), "{text}");
    assert!(text.lines().all(|line| line.ends_with(" ms)")), "{text}");
}

/// One GET of `path` to `addr` over HTTP/1.1: the status and the body.
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

/// Serves `fixtures/web` on a current-thread runtime whose thread has `tree` as its
/// subscriber, sends a GET of each of `paths` and stops; the responses' statuses.
fn serve_web(tree: &CallTree, paths: &[&str]) -> Vec<u16> {
    recording(tree, || {
        serve_example("web", ServeOptions::default(), paths)
    })
}

/// [`serve_web`] of the example workload `name` with `options`, on this thread's
/// subscriber (if any).
fn serve_example(name: &str, options: ServeOptions, paths: &[&str]) -> Vec<u16> {
    let plugins = Plugins::<ServeState>::builtin();
    let profile = plugins.profile().with_interfaces(SERVED.iter().copied());
    let plan = resolve_file_with(example_workload(name), &profile).unwrap();
    let workload = HttpWorkload::link(&plan, &plugins, options).unwrap();
    let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let server = Server::bind(workload, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.local_addr();
        let client = tokio::task::spawn_blocking(move || {
            paths.iter().map(|p| get(addr, p).0).collect::<Vec<_>>()
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<Vec<u16>>();
        let serving = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let statuses = client.await.unwrap();
        let _ = stop.send(Vec::new());
        serving.await.unwrap();
        statuses
    })
}

#[test]
fn a_request_holds_its_handler_which_holds_the_calls_it_makes() {
    let tree = CallTree::new();
    assert_eq!(serve_web(&tree, &["/greet/ann"]), [200]);
    let text = masked(&tree);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "request GET /greet/ann: 200 (… ms)", "{text}");
    let at = |line: &str| {
        lines
            .iter()
            .position(|l| l.trim_start() == line)
            .unwrap_or_else(|| panic!("no `{line}` in\n{text}"))
    };
    let depth = |i: usize| lines[i].len() - lines[i].trim_start().len();
    // The handler's interface is the release the component exports (0.2.12).
    let handler = lines
        .iter()
        .position(|l| l.starts_with("  call host -> greeter wasi:http/incoming-handler@0.2."))
        .unwrap_or_else(|| panic!("no handler call in\n{text}"));
    assert!(lines[handler].ends_with("#handle: ok (… ms)"), "{text}");
    assert!(at("instantiate greeter: ok (… ms)") > handler, "{text}");
    assert_eq!(depth(handler), 2, "{text}");
    let formatter = lines
        .iter()
        .position(|l| {
            l.trim_start()
                .starts_with("call greeter -> formatter acme:text/format")
        })
        .unwrap_or_else(|| panic!("no call of the formatter in\n{text}"));
    assert!(formatter > handler && depth(formatter) == 4, "{text}");
    let backend = lines
        .iter()
        .position(|l| l.trim_start().starts_with("plugin memory visits "))
        .unwrap_or_else(|| panic!("no call of the backend in\n{text}"));
    assert!(backend > handler && depth(backend) == 4, "{text}");
}

#[test]
fn a_trapping_call_carries_its_error_and_its_component() {
    let tree = CallTree::new();
    // Past the greeter's max-memory of 64 MiB: its call traps.
    assert_eq!(serve_web(&tree, &["/alloc/100"]), [500]);
    let text = tree.render();
    let handler = text
        .lines()
        .find(|l| l.trim_start().starts_with("call host -> greeter "))
        .unwrap_or_else(|| panic!("no handler call in\n{text}"));
    assert!(handler.contains(": trap ("), "{handler}");
    assert!(handler.contains("`greeter`"), "{handler}");
    assert!(handler.contains("max-memory"), "{handler}");
}

/// A [`Meter`] that records what it is told, as `instantiate COMPONENT` or `call
/// COMPONENT INTERFACE` (the interface without its version) with the outcome, in the
/// order the calls and instantiations ended.
#[derive(Debug, Default, Clone)]
struct Recording(Arc<Mutex<Vec<(String, Outcome)>>>);

#[derive(Debug)]
struct Recorder {
    what: String,
    told: Recording,
}

impl Observe for Recorder {
    fn observe(&self, took: Duration, outcome: Outcome) {
        assert!(took < Duration::from_secs(30), "{took:?}");
        (self.told.0.lock().unwrap()).push((self.what.clone(), outcome));
    }
}

impl Meter for Recording {
    fn calls(&self, component: &str, interface: Option<&str>) -> Arc<dyn Observe> {
        let interface = interface
            .unwrap_or("-")
            .split('@')
            .next()
            .unwrap_or_default();
        let what = format!("call {component} {interface}");
        Arc::new(Recorder {
            what,
            told: self.clone(),
        })
    }

    fn instantiations(&self, component: &str) -> Arc<dyn Observe> {
        let what = format!("instantiate {component}");
        Arc::new(Recorder {
            what,
            told: self.clone(),
        })
    }
}

impl Recording {
    /// What was told since the last time, as `WHAT: OUTCOME`.
    fn take(&self) -> Vec<String> {
        let told = std::mem::take(&mut *self.0.lock().unwrap());
        told.into_iter()
            .map(|(what, outcome)| format!("{what}: {outcome:?}"))
            .collect()
    }
}

#[test]
fn a_meter_is_told_each_call_and_instantiation_and_a_failure_only_where_it_started() {
    let recording = Recording::default();
    let options = ServeOptions {
        engine: compose_host::EngineOptions {
            link: compose_linker::LinkMode::PerComponent,
            timeout: Some(Duration::from_millis(300)),
            meter: Some(Arc::new(recording.clone())),
            ..Default::default()
        },
        ..ServeOptions::default()
    };
    // No subscriber: the meter needs no span.
    let statuses = serve_example("web", options, &["/greet/ann", "/greet/", "/loop"]);
    assert_eq!(statuses, [200, 500, 500]);
    let told = recording.take();
    let (handler, format) = (
        "call greeter wasi:http/incoming-handler",
        "call formatter acme:text/format",
    );
    let expected = [
        // GET /greet/ann: the calls end after the instantiations they made.
        "instantiate greeter: Ok".to_owned(),
        "instantiate formatter: Ok".to_owned(),
        format!("{format}: Ok"),
        format!("{handler}: Ok"),
        // GET /greet/ (no name): the formatter traps; its caller fails because of it.
        "instantiate greeter: Ok".to_owned(),
        "instantiate formatter: Ok".to_owned(),
        format!("{format}: Trap"),
        format!("{handler}: Below"),
        // GET /loop: past the deadline in the greeter.
        "instantiate greeter: Ok".to_owned(),
        format!("{handler}: Deadline"),
    ];
    assert_eq!(told, expected);
}

#[test]
fn a_meter_is_told_the_calls_of_a_wasi_0_3_handler_whose_instance_serves_many_requests() {
    let recording = Recording::default();
    let options = ServeOptions {
        engine: compose_host::EngineOptions {
            link: compose_linker::LinkMode::PerComponent,
            meter: Some(Arc::new(recording.clone())),
            ..Default::default()
        },
        ..ServeOptions::default()
    };
    // One instance serves both requests (WASI 0.3 reuse): instantiated once.
    let statuses = serve_example("web-p3", options, &["/hello", "/hello"]);
    assert_eq!(statuses, [200, 200]);
    let mut told = recording.take();
    told.sort();
    let (handler, echo) = (
        "call greeter wasi:http/handler: Ok",
        "call ops acme:pipe/ops: Ok",
    );
    let expected = [
        handler,
        handler,
        echo,
        echo,
        "instantiate greeter: Ok",
        "instantiate ops: Ok",
    ];
    assert_eq!(told, expected);
}
