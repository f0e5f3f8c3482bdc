//! The tokio runtimes compose-host starts: a single-threaded one for a call or a command
//! of a workload with async functions (its store runs concurrently,
//! `Store::run_concurrent`, and WASI 0.3's streams need a runtime to drive them), and the
//! multi-threaded one `compose serve` serves on.

use crate::error::HostError;
use tokio::runtime::{Builder, Runtime};

/// A new single-threaded runtime with I/O and time, for one call or command.
///
/// # Errors
/// [`HostError::Runtime`] when it cannot start.
pub(crate) fn current_thread() -> Result<Runtime, HostError> {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(HostError::Runtime)
}

/// Runs `future` to completion on a new [`current_thread`] runtime.
///
/// # Errors
/// [`HostError::Runtime`] when the runtime cannot start; else the future's own error.
pub(crate) fn block_on<R, E>(future: impl Future<Output = Result<R, E>>) -> Result<R, HostError>
where
    HostError: From<E>,
{
    Ok(current_thread()?.block_on(future)?)
}

/// A new multi-threaded runtime with I/O and time, one worker per core: what
/// `compose serve` serves on.
///
/// # Errors
/// The operating system's, when it cannot start.
#[cfg(feature = "serve")]
pub(crate) fn multi_thread() -> std::io::Result<Runtime> {
    Builder::new_multi_thread().enable_all().build()
}
