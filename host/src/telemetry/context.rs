//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>) in `compose serve`: a
//! request's `traceparent` and `tracestate` headers make its `compose.request` span a
//! child of the client's span ([`continue_trace`]), and the outgoing requests of guests
//! carry the `traceparent` of their own span of kind client ([`propagate`]), so that the
//! server they reach is a child of it.
//!
//! Both do something only when the OpenTelemetry layer is installed ([`super::install`]
//! with [`super::Otlp`]); a header the specification's parsing rules reject (a bad
//! version, length, id of zeros, non-hex digit, or not text) is ignored, as the
//! specification asks: the request is served as the root of a trace of its own.

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The header that carries the trace id and the parent's span id.
pub const TRACEPARENT: &str = "traceparent";

/// Makes `span` (not entered yet) a child of the span that the `traceparent` and
/// `tracestate` of `headers` name. Nothing when the span is disabled, when there is no
/// OpenTelemetry layer, or when `traceparent` is missing or invalid.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if span.is_disabled() || !headers.contains_key(TRACEPARENT) {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if parent.span().span_context().is_valid() {
        // Fails only without an OpenTelemetry layer, or for a span started already.
        let _ = span.set_parent(parent);
    }
}

/// Adds the `traceparent` (and `tracestate`) of `span`, the outgoing request's own span,
/// to `headers` of that request, unless the guest set a `traceparent` of its own: a guest
/// that traces knows its own span better. Nothing when `span` is disabled or without an
/// OpenTelemetry layer.
pub fn propagate(span: &tracing::Span, headers: &mut http::HeaderMap) {
    if span.is_disabled() || headers.contains_key(TRACEPARENT) {
        return;
    }
    let context = span.context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
    }
}
