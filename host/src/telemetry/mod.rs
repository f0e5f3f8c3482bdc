//! What a host does with the spans of a workload (docs/tracing.md): the span of one
//! `compose run` ([`run_span`]); [`CallTree`], a subscriber layer that records the spans of
//! target `compose` as a tree and prints it (`compose run --trace`); their export over
//! OTLP ([`Otlp`]); W3C trace context across `compose serve` ([`context`]);
//! Prometheus metrics counted where they are made ([`Metrics`]); and guests' own log
//! calls (`wasi:logging`) on standard error ([`GuestLog`]).
//!
//! The libraries only emit spans; a program installs the subscriber, as the `compose`
//! command does with [`install`].

#[cfg(feature = "serve")]
pub mod context;
mod guest;
mod metrics;
mod otlp;

pub use guest::{FilteredGuestLog, GUEST_TARGET, GuestLog};
pub use metrics::Metrics;
pub use otlp::{DEFAULT_SERVICE_NAME, ENDPOINT_VARIABLES, Otlp};

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber, field};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

/// The name of the span of one `compose run` ([`run_span`]).
pub const RUN_SPAN: &str = "compose.run";

/// The span of one `compose run` of `workload`: `call` is the `--invoke` expression, or
/// `wasi:cli/run` for a command. Enter it around making the store and calling, so that
/// the eager components' instantiation and the call nest under it.
pub fn run_span(workload: &str, call: &str) -> tracing::Span {
    tracing::info_span!(target: "compose", "compose.run", workload, call)
}

/// Why [`install`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A global subscriber was installed already.
    #[error("a tracing subscriber is installed already")]
    Installed(#[from] tracing::subscriber::SetGlobalDefaultError),
    /// The OTLP exporter cannot be made from the environment (an endpoint that is not a
    /// URL, a client that cannot be built).
    #[error("cannot export spans over OTLP")]
    Otlp(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Why the spans of the process could not all be exported ([`Installed::shutdown`]).
#[derive(Debug, thiserror::Error)]
#[error("cannot export the last spans over OTLP")]
pub struct ShutdownError(#[from] opentelemetry_sdk::error::OTelSdkError);

/// What the process's subscriber does ([`install`]); the default installs nothing.
#[derive(Default)]
pub struct Telemetry {
    /// Record every span of target `compose` as a tree (`compose run --trace`).
    pub tree: Option<CallTree>,
    /// Export them over OTLP; [`Otlp::from_env`] decides as the OpenTelemetry SDK does.
    pub otlp: Option<Otlp>,
    /// Write guests' `wasi:logging` calls (events of target [`GUEST_TARGET`]), one line
    /// each (`compose run` and `compose serve`: on standard error, at `INFO` and above).
    pub guests: Option<GuestLog>,
}

impl Telemetry {
    /// Whether there is nothing to install.
    fn is_empty(&self) -> bool {
        self.tree.is_none() && self.otlp.is_none() && self.guests.is_none()
    }
}

/// Installs the process's subscriber with the layers `telemetry` asks for. With nothing
/// to install, installs nothing, so that spans cost nothing; with only [`GuestLog`], the
/// spans of target `compose` stay disabled at their callsites and cost as little.
///
/// Guests' log events reach every layer that wants them: the [`GuestLog`], and the OTLP
/// export as events of the span current when the guest logged (a guest's `error` log
/// does not make that span an error: its `outcome` does).
///
/// Keep what it returns until the process ends, then [`Installed::shutdown`] it, so that
/// the spans still batched are sent.
///
/// # Errors
/// [`InstallError::Installed`] when a global subscriber is installed already;
/// [`InstallError::Otlp`] when the exporter cannot be made.
pub fn install(telemetry: Telemetry) -> Result<Installed, InstallError> {
    if telemetry.is_empty() {
        return Ok(Installed::default());
    }
    let (subscriber, installed) = subscriber(telemetry)?;
    tracing::subscriber::set_global_default(subscriber)?;
    Ok(installed)
}

/// The subscriber [`install`] installs, with the layers `telemetry` asks for, each behind
/// a per-layer filter (so that one layer's interest does not disable what another
/// wants): the call tree sees the spans of target `compose`, the
/// [`GuestLog`] the guests' log events at its level, the OTLP export both (the guests'
/// at the [`GuestLog`]'s level, `INFO` without one). A test or an
/// embedding host can make it the default of a thread (`tracing::subscriber::with_default`);
/// keep the [`Installed`] as [`install`] says.
///
/// # Errors
/// [`InstallError::Otlp`] when the exporter cannot be made.
pub fn subscriber(
    telemetry: Telemetry,
) -> Result<(impl Subscriber + Send + Sync + 'static, Installed), InstallError> {
    let (provider, tracer) = match telemetry.otlp.map(|otlp| otlp.provider()).transpose()? {
        Some((provider, tracer)) => (Some(provider), Some(tracer)),
        None => (None, None),
    };
    // Guests' log events are exported at the level they are written at.
    let guest_level = (telemetry.guests.as_ref()).map_or(tracing::Level::INFO, GuestLog::max);
    // The layers that are there, boxed in one `Vec`: an absent layer as `Option::None`
    // would be a layer that wants every callsite (tracing-subscriber 0.3's `Option`
    // layer answers `Interest::always` for `None`), making every span in the process —
    // compose's and Wasmtime's — live in the registry for nobody to read.
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();
    if let Some(guests) = telemetry.guests {
        layers.push(Box::new(guests.filtered()));
    }
    if let Some(tree) = telemetry.tree {
        layers.push(Box::new(tree.with_filter(filter_fn(is_compose))));
    }
    if let Some(tracer) = tracer {
        // Off what a span would carry at a cost on every span, or on every poll of a call
        // on a fiber, and that says nothing about the workload: the source location,
        // target (always `compose`, the scope's name) and thread of compose's own code,
        // busy and idle times (the span's duration is the call's), and activating an
        // OpenTelemetry `Context` on each entry (nothing here reads `Context::current`:
        // `context::propagate` asks the span for its own).
        let export = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_target(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_error_events_to_status(false)
            .with_error_events_to_exceptions(false)
            .with_filter(filter_fn(move |metadata| {
                is_compose(metadata)
                    || (guest::is_guest(metadata) && *metadata.level() <= guest_level)
            }));
        layers.push(Box::new(export));
    }
    let subscriber = tracing_subscriber::registry().with(layers);
    Ok((subscriber, Installed { provider }))
}

/// Whether `metadata` is a span (or event) of compose's own, target `compose`.
fn is_compose(metadata: &Metadata<'_>) -> bool {
    metadata.target() == "compose"
}

/// What [`install`] installed: the tracer provider, when spans are exported.
#[derive(Default)]
pub struct Installed {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Installed {
    /// Exports the spans still batched and stops exporting (nothing when spans are not
    /// exported). Spans that end later are dropped.
    ///
    /// # Errors
    /// [`ShutdownError`] when the shutdown timed out or failed. (A batch the collector
    /// refuses or cannot receive is dropped by the SDK, and is no error here.)
    pub fn shutdown(self) -> Result<(), ShutdownError> {
        match self.provider {
            Some(provider) => Ok(provider.shutdown()?),
            None => Ok(()),
        }
    }
}

/// A layer that records the spans of target `compose` (instantiations, calls, plugin
/// calls, runs and requests) as a tree, each under the span that was current when it
/// began, with its fields and how long it was open. Clones share one tree. It lets
/// guests' log events ([`GUEST_TARGET`]) through to the other layers, and disables
/// everything else.
#[derive(Clone, Default)]
pub struct CallTree {
    tree: Arc<Mutex<Tree>>,
}

#[derive(Default)]
struct Tree {
    nodes: Vec<Node>,
    roots: Vec<usize>,
}

struct Node {
    name: &'static str,
    fields: SpanFields,
    children: Vec<usize>,
    opened: Instant,
    elapsed: Option<Duration>,
}

/// Where a span's node is in the tree (kept in the span's extensions).
struct Place(usize);

impl CallTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tree as text: one line per span, indented two spaces under its parent, in the
    /// order the spans began, each ending in how long it was open (`(0.125 ms)`; `(open)`
    /// for a span not closed yet).
    pub fn render(&self) -> String {
        let tree = self.lock();
        let mut out = String::new();
        for &root in &tree.roots {
            tree.render(root, 0, &mut out);
        }
        out
    }
}

impl Tree {
    fn render(&self, id: usize, depth: usize, out: &mut String) {
        let node = &self.nodes[id];
        let _ = write!(out, "{:indent$}{node}", "", indent = depth * 2);
        match node.elapsed {
            Some(elapsed) => {
                let _ = writeln!(out, " ({:.3} ms)", elapsed.as_secs_f64() * 1e3);
            }
            None => out.push_str(" (open)\n"),
        }
        for &child in &node.children {
            self.render(child, depth + 1, out);
        }
    }
}

impl Node {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name)
    }
}

/// One line: what the span is, in words, then the outcome and error when it has them.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let get = |name| self.field(name).unwrap_or("?");
        match self.name {
            "compose.run" => write!(f, "run {} {}", get("workload"), get("call"))?,
            "compose.instantiate" => {
                write!(f, "instantiate {}", get("component"))?;
                if let Some(cluster) = self.field("cluster") {
                    write!(f, " (fused with {cluster})")?;
                }
            }
            "compose.call" => {
                write!(f, "call {} -> {} ", get("caller"), get("callee"))?;
                if let Some(interface) = self.field("interface") {
                    write!(f, "{interface}#")?;
                }
                f.write_str(get("function"))?;
                if let Some(label) = self.field("label") {
                    write!(f, " (label {label})")?;
                }
            }
            "compose.plugin" => write!(
                f,
                "plugin {} {} {}",
                get("plugin"),
                get("label"),
                get("operation")
            )?,
            "compose.request" => write!(f, "request {} {}", get("method"), get("route"))?,
            name => {
                f.write_str(name)?;
                for (field, value) in &self.fields.0 {
                    write!(f, " {field}={value}")?;
                }
            }
        }
        for (field, value) in &self.fields.0 {
            if matches!(*field, "outcome" | "status") {
                write!(f, ": {value}")?;
            }
        }
        if let Some(error) = self.field("error") {
            write!(f, " ({error})")?;
        }
        Ok(())
    }
}

/// A span's fields as text, in the order they were recorded (a field recorded again is
/// read at its last value): what the layers here keep of a span.
#[derive(Default)]
struct SpanFields(Vec<(&'static str, String)>);

impl SpanFields {
    /// The fields a span begins with.
    fn of(attrs: &Attributes<'_>) -> Self {
        let mut fields = Self::default();
        attrs.record(&mut fields);
        fields
    }

    /// Adds the fields recorded later (`Span::record`).
    fn record(&mut self, values: &Record<'_>) {
        values.record(self);
    }

    /// The last value of field `name`.
    fn get(&self, name: &str) -> Option<&str> {
        (self.0.iter().rev())
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl field::Visit for SpanFields {
    fn record_str(&mut self, field: &field::Field, value: &str) {
        self.0.push((field.name(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &field::Field, value: &dyn fmt::Debug) {
        self.0.push((field.name(), format!("{value:?}")));
    }
}

impl<S> Layer<S> for CallTree
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target() == "compose" || guest::is_guest(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let fields = SpanFields::of(attrs);
        let parent = span
            .parent()
            .and_then(|parent| parent.extensions().get::<Place>().map(|p| p.0));
        let mut tree = self.lock();
        let place = tree.nodes.len();
        tree.nodes.push(Node {
            name: attrs.metadata().name(),
            fields,
            children: Vec::new(),
            opened: Instant::now(),
            elapsed: None,
        });
        match parent {
            Some(parent) => tree.nodes[parent].children.push(place),
            None => tree.roots.push(place),
        }
        drop(tree);
        span.extensions_mut().insert(Place(place));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(place) = ctx
            .span(id)
            .and_then(|s| s.extensions().get::<Place>().map(|p| p.0))
        else {
            return;
        };
        self.lock().nodes[place].fields.record(values);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(place) = ctx
            .span(&id)
            .and_then(|s| s.extensions().get::<Place>().map(|p| p.0))
        else {
            return;
        };
        let mut tree = self.lock();
        let node = &mut tree.nodes[place];
        node.elapsed = Some(node.opened.elapsed());
    }
}
