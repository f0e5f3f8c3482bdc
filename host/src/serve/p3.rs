//! `compose serve` for WASI 0.3 handlers: a workload exporting `wasi:http/handler@0.3.x`,
//! whose `handle` is an async function taking the request and returning the response.
//!
//! As for WASI 0.2 (see [`p2`](super::p2)), each request gets its own store, its
//! components instantiated lazily. The store runs concurrently
//! ([`Store::run_concurrent`](wasmtime::Store::run_concurrent)) in the request's task:
//! the handler is called through the linker ([`CompiledWorkload::call_concurrent`]),
//! its response head goes to the client as soon as it returns, and the store keeps running
//! until the client has the body, which the guest writes into a stream as it goes
//! (wasmtime-wasi-http's `p3::Response::into_http` reads it). Outgoing requests are refused
//! as for WASI 0.2.

use super::log::RequestFailure;
use super::output::OutputView as _;
use super::state::{ResponseSender, ServeState};
use bytes::Bytes;
use compose_linker::{CompiledWorkload, WorkloadFunc};
use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::{Body, Frame};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::oneshot;
use wasmtime::component::{Accessor, Resource, ResourceAny, Val};
use wasmtime::{AsContextMut, Store};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3;
use wasmtime_wasi_http::{WasiHttpView, p3::Response};

/// How reading the request's body went, for the response's conversion.
type RequestIo =
    Pin<Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send + 'static>>;

/// The interface a WASI 0.3 HTTP workload exports (any 0.3.x release).
pub const HANDLER: &str = "wasi:http/handler@0.3.0";

/// Defines WASI 0.3's `wasi:http` (types, and a client that refuses requests) in `linker`
/// (the rest of WASI 0.3 comes with [`define_host`](crate::define_host)).
///
/// # Errors
/// Wasmtime's, when a definition clashes or the engine has no concurrency support.
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<ServeState>,
) -> wasmtime::Result<()> {
    wasmtime_wasi_http::p3::add_to_linker(linker)
}

/// Calls the WASI 0.3 handler `handle` for `request` in `store`, in the request's task:
/// sends the response (or the handler's error code) through `sender`, then runs the store
/// until the body is sent or the client is gone.
///
/// # Errors
/// A [`RequestFailure`] naming where the call failed (a trap, a deadline, a memory cap).
pub(crate) async fn call_handler<B>(
    workload: &CompiledWorkload<ServeState>,
    handle: &WorkloadFunc,
    store: &mut Store<ServeState>,
    request: Request<B>,
    sender: ResponseSender,
) -> Result<(), RequestFailure>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let id = store.data_mut().output().0.request();
    let run = store.run_concurrent(async |accessor| {
        serve(accessor, workload, handle, (id, request), sender).await
    });
    // A trap in a task of the store ends `run_concurrent` itself: it started in the
    // handler's call, as far as anything can tell.
    run.await.map_err(|e| RequestFailure {
        component: Some(handle.component().to_owned()),
        function: Some(handle.name().to_string()),
        message: e.root_cause().to_string().replace('\n', " "),
    })?
}

/// Serves request `id`, `request`: the request as a `wasi:http/types.request` resource,
/// the handler's call, and the response forwarded to `sender` with its body watched (see
/// [`WatchedBody`]). The guests' output under the call is request `id`'s, and ends with it
/// ([`Output`](super::output::Output)).
pub(crate) async fn serve<B>(
    accessor: &Accessor<ServeState>,
    workload: &CompiledWorkload<ServeState>,
    handle: &WorkloadFunc,
    (id, request): (u64, Request<B>),
    sender: ResponseSender,
) -> Result<(), RequestFailure>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let served = respond(accessor, workload, handle, (id, request), sender).await;
    accessor.with(|mut access| access.data_mut().output().0.ended(id));
    served
}

/// What [`serve`] does but end the request's output.
async fn respond<B>(
    accessor: &Accessor<ServeState>,
    workload: &CompiledWorkload<ServeState>,
    handle: &WorkloadFunc,
    (id, request): (u64, Request<B>),
    sender: ResponseSender,
) -> Result<(), RequestFailure>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let (request, io) = accessor
        .with(|mut access| {
            let view = access.data_mut().http();
            let (request, io) = p3::Request::from_http(view.hooks, request);
            // The future is `'static`; boxed, it no longer borrows the store's hooks.
            let io: RequestIo = Box::pin(io);
            let request = view.table.push(request)?;
            let request = ResourceAny::try_from_resource(request, &mut access)?;
            Ok::<_, wasmtime::Error>((Val::Resource(request), io))
        })
        .map_err(|e| host_failure(&e))?;
    let mut results = [Val::Bool(false)];
    let started = |state: &mut ServeState, task| state.output().0.started(task, id);
    workload
        .call_concurrent_task(accessor, handle, &[request], &mut results, started)
        .await
        .map_err(|e| RequestFailure::of_call(&e))?;
    let response = match results {
        [Val::Result(Ok(Some(response)))] => *response,
        [Val::Result(Err(code))] => {
            let code = code.map_or_else(String::new, |c| format!("{c:?}"));
            let _ = sender.send(Err(ErrorCode::InternalError(Some(code))));
            return Ok(());
        }
        other => return Err(host_failure(&format!("the handler returned {other:?}"))),
    };
    let (done, body_done) = oneshot::channel();
    let response = accessor
        .with(|mut access| into_http(&mut access, response, io))
        .map_err(|e| host_failure(&e))?;
    let response = response.map(|body| WatchedBody { body, _done: done }.boxed_unsync());
    if sender.send(Ok(response)).is_ok() {
        // Until the client has the whole body, or is gone: the guest writes it as it goes.
        let _ = body_done.await;
    }
    Ok(())
}

/// The `wasi:http/types.response` resource `response` as an HTTP response whose body the
/// guest writes; `io` reports how reading the request's body went.
fn into_http(
    mut store: impl AsContextMut<Data = ServeState>,
    response: Val,
    io: RequestIo,
) -> wasmtime::Result<hyper::Response<HyperOutgoingBody>> {
    let Val::Resource(response) = response else {
        wasmtime::bail!("the handler's response is not a resource");
    };
    let response: Resource<Response> = response.try_into_resource(&mut store)?;
    let response = store
        .as_context_mut()
        .data_mut()
        .http()
        .table
        .delete(response)?;
    response.into_http(store, io)
}

/// A body that tells, by dropping `_done`, when hyper is through with it (sent whole, or
/// the client went away): until then the store must run for the guest to write it.
struct WatchedBody {
    body: HyperOutgoingBody,
    _done: oneshot::Sender<()>,
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A host-side failure (no component to name), for the log line.
fn host_failure(error: &dyn std::fmt::Display) -> RequestFailure {
    RequestFailure {
        component: None,
        function: Some(format!("{HANDLER}#handle")),
        message: format!("{error:#}").replace('\n', " "),
    }
}
