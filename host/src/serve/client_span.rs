//! The span of kind client of one outgoing `wasi:http` request ([`CLIENT_SPAN`]), named
//! and with the attributes that OpenTelemetry's semantic conventions for HTTP client spans
//! ask for (<https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-client>):
//! the span's name is the method, `http.request.method`, `server.address`, `server.port`,
//! `url.full`, then `http.response.status_code` when the response head arrives or
//! `error.type` when the request fails (a status of 400 or above is a failure too, its
//! `error.type` the status, as the conventions say for clients).
//!
//! The span is of target `compose`: with no subscriber, or one that does not want that
//! target, making it is tracing's callsite check and nothing else (no field is evaluated),
//! and recording the outcome is skipped.

use tracing::Span;
use tracing::field::{Empty, display};
use wasmtime_wasi_http::Error;

/// The name of the span of one outgoing request in `tracing` (its OpenTelemetry name is
/// the method, `otel.name`).
pub const CLIENT_SPAN: &str = "compose.outgoing";

/// The methods the semantic conventions know (RFC 9110's and RFC 5789's `PATCH`); any
/// other is `_OTHER` in `http.request.method`, and the span is named `HTTP`.
const KNOWN_METHODS: [&str; 9] = [
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
];

/// The span of sending `request` (not entered), a child of the current span: the call that
/// reached the component that sends it.
pub(crate) fn client_span<B>(request: &http::Request<B>) -> Span {
    let (method, uri) = (request.method().as_str(), request.uri());
    tracing::info_span!(
        target: "compose",
        "compose.outgoing",
        otel.name = if known(method) { method } else { "HTTP" },
        otel.kind = "client",
        http.request.method = if known(method) { method } else { "_OTHER" },
        http.request.method_original = (!known(method)).then_some(method),
        server.address = uri.host(),
        server.port = port(uri),
        url.full = display(FullUrl(uri)),
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// Records on `span` how sending its request ended: the response's status, or the error.
/// Nothing for a disabled span.
pub(crate) fn finish<T>(span: &Span, outcome: &Result<(http::Response<T>, impl Sized), Error>) {
    if span.is_disabled() {
        return;
    }
    match outcome {
        Ok((response, _)) => {
            let status = response.status().as_u16();
            span.record("http.response.status_code", i64::from(status));
            if status >= 400 {
                span.record("error.type", display(status));
                span.record("otel.status_code", "error");
            }
        }
        Err(error) => {
            span.record("error.type", error_type(error).as_str());
            // tracing-opentelemetry's names for the span's status.
            span.record("otel.status_code", "error");
            span.record("otel.status_description", display(error));
        }
    }
}

fn known(method: &str) -> bool {
    KNOWN_METHODS.contains(&method)
}

/// The port the request goes to: the URI's, else the scheme's default (none for a scheme
/// other than `http` and `https`).
fn port(uri: &http::Uri) -> Option<i64> {
    let default = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    uri.port_u16().or(default).map(i64::from)
}

/// `url.full`: the URI with the credentials of its user information, if any, replaced by
/// `REDACTED:REDACTED`, as the conventions require.
struct FullUrl<'a>(&'a http::Uri);

impl std::fmt::Display for FullUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uri = self.0;
        let Some(authority) = uri.authority() else {
            return write!(f, "{uri}");
        };
        let host_port = authority.as_str().rsplit('@').next().unwrap_or_default();
        let credentials = if authority.as_str().contains('@') {
            "REDACTED:REDACTED@"
        } else {
            ""
        };
        let scheme = uri.scheme_str().unwrap_or("https");
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        write!(f, "{scheme}://{credentials}{host_port}{path}")
    }
}

/// `error.type` of a failed request: wasmtime-wasi-http's name for the failure
/// (`ConnectionRefused`, `ConnectionTimeout`, `HttpRequestUriInvalid`, …), a short list
/// as the conventions ask; for an I/O error of connecting or of TLS, the kind of the I/O
/// error (`ConnectionRefused`, …).
fn error_type(error: &Error) -> String {
    match error {
        Error::Connect(io) | Error::Tls(io) => format!("{:?}", io.kind()),
        other => {
            let debug = format!("{other:?}");
            let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
            name.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(uri: &str) -> String {
        FullUrl(&uri.parse().unwrap()).to_string()
    }

    #[test]
    fn url_full_redacts_credentials_and_keeps_the_rest() {
        assert_eq!(
            full("http://127.0.0.1:8080/hi?x=1"),
            "http://127.0.0.1:8080/hi?x=1"
        );
        assert_eq!(
            full("https://ann:secret@api.example.com/v1"),
            "https://REDACTED:REDACTED@api.example.com/v1"
        );
        assert_eq!(full("https://api.example.com"), "https://api.example.com/");
    }

    #[test]
    fn the_port_is_the_uris_or_the_schemes_default() {
        let port_of = |uri: &str| port(&uri.parse().unwrap());
        assert_eq!(port_of("http://a:8080/"), Some(8080));
        assert_eq!(port_of("http://a/"), Some(80));
        assert_eq!(port_of("https://a/"), Some(443));
        assert_eq!(port_of("ftp://a/"), None);
    }

    #[test]
    fn error_type_is_the_name_of_the_failure() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(error_type(&Error::Connect(refused)), "ConnectionRefused");
        assert_eq!(error_type(&Error::ConnectionTimeout), "ConnectionTimeout");
        assert_eq!(
            error_type(&Error::HttpRequestBodySize(Some(3))),
            "HttpRequestBodySize"
        );
        let dns = Error::DnsError {
            rcode: None,
            info_code: None,
        };
        assert_eq!(error_type(&dns), "DnsError");
    }
}
