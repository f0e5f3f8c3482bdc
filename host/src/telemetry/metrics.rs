//! `compose serve --metrics ADDR`: Prometheus metrics of the workload ([`Metrics`]),
//! counted where the spans the traces show are made (docs/tracing.md), so that the
//! metrics and the traces cannot disagree, but without a subscriber: the linker tells
//! each call and instantiation to the observers it was given when the workload was
//! linked ([`compose_linker::Meter`]), and the server each request
//! ([`Metrics::request`]). Served as text by [`Metrics::serve`].
//!
//! | metric | labels | counts, as the span |
//! |---|---|---|
//! | `compose_requests_total`, `compose_request_duration_seconds` | `status` | `compose.request` |
//! | `compose_instantiations_total`, `compose_instantiation_duration_seconds` | `component` | `compose.instantiate` |
//! | `compose_calls_total`, `compose_call_duration_seconds` | `component` (the callee), `interface` | `compose.call` |
//! | `compose_traps_total`, `compose_deadlines_total` | `component` | a failed call or instantiation |
//!
//! A failure is counted once, for the component where it started
//! ([`Outcome::Below`] for each caller it failed through).

use compose_linker::{Meter, Observe, Outcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

/// The content type of what [`Metrics::render`] writes (the OpenMetrics text format,
/// which Prometheus scrapes).
#[cfg(feature = "serve")]
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabel {
    component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    component: String,
    interface: String,
}

/// Latencies from 100 µs to about 6.5 s, doubling.
fn latencies() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;

/// The metrics, and the registry that names them.
struct Counted {
    registry: Registry,
    requests: Family<StatusLabel, Counter>,
    request_seconds: Latencies<StatusLabel>,
    instantiations: Family<ComponentLabel, Counter>,
    instantiation_seconds: Latencies<ComponentLabel>,
    calls: Family<CallLabels, Counter>,
    call_seconds: Latencies<CallLabels>,
    traps: Family<ComponentLabel, Counter>,
    deadlines: Family<ComponentLabel, Counter>,
}

/// The Prometheus metrics of a workload (the table of the module): give it to the linker
/// (`EngineOptions::meter`, as a [`Meter`]) and tell it each request
/// ([`Metrics::request`]). Clones share the counts.
#[derive(Clone)]
pub struct Metrics {
    counted: Arc<Counted>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Metrics with every count at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("compose");
        let mut counted = Counted {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latencies),
            instantiations: Family::default(),
            instantiation_seconds: Family::new_with_constructor(latencies),
            calls: Family::default(),
            call_seconds: Family::new_with_constructor(latencies),
            traps: Family::default(),
            deadlines: Family::default(),
            registry: Registry::default(),
        };
        let c = &counted;
        registry.register("requests", "HTTP requests answered", c.requests.clone());
        registry.register(
            "request_duration_seconds",
            "How long requests took, until their handler returned",
            c.request_seconds.clone(),
        );
        registry.register(
            "instantiations",
            "Components instantiated",
            c.instantiations.clone(),
        );
        registry.register(
            "instantiation_duration_seconds",
            "How long instantiations took",
            c.instantiation_seconds.clone(),
        );
        registry.register("calls", "Calls that crossed the linker", c.calls.clone());
        registry.register(
            "call_duration_seconds",
            "How long calls that crossed the linker took",
            c.call_seconds.clone(),
        );
        registry.register(
            "traps",
            "Failures, by the component where they started",
            c.traps.clone(),
        );
        registry.register(
            "deadlines",
            "Deadlines passed, by the component that was running",
            c.deadlines.clone(),
        );
        counted.registry = registry;
        Self {
            counted: Arc::new(counted),
        }
    }

    /// The metrics in the OpenMetrics text format (what `GET /metrics` answers).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a `String` does not fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.counted.registry);
        text
    }

    /// These metrics as the linker's meter ([`EngineOptions::meter`](crate::EngineOptions::meter)),
    /// sharing the counts.
    pub fn meter(&self) -> Arc<dyn Meter> {
        Arc::new(self.clone())
    }

    /// Counts one answered request: its `status` and how long it took (`took`, until the
    /// handler answered).
    pub fn request(&self, status: u16, took: Duration) {
        let status = StatusLabel {
            status: status.to_string(),
        };
        let c = &self.counted;
        c.requests.get_or_create(&status).inc();
        (c.request_seconds.get_or_create(&status)).observe(took.as_secs_f64());
    }

    /// The observer counting into the series `count` and `seconds` of `labels`, and the
    /// failures of `component`.
    fn tally<L>(
        &self,
        (count, seconds): (&Family<L, Counter>, &Latencies<L>),
        labels: &L,
        component: &str,
    ) -> Arc<dyn Observe>
    where
        L: Clone + std::hash::Hash + Eq,
    {
        let failed = ComponentLabel {
            component: component.to_owned(),
        };
        let c = &self.counted;
        Arc::new(Tally {
            count: count.get_or_create(labels).clone(),
            seconds: seconds.get_or_create(labels).clone(),
            traps: c.traps.get_or_create(&failed).clone(),
            deadlines: c.deadlines.get_or_create(&failed).clone(),
        })
    }
}

/// The linker tells the metrics of each call and instantiation, at the sites of their
/// spans and with the same outcomes ([`compose_linker::Meter`]), so that no subscriber is
/// needed to count them; each observer holds its series, looked up once when the
/// workload is linked.
impl Meter for Metrics {
    fn calls(&self, component: &str, interface: Option<&str>) -> Arc<dyn Observe> {
        let labels = CallLabels {
            component: component.to_owned(),
            interface: interface.unwrap_or_default().to_owned(),
        };
        let c = &self.counted;
        self.tally((&c.calls, &c.call_seconds), &labels, component)
    }

    fn instantiations(&self, component: &str) -> Arc<dyn Observe> {
        let label = ComponentLabel {
            component: component.to_owned(),
        };
        let c = &self.counted;
        self.tally(
            (&c.instantiations, &c.instantiation_seconds),
            &label,
            component,
        )
    }
}

/// The series one route, function or component's instantiations count into.
#[derive(Debug)]
struct Tally {
    count: Counter,
    seconds: Histogram,
    traps: Counter,
    deadlines: Counter,
}

impl Observe for Tally {
    fn observe(&self, took: Duration, outcome: Outcome) {
        self.count.inc();
        self.seconds.observe(took.as_secs_f64());
        match outcome {
            Outcome::Trap => self.traps.inc(),
            Outcome::Deadline => self.deadlines.inc(),
            Outcome::Ok | Outcome::Below => 0,
        };
    }
}

/// The endpoint that Prometheus scrapes (with compose-host's `serve` feature).
#[cfg(feature = "serve")]
impl Metrics {
    /// Serves [`Metrics::render`] at `GET /metrics` on `addr` (HTTP/1.1, any other path is
    /// 404), on a thread of its own that ends with the process; the address bound (for
    /// port 0).
    ///
    /// # Errors
    /// The error of binding `addr`.
    pub fn serve(&self, addr: std::net::SocketAddr) -> std::io::Result<std::net::SocketAddr> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let metrics = self.clone();
        std::thread::Builder::new()
            .name("compose-metrics".into())
            .spawn(move || runtime.block_on(metrics.answer(listener)))?;
        Ok(bound)
    }

    /// Answers the scrapes of `listener`.
    async fn answer(self, listener: std::net::TcpListener) {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        while let Ok((stream, _)) = listener.accept().await {
            let metrics = self.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
                let response = metrics.response(request.uri().path());
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let io = wasmtime_wasi_http::io::TokioIo::new(stream);
            let connection = hyper::server::conn::http1::Builder::new();
            tokio::spawn(connection.serve_connection(io, service));
        }
    }

    /// The response to a scrape of `path`.
    fn response(&self, path: &str) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
        let (status, content_type, body) = match path {
            "/metrics" => (200, CONTENT_TYPE, self.render()),
            _ => (404, "text/plain", "GET /metrics\n".to_owned()),
        };
        let mut response =
            hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
        let value = hyper::header::HeaderValue::from_static(content_type);
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
        response
    }
}
