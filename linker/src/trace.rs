//! The linker's spans (the `tracing` crate, target `compose`): one per instantiation
//! ([`INSTANTIATE_SPAN`]) and one per call that crosses the linker ([`CALL_SPAN`]: a trampoline
//! between components, or the host's call into the workload). A fused cluster's calls
//! inside it cross no trampoline, so the cluster shows as one span at its boundary.
//!
//! With no subscriber, or one that does not want target `compose`, making a span is an
//! atomic load and a branch: the fields are neither evaluated nor recorded, and
//! [`Hop::finish`] records nothing in a disabled span. What a subscriber receives is
//! documented in docs/tracing.md.
//!
//! A [`Hop`] also tells the host's [`Meter`](crate::Meter), when it has one, how long the
//! call or instantiation took and how it ended ([`Outcome`]), at the same sites and with
//! the same outcomes as the spans, so that metrics and traces cannot disagree.

use crate::error::CallError;
use crate::limits::is_deadline;
use crate::meter::{Observe, Outcome};
use crate::runtime::Route;
use std::time::Instant;
use tracing::Span;
use tracing::field::Empty;

/// The name of the span of one call that crosses the linker.
pub const CALL_SPAN: &str = "compose.call";
/// The name of the span of one instantiation.
pub const INSTANTIATE_SPAN: &str = "compose.instantiate";

/// One call or instantiation: its span (not entered), and the observer told when it
/// ends, with the time it began.
pub(crate) struct Hop<'m> {
    pub(crate) span: Span,
    meter: Option<(&'m dyn Observe, Instant)>,
}

impl<'m> Hop<'m> {
    /// `span`, with `meter` told when it ends (from now).
    #[inline]
    pub(crate) fn new(span: Span, meter: Option<&'m dyn Observe>) -> Self {
        Self {
            span,
            meter: meter.map(|observe| (observe, Instant::now())),
        }
    }

    /// Records how the call or instantiation ended: in the span, `ok`, `deadline` (its
    /// deadline passed, anywhere below it) or `trap` (any other failure), with the
    /// error's chain of causes (nothing for a disabled span); to the observer, how long
    /// it took and its [`Outcome`].
    #[inline]
    pub(crate) fn finish<V>(&self, outcome: &Result<V, impl AsError>) {
        if let Some((observe, began)) = self.meter {
            let told = match outcome {
                Ok(_) => Outcome::Ok,
                Err(error) => Outcome::of_failure(error.as_error()),
            };
            observe.observe(began.elapsed(), told);
        }
        finish(&self.span, outcome);
    }
}

/// The hop of one call through `route`.
#[inline]
pub(crate) fn call<T>(route: &Route<T>) -> Hop<'_> {
    let span = tracing::info_span!(
        target: "compose",
        "compose.call",
        caller = route.names.components[route.caller].as_str(),
        callee = route.names.components[route.server].as_str(),
        interface = route.func.interface.as_deref(),
        function = route.func.function.as_str(),
        label = route.label.as_deref(),
        outcome = Empty,
        error = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    );
    Hop::new(span, route.meter.as_deref())
}

/// The hop of the host's call of `function` (in `interface`) of `component`, told to
/// `meter`.
#[inline]
pub(crate) fn host_call<'m>(
    component: &str,
    interface: Option<&str>,
    function: &str,
    meter: Option<&'m dyn Observe>,
) -> Hop<'m> {
    let span = tracing::info_span!(
        target: "compose",
        "compose.call",
        caller = "host",
        callee = component,
        interface,
        function,
        outcome = Empty,
        error = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    );
    Hop::new(span, meter)
}

/// The span of instantiating `component` (with `cluster`, the other members of its fused
/// cluster, which the one instance stands for).
#[inline]
pub(crate) fn instantiate(component: &str, cluster: &[String]) -> Span {
    tracing::info_span!(
        target: "compose",
        "compose.instantiate",
        component,
        cluster = (!cluster.is_empty()).then(|| tracing::field::display(cluster.join(", "))),
        outcome = Empty,
        error = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// The span part of [`Hop::finish`].
#[inline]
fn finish<V>(span: &Span, outcome: &Result<V, impl AsError>) {
    if span.is_disabled() {
        return;
    }
    match outcome {
        Ok(_) => {
            span.record("outcome", "ok");
        }
        Err(error) => failed(span, error.as_error()),
    }
}

#[cold]
fn failed(span: &Span, error: &(dyn std::error::Error + 'static)) {
    // The first line of each cause: Wasmtime's backtrace context spans many.
    let line = |e: &dyn std::error::Error| e.to_string().lines().next().unwrap_or("").to_owned();
    let mut causes = vec![line(error)];
    let mut deadline = false;
    let mut source = error.source();
    while let Some(cause) = source {
        deadline |= is_deadline(cause);
        causes.push(line(cause));
        source = cause.source();
    }
    let outcome = if deadline || is_deadline(error) {
        "deadline"
    } else {
        "trap"
    };
    let error = causes.join(": ");
    span.record("outcome", outcome);
    span.record("error", error.as_str());
    // tracing-opentelemetry's names for the span's status: an exported failed span is an
    // error (OpenTelemetry's `Status`), described by the same chain.
    span.record("otel.status_code", "error");
    span.record("otel.status_description", error.as_str());
}

/// An error whose chain [`finish`] reads.
pub(crate) trait AsError {
    fn as_error(&self) -> &(dyn std::error::Error + 'static);
}

impl AsError for CallError {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
}

impl AsError for Box<CallError> {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        &**self
    }
}
