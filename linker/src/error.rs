//! The errors of each operation: building, instantiating, looking up and calling.

use std::fmt;
use std::time::Duration;

/// An error from Wasmtime or from a host function, with its chain of causes.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

pub(crate) fn boxed(error: wasmtime::Error) -> BoxError {
    error.into_boxed_dyn_error()
}

/// A function of a component, as errors name it: `interface#function`, or the plain name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncName {
    /// The interface (the import or export name of the instance), or `None` for a function
    /// imported or exported under a plain name.
    pub interface: Option<String>,
    /// The function's name inside the interface (`get`, `[method]session.user`).
    pub function: String,
}

impl fmt::Display for FuncName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.interface {
            Some(interface) => write!(f, "{interface}#{}", self.function),
            None => f.write_str(&self.function),
        }
    }
}

/// Why [`WorkloadLinker::compile`](crate::WorkloadLinker::compile) failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Wasmtime could not compile a component file.
    #[error("workload `{workload}`: compiling component `{component}` failed")]
    Compile {
        /// The workload.
        workload: String,
        /// The first workload component that uses the file.
        component: String,
        /// Wasmtime's error.
        #[source]
        source: BoxError,
    },
    /// A component's import cannot be linked: a host interface or backend the host linker
    /// does not define, or a type mismatch.
    #[error("workload `{workload}`: linking component `{component}` failed")]
    Link {
        /// The workload.
        workload: String,
        /// The component whose imports could not be satisfied.
        component: String,
        /// Wasmtime's error, which names the import.
        #[source]
        source: BoxError,
    },
    /// An import that the plan binds to another component is not an instance or a function
    /// (a type, module, component or value import), which the linker cannot forward.
    #[error(
        "workload `{workload}`: import `{import}` of `{component}` is bound to `{server}`, but only instances and functions can be forwarded between components ({reason})"
    )]
    Unsupported {
        /// The workload.
        workload: String,
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The serving component.
        server: String,
        /// What is not supported.
        reason: String,
    },
    /// The plan names an export or function that the serving component does not have
    /// (the plan does not belong to these component bytes).
    #[error(
        "workload `{workload}`: `{server}` has no export `{export}` that `{component}`'s import `{import}` needs"
    )]
    MissingExport {
        /// The workload.
        workload: String,
        /// The importing component.
        component: String,
        /// The import.
        import: String,
        /// The serving component.
        server: String,
        /// The missing export (`interface#function` or a name).
        export: String,
    },
    /// A backend registered with [`WorkloadLinker::backend`](crate::WorkloadLinker::backend)
    /// failed to define its functions.
    #[error("workload `{workload}`: defining backend `{label}` failed")]
    Backend {
        /// The workload.
        workload: String,
        /// The backend's label.
        label: String,
        /// The error the backend's definition returned.
        #[source]
        source: BoxError,
    },
}

/// Why [`CompiledWorkload::instantiate`](crate::CompiledWorkload::instantiate) failed.
#[derive(Debug, thiserror::Error)]
pub enum InstantiateError {
    /// The store's [`WorkloadState`](crate::WorkloadState) was made by another workload.
    #[error("the store's WorkloadState was not made by workload `{workload}`'s `new_state`")]
    ForeignState {
        /// The workload.
        workload: String,
    },
    /// An eager component failed to instantiate.
    #[error("workload `{workload}`: instantiating eager component `{component}` failed")]
    Instantiate {
        /// The workload.
        workload: String,
        /// The component.
        component: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// Why [`CompiledWorkload::func`](crate::CompiledWorkload::func) or
/// [`CompiledWorkload::component_func`](crate::CompiledWorkload::component_func) found no
/// function.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No workload component has this name.
    #[error("workload `{workload}` has no component `{component}` (components: {})", available.join(", "))]
    UnknownComponent {
        /// The workload.
        workload: String,
        /// The name asked for.
        component: String,
        /// The workload's components.
        available: Vec<String>,
    },
    /// No export (of the workload, or of the component) has this name.
    #[error("{owner} has no export `{export}` (exports: {})", available.join(", "))]
    UnknownExport {
        /// `workload `shop`` or `component `frontend``.
        owner: String,
        /// The name asked for.
        export: String,
        /// The exports there are.
        available: Vec<String>,
    },
    /// The name matches several exports (semver-compatible versions, or one short name of
    /// several interfaces): the caller must say which.
    #[error("{owner} has several exports that `{export}` could name: {}; give the full name", matching.join(", "))]
    AmbiguousExport {
        /// `workload `shop`` or `component `frontend``.
        owner: String,
        /// The name asked for.
        export: String,
        /// The exports it matches.
        matching: Vec<String>,
    },
    /// The export is an instance but has no function of this name, or is not a function.
    #[error("{owner}: export `{export}` has no function `{function}` (functions: {})", available.join(", "))]
    UnknownFunction {
        /// `workload `shop`` or `component `frontend``.
        owner: String,
        /// The export.
        export: String,
        /// The function asked for.
        function: String,
        /// The functions the export has.
        available: Vec<String>,
    },
}

/// Why a call into the workload failed: a call made by the host through
/// [`CompiledWorkload::call`](crate::CompiledWorkload::call), or a call from one component
/// to another through a trampoline (returned to the calling component as a trap, and so to
/// the host inside the chain of causes of the outer call's error).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The store's [`WorkloadState`](crate::WorkloadState) was made by another workload.
    #[error("the store's WorkloadState was not made by workload `{workload}`'s `new_state`")]
    ForeignState {
        /// The workload.
        workload: String,
    },
    /// The serving component could not be instantiated.
    #[error("workload `{workload}`: instantiating `{component}` to call {func} failed")]
    Instantiate {
        /// The workload.
        workload: String,
        /// The component.
        component: String,
        /// The function the call was for.
        func: Box<FuncName>,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The serving instance is already on the call stack (directly or through other
    /// components): calling it would re-enter it, which the component model forbids.
    #[error(
        "workload `{workload}`: `{caller}` calls {func} of `{component}`, which is already on the call stack; the component model forbids re-entering an instance"
    )]
    Reentrance {
        /// The workload.
        workload: String,
        /// The component making the call (`host` for the host).
        caller: String,
        /// The component that would be re-entered.
        component: String,
        /// The function called.
        func: Box<FuncName>,
    },
    /// The callee trapped or returned an error. Its instance is discarded: the next call
    /// instantiates a fresh one.
    #[error("workload `{workload}`: {func} of `{component}` (called by `{caller}`) failed")]
    Trap {
        /// The workload.
        workload: String,
        /// The component making the call (`host` for the host).
        caller: String,
        /// The serving component.
        component: String,
        /// The function.
        func: Box<FuncName>,
        /// The trap or error, with its causes.
        #[source]
        source: BoxError,
    },
    /// An earlier call in this store trapped, and Wasmtime enters no component instance
    /// of a store after a trap: the host must run further calls in a new store.
    #[error(
        "workload `{workload}`: cannot call {func} of `{component}`: this store is poisoned since {trap_func} of `{trap_component}` failed (Wasmtime enters no component instance of a store after a trap); run the next call in a new store"
    )]
    Poisoned {
        /// The workload.
        workload: String,
        /// The component called.
        component: String,
        /// The function called.
        func: Box<FuncName>,
        /// The component whose call failed first.
        trap_component: String,
        /// The function whose call failed first.
        trap_func: Box<FuncName>,
    },
    /// A resource handle passed to `component` belongs to an instance of it that has
    /// since trapped and been replaced.
    #[error(
        "workload `{workload}`: a `{resource}` handle passed to {func} belongs to an instance of `{component}` that trapped"
    )]
    StaleHandle {
        /// The workload.
        workload: String,
        /// The serving component.
        component: String,
        /// The resource type's name.
        resource: String,
        /// The function called.
        func: Box<FuncName>,
    },
}

impl CallError {
    /// The innermost call error in this error's chain of causes: where a failure that
    /// crossed several components started (a trap in a component called through others,
    /// the component whose deadline passed or whose memory cap was hit).
    pub fn innermost(&self) -> &CallError {
        let mut innermost = self;
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            if let Some(call) = error.downcast_ref::<CallError>() {
                innermost = call;
            }
            cause = error.source();
        }
        innermost
    }

    /// The function the failed call was for, if the error names one.
    pub fn func(&self) -> Option<&FuncName> {
        match self {
            CallError::ForeignState { .. } => None,
            CallError::Instantiate { func, .. }
            | CallError::Reentrance { func, .. }
            | CallError::Trap { func, .. }
            | CallError::Poisoned { func, .. }
            | CallError::StaleHandle { func, .. } => Some(func),
        }
    }

    /// Whether the call failed because its deadline passed ([`Deadlines`](crate::Deadlines)).
    pub fn is_deadline(&self) -> bool {
        self.cause::<crate::DeadlineExceeded>().is_some()
    }

    /// The memory cap that failed the call, if a component's growth past its `max-memory`
    /// did ([`MemoryLimitExceeded`](crate::MemoryLimitExceeded) among the causes).
    pub fn memory_limit(&self) -> Option<&crate::MemoryLimitExceeded> {
        self.cause()
    }

    /// The failed call to a remote that trapped the call, if one did
    /// ([`RemoteCallError`] among the causes): it names the remote,
    /// its address and the function.
    pub fn remote(&self) -> Option<&RemoteCallError> {
        self.cause()
    }

    fn cause<E: std::error::Error + 'static>(&self) -> Option<&E> {
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            if let Some(found) = error.downcast_ref::<E>() {
                return Some(found);
            }
            cause = error.source();
        }
        None
    }

    /// The workload component that failed (or would have been re-entered), if any.
    pub fn component(&self) -> Option<&str> {
        match self {
            CallError::ForeignState { .. } => None,
            CallError::Instantiate { component, .. }
            | CallError::Reentrance { component, .. }
            | CallError::Trap { component, .. }
            | CallError::Poisoned { component, .. }
            | CallError::StaleHandle { component, .. } => Some(component),
        }
    }
}

/// Why a call to a remote failed: the error inside the trap its caller gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "workload `{workload}`: calling `{function}` on remote `{remote}` at {url} failed: {cause}"
)]
pub struct RemoteCallError {
    /// The workload.
    pub workload: String,
    /// The remote (its name in `[remotes]`).
    pub remote: String,
    /// Its address (`tcp://HOST:PORT`, `unix:///path`).
    pub url: String,
    /// The function called.
    pub function: FuncName,
    /// What went wrong.
    pub cause: RemoteFailure,
}

/// What went wrong in one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteFailure {
    /// No connection: the address refuses, does not resolve or cannot be reached.
    Unreachable(String),
    /// The invocation did not end before the remote timeout.
    Deadline(Duration),
    /// The connection broke, or the remote closed it before answering (as a wRPC server
    /// does for a function it does not serve).
    Broken(String),
    /// The remote answered bytes that are not the results' encoding.
    Malformed(String),
    /// The parameters could not be encoded (a type wRPC cannot carry), or the linker's
    /// runtime could not start.
    Local(String),
}

impl fmt::Display for RemoteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteFailure::Unreachable(why) => write!(f, "cannot connect: {why}"),
            RemoteFailure::Deadline(after) => {
                write!(f, "no answer within {}", humanize(*after))
            }
            RemoteFailure::Broken(why) => write!(f, "the connection broke: {why}"),
            RemoteFailure::Malformed(why) => write!(f, "the answer is not the results: {why}"),
            RemoteFailure::Local(why) => f.write_str(why),
        }
    }
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
