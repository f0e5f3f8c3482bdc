//! What a host counts of a workload's calls and instantiations (`compose serve --metrics`),
//! told by the linker at the sites of its spans ([`crate::trace`]): the same calls, the
//! same outcomes, but without a `tracing` subscriber and without formatting a name per
//! call. The host makes one [`Observe`] per route, per function it looks up and per
//! component when the workload is linked ([`Meter`]); each call then costs two clock reads
//! and what the observer does.

use crate::error::{CallError, InstantiateError};
use crate::limits::is_deadline;
use std::sync::Arc;
use std::time::Duration;

/// Makes the observers of a workload's calls and instantiations; given to
/// [`WorkloadLinker::meter`](crate::WorkloadLinker::meter).
pub trait Meter: Send + Sync + std::fmt::Debug + 'static {
    /// The observer of calls into `component`'s `interface` (its export's name; `None`
    /// for a function exported under a plain name). Asked once per route between
    /// components when the workload is linked, and once per function the host looks up
    /// ([`CompiledWorkload::func`](crate::CompiledWorkload::func)); it may be asked for
    /// the same names more than once.
    fn calls(&self, component: &str, interface: Option<&str>) -> Arc<dyn Observe>;

    /// The observer of instantiations of `component` (a fused cluster's instantiation is
    /// told to the observer of the member it was instantiated for).
    fn instantiations(&self, component: &str) -> Arc<dyn Observe>;
}

/// Told of each call or instantiation when it ends.
pub trait Observe: Send + Sync + std::fmt::Debug + 'static {
    /// One call or instantiation took `took` (wall-clock, from the trampoline's entry to
    /// its return: calls and instantiations it made included) and ended with `outcome`.
    fn observe(&self, took: Duration, outcome: Outcome);
}

/// How a call or instantiation ended, as its span's `outcome` says (docs/tracing.md),
/// with a failure told once: where it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It returned.
    Ok,
    /// It failed in this component: a trap, or any other failure of the call itself.
    Trap,
    /// Its deadline passed while this component ran.
    Deadline,
    /// It failed because a call or instantiation it made failed; that one was told
    /// [`Outcome::Trap`] or [`Outcome::Deadline`].
    Below,
}

impl Outcome {
    /// The outcome of a call or instantiation that ended with `error`: [`Outcome::Below`]
    /// when the chain of causes holds the error of another call or instantiation (a
    /// trampoline's failure travels up through its caller's trap as its cause), else
    /// [`Outcome::Deadline`] when a cause says a deadline passed, else [`Outcome::Trap`].
    pub(crate) fn of_failure(error: &(dyn std::error::Error + 'static)) -> Self {
        if matches!(error.downcast_ref(), Some(CallError::Instantiate { .. })) {
            return Self::Below;
        }
        let mut deadline = is_deadline(error);
        let mut source = error.source();
        while let Some(cause) = source {
            if cause.is::<CallError>() || cause.is::<InstantiateError>() {
                return Self::Below;
            }
            deadline |= is_deadline(cause);
            source = cause.source();
        }
        if deadline { Self::Deadline } else { Self::Trap }
    }
}
