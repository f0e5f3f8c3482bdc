//! `wasi:config/store`, served per component: each component gets the values of its own
//! `[components.NAME.config]` table and nothing else.
//!
//! `wasi:config/store` is an unlabelled host interface: every component imports it under
//! the same name, and the answer depends on who asks. So it is defined per component,
//! with [`compose_linker::WorkloadLinker::component_host`], by closures holding that
//! component's values. Not `wasmtime-wasi-config`: its `add_to_linker` reaches the values
//! through a `fn` pointer over the store data, which cannot tell which component calls,
//! and its generated types are private; the types come from `bindgen!` over the same WIT.
//!
//! Served at `0.2.0-draft` (the version wasmCloud and the fixtures use) and `0.2.0-rc.1`
//! (Wasmtime's `wasmtime-wasi-config` 48): the same functions and types.

use compose_linker::{LookupError, WorkloadLinker};
use indexmap::IndexMap;
use std::sync::Arc;
use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-config",
        world: "wasi:config/imports",
    });
}

/// The `error` variant of `wasi:config/store` (`upstream(string)`, `io(string)`).
pub use bindings::wasi::config::store::Error as ConfigError;

/// The versions of `wasi:config/store` served.
pub const VERSIONS: &[&str] = &["0.2.0-draft", "0.2.0-rc.1"];

/// The interfaces served, `wasi:config/store@<version>` for each of [`VERSIONS`].
pub fn interfaces() -> Vec<String> {
    VERSIONS
        .iter()
        .map(|v| format!("wasi:config/store@{v}"))
        .collect()
}

/// One component's configuration: keys and values in the order written.
pub type Values = IndexMap<String, String>;

/// Defines `wasi:config/store` for each component of `configs` (component name and its
/// values), each seeing only its own values. Give every component of the plan that may
/// import the interface, with empty values when it has no configuration.
///
/// # Errors
/// [`LookupError::UnknownComponent`] for a name that is not a component of the plan.
pub fn define_for_components<'a, T: 'static>(
    linker: &mut WorkloadLinker<'_, T>,
    configs: impl IntoIterator<Item = (&'a str, Values)>,
) -> Result<(), LookupError> {
    for (component, values) in configs {
        let values = Arc::new(values);
        linker.component_host(component, move |linker| define(linker, values.clone()))?;
    }
    Ok(())
}

/// Defines `wasi:config/store` (every served version) in `linker`, answering from
/// `values`.
///
/// # Errors
/// Wasmtime's, when an instance of that name is defined and shadowing is off.
pub fn define<T: 'static>(linker: &mut Linker<T>, values: Arc<Values>) -> wasmtime::Result<()> {
    for version in VERSIONS {
        let mut instance = linker.instance(&format!("wasi:config/store@{version}"))?;
        let get = values.clone();
        instance.func_wrap(
            "get",
            move |_cx: StoreContextMut<'_, T>, (key,): (String,)| {
                Ok((Ok::<_, ConfigError>(get.get(&key).cloned()),))
            },
        )?;
        let all = values.clone();
        instance.func_wrap("get-all", move |_cx: StoreContextMut<'_, T>, (): ()| {
            let pairs: Vec<(String, String)> =
                all.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            Ok((Ok::<_, ConfigError>(pairs),))
        })?;
    }
    Ok(())
}
