//! `compose check`: whether this host can serve a resolved workload now.

use crate::interfaces;
use crate::plugin::{BackendError, HostView};
use crate::plugins::Plugins;
use crate::provisional::HostSection;

/// What `compose check` found: everything that keeps the host from serving the workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// `[host] interfaces` entries this host does not serve.
    pub unserved_interfaces: Vec<String>,
    /// Every backend that cannot be served now, with its label and the cause.
    pub backends: Vec<BackendError>,
}

impl CheckReport {
    /// Whether the host can serve everything.
    pub fn is_ok(&self) -> bool {
        self.unserved_interfaces.is_empty() && self.backends.is_empty()
    }
}

/// Checks `host` against this host: every interface is served, and every backend's
/// plugin exists, accepts its configuration and can serve it now (for `postgres`: the
/// variable is set, the login works, the role may read and write its table). Every
/// failure is reported, not just the first.
pub fn check<T: HostView>(host: &HostSection, plugins: &Plugins<T>) -> CheckReport {
    CheckReport {
        unserved_interfaces: host
            .interfaces
            .iter()
            .filter(|i| !interfaces::serves(i))
            .cloned()
            .collect(),
        backends: plugins.check(host.backends.values()),
    }
}
