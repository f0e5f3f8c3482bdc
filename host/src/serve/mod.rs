//! `compose serve`: serves a workload that exports `wasi:http/incoming-handler@0.2.x` (or
//! WASI 0.3's `wasi:http/handler@0.3.x`, [`HANDLER`]) over HTTP/1.1,
//! as `wasmtime serve` does, with the workload linked at run time.
//!
//! One compiled workload serves every request on every thread; each request gets its own
//! store, a task on the tokio runtime's worker threads (the workload is linked for async
//! calls, [`compose_linker::Execution::Async`]), in which the components are instantiated
//! lazily — only the ones the request reaches. A WASI 0.3 handler's store serves several
//! requests, as `wasmtime serve` reuses its instances ([`Reuse`]). A trap, a passed deadline or a component's memory cap ends that
//! request with status 500 and one log line naming the workload, the component, the
//! interface and the function where it started; the next request gets fresh instances.
//!
//! Each line a guest writes to its standard output or error is prefixed with the stream,
//! the request's id and the component (`stdout [7] greeter :: hello`).
//!
//! Guests make outgoing HTTP requests to the origins their grants allow (deny by
//! default, [`outgoing`]); every other one is answered `HTTP-request-denied`.

mod client_span;
mod handler;
mod log;
pub mod outgoing;
mod output;
mod p2;
mod p3;
mod reuse;
mod server;
mod state;

pub use client_span::CLIENT_SPAN;
pub use handler::{HttpWorkload, MAX_CONCURRENT_REQUESTS, ServeError, ServeOptions};
pub use log::{Logger, RequestFailure, RequestLog};
pub use p2::INCOMING_HANDLER;
pub use p3::HANDLER;
pub use reuse::Reuse;
pub(crate) use server::release;
pub use server::{Server, Shutdown, serve_until_signal, shutdown_signal};
pub use state::ServeState;

/// What `compose serve` serves beyond what every compose-host host does, as `[host]
/// interfaces` patterns: `wasi:http` 0.2 and 0.3 (for a resolver's
/// [`HostProfile`](compose_resolver::HostProfile)).
pub const SERVED: &[&str] = &["wasi:http/*@0.2.0", "wasi:http/*@0.3.0"];
