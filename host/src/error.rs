//! Why a workload cannot be linked, run or called on this host: [`HostError`], with the
//! error that caused it kept as its source.

use crate::invoke::InvalidCall;
use crate::plugin::BackendError;
use compose_linker::{BoxError, BuildError, CallError, InstantiateError, LookupError};
use std::fmt;
use wasmtime::component::wasm_wave;

/// Why a workload cannot be linked or a call failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Backends that cannot be served, all of them.
    #[error("{}", Backends(.0))]
    Backends(Vec<BackendError>),
    /// The call expression does not parse.
    #[error(transparent)]
    InvalidCall(#[from] InvalidCall),
    /// The arguments do not fit the function's parameters.
    #[error("invalid arguments for {function}: expected {signature}: {reason}")]
    InvalidArguments {
        /// The function.
        function: String,
        /// Its signature.
        signature: String,
        /// What WAVE said.
        reason: String,
    },
    /// No such component, export or function.
    #[error(transparent)]
    Lookup(Box<LookupError>),
    /// Compiling or linking failed.
    #[error(transparent)]
    Build(Box<BuildError>),
    /// An eager component failed to instantiate.
    #[error(transparent)]
    Instantiate(Box<InstantiateError>),
    /// The call trapped or failed.
    #[error(transparent)]
    Call(Box<CallError>),
    /// Wasmtime refused the engine's configuration (or the deadline thread did not start).
    #[error("cannot create the engine")]
    Engine(#[source] BoxError),
    /// Defining what the host serves (`what`: WASI 0.2, `wasi:http`, …) in the workload's
    /// linker failed.
    #[error("cannot define {what} in the workload's linker")]
    Define {
        /// What was being defined.
        what: &'static str,
        /// Wasmtime's error.
        #[source]
        source: BoxError,
    },
    /// The workload is to be linked composed, but its components' grants differ
    /// ([`compose_resolver::Problem::GrantsDiffer`], pointing at the `allow` table).
    #[error("{}", .0.problem)]
    GrantsDiffer(Box<compose_resolver::Diagnostic>),
    /// The workload is to be linked composed, but a remote serves one of its imports
    /// ([`compose_resolver::Problem::RemoteNotComposable`], pointing at the remote).
    #[error("{}", .0.problem)]
    RemoteNotComposable(Box<compose_resolver::Diagnostic>),
    /// A component's WASI context cannot be built from its grants.
    #[error(transparent)]
    Grants(#[from] crate::grants::GrantError),
    /// The tokio runtime that a workload with async functions runs on cannot start.
    #[error("cannot start an async runtime")]
    Runtime(#[source] std::io::Error),
    /// A call's result cannot be written in WAVE.
    #[error("cannot print the result")]
    PrintResult(#[source] wasm_wave::writer::WriterError),
}

impl HostError {
    /// [`HostError::Define`] of `what`, for `map_err`.
    pub(crate) fn define(what: &'static str) -> impl FnOnce(wasmtime::Error) -> Self {
        move |e| Self::Define {
            what,
            source: e.into_boxed_dyn_error(),
        }
    }
}

/// Boxed: the linker's errors are large, and errors travel through every `?`.
macro_rules! boxed_from {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for HostError {
            fn from(error: $ty) -> Self {
                Self::$variant(Box::new(error))
            }
        }
    )*};
}
boxed_from!(
    Lookup(LookupError),
    Build(BuildError),
    Instantiate(InstantiateError),
    Call(CallError)
);

/// Every backend error, one per line.
struct Backends<'a>(&'a [BackendError]);

impl fmt::Display for Backends<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
