//! Calls to remotes (`[remotes]`): each call of a function bound to a remote is one wRPC
//! invocation on the remote's transport.
//!
//! The invocation follows wRPC's SPEC.md as wrpc-transport 0.30 frames it: a connection
//! per invocation (TCP or a Unix socket), a header naming the instance (the export's
//! name, `acme:text/format@0.1.0`) and the function (`greet`), then the parameters as
//! one tuple in the component model's value-definition encoding (wrpc-wave, through the
//! `wave` adapter); the remote answers with the results as one tuple. Nothing is kept
//! between calls, so a refused connection fails only the call that met it, and the next
//! call connects again.
//!
//! The network runs on a Tokio runtime of the linker's own (one worker thread, started at
//! the first remote call), so a call works the same from a synchronous host function, a
//! fiber or a concurrent store. A failure reaches the caller as a trap carrying a
//! [`RemoteCallError`], which names the workload, the remote, its address and the
//! function; the whole invocation, connecting included, ends at the linker's remote
//! timeout ([`WorkloadLinker::remote_timeout`](crate::WorkloadLinker::remote_timeout)).

use crate::error::{FuncName, RemoteCallError, RemoteFailure};
use bytes::Bytes;
use compose_resolver::RemoteUrl;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{LinkerInstance, Type, Val};
use wrpc_transport::Invoke as _;

/// One function of a remote, as its trampoline calls it.
#[derive(Debug)]
pub(crate) struct RemoteFunc {
    pub(crate) workload: String,
    pub(crate) remote: String,
    pub(crate) url: RemoteUrl,
    /// The wRPC instance: the export's name (empty for a function exported on its own).
    pub(crate) instance: String,
    /// The function's name in the instance.
    pub(crate) func: String,
    /// How long one invocation may take, connecting included; `None`: no limit.
    pub(crate) timeout: Option<Duration>,
}

impl RemoteFunc {
    fn error(&self, cause: RemoteFailure) -> wasmtime::Error {
        wasmtime::Error::new(RemoteCallError {
            workload: self.workload.clone(),
            remote: self.remote.clone(),
            url: self.url.to_string(),
            function: FuncName {
                interface: (!self.instance.is_empty()).then(|| self.instance.clone()),
                function: self.func.clone(),
            },
            cause,
        })
    }

    /// The parameters as wRPC sends them: one tuple, each value encoded in turn.
    fn encode(ty: &ComponentFunc, params: &[Val]) -> Result<Bytes, RemoteFailure> {
        crate::wave::encode(params, ty.params().map(|(_, ty)| ty)).map_err(RemoteFailure::Local)
    }

    /// Runs one invocation on the linker's runtime; returns the results.
    fn spawn(
        self: &Arc<Self>,
        ty: &ComponentFunc,
        params: &[Val],
    ) -> Result<tokio::task::JoinHandle<Result<Vec<Val>, RemoteFailure>>, RemoteFailure> {
        let params = Self::encode(ty, params)?;
        let results: Vec<Type> = ty.results().collect();
        let this = self.clone();
        let invocation = async move {
            let invocation = this.invoke(params, results);
            match this.timeout {
                Some(limit) => tokio::time::timeout(limit, invocation)
                    .await
                    .unwrap_or(Err(RemoteFailure::Deadline(limit))),
                None => invocation.await,
            }
        };
        Ok(runtime()?.spawn(invocation))
    }

    /// Connects, sends the parameters and reads one value of each result type.
    async fn invoke(&self, params: Bytes, results: Vec<Type>) -> Result<Vec<Val>, RemoteFailure> {
        let paths: [&[Option<usize>]; 0] = [];
        let (instance, func) = (self.instance.as_str(), self.func.as_str());
        let invoked = match &self.url {
            RemoteUrl::Tcp { host, port } => {
                let client = wrpc_transport::tcp::Client::from(format!("{host}:{port}"));
                client.invoke((), instance, func, params, paths).await
            }
            RemoteUrl::Unix(path) => {
                let client = wrpc_transport::unix::Client::from(path.clone());
                client.invoke((), instance, func, params, paths).await
            }
        };
        let (mut outgoing, mut incoming) =
            invoked.map_err(|e| RemoteFailure::Unreachable(format!("{e:#}")))?;
        // No streams or futures follow the parameters.
        outgoing
            .shutdown()
            .await
            .map_err(|e| RemoteFailure::Broken(e.to_string()))?;
        crate::wave::read(&mut incoming, results)
            .await
            .map_err(read_failure)
    }
}

/// What an error reading the results means.
fn read_failure(e: std::io::Error) -> RemoteFailure {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => RemoteFailure::Broken(
            "the remote closed the connection before it answered (does it serve this function?)"
                .into(),
        ),
        std::io::ErrorKind::InvalidData => RemoteFailure::Malformed(e.to_string()),
        _ => RemoteFailure::Broken(e.to_string()),
    }
}

/// The linker's runtime for remote calls: one worker thread, started on first use.
fn runtime() -> Result<&'static tokio::runtime::Runtime, RemoteFailure> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("compose-wrpc")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime for remote calls: {e}"))
    });
    runtime
        .as_ref()
        .map_err(|e| RemoteFailure::Local(e.clone()))
}

/// Writes the results of a finished invocation into `results`, or the trap.
fn finish(
    func: &RemoteFunc,
    joined: Result<Result<Vec<Val>, RemoteFailure>, tokio::task::JoinError>,
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let values = joined
        .map_err(|e| RemoteFailure::Local(format!("the invocation did not finish: {e}")))
        .and_then(|r| r)
        .map_err(|cause| func.error(cause))?;
    for (slot, value) in results.iter_mut().zip(values) {
        *slot = value;
    }
    Ok(())
}

/// How the caller of a remote function waits for its invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A synchronous host function: the calling thread waits.
    Thread,
    /// An async host function, on the caller's fiber: under [`Execution::Async`](crate::Execution::Async), and for
    /// a synchronous function in a workload with async functions (Wasmtime 48 types a
    /// concurrent host function as an `async func`, which a synchronous import refuses at
    /// link time).
    Fiber,
    /// A concurrent host function, for an `async func`: the caller's task waits, and the
    /// store's other tasks run meanwhile.
    Task,
}

/// Defines `name` in `instance` as a call to `func` on its remote, its caller waiting as
/// `wait` says.
pub(crate) fn define<T: 'static>(
    instance: &mut LinkerInstance<'_, T>,
    name: &str,
    func: RemoteFunc,
    wait: Wait,
) -> wasmtime::Result<()> {
    let func = Arc::new(func);
    match wait {
        Wait::Task => instance.func_new_concurrent(name, move |_, ty, params, results| {
            let func = func.clone();
            let spawned = func.spawn(&ty, params);
            Box::pin(async move {
                let handle = spawned.map_err(|cause| func.error(cause))?;
                finish(&func, handle.await, results)
            })
        }),
        Wait::Fiber => instance.func_new_async(name, move |_, ty, params, results| {
            let func = func.clone();
            let spawned = func.spawn(&ty, params);
            Box::new(async move {
                let handle = spawned.map_err(|cause| func.error(cause))?;
                finish(&func, handle.await, results)
            })
        }),
        Wait::Thread => instance.func_new(name, move |_, ty, params, results| {
            let handle = func.spawn(&ty, params).map_err(|cause| func.error(cause))?;
            let joined = wait_on_remote_runtime(handle)
                .map_err(|why| func.error(RemoteFailure::Local(why)))?;
            finish(&func, joined, results)
        }),
    }
}

/// Runs `future` on the linker's runtime for remote calls (one worker thread, started on
/// first use) and waits for its output on the calling thread. The caller may be inside
/// another Tokio runtime (`compose serve`), where `block_on` would panic, or on tokio's
/// blocking pool: it waits on a channel instead. For host functions that reach a remote
/// synchronously: the trampolines of `[remotes]`, and compose-host's `wrpc` plugin.
///
/// # Errors
/// The runtime could not start, or `future` panicked (its task ended without an output).
pub fn wait_on_remote_runtime<F>(future: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    runtime().map_err(|e| e.to_string())?.spawn(async move {
        // The caller waits for this answer; nothing to do if it stopped waiting.
        let _ = send.send(future.await);
    });
    receive
        .recv()
        .map_err(|_| "the runtime for remote calls stopped before the call ended".to_owned())
}
