//! Limits on what a workload's calls may use: a deadline per call (Wasmtime's epoch
//! interruption, [`Deadlines`]) and a memory cap per component (`max-memory`, enforced by
//! [`WorkloadState`](crate::WorkloadState)'s `ResourceLimiter`, see `limiter`), and the
//! errors a call fails with when it passes one.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{AsContextMut, Config, Engine, Trap};

/// Why a call ended when its deadline passed: the source of the
/// [`CallError`](crate::CallError) of the component whose code was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the call ran past its deadline and was interrupted")]
pub struct DeadlineExceeded;

/// Why a component's memory could not grow: it would pass the component's `max-memory`.
/// Growing past the cap traps (rather than making `memory.grow` return -1), so the call
/// fails with this error, naming the component, instead of running on without memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "workload `{workload}`: component `{component}` would hold {} of linear memory, past its max-memory of {}",
    show_bytes(*requested),
    show_bytes(*limit)
)]
pub struct MemoryLimitExceeded {
    /// The workload.
    pub workload: String,
    /// The component whose memory would grow.
    pub component: String,
    /// Its `max-memory`, in bytes.
    pub limit: u64,
    /// The bytes it would hold after the growth (all its memories together).
    pub requested: u64,
}

/// `bytes` in the largest binary unit that shows it exactly (`64 MiB`, `65600 KiB`).
fn show_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    UNITS
        .iter()
        .find(|(size, _)| bytes.is_multiple_of(*size))
        .map_or_else(
            || format!("{bytes} B"),
            |(size, unit)| format!("{} {unit}", bytes / size),
        )
}

/// The error a call failed with, with an epoch interruption replaced by
/// [`DeadlineExceeded`] (Wasmtime reports it as `wasm trap: interrupt`).
pub(crate) fn explain(error: wasmtime::Error) -> wasmtime::Error {
    if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        wasmtime::Error::new(DeadlineExceeded)
    } else {
        error
    }
}

/// Whether `error` says a deadline passed: [`DeadlineExceeded`], or Wasmtime's epoch
/// interruption before the linker explained it.
pub(crate) fn is_deadline(error: &(dyn std::error::Error + 'static)) -> bool {
    error.is::<DeadlineExceeded>() || error.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
}

/// A deadline no run reaches: Wasmtime adds the current epoch to it, so not `u64::MAX`.
const NEVER: u64 = u64::MAX / 2;

/// Per-call deadlines: a thread that advances an engine's epoch every `tick`, and the
/// store set-up that makes code running in a store trap once its deadline has passed.
///
/// The engine needs epoch interruption ([`Deadlines::configure`]): compiled code then
/// checks the epoch at every function entry and loop back-edge, so an infinite loop in any
/// component ends its call with [`DeadlineExceeded`] inside the
/// [`CallError`](crate::CallError) that names the component. With epoch interruption on,
/// *every* store of the engine needs [`Deadlines::set`] or [`Deadlines::clear`] before
/// its first call (a new store's deadline has already passed). Time spent blocked in a
/// host function is not interrupted; the call ends at the first check after it returns.
///
/// One `Deadlines` per engine: two would advance its epoch twice as fast. Dropping it
/// stops the thread.
#[derive(Debug)]
pub struct Deadlines {
    tick: Duration,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Deadlines {
    /// Turns on epoch interruption in `config`, which deadlines need. It costs every
    /// function entry and loop a load and a compare (see `docs/benchmarks.md`), so
    /// [`config_for`](crate::config_for) leaves it off.
    pub fn configure(config: &mut Config) -> &mut Config {
        config.epoch_interruption(true)
    }

    /// Starts the thread that advances `engine`'s epoch every `tick` (at least 1 ms): the
    /// granularity of deadlines.
    ///
    /// # Errors
    /// When the operating system cannot start a thread.
    pub fn start(engine: &Engine, tick: Duration) -> std::io::Result<Self> {
        let tick = tick.max(Duration::from_millis(1));
        let (stop, stopped) = mpsc::channel::<()>();
        let engine = engine.clone();
        let thread = std::thread::Builder::new()
            .name("compose-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            tick,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The time between two epochs.
    pub fn tick(&self) -> Duration {
        self.tick
    }

    /// Sets `store`'s deadline `timeout` from now: code running in the store after that
    /// traps, which fails the call with [`DeadlineExceeded`]. The call ends between
    /// `timeout` and `timeout` plus one tick from now. The deadline holds for every later
    /// call in the store until it is set again.
    pub fn set(&self, mut store: impl AsContextMut, timeout: Duration) {
        let ticks = timeout.as_nanos().div_ceil(self.tick.as_nanos().max(1)) + 1;
        let mut store = store.as_context_mut();
        store.set_epoch_deadline(u64::try_from(ticks).map_or(NEVER, |t| t.min(NEVER)));
        store.epoch_deadline_trap();
    }

    /// [`Deadlines::set`] for a store called async
    /// ([`Execution::Async`](crate::Execution::Async)): until the deadline, code running
    /// in the store yields to the async runtime at every tick (Wasmtime's
    /// `UpdateDeadline::Yield`), so that a guest in a loop shares its worker thread with
    /// the other stores instead of holding it until its deadline. Not for a store that
    /// runs concurrently (a workload with async functions), whose lazy instantiations
    /// must complete without suspending (see [`CompiledWorkload::call_concurrent`]).
    ///
    /// [`CompiledWorkload::call_concurrent`]: crate::CompiledWorkload::call_concurrent
    pub fn set_yielding<T: 'static>(&self, store: &mut wasmtime::Store<T>, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if std::time::Instant::now() >= deadline {
                return Err(Trap::Interrupt.into());
            }
            Ok(wasmtime::UpdateDeadline::Yield(1))
        });
    }

    /// Lets code in `store` run without a deadline (on an engine with epoch interruption).
    pub fn clear(mut store: impl AsContextMut) {
        store.as_context_mut().set_epoch_deadline(NEVER);
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
