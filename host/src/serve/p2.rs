//! Calling a WASI 0.2 handler (`wasi:http/incoming-handler@0.2.x`): the request and the
//! response's out-parameter as resources of the request's store, and `handle` called
//! through the linker.

use super::log::{RequestFailure, one_line};
use super::state::{ResponseSender, ServeState};
use bytes::Bytes;
use compose_linker::{CompiledWorkload, WorkloadFunc};
use hyper::Request;
use hyper::body::Body;
use wasmtime::Store;
use wasmtime::component::{ResourceAny, Val};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

/// The interface an HTTP workload exports (any 0.2.x release).
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler@0.2.0";

/// Instantiates the eager components and calls `handle(request, response-out)`, on
/// fibers (the workload is linked for async execution).
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
    let host = |e: wasmtime::Error| RequestFailure {
        component: None,
        function: None,
        message: format!("{e:#}").replace('\n', " "),
    };
    workload
        .instantiate_async(&mut *store)
        .await
        .map_err(|e| RequestFailure {
            component: None,
            function: None,
            message: one_line(&e),
        })?;
    let request = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request)
        .map_err(host)?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(host)?;
    let params = [
        Val::Resource(ResourceAny::try_from_resource(request, &mut *store).map_err(host)?),
        Val::Resource(ResourceAny::try_from_resource(out, &mut *store).map_err(host)?),
    ];
    workload
        .call_async(&mut *store, handle, &params, &mut [])
        .await
        .map_err(|e| RequestFailure::of_call(&e))
}
