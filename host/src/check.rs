//! `compose check`: whether this host can serve a resolved workload's backends now.

use crate::plugin::{BackendError, HostView, Plugins};
use compose_resolver::Plan;

/// Checks every backend of `plan` against `plugins`: the plugin exists, accepts the
/// configuration and can serve it now (for `postgres`: the variable is set, the login
/// works, the role may read and write its table). Returns every backend that cannot be
/// served, not just the first (empty: all can). What the resolver checks (with
/// [`Plugins::profile`]) is checked before, by resolving.
pub fn check<T: HostView>(plan: &Plan, plugins: &Plugins<T>) -> Vec<BackendError> {
    plugins.check(plan.host.backends.values())
}
