//! `compose serve --metrics ADDR`: Prometheus metrics of the workload, counted by a
//! subscriber layer ([`Metrics`]) from the same spans the traces show (docs/tracing.md), so
//! that the metrics and the traces cannot disagree. Served as text by [`Metrics::serve`].
//!
//! | metric | labels | from |
//! |---|---|---|
//! | `compose_requests_total`, `compose_request_duration_seconds` | `status` | `compose.request` |
//! | `compose_instantiations_total`, `compose_instantiation_duration_seconds` | `component` | `compose.instantiate` |
//! | `compose_calls_total`, `compose_call_duration_seconds` | `component` (the callee), `interface` | `compose.call` |
//! | `compose_traps_total`, `compose_deadlines_total` | `component` | a failed call or instantiation |
//!
//! A failure is counted once, for the component where it started: the innermost failed
//! span, not each caller it failed through.

use super::SpanFields;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

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

/// A layer that counts the spans of target `compose` as Prometheus metrics (the table of
/// the module). Clones share the counts.
#[derive(Clone)]
pub struct Metrics {
    counted: Arc<Counted>,
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

    /// Counts `span` when it closes.
    fn count(&self, span: &Observed) {
        let c = &self.counted;
        let seconds = span.opened.elapsed().as_secs_f64();
        let field = |name: &str| span.field(name).unwrap_or_default().to_owned();
        match span.name {
            "compose.request" => {
                let status = StatusLabel {
                    status: field("status"),
                };
                c.requests.get_or_create(&status).inc();
                c.request_seconds.get_or_create(&status).observe(seconds);
            }
            "compose.instantiate" => {
                let component = ComponentLabel {
                    component: field("component"),
                };
                c.instantiations.get_or_create(&component).inc();
                c.instantiation_seconds
                    .get_or_create(&component)
                    .observe(seconds);
            }
            "compose.call" => {
                let labels = CallLabels {
                    component: field("callee"),
                    interface: field("interface"),
                };
                c.calls.get_or_create(&labels).inc();
                c.call_seconds.get_or_create(&labels).observe(seconds);
            }
            _ => {}
        }
        if span.failed_below {
            return;
        }
        let component = ComponentLabel {
            component: span.component().to_owned(),
        };
        match span.field("outcome") {
            Some("trap") => c.traps.get_or_create(&component).inc(),
            Some("deadline") => c.deadlines.get_or_create(&component).inc(),
            _ => 0,
        };
    }
}

/// What the layer keeps of an open span (in its extensions).
struct Observed {
    name: &'static str,
    fields: SpanFields,
    opened: Instant,
    /// A span under it failed (and was counted).
    failed_below: bool,
}

impl Observed {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name)
    }

    /// The component a call or instantiation ran.
    fn component(&self) -> &str {
        (self.field("callee").or(self.field("component"))).unwrap_or_default()
    }

    fn failed(&self) -> bool {
        matches!(self.field("outcome"), Some("trap" | "deadline"))
    }
}

impl<S> Layer<S> for Metrics
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        // Guests' log events pass, for the other layers (they count nothing here).
        metadata.target() == "compose" || super::guest::is_guest(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        span.extensions_mut().insert(Observed {
            name: attrs.metadata().name(),
            fields: SpanFields::of(attrs),
            opened: Instant::now(),
            failed_below: false,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        if let Some(observed) = span.extensions_mut().get_mut::<Observed>() {
            observed.fields.record(values);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(observed) = span.extensions_mut().remove::<Observed>() else {
            return;
        };
        self.count(&observed);
        if observed.failed() {
            let parent = span.parent();
            let mut extensions = parent.as_ref().map(|p| p.extensions_mut());
            if let Some(parent) = extensions.as_mut().and_then(|e| e.get_mut::<Observed>()) {
                parent.failed_below = true;
            }
        }
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
