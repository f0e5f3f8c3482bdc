//! Instance reuse for WASI 0.3 handlers, as `wasmtime serve` does it (wasmtime-cli 48:
//! `--max-instance-reuse-count`, 128 for WASI 0.3; `--max-instance-concurrent-reuse-count`,
//! 16; `--idle-instance-timeout`, 1 s): a *worker* is one store whose instances serve up
//! to [`Reuse::max_requests`] requests, up to [`Reuse::max_concurrent`] of them at once
//! (each a concurrent call of the async `handle` in the store's
//! [`run_concurrent`](wasmtime::Store::run_concurrent)), and ends after
//! [`Reuse::idle_timeout`] without one. A WASI 0.2 handler cannot be called concurrently
//! and keeps a store per request.
//!
//! A trap poisons the whole store (Wasmtime), so it ends the worker and with it every
//! request in flight on it; the next requests go to a new worker with fresh instances.
//! A deadline is each request's own: the store checks, at every epoch tick, whether one of
//! its requests has run past its deadline, and traps if one has.

use super::log::{Outcome, RequestFailure};
use super::output::OutputView as _;
use super::p3;
use super::state::{ResponseSender, ServeState, Setup};
use bytes::Bytes;
use compose_linker::{CompiledWorkload, Usage, WorkloadFunc};
use futures::stream::{FuturesUnordered, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::Request;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use wasmtime::component::Accessor;
use wasmtime::{Store, Trap, UpdateDeadline};

/// How a WASI 0.3 handler's instances are reused across requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// The most requests one store's instances serve before the store is dropped (1: a
    /// store per request, no reuse).
    pub max_requests: usize,
    /// The most requests one store serves at once.
    pub max_concurrent: usize,
    /// How long a store without requests is kept for the next one.
    pub idle_timeout: Duration,
}

impl Default for Reuse {
    /// `wasmtime serve`'s defaults for WASI 0.3: 128 requests, 16 at once, 1 s idle.
    fn default() -> Self {
        Self {
            max_requests: 128,
            max_concurrent: 16,
            idle_timeout: Duration::from_secs(1),
        }
    }
}

/// The body of a request handed to a worker.
pub(crate) type RequestBody = UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// One request for a worker: the request, where its response goes, where its outcome
/// goes when the handler returns, its deadline, and its admission.
pub(crate) struct Job {
    pub(crate) request: Request<RequestBody>,
    pub(crate) sender: ResponseSender,
    pub(crate) done: oneshot::Sender<Outcome>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) admitted: OwnedSemaphorePermit,
}

/// A live worker, as the dispatcher sees it.
struct Slot {
    id: u64,
    jobs: mpsc::UnboundedSender<Job>,
    in_flight: usize,
    accepted: usize,
}

/// The workers of one WASI 0.3 workload, and what they need to serve.
pub(crate) struct Workers {
    reuse: Reuse,
    workload: CompiledWorkload<ServeState>,
    handle: WorkloadFunc,
    /// Whether the engine has epoch interruption (there is a deadline).
    deadlines: bool,
    /// With the pooling allocator, one permit per pooled store: a new worker waits for one.
    stores: Option<Arc<Semaphore>>,
    /// What each store is made from.
    setup: Arc<Setup>,
    slots: Mutex<Vec<Slot>>,
    next: AtomicU64,
}

/// The deadlines of the requests in flight in one store, by request.
type InFlight = Arc<Mutex<HashMap<u64, Option<Instant>>>>;

impl Workers {
    pub(crate) fn new(
        reuse: Reuse,
        workload: CompiledWorkload<ServeState>,
        handle: WorkloadFunc,
        deadlines: bool,
        stores: Option<Arc<Semaphore>>,
        setup: Arc<Setup>,
    ) -> Self {
        Self {
            reuse,
            workload,
            handle,
            deadlines,
            stores,
            setup,
            slots: Mutex::new(Vec::new()),
            next: AtomicU64::new(0),
        }
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `job` to a worker with room for it, or to a new one (waiting for a pooled
    /// store first, with the pooling allocator).
    pub(crate) async fn dispatch(self: &Arc<Self>, job: Job) {
        let Some(job) = self.to_a_live_worker(job) else {
            return;
        };
        let permit = match &self.stores {
            Some(stores) => stores.clone().acquire_owned().await.ok(),
            None => None,
        };
        let (jobs, receiver) = mpsc::unbounded_channel();
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.slots().push(Slot {
            id,
            jobs,
            in_flight: 1,
            accepted: 1,
        });
        tokio::spawn(self.clone().work(id, job, receiver, permit));
    }

    /// Sends `job` to a live worker with room for it; gives it back if there is none.
    fn to_a_live_worker(&self, mut job: Job) -> Option<Job> {
        let Reuse {
            max_requests,
            max_concurrent,
            ..
        } = self.reuse;
        let mut slots = self.slots();
        for slot in slots.iter_mut() {
            if slot.in_flight >= max_concurrent || slot.accepted >= max_requests {
                continue;
            }
            match slot.jobs.send(job) {
                Ok(()) => {
                    slot.in_flight += 1;
                    slot.accepted += 1;
                    return None;
                }
                // The worker has ended (a trap): try the next.
                Err(mpsc::error::SendError(back)) => job = back,
            }
        }
        Some(job)
    }

    /// A request of worker `id` has returned; a worker that has served its last request
    /// is retired once none is in flight.
    fn finished(&self, id: u64) {
        let mut slots = self.slots();
        let Some(at) = slots.iter().position(|s| s.id == id) else {
            return;
        };
        slots[at].in_flight -= 1;
        if slots[at].in_flight == 0 && slots[at].accepted >= self.reuse.max_requests {
            slots.remove(at);
        }
    }

    /// Retires worker `id` if it has no request in flight (nor one sent to it); whether
    /// it did.
    fn retire_if_idle(&self, id: u64) -> bool {
        let mut slots = self.slots();
        match slots.iter().position(|s| s.id == id) {
            Some(at) if slots[at].in_flight == 0 => {
                slots.remove(at);
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// Forgets worker `id`, which has ended.
    fn remove(&self, id: u64) {
        self.slots().retain(|s| s.id != id);
    }

    /// Worker `id`: a store serving `first` and the jobs that follow, until it is retired
    /// or traps. Each request's outcome goes to its job's `done`.
    async fn work(
        self: Arc<Self>,
        id: u64,
        first: Job,
        mut jobs: mpsc::UnboundedReceiver<Job>,
        _store_permit: Option<OwnedSemaphorePermit>,
    ) {
        let in_flight: InFlight = Arc::default();
        let state = match ServeState::new(&self.workload, &self.setup) {
            Ok(state) => state,
            Err(error) => {
                self.remove(id);
                let _ = first.done.send(Outcome::failed(error.to_string()));
                return;
            }
        };
        let mut store = Store::new(self.workload.engine(), state);
        self.workload.limit_memory(&mut store);
        if self.deadlines {
            watch_deadlines(&mut store, in_flight.clone());
        }
        let done: Mutex<HashMap<u64, Waiting>> = Mutex::default();
        let run = store.run_concurrent(async |accessor| {
            self.serve(accessor, id, first, &mut jobs, &in_flight, &done)
                .await;
        });
        let ended = run.await;
        self.remove(id);
        let Err(error) = ended else {
            return;
        };
        // A trap in one request's call ends the store, and every request still in it.
        let failure = RequestFailure {
            component: Some(self.handle.component().to_owned()),
            function: Some(self.handle.name().to_string()),
            message: error.root_cause().to_string().replace('\n', " "),
        };
        for (_, (done, _)) in done.into_inner().unwrap_or_else(|e| e.into_inner()) {
            let _ = done.send(Outcome {
                usage: Vec::new(),
                failure: Some(failure.clone()),
            });
        }
    }

    /// Serves `first` and the jobs that follow concurrently in one store, until the
    /// worker is retired (idle, or through with its requests) and nothing is in flight.
    async fn serve(
        &self,
        accessor: &Accessor<ServeState>,
        id: u64,
        first: Job,
        jobs: &mut mpsc::UnboundedReceiver<Job>,
        in_flight: &InFlight,
        done: &Mutex<HashMap<u64, Waiting>>,
    ) {
        let mut running = FuturesUnordered::new();
        let mut key = 0;
        // The first request has the store's id, each other one an id of its own.
        let mut first_id = Some(accessor.with(|mut access| access.data_mut().output().0.request()));
        let mut start = |job: Job| {
            key += 1;
            lock(in_flight).insert(key, job.deadline);
            lock(done).insert(key, (job.done, live(accessor)));
            let id = first_id.take().unwrap_or_else(|| self.setup.next_request());
            let (request, sender, admitted) = ((id, job.request), job.sender, job.admitted);
            let (workload, handle) = (&self.workload, &self.handle);
            async move {
                let served = p3::serve(accessor, workload, handle, request, sender).await;
                drop(admitted);
                (key, served)
            }
        };
        running.push(start(first));
        let mut open = true;
        while open || !running.is_empty() {
            tokio::select! {
                job = jobs.recv(), if open => match job {
                    Some(job) => running.push(start(job)),
                    None => open = false,
                },
                Some((key, served)) = running.next() => {
                    lock(in_flight).remove(&key);
                    if let Some((done, before)) = lock(done).remove(&key) {
                        let usage = new_usage(accessor, &before);
                        let failure = served.err();
                        let _ = done.send(Outcome { usage, failure });
                    }
                    self.finished(id);
                },
                () = tokio::time::sleep(self.reuse.idle_timeout), if running.is_empty() => {
                    if self.retire_if_idle(id) {
                        open = false;
                    }
                },
            }
        }
    }
}

/// A request in a worker's store: where its outcome goes, and the instances live when it
/// started (those instantiated while it ran are the others).
type Waiting = (oneshot::Sender<Outcome>, Vec<(String, u32)>);

/// The instances live in the accessor's store: each component with its instance's
/// generation.
fn live(accessor: &Accessor<ServeState>) -> Vec<(String, u32)> {
    accessor.with(|mut access| {
        (access.data_mut().workload.live_instances())
            .map(|live| (live.component.to_owned(), live.generation))
            .collect()
    })
}

/// What the instances made since `before` (a [`live`] list) hold: those a request
/// instantiated.
fn new_usage(accessor: &Accessor<ServeState>, before: &[(String, u32)]) -> Vec<Usage> {
    let made: Vec<_> = live(accessor)
        .into_iter()
        .filter(|instance| !before.contains(instance))
        .map(|(component, _)| component)
        .collect();
    let usage = accessor.with(|mut access| access.data_mut().workload.usage());
    usage
        .into_iter()
        .filter(|u| made.contains(&u.component))
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes `store` trap at the first epoch tick after one of the requests `in_flight` has
/// passed its deadline (an engine with epoch interruption needs a deadline for every
/// store: this one is checked every tick).
fn watch_deadlines(store: &mut Store<ServeState>, in_flight: InFlight) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        let now = Instant::now();
        if lock(&in_flight).values().flatten().any(|d| *d <= now) {
            return Err(Trap::Interrupt.into());
        }
        Ok(UpdateDeadline::Continue(1))
    });
}
