//! `compose serve` exporting its spans over OTLP/HTTP (docs/tracing.md#opentelemetry-export):
//! a collector on loopback, written here with hyper and opentelemetry-proto, receives what
//! the real binary sends once it has shut down on SIGTERM.

use super::{compose_in, http_get_with, scratch_dir, start_serve, terminate, text};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, span, status};
use prost::Message;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The client's trace and span of the requests these tests send (W3C Trace Context).
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// One request an HTTP [`Recorder`] received.
#[derive(Clone)]
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// An HTTP/1.1 server on a free loopback port, on a runtime of its own thread (which ends
/// with the test binary), that records every request and answers `200 OK` with no body:
/// the OTLP/HTTP collector of these tests (an empty `ExportTraceServiceResponse` is full
/// success) and the upstream that guests send requests to.
struct Recorder {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Recorder {
    fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(record(listener, sink));
        });
        Self { addr, received }
    }

    /// `http://127.0.0.1:PORT`.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received for `path`.
    fn received(&self, path: &str) -> Vec<Received> {
        let received = self.received.lock().unwrap();
        received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Every span exported to `/v1/traces`, each with its resource's attributes.
    fn spans(&self) -> Vec<(Span, Attributes)> {
        let mut spans = Vec::new();
        for request in self.received("/v1/traces") {
            let ct = request.headers.get("content-type");
            assert_eq!(ct.unwrap(), "application/x-protobuf", "OTLP http/protobuf");
            let export = ExportTraceServiceRequest::decode(request.body).expect("OTLP protobuf");
            for resource_spans in export.resource_spans {
                let resource = (resource_spans.resource)
                    .map_or_else(Attributes::default, |r| Attributes::of(&r.attributes));
                for scope in resource_spans.scope_spans {
                    spans.extend(scope.spans.into_iter().map(|s| (s, resource.clone())));
                }
            }
        }
        spans
    }
}

/// Serves `listener`, recording each request (path, headers, body) in `sink`.
async fn record(listener: std::net::TcpListener, sink: Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    while let Ok((stream, _)) = listener.accept().await {
        let sink = sink.clone();
        let service =
            hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let sink = sink.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await.map(|b| b.to_bytes());
                    sink.lock().unwrap().push(Received {
                        path: parts.uri.path().to_owned(),
                        headers: parts.headers,
                        body: body.unwrap_or_default(),
                    });
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
                }
            });
        let io = hyper_util::rt::TokioIo::new(stream);
        tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, service));
    }
}

/// A span's (or resource's) attributes as text: strings as they are, integers in decimal.
#[derive(Clone, Default, Debug)]
struct Attributes(HashMap<String, String>);

impl Attributes {
    fn of(attributes: &[KeyValue]) -> Self {
        let text = |value: &Option<AnyValue>| match value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => s.clone(),
            Some(any_value::Value::IntValue(i)) => i.to_string(),
            Some(any_value::Value::BoolValue(b)) => b.to_string(),
            other => format!("{other:?}"),
        };
        Self(
            attributes
                .iter()
                .map(|kv| (kv.key.clone(), text(&kv.value)))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Lower-case hex of an id.
fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves `fixtures/web` linked per component, exporting to `collector` with `envs` as
/// well; sends a GET of each of `requests` (path, headers), then SIGTERM; the statuses and
/// what the server wrote on standard error.
fn serve_web_exporting(
    collector: &Recorder,
    workload: &str,
    envs: &[(&str, &str)],
    requests: &[(&str, &[(&str, &str)])],
) -> (Vec<u16>, String) {
    let endpoint = collector.origin();
    let mut envs = envs.to_vec();
    envs.push(("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint));
    let args = [workload, "--link", "per-component"];
    let (mut child, addr, mut stderr) = start_serve(&args, &envs);
    let statuses = (requests.iter())
        .map(|(path, headers)| http_get_with(&addr, path, headers).0)
        .collect();
    terminate(&child);
    let status = child.wait().unwrap();
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    (statuses, log)
}

/// The one span named `name` whose attribute `key` is `value`.
fn find<'a>(spans: &'a [(Span, Attributes)], name: &str, key: &str, value: &str) -> &'a Span {
    let found: Vec<_> = (spans.iter())
        .filter(|(s, _)| s.name == name && Attributes::of(&s.attributes).get(key) == Some(value))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} with {key}={value} in {spans:#?}"
    );
    &found[0].0
}

/// Whether `child`'s parent is `parent`.
fn is_child(child: &Span, parent: &Span) -> bool {
    child.parent_span_id == parent.span_id && child.trace_id == parent.trace_id
}

#[test]
fn a_request_exports_its_spans_in_the_clients_trace_nested_as_they_ran() {
    let collector = Recorder::start();
    let envs = [
        ("OTEL_SERVICE_NAME", "web-test"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=ci,service.name=not-this",
        ),
    ];
    let traced: &[(&str, &str)] = &[("traceparent", TRACEPARENT), ("tracestate", "vendor=1")];
    let requests = [("/greet/ann", traced)];
    let (statuses, log) =
        serve_web_exporting(&collector, "fixtures/web/workload.toml", &envs, &requests);
    assert_eq!(statuses, [200]);
    let spans = collector.spans();
    assert!(
        !spans.is_empty(),
        "nothing exported; the server said:\n{log}"
    );
    for (span, resource) in &spans {
        assert_eq!(
            hex(&span.trace_id),
            TRACE_ID,
            "every span is in the client's trace"
        );
        assert_eq!(
            resource.get("service.name"),
            Some("web-test"),
            "{resource:?}"
        );
        assert_eq!(
            resource.get("deployment.environment"),
            Some("ci"),
            "{resource:?}"
        );
    }
    let request = find(&spans, "compose.request", "route", "/greet/ann");
    assert_eq!(hex(&request.parent_span_id), CLIENT_SPAN_ID);
    assert_eq!(request.kind, span::SpanKind::Server as i32);
    let fields = Attributes::of(&request.attributes);
    assert_eq!(
        (fields.get("method"), fields.get("status")),
        (Some("GET"), Some("200"))
    );
    let handler = find(&spans, "compose.call", "callee", "greeter");
    assert!(is_child(handler, request), "{spans:#?}");
    let fields = Attributes::of(&handler.attributes);
    assert_eq!(fields.get("caller"), Some("host"));
    assert_eq!(fields.get("function"), Some("handle"));
    assert_eq!(fields.get("outcome"), Some("ok"));
    let interface = fields.get("interface").unwrap_or_default();
    assert!(
        interface.starts_with("wasi:http/incoming-handler@0.2."),
        "{interface}"
    );
    let formatter = find(&spans, "compose.call", "callee", "formatter");
    assert!(is_child(formatter, handler), "{spans:#?}");
    let fields = Attributes::of(&formatter.attributes);
    assert_eq!(fields.get("caller"), Some("greeter"));
    assert!(
        fields
            .get("interface")
            .is_some_and(|i| i.starts_with("acme:text/format"))
    );
    let instantiated = find(&spans, "compose.instantiate", "component", "formatter");
    assert!(is_child(instantiated, formatter), "{spans:#?}");
    let backend: Vec<_> = (spans.iter().map(|(s, _)| s))
        .filter(|s| s.name == "compose.plugin")
        .collect();
    assert!(!backend.is_empty(), "no plugin span in {spans:#?}");
    for plugin in backend {
        assert!(is_child(plugin, handler), "{plugin:#?}");
        let fields = Attributes::of(&plugin.attributes);
        assert_eq!(
            (fields.get("plugin"), fields.get("label")),
            (Some("memory"), Some("visits"))
        );
    }
}

#[test]
fn a_trapping_call_is_exported_as_an_error_naming_its_component() {
    let collector = Recorder::start();
    // Past the greeter's max-memory of 64 MiB: its call traps.
    let requests: [(&str, &[(&str, &str)]); 1] = [("/alloc/100", &[])];
    let (statuses, log) =
        serve_web_exporting(&collector, "fixtures/web/workload.toml", &[], &requests);
    assert_eq!(statuses, [500]);
    let spans = collector.spans();
    assert!(
        !spans.is_empty(),
        "nothing exported; the server said:\n{log}"
    );
    let (_, resource) = &spans[0];
    assert_eq!(
        resource.get("service.name"),
        Some("compose"),
        "the default name"
    );
    let handler = find(&spans, "compose.call", "callee", "greeter");
    let status = handler.status.clone().expect("a status");
    assert_eq!(status.code, status::StatusCode::Error as i32);
    assert!(status.message.contains("`greeter`"), "{status:?}");
    assert!(status.message.contains("max-memory"), "{status:?}");
    let fields = Attributes::of(&handler.attributes);
    assert_eq!(fields.get("outcome"), Some("trap"));
    assert!(
        fields.get("error").is_some_and(|e| e.contains("`greeter`")),
        "{fields:?}"
    );
    let request = find(&spans, "compose.request", "route", "/alloc/100");
    assert!(request.parent_span_id.is_empty(), "no traceparent: a root");
    assert_eq!(
        Attributes::of(&request.attributes).get("status"),
        Some("500")
    );
}

#[test]
fn an_invalid_traceparent_is_ignored_and_the_request_starts_its_own_trace() {
    let collector = Recorder::start();
    // Version 00 with a span id of zeros, which the specification says to ignore; then
    // not hex at all.
    let zeros = "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01";
    let requests: [(&str, &[(&str, &str)]); 2] = [
        ("/greet/ann", &[("traceparent", zeros)]),
        ("/greet/bob", &[("traceparent", "not-a-trace-parent")]),
    ];
    let (statuses, log) =
        serve_web_exporting(&collector, "fixtures/web/workload.toml", &[], &requests);
    assert_eq!(statuses, [200, 200]);
    let spans = collector.spans();
    for route in ["/greet/ann", "/greet/bob"] {
        let request = find(&spans, "compose.request", "route", route);
        assert!(request.parent_span_id.is_empty(), "{route}: a root\n{log}");
        assert_ne!(
            hex(&request.trace_id),
            TRACE_ID,
            "{route}: a trace of its own"
        );
    }
}

#[test]
fn the_sampler_of_the_environment_decides_which_requests_are_exported() {
    let collector = Recorder::start();
    // Follow the client's decision; without one, sample nothing.
    let envs = [("OTEL_TRACES_SAMPLER", "parentbased_always_off")];
    let requests: [(&str, &[(&str, &str)]); 2] = [
        ("/greet/ann", &[("traceparent", TRACEPARENT)]),
        ("/greet/bob", &[]),
    ];
    let (statuses, log) =
        serve_web_exporting(&collector, "fixtures/web/workload.toml", &envs, &requests);
    assert_eq!(statuses, [200, 200]);
    let spans = collector.spans();
    find(&spans, "compose.request", "route", "/greet/ann");
    assert!(
        spans.iter().all(|(s, _)| hex(&s.trace_id) == TRACE_ID),
        "only the sampled request's trace is exported: {spans:#?}\n{log}"
    );
}

/// `fixtures/web` with the greeter granted `origins`, in a file of the test's own.
fn web_granting(test: &str, origins: &[String]) -> String {
    let fixture = std::fs::read_to_string(super::root().join("fixtures/web/workload.toml"));
    let components = super::root().join("fixtures/components/");
    let grants = (origins.iter().map(|o| format!("\"{o}\""))).collect::<Vec<_>>();
    let workload = fixture
        .unwrap()
        .replace("../components/", &components.display().to_string())
        + &format!(
            "\n[components.greeter.allow]\nhttp = [{}]\n",
            grants.join(", ")
        );
    let file = scratch_dir(test).join("workload.toml");
    std::fs::write(&file, workload).unwrap();
    file.display().to_string()
}

/// The span whose id is `child`'s parent id.
fn parent_of<'a>(spans: &'a [(Span, Attributes)], child: &Span) -> &'a Span {
    let parent = spans
        .iter()
        .find(|(s, _)| s.span_id == child.parent_span_id);
    &parent
        .unwrap_or_else(|| panic!("no parent of {child:#?} in {spans:#?}"))
        .0
}

#[test]
fn a_guests_outgoing_request_is_a_client_span_of_the_call_that_sent_it_and_carries_its_id() {
    let (collector, upstream) = (Recorder::start(), Recorder::start());
    // An origin where nothing listens: the port of a listener closed again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let file = web_granting("otlp-outgoing", &[upstream.origin(), refused.clone()]);
    let (hi, nowhere) = (
        format!("/fetch/{}/hi", upstream.origin()),
        format!("/fetch/{refused}/nowhere"),
    );
    let traced: &[(&str, &str)] = &[("traceparent", TRACEPARENT)];
    let requests = [(hi.as_str(), traced), (nowhere.as_str(), &[][..])];
    let (statuses, log) = serve_web_exporting(&collector, &file, &[], &requests);
    // The greeter answers 502 when its request failed.
    assert_eq!(statuses, [200, 502], "{log}");
    let spans = collector.spans();

    let url = format!("{}/hi", upstream.origin());
    let client = find(&spans, "GET", "url.full", &url);
    assert_eq!(client.kind, span::SpanKind::Client as i32);
    let fields = Attributes::of(&client.attributes);
    let port = upstream.addr.port().to_string();
    for (key, value) in [
        ("http.request.method", "GET"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(fields.get(key), Some(value), "{key} of {fields:?}");
    }
    assert_eq!(fields.get("error.type"), None, "{fields:?}");
    // A child of the call that reached the greeter, in the client's trace.
    let handler = parent_of(&spans, client);
    assert_eq!(handler.name, "compose.call");
    let handler_fields = Attributes::of(&handler.attributes);
    assert_eq!(handler_fields.get("callee"), Some("greeter"));
    assert_eq!(hex(&client.trace_id), TRACE_ID);
    // The upstream is the client span's child.
    let sent = upstream.received("/hi");
    assert_eq!(sent.len(), 1, "{log}");
    let traceparent = sent[0].headers.get("traceparent").expect("a traceparent");
    let expected = format!("00-{TRACE_ID}-{}-01", hex(&client.span_id));
    assert_eq!(traceparent.to_str().unwrap(), expected);

    let failed = find(&spans, "GET", "url.full", &format!("{refused}/nowhere"));
    assert_eq!(failed.kind, span::SpanKind::Client as i32);
    let fields = Attributes::of(&failed.attributes);
    assert_eq!(
        fields.get("error.type"),
        Some("ConnectionRefused"),
        "{fields:?}"
    );
    assert_eq!(fields.get("http.response.status_code"), None, "{fields:?}");
    let status = failed.status.clone().expect("a status");
    assert_eq!(status.code, status::StatusCode::Error as i32, "{status:?}");
    assert_eq!(parent_of(&spans, failed).name, "compose.call");
}

#[test]
fn compose_run_sends_its_spans_to_the_traces_endpoint_before_it_exits() {
    let collector = Recorder::start();
    let endpoint = format!("{}/v1/traces", collector.origin());
    let call = r#"acme:app/handler@0.1.0#greet("bob")"#;
    let args = ["run", "fixtures/shop/workload.toml", "--invoke", call];
    let out = compose_in(&args, &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\"Hello, bob! (#1)\"\n");
    let spans = collector.spans();
    let run = find(&spans, "compose.run", "call", call);
    assert!(run.parent_span_id.is_empty(), "a root");
    let handler = find(&spans, "compose.call", "caller", "host");
    assert!(is_child(handler, run), "{spans:#?}");
    assert_eq!(
        Attributes::of(&handler.attributes).get("callee"),
        Some("frontend")
    );
}

#[test]
fn a_guests_log_call_is_an_event_of_the_call_that_reached_it() {
    let collector = Recorder::start();
    let endpoint = format!("{}/v1/traces", collector.origin());
    let call = r#"acme:text/format@0.1.0#greet("Hi", "ann")"#;
    let args = ["run", "fixtures/logging/workload.toml", "--invoke", call];
    let out = compose_in(&args, &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint)]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Written on stderr as without export.
    assert!(
        stderr.contains("logger: INFO greet: greeting ann\n"),
        "{stderr}"
    );
    let spans = collector.spans();
    let greet = find(&spans, "compose.call", "caller", "host");
    // tracing-opentelemetry names an event after its `message`; the `debug` call is
    // below the level written, so it is not exported either.
    let names: Vec<&str> = greet.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["greeting ann"], "{greet:#?}");
    let event = Attributes::of(&greet.events[0].attributes);
    assert_eq!(event.get("component"), Some("logger"));
    assert_eq!(event.get("context"), Some("greet"));
}
