//! The HTTP/1.1 server (hyper on tokio) that answers each request with an
//! [`HttpWorkload`], and its graceful shutdown on SIGINT or SIGTERM.

use super::handler::{HttpWorkload, ServeError};
use crate::wrpc::{Callee, WrpcExports, WrpcServer};
use hyper::server::conn::http1;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use wasmtime_wasi_http::io::TokioIo;

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

    /// The workload's exports, to be served over wRPC on `addr` beside this server.
    pub fn wrpc_exports(&self, addr: SocketAddr) -> WrpcExports {
        WrpcExports {
            callee: Callee::Http(self.workload.clone()),
            plan: self.workload.plan(),
            addr,
        }
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
        let grace = self.workload.grace();
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

/// Completes on SIGINT or SIGTERM (Ctrl-C elsewhere). The handlers are installed when
/// this is called (inside a tokio runtime), not when the future is first polled: call it
/// before telling anyone the server listens, or a signal sent right after that kills the
/// process (the default action) instead of shutting it down.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            tokio::select! {
                () = received(term.as_mut()) => {}
                () = received(interrupt.as_mut()) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        let ctrl_c = tokio::signal::ctrl_c();
        async move {
            let _ = ctrl_c.await;
        }
    }
}

/// Completes when `signal` is received; never without a handler.
#[cfg(unix)]
async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Serves `workload` on `addr` until SIGINT or SIGTERM, on a new multi-threaded tokio
/// runtime, and its exports over wRPC on `wrpc` beside it when given (the same compiled
/// workload, each invocation in a store made as a request's); `on_listen` is told the
/// bound addresses (HTTP, wRPC) first. At the signal both stop accepting and share one
/// grace period ([`ServeOptions::grace`](super::ServeOptions)). What `compose serve` runs.
///
/// Requests still running past the grace period are abandoned: their threads are left in
/// the runtime, which is not shut down under them (that would panic them), and end with
/// the process.
///
/// # Errors
/// The runtime cannot start, an address cannot be bound, or
/// [`WrpcServer::start`] fails ([`ServeError::Wrpc`]).
pub fn serve_until_signal(
    workload: HttpWorkload,
    addr: SocketAddr,
    wrpc: Option<SocketAddr>,
    on_listen: impl FnOnce(SocketAddr, Option<SocketAddr>),
) -> Result<Shutdown, ServeError> {
    let runtime = crate::runtime::multi_thread().map_err(ServeError::Runtime)?;
    let shutdown = runtime.block_on(async move {
        let server = Server::bind(workload, addr).await?;
        let grace = server.workload.grace();
        let beside = match wrpc {
            Some(addr) => Some(server.wrpc_exports(addr).start().await?),
            None => None,
        };
        let signalled_shutdown = shutdown_signal();
        on_listen(
            server.local_addr(),
            beside.as_ref().map(WrpcServer::local_addr),
        );
        let (stop, stopped) = watch::channel(false);
        let signal = async move {
            signalled_shutdown.await;
            let _ = stop.send(true);
        };
        let wrpc = async {
            match beside {
                Some(server) => server.run(signalled(stopped.clone()), grace).await,
                None => Shutdown { drained: true },
            }
        };
        let ((), http, wrpc) = tokio::join!(signal, server.run(signalled(stopped.clone())), wrpc);
        Ok(Shutdown {
            drained: http.drained && wrpc.drained,
        })
    });
    release(runtime, &shutdown);
    shutdown
}

/// Ends `runtime` after a server's run ended as `shutdown`: shut down when everything
/// drained; else left running, to end with the process. Handlers or invocations still
/// running past the grace period (blocked in a host call, or without a deadline) keep
/// their threads inside the runtime (wasmtime-wasi's clock waits, a plugin's query), and
/// shutting it down under them panics them ("a Tokio 1.x context was found, but it is
/// being shutdown").
pub(crate) fn release<E>(runtime: tokio::runtime::Runtime, shutdown: &Result<Shutdown, E>) {
    match shutdown {
        Ok(Shutdown { drained: true }) => drop(runtime),
        _ => std::mem::forget(runtime),
    }
}

/// Completes once `stop` holds `true`.
async fn signalled(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
