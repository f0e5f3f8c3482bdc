//! Guests' own log calls on standard error: [`GuestLog`], the layer that writes the events
//! of target [`GUEST_TARGET`] (what `wasi:logging/logging` calls become,
//! `crate::wasi_logging`) one line each.

pub use crate::wasi_logging::GUEST_TARGET;

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use tracing::{Event, Level, Metadata, Subscriber, field};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterFn, Filtered};
use tracing_subscriber::layer::Context;

/// A layer that writes each guest log event at `max` or more severe (`INFO` by default)
/// as one line, `COMPONENT: LEVEL CONTEXT: MESSAGE` (`greet: INFO request: GET /`; no
/// `CONTEXT: ` when the guest gave an empty one; `CRITICAL` for `critical`). Clones
/// share one writer.
///
/// It sees only events of target [`GUEST_TARGET`]: install it through
/// [`GuestLog::filtered`] (as [`super::install`] does), so that it neither sees nor
/// disables anything else of the subscriber.
#[derive(Clone)]
pub struct GuestLog {
    max: Level,
    out: Arc<Mutex<dyn Write + Send>>,
}

/// [`GuestLog`] behind the per-layer filter that lets through only guest events at its
/// level.
pub type FilteredGuestLog<S> =
    Filtered<GuestLog, FilterFn<Box<dyn Fn(&Metadata<'_>) -> bool + Send + Sync>>, S>;

impl Default for GuestLog {
    /// On standard error, at `INFO` and above.
    fn default() -> Self {
        Self::new(Level::INFO, std::io::stderr())
    }
}

impl GuestLog {
    /// Writes the guest events at `max` or more severe to `out`, a line per write.
    pub fn new(max: Level, out: impl Write + Send + 'static) -> Self {
        Self {
            max,
            out: Arc::new(Mutex::new(out)),
        }
    }

    /// The least severe level written.
    pub fn max(&self) -> Level {
        self.max
    }

    /// This layer behind a per-layer filter: it sees the guest events at its level, and
    /// nothing else; the other layers see what they see without it.
    pub fn filtered<S>(self) -> FilteredGuestLog<S>
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let max = self.max;
        let wanted: Box<dyn Fn(&Metadata<'_>) -> bool + Send + Sync> =
            Box::new(move |metadata| is_guest(metadata) && *metadata.level() <= max);
        self.with_filter(FilterFn::new(wanted))
    }
}

/// Whether `metadata` is a guest's log event.
pub(crate) fn is_guest(metadata: &Metadata<'_>) -> bool {
    metadata.is_event() && metadata.target() == GUEST_TARGET
}

impl<S: Subscriber> Layer<S> for GuestLog {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = match fields.critical {
            true => "CRITICAL",
            false => event.metadata().level().as_str(),
        };
        let mut line = format!("{}: {level} ", fields.component);
        if !fields.context.is_empty() {
            let _ = write!(line, "{}: ", fields.context);
        }
        line.push_str(&fields.message);
        line.push('\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        // Standard error gone: nothing to tell, nowhere to tell it.
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
}

/// The fields of a guest log event.
#[derive(Default)]
struct Fields {
    component: String,
    context: String,
    message: String,
    critical: bool,
}

impl field::Visit for Fields {
    fn record_str(&mut self, field: &field::Field, value: &str) {
        match field.name() {
            "component" => self.component = value.to_owned(),
            "context" => self.context = value.to_owned(),
            "message" => self.message = value.to_owned(),
            _ => {}
        }
    }

    fn record_bool(&mut self, field: &field::Field, value: bool) {
        if field.name() == "critical" {
            self.critical = value;
        }
    }

    fn record_debug(&mut self, field: &field::Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}
