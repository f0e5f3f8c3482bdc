//! Outgoing `wasi:http` requests, each checked against the grants of the component that
//! sends it (`http = ["https://api.example.com"]`, [`compose_resolver::Origin`]) and sent
//! by wasmtime-wasi-http's own client (HTTP/1.1, TLS with the webpki roots), with a
//! timeout. A denied request gets the interface's own error, `HTTP-request-denied`, and
//! one log line naming the component and the origin; the server sees nothing.
//!
//! When every component has the same grants, the `wasi:http` hooks of the store check
//! them. When grants differ, each component importing `wasi:http/outgoing-handler@0.2.x`
//! gets a `handle` of its own (a closure that knows the component, as in
//! [`crate::grants`]): it checks the request's origin against that component's grants and
//! then calls wasmtime-wasi-http's `handle`, whose hook sends what was approved; anything
//! else reaching the hooks (WASI 0.3's `wasi:http/client`) is held to the workload's
//! `[allow]`.
//!
//! A request that is sent has a span of kind client ([`super::CLIENT_SPAN`],
//! OpenTelemetry's HTTP semantic conventions), a child of the span it was sent in, open
//! until the response's head arrives; the request carries that span's `traceparent`
//! ([`crate::telemetry::context::propagate`]), so the server it reaches is its child.

use super::client_span;
use compose_linker::{LookupError, WorkloadLinker};
use compose_resolver::{Grants, Plan};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host as _;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks, WasiHttpView};

/// How long an outgoing request may take to connect, and then to send its first byte,
/// when the guest sets no `request-options` of its own.
pub const OUTGOING_TIMEOUT: Duration = Duration::from_secs(30);

/// The `wasi:http/outgoing-handler` release wasmtime-wasi-http 48 defines (shadowed by
/// the per-component `handle`s).
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// An outgoing request that its component's grants did not allow, as logged.
#[derive(Debug, Clone)]
pub struct Denial {
    /// The component that sent it (or, for the store-wide check, who it may be).
    pub component: String,
    /// Where it was going: `scheme://host[:port]`.
    pub origin: String,
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "denied: {} may not send requests to {}: grant it with http = [\"{}\"] in its `allow` table",
            self.component, self.origin, self.origin
        )
    }
}

/// Where denied outgoing requests are logged: standard error by default.
pub type DenialLog = Arc<dyn Fn(&Denial) + Send + Sync>;

/// What the hooks of every store check: the store-wide grants and who they are for.
pub(crate) struct Policy {
    store_wide: Grants,
    /// Who the store-wide grants are for, in log lines.
    who: String,
    log: DenialLog,
}

impl Policy {
    /// The policy for `plan`'s stores, logging denials to `log`.
    pub(crate) fn new(plan: &Plan, log: DenialLog) -> Arc<Self> {
        let senders: Vec<_> = (plan.components.iter())
            .filter(|c| crate::grants::imports(c, "wasi:http/outgoing-handler@0.2"))
            .map(|c| format!("`{}`", c.name))
            .collect();
        let (store_wide, who) = match plan.components.first() {
            Some(first) if plan.grants_are_uniform() => (first.grants.clone(), senders.join(", ")),
            _ => (plan.allow.clone(), "a WASI 0.3 component".into()),
        };
        Arc::new(Self {
            store_wide,
            who: if who.is_empty() {
                "a component".into()
            } else {
                who
            },
            log,
        })
    }

    fn deny(&self, who: &str, scheme: &str, authority: &str) {
        (self.log)(&Denial {
            component: who.to_owned(),
            origin: format!("{scheme}://{authority}"),
        });
    }
}

/// The `wasi:http` hooks of one store: [`Policy`], and whether the component's own
/// `handle` has approved the request being sent.
pub(crate) struct Hooks {
    policy: Arc<Policy>,
    approved: bool,
}

impl Hooks {
    pub(crate) fn new(policy: Arc<Policy>) -> Self {
        Self {
            policy,
            approved: false,
        }
    }
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let approved = std::mem::take(&mut self.approved);
        let scheme = request.uri().scheme_str().unwrap_or("https").to_owned();
        let authority = (request.uri().authority()).map_or_else(String::new, |a| a.to_string());
        if !approved && !self.policy.store_wide.allows_origin(&scheme, &authority) {
            self.policy.deny(&self.policy.who, &scheme, &authority);
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let span = client_span::client_span(&request);
        crate::telemetry::context::propagate(&span, request.headers_mut());
        let options = options.unwrap_or_default();
        let options = RequestOptions {
            connect_timeout: options.connect_timeout.or(Some(OUTGOING_TIMEOUT)),
            first_byte_timeout: options.first_byte_timeout.or(Some(OUTGOING_TIMEOUT)),
            ..options
        };
        Box::new(async move {
            // The span is open until the response's head has arrived or sending failed.
            let sent = send(request, options).instrument(span.clone()).await;
            client_span::finish(&span, &sent);
            sent
        })
    }
}

/// Sends `request` with wasmtime-wasi-http's client: the response (its head arrived)
/// and the future that drives the connection while the body is read.
async fn send(request: http::Request<WasiBody>, options: RequestOptions) -> SendResult {
    use http_body_util::BodyExt;
    let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
    let io: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send> = Box::new(io);
    Ok((response.map(BodyExt::boxed_unsync), io))
}

/// What the per-component `handle`s need from the store data.
pub(crate) trait OutgoingView: WasiHttpView + Send + 'static {
    /// The store's hooks.
    fn hooks(&mut self) -> &mut Hooks;
}

/// Defines a `handle` of its own for each component of `plan` that imports
/// `wasi:http/outgoing-handler@0.2.x`, when the components' grants differ.
///
/// # Errors
/// [`LookupError::UnknownComponent`] only for a plan that does not match the linker's.
pub(crate) fn define_for_components<T: OutgoingView>(
    linker: &mut WorkloadLinker<'_, T>,
    plan: &Plan,
    policy: &Arc<Policy>,
) -> Result<(), LookupError> {
    if plan.grants_are_uniform() {
        return Ok(());
    }
    for component in &plan.components {
        if crate::grants::imports(component, "wasi:http/outgoing-handler@0.2") {
            let grants = Arc::new(component.grants.clone());
            let (name, policy) = (format!("`{}`", component.name), policy.clone());
            linker.component_host(&component.name, move |linker| {
                define_handle(linker, grants.clone(), name.clone(), policy.clone())
            })?;
        }
    }
    Ok(())
}

/// `handle`, checking the request's origin against `grants` (of component `name`).
fn define_handle<T: OutgoingView>(
    linker: &mut Linker<T>,
    grants: Arc<Grants>,
    name: String,
    policy: Arc<Policy>,
) -> wasmtime::Result<()> {
    type Params = (
        Resource<HostOutgoingRequest>,
        Option<Resource<RequestOptions>>,
    );
    let mut instance = linker.instance(OUTGOING_HANDLER)?;
    instance.func_wrap(
        "handle",
        move |mut cx: StoreContextMut<'_, T>, (request, options): Params| {
            let state = cx.data_mut();
            let (scheme, authority) = origin(state.http().table.get(&request)?);
            if !grants.allows_origin(&scheme, &authority) {
                policy.deny(&name, &scheme, &authority);
                state.http().table.delete(request)?;
                return Ok((Err(ErrorCode::HttpRequestDenied),));
            }
            state.hooks().approved = true;
            let sent = state.http().handle(request, options);
            state.hooks().approved = false;
            match sent {
                Ok(future) => Ok((Ok::<Resource<HostFutureIncomingResponse>, _>(future),)),
                Err(error) => Ok((Err(error.downcast()?),)),
            }
        },
    )
}

/// The scheme (the hooks' default, `https`, when the guest set none) and authority of a
/// request.
fn origin(request: &HostOutgoingRequest) -> (String, String) {
    let scheme = match &request.scheme {
        Some(Scheme::Http) => "http".to_owned(),
        Some(Scheme::Https) | None => "https".to_owned(),
        Some(Scheme::Other(other)) => other.clone(),
    };
    (scheme, request.authority.clone().unwrap_or_default())
}
