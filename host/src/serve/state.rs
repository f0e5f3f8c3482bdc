//! The store data of one request: the workload's instances, WASI (the store-wide context
//! and the components' own, [`crate::grants`]), `wasi:http` (whose outgoing requests are
//! checked against the grants, [`super::outgoing`]), the guests' output lines
//! ([`super::output`]), and the channel its response goes out through.

use super::outgoing::{Hooks, OutgoingView, Policy};
use super::output::{Output, OutputView};
use crate::grants::{GrantError, GrantsView, Offer, OwnContexts};
use crate::plugin::HostView;
use compose_linker::{CompiledWorkload, WorkloadState};
use compose_resolver::Plan;
use hyper::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The store data of one request: the workload's instances, WASI, `wasi:http`, and the
/// resource table they share.
pub struct ServeState {
    /// The workload's instances in this request's store.
    pub workload: WorkloadState,
    wasi: WasiCtx,
    own: OwnContexts,
    http: WasiHttpCtx,
    hooks: Hooks,
    table: ResourceTable,
    output: Output,
}

/// What every request's store is made from: the plan (whose grants say what each
/// component sees), what the server offers, and the outgoing-request policy.
pub(crate) struct Setup {
    pub(crate) plan: Arc<Plan>,
    pub(crate) offer: Offer,
    pub(crate) policy: Arc<Policy>,
    /// The id of the last request, which its guests' output lines show, counting from 1
    /// ([`Setup::next_request`]).
    pub(crate) requests: AtomicU64,
}

impl Setup {
    /// The id of a new request: each store's first request (a WASI 0.2 store's only one)
    /// takes one when the store is made, each further request a reused WASI 0.3 store
    /// serves takes one when it starts.
    pub(crate) fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl ServeState {
    /// The store data of one request of `workload`.
    ///
    /// # Errors
    /// [`GrantError`] when a granted directory cannot be opened.
    pub(crate) fn new(
        workload: &CompiledWorkload<ServeState>,
        setup: &Setup,
    ) -> Result<Self, GrantError> {
        let (wasi, own) = crate::grants::contexts(&setup.plan, &setup.offer)?;
        Ok(Self {
            workload: workload.new_state(),
            wasi,
            own,
            http: WasiHttpCtx::new(),
            hooks: Hooks::new(setup.policy.clone()),
            table: ResourceTable::new(),
            output: Output::new(setup.next_request()),
        })
    }
}

impl OutputView for ServeState {
    fn output(&mut self) -> (&mut Output, &mut ResourceTable) {
        (&mut self.output, &mut self.table)
    }
}

impl GrantsView for ServeState {
    fn own(&mut self) -> (&mut OwnContexts, &mut ResourceTable) {
        (&mut self.own, &mut self.table)
    }
}

impl OutgoingView for ServeState {
    fn hooks(&mut self) -> &mut Hooks {
        &mut self.hooks
    }
}

impl HostView for ServeState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for ServeState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for ServeState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The sending half of a response: what `response-outparam.set` sends.
pub(crate) type ResponseSender = oneshot::Sender<Result<Response<HyperOutgoingBody>, ErrorCode>>;
