//! OpenTelemetry export of the spans of target `compose` over OTLP http/protobuf
//! (docs/tracing.md#opentelemetry-export), configured the standard way: by the variables
//! of the OpenTelemetry SDK environment variable specification
//! (<https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>).
//!
//! [`Otlp::from_env`] says whether to export at all (`OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set); [`super::install`] then installs a
//! `tracing-opentelemetry` layer whose tracer provider batches spans on the SDK's own
//! thread and sends them with reqwest's blocking client, inside or outside a tokio runtime.
//! The exporter reads the endpoint, `OTEL_EXPORTER_OTLP_HEADERS` and `_TIMEOUT` itself, the
//! SDK reads `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` and `OTEL_BSP_*`; the
//! resource is built here, so that `service.name` defaults to `compose`.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{ExporterBuildError, Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::{EnvResourceDetector, TelemetryResourceDetector};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The variables that ask for export: either endpoint (OTLP exporter specification).
pub const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// The `service.name` of the exported spans when neither `OTEL_SERVICE_NAME` nor
/// `OTEL_RESOURCE_ATTRIBUTES` names one.
pub const DEFAULT_SERVICE_NAME: &str = "compose";

/// The instrumentation scope of the exported spans.
const SCOPE: &str = "compose";

/// The choice to export spans over OTLP, with the resource that describes the process.
#[derive(Debug, Clone)]
pub struct Otlp {
    resource: Resource,
}

impl Otlp {
    /// Export when the environment names an endpoint ([`ENDPOINT_VARIABLES`], non-empty),
    /// else `None`: nothing is installed, and spans cost nothing.
    ///
    /// The resource is `service.name` ([`DEFAULT_SERVICE_NAME`]), overridden by the
    /// attributes of `OTEL_RESOURCE_ATTRIBUTES`, overridden by `OTEL_SERVICE_NAME` (the
    /// SDK specification's order of precedence), and the SDK's `telemetry.sdk.*`.
    pub fn from_env() -> Option<Self> {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        ENDPOINT_VARIABLES
            .iter()
            .any(|name| set(name))
            .then(|| Self {
                resource: resource(std::env::var("OTEL_SERVICE_NAME").ok()),
            })
    }

    /// The resource of the exported spans.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// A tracer provider that batches spans and sends them over OTLP http/protobuf to the
    /// endpoint of the environment, and its tracer.
    ///
    /// # Errors
    /// [`ExporterBuildError`] when the endpoint is not a URL or the HTTP client cannot be
    /// made.
    pub(crate) fn provider(&self) -> Result<(SdkTracerProvider, SdkTracer), ExporterBuildError> {
        // reqwest's TLS is rustls without a provider of its own in this tree (as
        // compose-registry's oci-client asks): the process's is `ring`, as there.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_resource(self.resource.clone())
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer(SCOPE);
        Ok((provider, tracer))
    }
}

/// The resource: [`DEFAULT_SERVICE_NAME`], then `OTEL_RESOURCE_ATTRIBUTES`, then
/// `service_name` (`OTEL_SERVICE_NAME`) when it is not empty, each overriding the last.
fn resource(service_name: Option<String>) -> Resource {
    let builder = Resource::builder_empty()
        .with_service_name(DEFAULT_SERVICE_NAME)
        .with_detectors(&[
            Box::new(TelemetryResourceDetector),
            Box::new(EnvResourceDetector::new()),
        ]);
    match service_name.filter(|name| !name.is_empty()) {
        Some(name) => builder.with_attribute(KeyValue::new("service.name", name)),
        None => builder,
    }
    .build()
}
