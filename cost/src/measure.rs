//! `compose cost --measure`: one entry point called for real, what each component it
//! instantiated holds, and how much the process's resident set grows per call in flight.
//!
//! A call in flight holds its store: every instance it made, with the linear memory and
//! tables they grew to. So the resident set is read with `held` of them alive at once: for
//! an exported function, `held` stores each kept after its call returned; for an HTTP
//! handler, `held` requests sent at once to the real server on loopback ([`Server`]) —
//! give a path that keeps its request open (the example's `/sleep/1000`), or they finish
//! before they overlap, and the measurement says how many were in flight at its peak.

use compose_host::grants::Offer;
use compose_host::serve::{
    HANDLER, HttpWorkload, INCOMING_HANDLER, RequestLog, ServeError, ServeOptions, Server,
};
use compose_host::{Call, EngineOptions, Host, HostError, HostState, Plugins};
use compose_linker::{CompileOptions, LinkMode, Usage};
use compose_resolver::Plan;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What to call, and how many calls to hold in flight at once.
#[derive(Debug, Clone)]
pub struct MeasureOptions {
    /// The entry point and its representative input.
    pub entry: Entry,
    /// How the workload is linked for the measurement.
    pub link: LinkMode,
    /// How many calls to hold in flight at once (at least 1).
    pub held: usize,
    /// What the components are offered (`--env`, `--dir`), as for `compose run`.
    pub offer: Offer,
    /// Each call's deadline, as `--timeout` (`None`: none).
    pub timeout: Option<Duration>,
    /// Wasmtime's pooling allocator with this many slots, as `compose serve --pool`
    /// (`None`: allocated on demand, as `compose run`).
    pub pooling: Option<u32>,
    /// How the workload is compiled: through `compose run`'s cache, so that a measurement
    /// does not compile what a run or the report has compiled already.
    pub compile: CompileOptions,
}

/// An entry point with a representative input.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A call of an exported function (`--invoke` syntax), of `component`'s export when
    /// given.
    Call {
        /// The call.
        call: Call,
        /// The component whose export is called, else the workload's.
        component: Option<String>,
    },
    /// A `GET` of this path through the workload's `wasi:http` handler.
    Http {
        /// The path, with its query if any (`/sleep/1000`).
        path: String,
    },
}

/// What the measurement found.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// The entry point: the `--invoke` expression, or `GET PATH`.
    pub entry: String,
    /// The workload export it calls (`None` for a component's own export).
    pub export: Option<String>,
    /// The link mode it ran in.
    #[serde(serialize_with = "crate::reach::mode_name")]
    pub mode: LinkMode,
    /// What each component the first call instantiated holds after it, in workload order.
    pub components: Vec<MeasuredComponent>,
    /// How many calls were in flight when the resident set was read: all of them for a
    /// call; for HTTP, the most requests that were in flight at once.
    pub held: usize,
    /// The process's resident set before the calls, in bytes (compiled code, the first
    /// call's caches and the host already in).
    pub resident_before: u64,
    /// Its reading with the calls in flight, in bytes (for HTTP the highest while the
    /// most were in flight).
    pub resident_held: u64,
    /// The growth per call in flight, in bytes: `(resident_held - resident_before) / held`.
    pub resident_per_call: u64,
}

/// What one instance holds after one call (see [`compose_linker::Usage`]).
#[derive(Debug, Clone, Serialize)]
pub struct MeasuredComponent {
    /// The component.
    pub name: String,
    /// How long its instantiation took, in microseconds.
    pub instantiation_us: u64,
    /// Its linear memory, in bytes (as created and grown).
    pub memory_bytes: u64,
    /// Its tables' elements (as created and grown).
    pub table_elements: u64,
}

/// Why a measurement failed.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// Linking, instantiating or calling failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The workload could not be served (no `wasi:http` handler, or it failed to link).
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The first request failed: a server error, no answer, or a handler that did not
    /// return.
    #[error("GET {path} answered {status}: {reason}")]
    Request {
        /// The path.
        path: String,
        /// The status (0: no answer).
        status: u16,
        /// The failure the server logged, or what went wrong.
        reason: String,
    },
    /// `--path` is not a path an HTTP request line can carry.
    #[error(
        "`{0}` is not a request path: it must start with `/` and hold no space or control character"
    )]
    InvalidPath(String),
    /// This system has no `/proc/self/status` with `VmRSS` (Linux's) to read.
    #[error("the resident set cannot be read here (no VmRSS in /proc/self/status)")]
    NoResidentSet,
}

/// Measures `options.entry` of `plan` (resolved with the host's profile), its backends
/// served by Compose's built-in plugins.
///
/// # Errors
/// [`MeasureError`]: the workload fails to link or its call fails (as `compose run`
/// would), or the resident set cannot be read.
pub fn measure(plan: &Plan, options: &MeasureOptions) -> Result<Measurement, MeasureError> {
    let engine = EngineOptions {
        timeout: options.timeout,
        link: options.link,
        pooling: options.pooling,
        compile: options.compile.clone(),
        ..EngineOptions::default()
    };
    let held = options.held.max(1);
    let mut measurement = match &options.entry {
        Entry::Call { call, component } => {
            let host = Host::link_with(plan, &Plugins::<HostState>::builtin(), &engine)?;
            let what = (&host, &options.offer, component.as_deref(), call);
            measure_call(what, held, options.link)
        }
        Entry::Http { path } => {
            let serve = ServeOptions {
                engine,
                offer: options.offer.clone(),
                ..ServeOptions::default()
            };
            measure_http(plan, serve, path, held, options.link)
        }
    }?;
    measurement.export = export_of(plan, &options.entry);
    Ok(measurement)
}

/// The workload export `entry` calls.
fn export_of(plan: &Plan, entry: &Entry) -> Option<String> {
    let name = match entry {
        Entry::Call {
            component: Some(_), ..
        } => return None,
        Entry::Call { call, .. } => call.interface.as_deref().unwrap_or(&call.function),
        Entry::Http { .. } => {
            let handler = |e: &&compose_resolver::WorkloadExport| {
                compose_resolver::names_match(INCOMING_HANDLER, &e.name)
                    || compose_resolver::names_match(HANDLER, &e.name)
            };
            return plan.exports.iter().find(handler).map(|e| e.name.clone());
        }
    };
    crate::export_named(plan, name).map(|e| e.name.clone())
}

/// A call's host, offer, component and call.
type Target<'a> = (&'a Host, &'a Offer, Option<&'a str>, &'a Call);

/// One call for its instances' figures, then `held` stores each kept after its call.
fn measure_call(
    (host, offer, component, call): Target<'_>,
    held: usize,
    mode: LinkMode,
) -> Result<Measurement, MeasureError> {
    let called = || -> Result<_, HostError> {
        let mut store = host.new_store(offer)?;
        host.invoke(&mut store, component, call)?;
        Ok(store)
    };
    let components = measured(&called()?.data().workload.usage());
    let before = resident()?;
    let stores = (0..held).map(|_| called()).collect::<Result<Vec<_>, _>>()?;
    let after = resident()?;
    drop(stores);
    let entry = match &call.interface {
        Some(interface) => format!("{interface}#{}", call.expression),
        None => call.expression.clone(),
    };
    Ok(Measurement::new(
        entry, mode, components, held, before, after,
    ))
}

/// One request for its instances' figures (from the request log), then `held` requests
/// at once, the resident set sampled every millisecond until they are done
/// ([`peak_while`]). The requests go to the real server ([`Server`]) on a loopback port,
/// each on a connection of its own, so what a connection holds (hyper's buffers, its task)
/// is counted as under `compose serve`; the client is a bare socket that writes the
/// request and reads the answer, and holds next to nothing.
fn measure_http(
    plan: &Plan,
    mut options: ServeOptions,
    path: &str,
    held: usize,
    mode: LinkMode,
) -> Result<Measurement, MeasureError> {
    if !path.starts_with('/')
        || path
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(MeasureError::InvalidPath(path.to_owned()));
    }
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    options.verbose = true;
    options.logger = Arc::new(move |log| lock(&sink).push(log.clone()));
    let workload = HttpWorkload::link(plan, &Plugins::builtin(), options)?;
    let runtime = tokio::runtime::Runtime::new().map_err(HostError::Runtime)?;
    runtime.block_on(async {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = Server::bind(workload, loopback).await?;
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let measured = held_requests(&logs, addr, path, held, mode).await;
        let _ = stop.send(());
        let _ = serving.await;
        measured
    })
}

/// How long the first request's handler may take to return after answering.
const LOG_WAIT: Duration = Duration::from_secs(60);

/// [`measure_http`] once the server listens at `addr`.
async fn held_requests(
    logs: &Mutex<Vec<RequestLog>>,
    addr: SocketAddr,
    path: &str,
    held: usize,
    mode: LinkMode,
) -> Result<Measurement, MeasureError> {
    let failed = |status, reason| MeasureError::Request {
        path: path.into(),
        status,
        reason,
    };
    let status = get(addr, path, Arc::default()).await;
    if status == 0 {
        return Err(failed(
            0,
            "the server closed the connection without an answer".into(),
        ));
    }
    // The log line is written when the handler has returned, after the response (and it
    // may stream its body for a while).
    let first = tokio::time::timeout(LOG_WAIT, wait_for_log(logs))
        .await
        .map_err(|_| failed(status, "its handler did not return within 60 s".into()))?;
    if status >= 500 {
        let reason = first
            .failure
            .map_or_else(|| "no cause logged".into(), |f| f.message);
        return Err(failed(status, reason));
    }
    let components = measured(&first.usage);
    let before = resident()?;
    let path_owned = path.to_owned();
    let (after, in_flight) = peak_while(held, |sent| get(addr, &path_owned, sent)).await?;
    let entry = format!("GET {path}");
    Ok(Measurement::new(
        entry, mode, components, in_flight, before, after,
    ))
}

/// Runs `held` copies of `request` at once and samples the resident set every
/// millisecond until all are done: the highest reading among those taken with the most
/// requests in flight (sent, not yet answered), and that number of requests. `request`
/// is given the count to add one to once its request is sent.
async fn peak_while<F, R>(held: usize, request: F) -> Result<(u64, usize), MeasureError>
where
    F: Fn(Arc<AtomicUsize>) -> R,
    R: Future<Output = u16> + Send + 'static,
{
    let (sent, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..held)
        .map(|_| {
            let (done, request) = (done.clone(), request(sent.clone()));
            tokio::spawn(async move {
                request.await;
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // (requests in flight, resident bytes), compared in that order.
    let mut peak = (0, 0);
    while done.load(Ordering::SeqCst) < held {
        let finished = done.load(Ordering::SeqCst);
        let in_flight = sent.load(Ordering::SeqCst).saturating_sub(finished);
        peak = peak.max((in_flight, resident()?));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok((peak.1, peak.0))
}

/// `GET path` of the server at `addr` on a connection of its own, the answer read to its
/// end: the status (0 when the connection or the answer failed). Adds one to `sent` once
/// the request is written.
fn get(
    addr: SocketAddr,
    path: &str,
    sent: Arc<AtomicUsize>,
) -> impl Future<Output = u16> + Send + 'static {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.1\r\nHost: measure\r\nConnection: close\r\n\r\n");
    async move {
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            return 0;
        };
        if stream.write_all(request.as_bytes()).await.is_err() {
            return 0;
        }
        sent.fetch_add(1, Ordering::SeqCst);
        let mut answer = Vec::new();
        if stream.read_to_end(&mut answer).await.is_err() {
            return 0;
        }
        // `HTTP/1.1 200 OK`: the status is the second word of the first line.
        let line = answer.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        line.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// The first request's log, once its handler has returned.
async fn wait_for_log(logs: &Mutex<Vec<RequestLog>>) -> RequestLog {
    loop {
        if let Some(log) = lock(logs).pop() {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn measured(usage: &[Usage]) -> Vec<MeasuredComponent> {
    usage
        .iter()
        .map(|u| MeasuredComponent {
            name: u.component.clone(),
            instantiation_us: u
                .instantiation_time
                .map_or(0, |t| u64::try_from(t.as_micros()).unwrap_or(u64::MAX)),
            memory_bytes: u.memory,
            table_elements: u.table_elements,
        })
        .collect()
}

impl Measurement {
    fn new(
        entry: String,
        mode: LinkMode,
        components: Vec<MeasuredComponent>,
        held: usize,
        before: u64,
        after: u64,
    ) -> Self {
        let calls = u64::try_from(held.max(1)).unwrap_or(u64::MAX);
        Self {
            entry,
            export: None,
            mode,
            components,
            held,
            resident_before: before,
            resident_held: after,
            resident_per_call: after.saturating_sub(before) / calls,
        }
    }
}

/// The process's resident set (`VmRSS` of `/proc/self/status`, Linux's proc(5)), in bytes.
fn resident() -> Result<u64, MeasureError> {
    let status =
        std::fs::read_to_string("/proc/self/status").map_err(|_| MeasureError::NoResidentSet)?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or(MeasureError::NoResidentSet)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
