//! `compose serve` as a library (`compose_host::serve`): the example workload
//! `fixtures/web` served on a free loopback port, real HTTP requests from a Rust client,
//! traps, deadlines and memory caps that end one request and never the server, and a
//! graceful shutdown.

use compose_host::EngineOptions;
use compose_host::Plugins;
use compose_host::serve::{
    HttpWorkload, MAX_CONCURRENT_REQUESTS, RequestLog, Reuse, SERVED, ServeError, ServeOptions,
    ServeState, Server, Shutdown,
};
use compose_linker::LinkMode;
use compose_resolver::{Plan, resolve_file_with};
use compose_tests::example_workload;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The plan of `fixtures/<name>/workload.toml`, resolved as `compose serve` resolves it.
pub(crate) fn plan(name: &str) -> Plan {
    let plugins = Plugins::<ServeState>::builtin();
    let profile = plugins.profile().with_interfaces(SERVED.iter().copied());
    resolve_file_with(example_workload(name), &profile).expect("the workload resolves")
}

/// A server on a free loopback port, in a thread with its own tokio runtime; stopped
/// (gracefully) when dropped.
pub(crate) struct Running {
    addr: SocketAddr,
    logs: Arc<Mutex<Vec<RequestLog>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Shutdown>>,
}

impl Running {
    /// Serves `fixtures/web` with `limits`, logging every request.
    fn start(limits: EngineOptions) -> Self {
        Self::start_workload("web", limits)
    }

    /// Serves `fixtures/<name>` with `limits`, logging every request.
    fn start_workload(name: &str, limits: EngineOptions) -> Self {
        Self::start_plan(plan(name), limits)
    }

    /// Serves `plan` with `limits`, logging every request.
    fn start_plan(plan: Plan, limits: EngineOptions) -> Self {
        Self::start_admitting(plan, limits, MAX_CONCURRENT_REQUESTS)
    }

    /// Serves `plan` with `limits`, at most `admitted` requests at once, logging every
    /// request.
    fn start_admitting(plan: Plan, limits: EngineOptions, admitted: usize) -> Self {
        let options = ServeOptions {
            engine: limits,
            max_concurrent_requests: admitted,
            ..ServeOptions::default()
        };
        Self::start_serving(plan, options)
    }

    /// Serves `plan` with `options`, logging every request here, with a grace of 5 s.
    pub(crate) fn start_serving(plan: Plan, options: ServeOptions) -> Self {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let options = ServeOptions {
            verbose: true,
            grace: Duration::from_secs(5),
            logger: Arc::new(move |line: &RequestLog| sink.lock().unwrap().push(line.clone())),
            ..options
        };
        let workload =
            HttpWorkload::link(&plan, &Plugins::builtin(), options).expect("the workload links");
        let (addr_sender, addr) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
                let server = Server::bind(workload, loopback).await.expect("bind");
                addr_sender.send(server.local_addr()).unwrap();
                server
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
            })
        });
        Self {
            addr: addr.recv().expect("the server starts"),
            logs,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`: the status and the body.
    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        get(&self.url(path))
    }

    /// The log line of the last request to `path` (logs are written when the handler
    /// returns, which may be just after the response).
    fn log(&self, path: &str) -> RequestLog {
        self.logs_of(path, 1).pop().expect("one line")
    }

    /// The log lines of the requests for `path`, once there are `count` of them (a
    /// request is logged when its handler returns, which may be after its response).
    fn logs_of(&self, path: &str, count: usize) -> Vec<RequestLog> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<_> = (self.logs.lock().unwrap().iter())
                .filter(|l| l.path == path)
                .cloned()
                .collect();
            match found.len() {
                n if n >= count => return found,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                n => panic!("{n} log lines for {path}, not {count}"),
            }
        }
    }

    /// Stops the server: what its run reported.
    fn stop(mut self) -> Shutdown {
        self.shut_down().expect("the server runs")
    }

    fn shut_down(&mut self) -> Option<Shutdown> {
        let _ = self.stop.take()?.send(());
        self.thread.take()?.join().ok()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// An HTTP client that returns error statuses rather than failing on them.
fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn get(url: &str) -> (u16, String) {
    let mut response = client().get(url).call().expect("the request is answered");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().expect("a text body");
    (status, body)
}

#[test]
fn serves_greetings_counting_visits_in_a_backend_shared_by_every_request() {
    let server = Running::start(EngineOptions::default());
    assert_eq!(
        server.get("/greet/ann"),
        (200, "Hello, ann! (#1)\nvisits: 1\n".into())
    );
    // Each request has its own store: the formatter counts from 1 again, while the
    // `visits` backend (the host's memory plugin) keeps its data across requests.
    assert_eq!(
        server.get("/greet/ann"),
        (200, "Hello, ann! (#1)\nvisits: 2\n".into())
    );
    assert_eq!(
        server.get("/greet/bob"),
        (200, "Hello, bob! (#1)\nvisits: 1\n".into())
    );
    let log = server.log("/greet/bob");
    assert_eq!((log.method.as_str(), log.status), ("GET", 200));
    assert_eq!(log.instantiated, ["greeter", "formatter"]);
    assert!(log.failure.is_none());
    assert!(log.to_string().starts_with("GET /greet/bob 200 "), "{log}");

    // A route that never calls the formatter never instantiates it.
    assert_eq!(server.get("/nope"), (404, "no route for /nope\n".into()));
    assert_eq!(server.log("/nope").instantiated, ["greeter"]);
    assert!(server.stop().drained);
}

#[test]
fn a_trap_ends_its_request_with_500_and_one_log_line_and_the_next_request_succeeds() {
    let server = Running::start(EngineOptions::default());
    // The formatter traps on an empty name: the failure started there.
    let (status, _) = server.get("/greet/");
    assert_eq!(status, 500);
    let log = server.log("/greet/");
    let failure = log.failure.clone().expect("the request failed");
    assert_eq!(failure.component.as_deref(), Some("formatter"));
    assert_eq!(
        failure.function.as_deref(),
        Some("acme:text/format@0.1.0#greet")
    );
    let line = log.to_string();
    assert!(
        line.starts_with(
            "error: workload `web`, component `formatter`, acme:text/format@0.1.0#greet: wasm trap:"
        ) && line.contains("GET /greet/ -> 500")
            && !line.contains('\n'),
        "{line}"
    );
    assert_eq!(
        server.get("/greet/ann"),
        (200, "Hello, ann! (#1)\nvisits: 1\n".into())
    );

    // A trap in the handler itself names the handler and its interface.
    assert_eq!(server.get("/trap").0, 500);
    let failure = server.log("/trap").failure.expect("the request failed");
    assert_eq!(failure.component.as_deref(), Some("greeter"));
    assert_eq!(
        failure.function.as_deref(),
        Some("wasi:http/incoming-handler@0.2.12#handle")
    );
    assert_eq!(server.get("/greet/ann").0, 200);
}

#[test]
fn a_looping_request_ends_at_its_deadline_and_the_server_keeps_serving() {
    let server = Running::start(EngineOptions {
        timeout: Some(Duration::from_millis(300)),
        pooling: None,
        ..EngineOptions::default()
    });
    let started = Instant::now();
    let (status, body) = server.get("/loop");
    let elapsed = started.elapsed();
    assert_eq!(status, 500, "{body}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    let failure = server.log("/loop").failure.expect("the request failed");
    assert_eq!(failure.component.as_deref(), Some("greeter"));
    assert!(failure.message.contains("deadline"), "{}", failure.message);

    // A request that takes less than the deadline is served, on the same server.
    assert_eq!(server.get("/sleep/50"), (200, "slept 50 ms\n".into()));
    assert_eq!(server.get("/greet/ann").0, 200);
}

#[test]
fn a_trap_and_a_deadline_end_only_their_own_requests_among_slow_ones_in_flight() {
    let server = Running::start(EngineOptions {
        timeout: Some(Duration::from_millis(800)),
        ..EngineOptions::default()
    });
    let spawn = |path: &str| {
        let url = server.url(path);
        std::thread::spawn(move || get(&url))
    };
    // The slow requests wait on their guests' clocks, on the same worker threads as the
    // others; the loop holds one worker until its deadline.
    let slow: Vec<_> = (0..8).map(|_| spawn("/sleep/500")).collect();
    let looping = spawn("/loop");
    let trapping = spawn("/greet/");
    let fast = spawn("/greet/ann");
    assert_eq!(trapping.join().unwrap().0, 500);
    assert_eq!(fast.join().unwrap().0, 200);
    for request in slow {
        assert_eq!(request.join().unwrap(), (200, "slept 500 ms\n".into()));
    }
    assert_eq!(looping.join().unwrap().0, 500);
    let failure = server.log("/loop").failure.expect("the loop failed");
    assert!(failure.message.contains("deadline"), "{}", failure.message);
    let failure = server.log("/greet/").failure.expect("the trap failed");
    assert_eq!(failure.component.as_deref(), Some("formatter"));
    assert_eq!(server.get("/greet/bob").0, 200);
}

#[test]
fn looping_requests_yield_their_worker_threads_until_their_deadline() {
    let server = Running::start(EngineOptions {
        timeout: Some(Duration::from_secs(3)),
        ..EngineOptions::default()
    });
    // As many loops as the runtime has worker threads (one per core) and more.
    let loops: Vec<_> = (0..4)
        .map(|_| {
            let url = server.url("/loop");
            std::thread::spawn(move || (get(&url), Instant::now()))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (answer, answered) = (server.get("/greet/ann"), Instant::now());
    assert_eq!(answer.0, 200);
    for request in loops {
        let ((status, _), ended) = request.join().unwrap();
        assert_eq!(status, 500);
        assert!(
            answered < ended,
            "the greeting waited for a loop's deadline"
        );
    }
}

#[test]
fn a_request_past_a_components_max_memory_fails_naming_it() {
    // fixtures/web: the greeter may hold 64 MiB.
    let server = Running::start(EngineOptions::default());
    assert_eq!(server.get("/alloc/16"), (200, "allocated 16 MiB\n".into()));
    assert_eq!(server.get("/alloc/100").0, 500);
    let failure = server
        .log("/alloc/100")
        .failure
        .expect("the request failed");
    assert_eq!(failure.component.as_deref(), Some("greeter"));
    assert!(
        failure.message.contains("component `greeter` would hold")
            && failure.message.contains("past its max-memory of 64 MiB"),
        "{}",
        failure.message
    );
    assert_eq!(server.get("/alloc/16").0, 200);
}

#[test]
fn concurrent_requests_on_pooled_stores_each_get_fresh_instances() {
    // Eight clients, four pooled stores: requests wait for a free store, none fails.
    let server = Running::start(EngineOptions {
        timeout: Some(Duration::from_secs(10)),
        pooling: Some(4),
        ..EngineOptions::default()
    });
    let url = server.url("");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                (1..=10)
                    .map(|i| {
                        let (status, body) = get(&format!("{url}/greet/user-{t}"));
                        assert_eq!(status, 200, "{body}");
                        assert_eq!(body, format!("Hello, user-{t}! (#1)\nvisits: {i}\n"));
                    })
                    .count()
            })
        })
        .collect();
    let served: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(served, 80);
    // A failed request on the pool leaves its slots usable.
    assert_eq!(server.get("/trap").0, 500);
    assert_eq!(
        server.get("/greet/user-0").1,
        "Hello, user-0! (#1)\nvisits: 11\n"
    );
}

#[test]
fn shutdown_lets_the_request_in_flight_finish_and_stops_accepting() {
    let server = Running::start(EngineOptions::default());
    let url = server.url("/sleep/400");
    let in_flight = std::thread::spawn(move || get(&url));
    std::thread::sleep(Duration::from_millis(150));
    let addr = server.addr;
    let shutdown = server.stop();
    assert!(shutdown.drained);
    assert_eq!(in_flight.join().unwrap(), (200, "slept 400 ms\n".into()));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting"
    );
}

#[test]
fn a_workload_without_an_http_handler_is_refused_listing_its_exports() {
    let Err(error) =
        HttpWorkload::link(&plan("greet"), &Plugins::builtin(), ServeOptions::default())
    else {
        panic!("a command is not an HTTP handler");
    };
    assert!(matches!(error, ServeError::NotAnHttpHandler { .. }));
    let message = error.to_string();
    assert!(
        message.contains("does not export wasi:http/incoming-handler")
            && message.contains("wasi:cli/run@0.2.12"),
        "{message}"
    );
}

#[test]
fn a_wasi_0_3_handler_linked_across_two_components_is_served_in_every_link_mode() {
    // `greeter` exports `wasi:http/handler@0.3.0#handle` (async) and calls `ops.echo`
    // (async, another component); its response body is a stream it writes as it goes.
    for mode in [
        LinkMode::PerComponent,
        LinkMode::Clusters,
        LinkMode::Composed,
    ] {
        let server = Running::start_workload(
            "web-p3",
            EngineOptions {
                link: mode,
                ..EngineOptions::default()
            },
        );
        let (status, body) = server.get("/hello?who=ann");
        assert_eq!(
            (status, body.as_str()),
            (200, "hello from p3 /hello?who=ann\n"),
            "{mode}"
        );
        let log = server.log("/hello");
        assert!(log.failure.is_none(), "{mode}: {log}");
        assert_eq!(log.instantiated, ["greeter", "ops"], "{mode}");
        // A trap ends its request with 500 and a log line naming where; the next is served.
        let (status, _) = server.get("/fail");
        assert_eq!(status, 500, "{mode}");
        let failure = server.log("/fail").failure.expect("a failure");
        assert!(
            failure.message.contains("unreachable"),
            "{mode}: {failure:?}"
        );
        assert_eq!(server.get("/again").0, 200, "{mode}");
        server.stop();
    }
}

/// Serves `fixtures/web-p3` reusing each store for `reuse`.
fn serve_p3_reusing(reuse: Reuse, limits: EngineOptions) -> Running {
    let options = ServeOptions {
        engine: limits,
        reuse,
        ..ServeOptions::default()
    };
    Running::start_serving(plan("web-p3"), options)
}

#[test]
fn a_wasi_0_3_handlers_instances_serve_the_next_requests_until_their_count_or_a_trap() {
    let reuse = Reuse {
        max_requests: 3,
        ..Reuse::default()
    };
    let server = serve_p3_reusing(reuse, EngineOptions::default());
    let instantiated = |path: &str| {
        let (status, body) = server.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        server.log(path).instantiated
    };
    // One store, three requests: only the first instantiates anything.
    assert_eq!(instantiated("/1"), ["greeter", "ops"]);
    assert!(instantiated("/2").is_empty());
    assert!(instantiated("/3").is_empty());
    // The store has served its three: the fourth gets a new one.
    assert_eq!(instantiated("/4"), ["greeter", "ops"]);
    // A trap drops the store that served it; the next request gets fresh instances.
    assert_eq!(server.get("/fail").0, 500);
    let failure = server.log("/fail").failure.expect("the trap");
    assert!(failure.message.contains("unreachable"), "{failure:?}");
    assert_eq!(instantiated("/5"), ["greeter", "ops"]);
    server.stop();
}

#[test]
fn a_wasi_0_3_handlers_idle_store_is_dropped_and_reuse_can_be_turned_off() {
    let idle = Reuse {
        idle_timeout: Duration::from_millis(100),
        ..Reuse::default()
    };
    let server = serve_p3_reusing(idle, EngineOptions::default());
    assert_eq!(server.get("/a").0, 200);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(server.get("/b").0, 200);
    assert_eq!(
        server.log("/b").instantiated,
        ["greeter", "ops"],
        "idle, dropped"
    );
    server.stop();

    let off = Reuse {
        max_requests: 1,
        ..Reuse::default()
    };
    let server = serve_p3_reusing(off, EngineOptions::default());
    for path in ["/a", "/b"] {
        assert_eq!(server.get(path).0, 200);
        assert_eq!(server.log(path).instantiated, ["greeter", "ops"], "{path}");
    }
    server.stop();
}

#[test]
fn concurrent_requests_share_a_wasi_0_3_store_each_with_its_own_deadline() {
    let server = serve_p3_reusing(
        Reuse::default(),
        EngineOptions {
            timeout: Some(Duration::from_millis(500)),
            ..EngineOptions::default()
        },
    );
    // A store that has instantiated the handler: a burst arriving before any store has
    // finished instantiating would count each instantiation as every request's (each
    // request's log names the instances made while it ran), whether or not they share it.
    assert_eq!(server.get("/warm").0, 200);
    let requests: Vec<_> = (0..16)
        .map(|i| {
            let url = server.url(&format!("/c{i}"));
            std::thread::spawn(move || get(&url))
        })
        .collect();
    for (i, request) in requests.into_iter().enumerate() {
        assert_eq!(
            request.join().unwrap(),
            (200, format!("hello from p3 /c{i}\n"))
        );
    }
    // A store older than the deadline serves on: the deadline is each request's.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(server.get("/late").0, 200);
    assert!(
        server.log("/late").instantiated.is_empty(),
        "served by a store of the burst"
    );
    let fresh: Vec<_> = (0..16)
        .filter(|i| !server.log(&format!("/c{i}")).instantiated.is_empty())
        .collect();
    assert!(
        fresh.is_empty(),
        "requests {fresh:?} of 16 at once were given a store of their own"
    );
    server.stop();
}

#[test]
fn a_wasi_0_2_handler_is_served_in_a_workload_with_async_functions() {
    // fixtures/web with an async component beside it, and the greeter fused with its
    // formatter (their synchronous call could not cross a trampoline in such a workload):
    // the store runs concurrently, WASI 0.2 and `wasi:http` 0.2 are linked asynchronously.
    let mut workload = compose_resolver::Workload::from_file(example_workload("web")).unwrap();
    for component in ["greeter", "formatter"] {
        // A `max-memory` would keep them from being fused (charged per component).
        workload.components[component].max_memory = None;
    }
    let workload = workload
        .with_component("ops", compose_tests::fixture_component("async-callee"))
        .with_export("wasi:http/incoming-handler@0.2.0", "greeter", None)
        .with_export("acme:pipe/ops@0.1.0", "ops", None)
        .with_cluster("web", ["greeter", "formatter"]);
    let plugins = Plugins::<ServeState>::builtin();
    let profile = plugins.profile().with_interfaces(SERVED.iter().copied());
    let plan = compose_resolver::resolve_with(&workload, &profile).unwrap();
    assert!(compose_linker::has_async_functions(&plan));
    let server = Running::start_plan(plan, EngineOptions::default());
    let (status, body) = server.get("/greet/ann");
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("Hello, ann! (#1)"), "{body}");
    assert_eq!(server.get("/greet/bob").0, 200);
    server.stop();
}

#[test]
fn a_request_beyond_max_concurrent_requests_gets_503_at_once_and_the_next_is_served() {
    let server = Running::start_admitting(plan("web"), EngineOptions::default(), 1);
    let slow = {
        let url = server.url("/sleep/1000");
        std::thread::spawn(move || get(&url))
    };
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    let mut busy = client()
        .get(&server.url("/greet/ann"))
        .call()
        .expect("answered");
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "at once, not queued"
    );
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(busy.headers().get("retry-after").unwrap(), "1");
    assert!(busy.body_mut().read_to_string().unwrap().contains("busy"));
    assert_eq!(slow.join().unwrap(), (200, "slept 1000 ms\n".into()));
    assert_eq!(server.get("/greet/ann").0, 200);
    let statuses: Vec<_> = (server.logs_of("/greet/ann", 2).iter())
        .map(|l| l.status)
        .collect();
    assert_eq!(statuses, [503, 200]);
}
