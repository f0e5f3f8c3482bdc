//! A workload linked for serving HTTP ([`HttpWorkload`]): the `handle` function of its
//! `wasi:http` export, a store per request, and the log line of each request.

use super::log::{Logger, Outcome, RequestFailure, RequestLog};
use super::outgoing::{self, DenialLog, Policy};
use super::output;
use super::p2::{self, INCOMING_HANDLER};
use super::p3;
use super::reuse::{Job, Reuse, Workers};
use super::state::{ResponseSender, ServeState, Setup};
use crate::define::define_host;
use crate::engine::{EPOCH_TICK, EngineOptions, HostEngine};
use crate::error::HostError;
use crate::grants::Offer;
use crate::plugin::Plugins;
use crate::telemetry::Metrics;
use bytes::Bytes;
use compose_linker::{CompiledWorkload, Execution, Usage, WorkloadFunc};
use compose_resolver::{Plan, names_match};
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::{AbortHandle, JoinHandle};
use tracing::Instrument;
use wasmtime::Store;
use wasmtime::component::Val;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Why a workload cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The workload does not export `wasi:http/incoming-handler`.
    #[error(
        "workload `{workload}` does not export {INCOMING_HANDLER} (or another 0.2.x release) or {}, so `compose serve` has nothing to call; its exports: {}",
        p3::HANDLER,
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
    /// The workload's exports cannot be served over wRPC (`--wrpc`).
    #[error(transparent)]
    Wrpc(#[from] crate::wrpc::WrpcServeError),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// How `compose serve` serves.
#[derive(Clone)]
pub struct ServeOptions {
    /// The link mode, the per-request deadline and the pooling allocator.
    pub engine: EngineOptions,
    /// Log every request, not only failed ones.
    pub verbose: bool,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub grace: Duration,
    /// The most requests admitted at once (running, or waiting for a pooled store); a
    /// request beyond them is answered `503 Service Unavailable` with `Retry-After: 1`
    /// at once, as a load balancer expects, instead of queueing without bound. 0 admits
    /// every request.
    pub max_concurrent_requests: usize,
    /// Where request logs go.
    pub logger: Logger,
    /// How a WASI 0.3 handler's instances serve several requests (a WASI 0.2 handler gets
    /// a store per request).
    pub reuse: Reuse,
    /// What the components are offered (`--env`, `--dir`); each sees what its grants
    /// allow.
    pub offer: Offer,
    /// Where outgoing requests that grants do not allow are logged.
    pub denials: DenialLog,
    /// Counts the requests answered and, as the engine's meter
    /// ([`EngineOptions::meter`], which this replaces), every call and instantiation
    /// (`compose serve --metrics`). Default none.
    pub metrics: Option<Metrics>,
}

/// The default of [`ServeOptions::max_concurrent_requests`].
pub const MAX_CONCURRENT_REQUESTS: usize = 1000;

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            engine: EngineOptions::default(),
            verbose: false,
            grace: Duration::from_secs(10),
            max_concurrent_requests: MAX_CONCURRENT_REQUESTS,
            logger: Arc::new(|line| to_stderr(line)),
            reuse: Reuse::default(),
            offer: Offer::default(),
            denials: Arc::new(|denial| to_stderr(denial)),
            metrics: None,
        }
    }
}

/// Writes `line` to the process's standard error. Unlike `eprintln!`, a closed or full
/// stderr (the terminal gone, a pipe whose reader exited) loses the line rather than
/// panicking the request's task.
fn to_stderr(line: &dyn std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A workload linked for serving HTTP: its compiled workload, the `handle` function of
/// its `wasi:http/incoming-handler` export, and the limits every request's store gets.
pub struct HttpWorkload {
    workload: CompiledWorkload<ServeState>,
    handle: WorkloadFunc,
    /// Whether `handle` is WASI 0.3's (`wasi:http/handler`), else WASI 0.2's.
    p3: bool,
    engine: HostEngine,
    options: ServeOptions,
    /// With the pooling allocator, one permit per pooled store: a request waits for one.
    stores: Option<Arc<Semaphore>>,
    /// One permit per admitted request ([`ServeOptions::max_concurrent_requests`]).
    admitted: Arc<Semaphore>,
    /// For a WASI 0.3 handler whose instances are reused: the stores serving requests.
    workers: Option<Arc<Workers>>,
    /// What each request's store is made from.
    setup: Arc<Setup>,
}

impl HttpWorkload {
    /// Links `plan` with WASI 0.2, its backends served by `plugins` and each component's
    /// configuration ([`define_host`]), `wasi:http`, and each component's prefixed
    /// stdout and stderr lines (`super::output`), on an engine with `options`' limits.
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
        // Every request's store is a task on the runtime's worker threads, its guest code
        // on fibers: a request waiting in a host call holds no thread.
        let mut engine_options = options.engine.clone();
        engine_options.execution = Execution::Async;
        if let Some(metrics) = &options.metrics {
            engine_options.meter = Some(metrics.meter());
        }
        let engine = HostEngine::new(plan, &engine_options)?;
        let mut linker = engine.linker::<ServeState>(plan);
        define_host(&mut linker, plan, plugins)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker.host())
            .map_err(HostError::define("wasi:http 0.2"))?;
        let policy = Policy::new(plan, options.denials.clone());
        outgoing::define_for_components(&mut linker, plan, &policy).map_err(HostError::from)?;
        output::define_for_components(&mut linker, plan).map_err(HostError::from)?;
        let setup = Arc::new(Setup {
            plan: Arc::new(plan.clone()),
            offer: options.offer.clone(),
            policy,
            requests: AtomicU64::new(0),
        });
        // The offer is checked once before serving: a directory no component is granted,
        // or one that cannot be opened, is an error at start, not a 500 per request.
        crate::grants::contexts(plan, &options.offer).map_err(HostError::from)?;
        let p3 = (plan.exports.iter()).any(|e| names_match(p3::HANDLER, &e.name));
        if p3 {
            p3::add_to_linker(linker.host()).map_err(HostError::define("wasi:http 0.3"))?;
        }
        let workload = linker
            .compile(|state| &mut state.workload)
            .map_err(HostError::from)?;
        let interface = if p3 { p3::HANDLER } else { INCOMING_HANDLER };
        let handle =
            workload
                .func(Some(interface), "handle")
                .map_err(|_| ServeError::NotAnHttpHandler {
                    workload: plan.name.clone(),
                    exports: plan.exports.iter().map(|e| e.name.clone()).collect(),
                })?;
        let stores = options
            .engine
            .pooling
            .map(|n| Arc::new(Semaphore::new(n as usize)));
        let admitted = match options.max_concurrent_requests {
            0 => Semaphore::MAX_PERMITS,
            n => n.min(Semaphore::MAX_PERMITS),
        };
        let admitted = Arc::new(Semaphore::new(admitted));
        let workers = (p3 && options.reuse.max_requests > 1).then(|| {
            let deadlines = engine.timeout().is_some();
            let (workload, handle) = (workload.clone(), handle.clone());
            let workers = Workers::new(
                options.reuse,
                workload,
                handle,
                deadlines,
                stores.clone(),
                setup.clone(),
            );
            Arc::new(workers)
        });
        Ok(Self {
            workload,
            handle,
            p3,
            engine,
            options,
            stores,
            admitted,
            workers,
            setup,
        })
    }

    /// The compiled workload.
    pub fn workload(&self) -> &CompiledWorkload<ServeState> {
        &self.workload
    }

    /// How long in-flight requests may take to finish after a shutdown signal.
    pub(crate) fn grace(&self) -> Duration {
        self.options.grace
    }

    /// What each request's store is made from: the plan among it.
    pub(crate) fn plan(&self) -> Arc<Plan> {
        self.setup.plan.clone()
    }

    /// Calls the exported `func` with `params` in a store of its own, made as a request's
    /// (the offer, the deadline, a pooled slot when there is a pool): what `--wrpc` beside
    /// HTTP runs per invocation. Its results, or why it failed.
    pub(crate) async fn call_export(
        &self,
        func: &WorkloadFunc,
        params: &[Val],
    ) -> Result<Vec<Val>, String> {
        let _slot = match &self.stores {
            Some(stores) => stores.clone().acquire_owned().await.ok(),
            None => None,
        };
        let state = ServeState::new(&self.workload, &self.setup).map_err(|e| e.to_string())?;
        let mut store = Store::new(self.workload.engine(), state);
        self.engine.arm(&self.workload, &mut store);
        let mut results = vec![Val::Bool(false); func.ty().results().len()];
        (self
            .workload
            .call_async(&mut store, func, params, &mut results)
            .await)
            .map_err(|e| e.to_string())?;
        Ok(results)
    }

    /// Answers one request: runs the handler in a new store, as a task on the runtime's
    /// worker threads, and returns its response, or a 500 response when it fails or passes its deadline
    /// before answering. The request is logged when the handler returns.
    pub async fn respond<B>(self: Arc<Self>, request: Request<B>) -> Response<HyperOutgoingBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let started = Instant::now();
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let span = tracing::info_span!(
            target: "compose",
            "compose.request",
            method = method.as_str(),
            route = path.as_str(),
            status = tracing::field::Empty,
            otel.kind = "server",
        );
        crate::telemetry::context::continue_trace(&span, request.headers());
        let metrics = self.options.metrics.clone();
        let response = self.respond_in(request, started, method, path, &span).await;
        let status = response.status().as_u16();
        span.record("status", status);
        if let Some(metrics) = metrics {
            metrics.request(status, started.elapsed());
        }
        response
    }

    /// [`HttpWorkload::respond`] in the request's `span`.
    async fn respond_in<B>(
        self: Arc<Self>,
        request: Request<B>,
        started: Instant,
        method: String,
        path: String,
        span: &tracing::Span,
    ) -> Response<HyperOutgoingBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let log = Pending {
            workload: self.clone(),
            method,
            path,
            started,
        };
        let Ok(admitted) = self.admitted.clone().try_acquire_owned() else {
            log.write(503, Vec::new(), None);
            return busy_response();
        };
        let (sender, receiver) = oneshot::channel();
        let running = self.start(request, sender, admitted, span).await;
        // A guest blocked in a host call is interrupted only when it returns to its code:
        // the client is answered at the deadline all the same, and the request's task
        // (with its store) is dropped.
        let answer = match self.engine.timeout() {
            Some(timeout) => tokio::time::timeout(timeout + 2 * EPOCH_TICK, receiver)
                .await
                .map_err(|_| ()),
            None => Ok(receiver.await),
        };
        match answer {
            Ok(Ok(Ok(response))) => {
                tokio::spawn(log.when_done(response.status().as_u16(), running.done));
                response
            }
            Ok(Ok(Err(code))) => {
                tokio::spawn(log.when_done(500, running.done));
                text_response(500, &format!("the handler failed: {code:?}\n"))
            }
            Ok(Err(_)) => {
                // The store, and with it the response's sender, is gone: the handler
                // returned or failed without answering.
                let outcome = running.done.await;
                let failure = outcome.failure.clone().unwrap_or_else(|| RequestFailure {
                    component: None,
                    function: Some(format!("{INCOMING_HANDLER}#handle")),
                    message: "the handler returned without setting a response".into(),
                });
                log.write(500, outcome.usage, Some(failure));
                text_response(500, "internal error: the workload's handler failed\n")
            }
            Err(()) => {
                if let Some(task) = running.task {
                    task.abort();
                }
                tokio::spawn(log.when_done(500, running.done));
                text_response(500, "internal error: the request ran past its deadline\n")
            }
        }
    }

    /// Starts the handler for `request`, admitted by `admitted`: in a store of its own, a
    /// new task; or, for a WASI 0.3 handler whose instances are reused, on a worker.
    async fn start<B>(
        self: &Arc<Self>,
        request: Request<B>,
        sender: ResponseSender,
        admitted: OwnedSemaphorePermit,
        span: &tracing::Span,
    ) -> Running
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        if let Some(workers) = &self.workers {
            let (done, outcome) = oneshot::channel();
            let job = Job {
                request: request.map(|body| body.map_err(Into::into).boxed_unsync()),
                sender,
                done,
                deadline: self.engine.timeout().map(|t| Instant::now() + t),
                admitted,
            };
            workers.dispatch(job).await;
            let done = async {
                let dropped = || Outcome::failed("the store serving the request was dropped");
                outcome.await.unwrap_or_else(|_| dropped())
            };
            return Running {
                done: Box::pin(done),
                task: None,
            };
        }
        let permit = match &self.stores {
            Some(stores) => stores.clone().acquire_owned().await.ok(),
            None => None,
        };
        let this = self.clone();
        let task = tokio::spawn(
            async move {
                let _permits = (admitted, permit);
                this.run(request, sender).await
            }
            .instrument(span.clone()),
        );
        Running {
            task: Some(task.abort_handle()),
            done: Box::pin(outcome_of(task)),
        }
    }

    /// Runs the handler for `request` in a new store; what happened.
    async fn run<B>(&self, request: Request<B>, sender: ResponseSender) -> Outcome
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let workload = &self.workload;
        let state = match ServeState::new(workload, &self.setup) {
            Ok(state) => state,
            Err(error) => return Outcome::failed(error.to_string()),
        };
        let mut store = Store::new(workload.engine(), state);
        self.engine.arm(workload, &mut store);
        let called = if self.p3 {
            p3::call_handler(workload, &self.handle, &mut store, request, sender).await
        } else {
            p2::call_handler(workload, &self.handle, &mut store, request, sender).await
        };
        Outcome {
            usage: store.data().workload.usage(),
            failure: called.err(),
        }
    }
}

/// A request whose handler runs: what it will have done, and its task if it has one of
/// its own.
struct Running {
    done: Done,
    task: Option<AbortHandle>,
}

/// What a running request's handler will have done.
type Done = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The outcome of a finished request task (a panicked task counts as a failure).
async fn outcome_of(task: JoinHandle<Outcome>) -> Outcome {
    task.await.unwrap_or_else(|e| {
        Outcome::failed(if e.is_cancelled() {
            "the request passed its deadline in a host call and was dropped".into()
        } else {
            format!("the request's task failed: {e}")
        })
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
    async fn when_done(self, status: u16, done: Done) {
        // A handler that fails after answering has sent its status (and cut its body).
        let outcome = done.await;
        self.write(status, outcome.usage, outcome.failure);
    }

    fn write(self, status: u16, usage: Vec<Usage>, failure: Option<RequestFailure>) {
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
            instantiated: usage.iter().map(|u| u.component.clone()).collect(),
            usage,
            failure,
        });
    }
}

/// `503 Service Unavailable`, to try again in a second: more requests are in flight than
/// [`ServeOptions::max_concurrent_requests`].
fn busy_response() -> Response<HyperOutgoingBody> {
    let mut response = text_response(503, "the server is busy: try again later\n");
    let retry = hyper::header::HeaderValue::from_static("1");
    response
        .headers_mut()
        .insert(hyper::header::RETRY_AFTER, retry);
    response
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
