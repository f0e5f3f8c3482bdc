//! `compose serve`: serves a workload that exports `wasi:http/incoming-handler@0.2.x` (or
//! WASI 0.3's `wasi:http/handler@0.3.x`, see [`serve_p3`](crate::serve_p3)) over HTTP/1.1,
//! as `wasmtime serve` does, with the workload linked at run time.
//!
//! One [`CompiledWorkload`] serves every request on every thread; each request gets its own
//! [`Store`] on a blocking thread of the tokio runtime (the linker's trampolines are
//! synchronous), in which the components are instantiated lazily — only the ones the
//! request reaches. A trap, a passed deadline or a component's memory cap ends that
//! request with status 500 and one log line naming the workload, the component, the
//! interface and the function where it started; the next request gets fresh instances.
//!
//! Guests may not make outgoing HTTP requests (`wasi:http/outgoing-handler` answers
//! `HTTP-request-denied`): the server has no TLS client, and a workload reaches other
//! services through its named backends.

use crate::define::define_host;
use crate::host::HostError;
use crate::limits::{EPOCH_TICK, LimitOptions, LimitedEngine};
use crate::plugin::HostView;
use crate::plugins::Plugins;
use bytes::Bytes;
use compose_linker::{CallError, CompiledWorkload, WorkloadFunc, WorkloadState};
use compose_resolver::{Plan, names_match};
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use wasmtime::Store;
use wasmtime::component::{ResourceAny, ResourceTable, Val};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// The interface an HTTP workload exports (any 0.2.x release).
pub const INCOMING_HANDLER: &str = "wasi:http/incoming-handler@0.2.0";

/// What `compose serve` serves beyond what every compose-host host does, as `[host]
/// interfaces` patterns: `wasi:http` 0.2 and 0.3 (for a resolver's
/// [`HostProfile`](compose_resolver::HostProfile)).
pub const SERVED: &[&str] = &["wasi:http/*@0.2.0", "wasi:http/*@0.3.0"];

/// The store data of one request: the workload's instances, WASI, `wasi:http`, and the
/// resource table they share.
pub struct ServeState {
    /// The workload's instances in this request's store.
    pub workload: WorkloadState,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: DenyOutgoing,
    table: ResourceTable,
}

impl ServeState {
    fn new(workload: &CompiledWorkload<ServeState>) -> Self {
        Self {
            workload: workload.new_state(),
            wasi: WasiCtx::builder().inherit_stdout().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            hooks: DenyOutgoing,
            table: ResourceTable::new(),
        }
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

/// `wasi:http` hooks that refuse outgoing requests (see the module documentation).
struct DenyOutgoing;

impl WasiHttpHooks for DenyOutgoing {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// Why a workload cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The workload does not export `wasi:http/incoming-handler`.
    #[error(
        "workload `{workload}` does not export {INCOMING_HANDLER} (or another 0.2.x release) or {}, so `compose serve` has nothing to call; its exports: {}",
        crate::serve_p3::HANDLER,
        if exports.is_empty() { "none".to_string() } else { exports.join(", ") }
    )]
    NotAnHttpHandler {
        /// The workload.
        workload: String,
        /// What it exports.
        exports: Vec<String>,
    },
    /// Creating the engine or linking failed: a backend that cannot be served, an import
    /// the host does not serve.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The tokio runtime cannot start.
    #[error("cannot start the tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// One request, as the server logs it: at `--verbose` every request, else only failed ones.
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// The workload.
    pub workload: String,
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
    /// The response's status.
    pub status: u16,
    /// From receiving the request to the handler's return.
    pub elapsed: Duration,
    /// The components instantiated for the request, in the workload's order.
    pub instantiated: Vec<String>,
    /// Why the request failed, if it did.
    pub failure: Option<Failure>,
}

/// Where and why a request failed: the innermost component and function of the failure.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The component where the failure started (if known).
    pub component: Option<String>,
    /// Its function, `interface#function` (if known).
    pub function: Option<String>,
    /// The root cause: the trap, `the call ran past its deadline ...`, the memory cap.
    pub message: String,
}

impl fmt::Display for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        let (method, path, status) = (&self.method, &self.path, self.status);
        match &self.failure {
            None => write!(
                f,
                "{method} {path} {status} {ms:.2}ms instantiated: [{}]",
                self.instantiated.join(", ")
            ),
            Some(failure) => {
                write!(f, "error: workload `{}`", self.workload)?;
                if let Some(component) = &failure.component {
                    write!(f, ", component `{component}`")?;
                }
                if let Some(function) = &failure.function {
                    write!(f, ", {function}")?;
                }
                write!(
                    f,
                    ": {} ({method} {path} -> {status} after {ms:.2}ms)",
                    failure.message
                )
            }
        }
    }
}

/// Where request logs go: standard error by default.
pub type Logger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// How `compose serve` serves.
#[derive(Clone)]
pub struct ServeOptions {
    /// The per-request deadline and the pooling allocator.
    pub limits: LimitOptions,
    /// Log every request, not only failed ones.
    pub verbose: bool,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub grace: Duration,
    /// Where request logs go.
    pub logger: Logger,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            limits: LimitOptions::default(),
            verbose: false,
            grace: Duration::from_secs(10),
            logger: Arc::new(|line| eprintln!("{line}")),
        }
    }
}

/// A workload linked for serving HTTP: its compiled workload, the `handle` function of
/// its `wasi:http/incoming-handler` export, and the limits every request's store gets.
pub struct HttpWorkload {
    workload: CompiledWorkload<ServeState>,
    handle: WorkloadFunc,
    /// Whether `handle` is WASI 0.3's (`wasi:http/handler`), else WASI 0.2's.
    p3: bool,
    engine: LimitedEngine,
    options: ServeOptions,
    /// With the pooling allocator, one permit per pooled store: a request waits for one.
    stores: Option<Arc<Semaphore>>,
}

impl HttpWorkload {
    /// Links `plan` with WASI 0.2, its backends served by `plugins` and each component's
    /// configuration ([`define_host`]) and `wasi:http`, on an engine with `options`' limits.
    ///
    /// A workload exporting `wasi:http/handler@0.3.x` is served as WASI 0.3 (and linked with
    /// WASI 0.3's `wasi:http` as well).
    ///
    /// # Errors
    /// [`ServeError::NotAnHttpHandler`] when the workload exports neither
    /// `wasi:http/incoming-handler@0.2.x` nor `wasi:http/handler@0.3.x`;
    /// [`ServeError::Host`] when the engine, a backend or the workload cannot be set up.
    pub fn link(
        plan: &Plan,
        plugins: &Plugins<ServeState>,
        options: ServeOptions,
    ) -> Result<Self, ServeError> {
        let wasmtime = |e: wasmtime::Error| HostError::Wasmtime(format!("{e:#}"));
        let engine = LimitedEngine::new(plan, &options.limits).map_err(wasmtime)?;
        let mut linker = engine.linker::<ServeState>(plan);
        define_host(&mut linker, plan, plugins)?;
        // As WASI 0.2 itself (see `define_host`): asynchronous where the store runs
        // concurrently, inside the runtime.
        if plan.needs_concurrency() {
            wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker.host())
        } else {
            wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker.host())
        }
        .map_err(wasmtime)?;
        let p3 = (plan.exports.iter()).any(|e| names_match(crate::serve_p3::HANDLER, &e.name));
        if p3 {
            crate::serve_p3::add_to_linker(linker.host()).map_err(wasmtime)?;
        }
        let workload = linker
            .compile(|state| &mut state.workload)
            .map_err(HostError::from)?;
        let interface = if p3 {
            crate::serve_p3::HANDLER
        } else {
            INCOMING_HANDLER
        };
        let handle =
            workload
                .func(Some(interface), "handle")
                .map_err(|_| ServeError::NotAnHttpHandler {
                    workload: plan.name.clone(),
                    exports: plan.exports.iter().map(|e| e.name.clone()).collect(),
                })?;
        let stores = options
            .limits
            .pooling
            .map(|n| Arc::new(Semaphore::new(n as usize)));
        Ok(Self {
            workload,
            handle,
            p3,
            engine,
            options,
            stores,
        })
    }

    /// The compiled workload.
    pub fn workload(&self) -> &CompiledWorkload<ServeState> {
        &self.workload
    }

    /// Answers one request: runs the handler in a new store on a blocking thread and
    /// returns its response, or a 500 response when it fails or passes its deadline
    /// before answering. The request is logged when the handler returns.
    pub async fn respond<B>(self: Arc<Self>, request: Request<B>) -> Response<HyperOutgoingBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let started = Instant::now();
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let (sender, receiver) = oneshot::channel();
        let this = self.clone();
        let permit = match &self.stores {
            Some(stores) => stores.clone().acquire_owned().await.ok(),
            None => None,
        };
        let task = tokio::task::spawn_blocking(move || {
            let _store = permit;
            this.run(request, sender)
        });
        // A guest blocked in a host call is interrupted only when it returns to its code:
        // the client is answered at the deadline all the same.
        let answer = match self.engine.timeout() {
            Some(timeout) => tokio::time::timeout(timeout + 2 * EPOCH_TICK, receiver)
                .await
                .map_err(|_| ()),
            None => Ok(receiver.await),
        };
        let log = Pending {
            workload: self.clone(),
            method,
            path,
            started,
        };
        match answer {
            Ok(Ok(Ok(response))) => {
                tokio::spawn(log.when_done(response.status().as_u16(), task));
                response
            }
            Ok(Ok(Err(code))) => {
                tokio::spawn(log.when_done(500, task));
                text_response(500, &format!("the handler failed: {code:?}\n"))
            }
            Ok(Err(_)) => {
                // The store, and with it the response's sender, is gone: the handler
                // returned or failed without answering.
                let outcome = outcome_of(task).await;
                let failure = outcome.failure.clone().unwrap_or_else(|| Failure {
                    component: None,
                    function: Some(format!("{INCOMING_HANDLER}#handle")),
                    message: "the handler returned without setting a response".into(),
                });
                log.write(500, outcome.instantiated, Some(failure));
                text_response(500, "internal error: the workload's handler failed\n")
            }
            Err(()) => {
                tokio::spawn(log.when_done(500, task));
                text_response(500, "internal error: the request ran past its deadline\n")
            }
        }
    }

    /// Runs the handler for `request` in a new store; what happened.
    fn run<B>(&self, request: Request<B>, sender: ResponseSender) -> Outcome
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let workload = &self.workload;
        let mut store = Store::new(workload.engine(), ServeState::new(workload));
        self.engine.arm(workload, &mut store);
        let called = if self.p3 {
            crate::serve_p3::call_handler(workload, &self.handle, &mut store, request, sender)
        } else {
            call_handler(workload, &self.handle, &mut store, request, sender)
        };
        let instantiated = store
            .data()
            .workload
            .live_instances()
            .map(|live| live.component.to_owned())
            .collect();
        Outcome {
            instantiated,
            failure: called.err(),
        }
    }
}

/// The sending half of a response: what `response-outparam.set` sends.
pub(crate) type ResponseSender = oneshot::Sender<Result<Response<HyperOutgoingBody>, ErrorCode>>;

/// What running one request's handler did.
#[derive(Debug, Default)]
struct Outcome {
    instantiated: Vec<String>,
    failure: Option<Failure>,
}

/// Instantiates the eager components and calls `handle(request, response-out)`.
fn call_handler<B>(
    workload: &CompiledWorkload<ServeState>,
    handle: &WorkloadFunc,
    store: &mut Store<ServeState>,
    request: Request<B>,
    sender: ResponseSender,
) -> Result<(), Failure>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let host = |e: wasmtime::Error| Failure {
        component: None,
        function: None,
        message: format!("{e:#}").replace('\n', " "),
    };
    workload.instantiate(&mut *store).map_err(|e| Failure {
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
    let called = if workload.is_concurrent() {
        // The handler's store runs concurrently: on this (blocking) thread, in the runtime.
        tokio::runtime::Handle::current().block_on(workload.call_async(
            &mut *store,
            handle,
            &params,
            &mut [],
        ))
    } else {
        workload.call(&mut *store, handle, &params, &mut [])
    };
    called.map_err(|e| failure(&e))
}

/// Where a failed call started, and its root cause, for the log line.
pub(crate) fn failure(error: &CallError) -> Failure {
    let innermost = error.innermost();
    let mut root: &dyn std::error::Error = error;
    while let Some(cause) = root.source() {
        root = cause;
    }
    Failure {
        component: innermost.component().map(str::to_owned),
        function: innermost.func().map(ToString::to_string),
        message: root.to_string().replace('\n', " "),
    }
}

/// An error and its causes, on one line.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text += &format!(": {e}");
        cause = e.source();
    }
    text.replace('\n', " ")
}

/// The outcome of a finished request task (a panicked task counts as a failure).
async fn outcome_of(task: JoinHandle<Outcome>) -> Outcome {
    task.await.unwrap_or_else(|e| Outcome {
        instantiated: Vec::new(),
        failure: Some(Failure {
            component: None,
            function: None,
            message: format!("the request's thread failed: {e}"),
        }),
    })
}

/// A request whose log line waits for its handler to return.
struct Pending {
    workload: Arc<HttpWorkload>,
    method: String,
    path: String,
    started: Instant,
}

impl Pending {
    /// Logs once the handler has returned (it may stream the body after answering).
    async fn when_done(self, status: u16, task: JoinHandle<Outcome>) {
        // A handler that fails after answering has sent its status (and cut its body).
        let outcome = outcome_of(task).await;
        self.write(status, outcome.instantiated, outcome.failure);
    }

    fn write(self, status: u16, instantiated: Vec<String>, failure: Option<Failure>) {
        let options = &self.workload.options;
        if failure.is_none() && !options.verbose {
            return;
        }
        (options.logger)(&RequestLog {
            workload: self.workload.workload.name().to_owned(),
            method: self.method,
            path: self.path,
            status,
            elapsed: self.started.elapsed(),
            instantiated,
            failure,
        });
    }
}

/// A plain-text response with `status`.
fn text_response(status: u16, text: &str) -> Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::copy_from_slice(text.as_bytes()))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A bound HTTP/1.1 server for one workload.
pub struct Server {
    listener: TcpListener,
    workload: Arc<HttpWorkload>,
}

/// How a server's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// Whether every connection finished within the grace period.
    pub drained: bool,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port; see [`Server::local_addr`]).
    ///
    /// # Errors
    /// [`ServeError::Bind`] when the address cannot be bound.
    pub async fn bind(workload: HttpWorkload, addr: SocketAddr) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        Ok(Self {
            listener,
            workload: Arc::new(workload),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes; then stops accepting, lets in-flight requests
    /// finish for at most the grace period, and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Shutdown {
        let (stop, stopped) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let workload = self.workload.clone();
                        connections.spawn(connection(stream, workload, stopped.clone()));
                    }
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(self.listener);
        let _ = stop.send(true);
        let grace = self.workload.options.grace;
        let drain = async { while connections.join_next().await.is_some() {} };
        let drained = tokio::time::timeout(grace, drain).await.is_ok();
        connections.abort_all();
        Shutdown { drained }
    }
}

/// Serves one connection until it closes, or until `stop`: then finishes the request in
/// flight and closes.
async fn connection(
    stream: TcpStream,
    workload: Arc<HttpWorkload>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request| {
        let workload = workload.clone();
        async move { Ok::<_, Infallible>(workload.respond(request).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// Completes on SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let terminate = async {
            match term.as_mut() {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves `workload` on `addr` until SIGINT or SIGTERM, on a new multi-threaded tokio
/// runtime; `on_listen` is told the bound address first. What `compose serve` runs.
///
/// # Errors
/// The runtime cannot start or the address cannot be bound.
pub fn serve_until_signal(
    workload: HttpWorkload,
    addr: SocketAddr,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<Shutdown, ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let shutdown = runtime.block_on(async move {
        let server = Server::bind(workload, addr).await?;
        on_listen(server.local_addr());
        Ok(server.run(shutdown_signal()).await)
    });
    // Handlers still running past the grace period (blocked in a host call, or without a
    // deadline) are abandoned with the process, not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    shutdown
}
