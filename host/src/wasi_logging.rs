//! `wasi:logging/logging@0.1.0-draft`, served per component: each log call of a guest
//! becomes a `tracing` event of target [`GUEST_TARGET`] naming the component that made it.
//!
//! Like `wasi:config/store` ([`crate::wasi_config`]), the interface is unlabelled and the
//! host must know who calls: so it is defined per component, with
//! [`compose_linker::WorkloadLinker::component_host`], by a closure holding the component's
//! name. The types come from `bindgen!` over the vendored WIT
//! (`wit/deps/wasi-logging`, from github.com/WebAssembly/wasi-logging), at the version
//! wasmCloud serves and wit-bindgen guests import.
//!
//! The event's level is the guest's (`critical` is `ERROR` with the field `critical =
//! true`, tracing having no level above `ERROR`); its fields are `component`, `context`
//! and `message`. With OTLP export on, it is an event of the span current when the guest
//! logged: the `compose.call` that reached the component (docs/tracing.md).

use compose_linker::{LookupError, WorkloadLinker};
use std::sync::Arc;
use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-logging",
        world: "wasi:logging/imports",
    });
}

/// The `level` enum of `wasi:logging/logging` (`trace` … `critical`).
pub use bindings::wasi::logging::logging::Level;

/// The interface served.
pub const INTERFACE: &str = "wasi:logging/logging@0.1.0-draft";

/// The target of the events guests' log calls become.
pub const GUEST_TARGET: &str = "compose::guest";

/// Defines `wasi:logging/logging` for each component named in `components`, each call
/// an event naming that component. Give the components of the plan that import it.
///
/// # Errors
/// [`LookupError::UnknownComponent`] for a name that is not a component of the plan.
pub fn define_for_components<'a, T: 'static>(
    linker: &mut WorkloadLinker<'_, T>,
    components: impl IntoIterator<Item = &'a str>,
) -> Result<(), LookupError> {
    for component in components {
        let name: Arc<str> = component.into();
        linker.component_host(component, move |linker| define(linker, name.clone()))?;
    }
    Ok(())
}

/// Defines `wasi:logging/logging` in `linker`, its calls logged as `component`'s
/// ([`log`]).
///
/// # Errors
/// Wasmtime's, when an instance of that name is defined and shadowing is off.
pub fn define<T: 'static>(linker: &mut Linker<T>, component: Arc<str>) -> wasmtime::Result<()> {
    let mut instance = linker.instance(INTERFACE)?;
    instance.func_wrap(
        "log",
        move |_cx: StoreContextMut<'_, T>, (level, context, message): (Level, String, String)| {
            log(&component, level, &context, &message);
            Ok(())
        },
    )
}

/// Emits one guest log call as a `tracing` event of target [`GUEST_TARGET`]: `trace` …
/// `error` at the same level, `critical` at `ERROR` with `critical = true`.
pub fn log(component: &str, level: Level, context: &str, message: &str) {
    macro_rules! event {
        ($level:expr $(, $extra:ident = $value:expr)?) => {
            tracing::event!(
                target: GUEST_TARGET,
                $level,
                component,
                context,
                message
                $(, $extra = $value)?
            )
        };
    }
    match level {
        Level::Trace => event!(tracing::Level::TRACE),
        Level::Debug => event!(tracing::Level::DEBUG),
        Level::Info => event!(tracing::Level::INFO),
        Level::Warn => event!(tracing::Level::WARN),
        Level::Error => event!(tracing::Level::ERROR),
        Level::Critical => event!(tracing::Level::ERROR, critical = true),
    }
}
