//! Compiled code size per component: what Wasmtime keeps in memory for each component's
//! code, once per process however many calls run.

use compose_linker::CompileOptions;
use compose_resolver::Plan;

/// The bytes of compiled code of each component of `plan`, in plan order: the length of
/// the image Wasmtime maps for the compiled component (`Component::image_range`: machine
/// code, trampolines and their metadata), compiled for the engine the linker configures
/// for this plan ([`compose_linker::config_for`]) through `compile`'s cache, so a later
/// `compose run` or `compose serve` finds the entries made here.
///
/// # Errors
/// Wasmtime's, when the engine cannot be made or a component does not compile, with the
/// component's name.
pub fn compiled_sizes(plan: &Plan, compile: &CompileOptions) -> Result<Vec<u64>, CompileError> {
    let engine = wasmtime::Engine::new(&compose_linker::config_for(plan))
        .map_err(|e| CompileError::new("the engine", e))?;
    plan.components
        .iter()
        .map(|c| {
            let compiled = compile
                .compile(&engine, &c.name, &c.ty.bytes)
                .map_err(|e| CompileError::new(&format!("component `{}`", c.name), e))?;
            let image = compiled.image_range();
            let bytes = image.end.addr().saturating_sub(image.start.addr());
            Ok(u64::try_from(bytes).unwrap_or(u64::MAX))
        })
        .collect()
}

/// Why [`compiled_sizes`] failed: what could not be made, and Wasmtime's error.
#[derive(Debug, thiserror::Error)]
#[error("{what} does not compile: {reason}")]
pub struct CompileError {
    what: String,
    reason: String,
}

impl CompileError {
    fn new(what: &str, error: wasmtime::Error) -> Self {
        Self {
            what: what.to_owned(),
            reason: format!("{error:#}"),
        }
    }
}
