//! Host plugins: what serves a named backend (`[host.backends.LABEL]`). The framework
//! ([`BackendPlugin`], [`HostView`]) and the errors a backend reports, the registry of a
//! host's plugins ([`Plugins`]), the checks of a backend's keys ([`KeyRule`]), and the
//! built-in key-value plugins `memory`, (with the `postgres` feature) `postgres` and (with
//! the `wrpc` feature) `wrpc`.

mod framework;
mod keys;
pub(crate) mod keyvalue;
pub(crate) mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "postgres")]
mod postgres_tls;
mod registry;
#[cfg(feature = "wrpc")]
pub(crate) mod wrpc;

pub use framework::{BackendError, BackendPlugin, HostView, Unavailable};
pub use keys::{KeyRule, KeyType, env_var_name, validate_keys};
pub use registry::Plugins;
