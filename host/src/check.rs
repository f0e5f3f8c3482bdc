//! `compose check`: whether this host can serve a resolved workload's backends now, and
//! reach its remotes.

use crate::plugin::{BackendError, HostView, Plugins};
use compose_resolver::{Diagnostic, Plan, Problem, RemoteUrl};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Checks every backend of `plan` against `plugins`: the plugin exists, accepts the
/// configuration and can serve it now (for `postgres`: the variable is set, the login
/// works, the role may read and write its table). Returns every backend that cannot be
/// served, not just the first (empty: all can). What the resolver checks (with
/// [`Plugins::profile`]) is checked before, by resolving.
pub fn check<T: HostView>(plan: &Plan, plugins: &Plugins<T>) -> Vec<BackendError> {
    plugins.check(plan.host.backends.values())
}

/// Connects once to every remote of `plan` (a TCP or Unix socket connection, closed at
/// once: no invocation is sent), each within `timeout`. Returns a
/// [`Problem::RemoteUnreachable`] at the `[remotes]` entry of each remote that does not
/// accept (empty: all do).
pub fn check_remotes(plan: &Plan, timeout: Duration) -> Vec<Diagnostic> {
    plan.remotes
        .iter()
        .filter_map(|remote| {
            let reason = connect(&remote.url, timeout).err()?;
            let problem = Problem::RemoteUnreachable {
                remote: remote.name.clone(),
                url: remote.url.to_string(),
                reason,
            };
            let diagnostic = Diagnostic::new(problem, plan.source.as_ref(), remote.span.clone());
            Some(diagnostic.with_label("this remote"))
        })
        .collect()
}

/// Opens (and closes) one connection to `url` (a remote's, or a `wrpc` backend's), each
/// address within `timeout`; the error says why it failed.
pub(crate) fn connect(url: &RemoteUrl, timeout: Duration) -> Result<(), String> {
    match url {
        RemoteUrl::Tcp { host, port } => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let addrs = (host, *port).to_socket_addrs().map_err(|e| e.to_string())?;
            let mut last = format!("`{host}` resolves to no address");
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, timeout) {
                    Ok(_) => return Ok(()),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(last)
        }
        #[cfg(unix)]
        RemoteUrl::Unix(path) => std::os::unix::net::UnixStream::connect(path)
            .map(drop)
            .map_err(|e| e.to_string()),
        #[cfg(not(unix))]
        RemoteUrl::Unix(_) => Err("Unix sockets are not available on this system".into()),
    }
}
