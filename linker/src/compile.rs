//! Compiling a workload's components (and the compositions of its fused clusters):
//! through a [`CodeCache`] when there is one, telling an observer about each compilation
//! that really runs, so that a front end can show progress on slow ones.

use crate::cache::CodeCache;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A compilation of one component (a cache hit is none), as [`CompileOptions::observer`]
/// is told of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileEvent<'a> {
    /// Cranelift starts compiling `component` (`bytes` long, in bytes).
    Started {
        /// The workload component, or the members of a fused cluster (`frontend, formatter`).
        component: &'a str,
        /// The size of its binary.
        bytes: usize,
    },
    /// It is compiled, after `elapsed`.
    Finished {
        /// As in [`CompileEvent::Started`].
        component: &'a str,
        /// How long compiling took.
        elapsed: Duration,
    },
}

/// What is told of each compilation.
pub type CompileObserver = Arc<dyn Fn(&CompileEvent<'_>) + Send + Sync>;

/// How a [`WorkloadLinker`](crate::WorkloadLinker) compiles: through a cache of compiled
/// code, and who is told of each compilation. The default compiles everything, telling
/// no one.
#[derive(Clone, Default)]
pub struct CompileOptions {
    /// Where compiled components are kept between runs; `None` compiles every time.
    pub cache: Option<CodeCache>,
    /// Told when a compilation starts and finishes (never for a cache hit).
    pub observer: Option<CompileObserver>,
}

impl fmt::Debug for CompileOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompileOptions")
            .field("cache", &self.cache)
            .field("observer", &self.observer.as_ref().map(|_| "…"))
            .finish()
    }
}

impl CompileOptions {
    /// The component of `bytes` (named `component` for the observer) for `engine`: from
    /// the cache, or compiled (and then written to the cache).
    ///
    /// # Errors
    /// Wasmtime's, when `bytes` do not compile.
    pub fn compile(
        &self,
        engine: &Engine,
        component: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<Component> {
        if let Some(Ok(compiled)) = self.cache.as_ref().map(|c| c.load(engine, bytes)) {
            return Ok(compiled);
        }
        let tell = |event: CompileEvent<'_>| {
            if let Some(observer) = &self.observer {
                observer(&event);
            }
        };
        tell(CompileEvent::Started {
            component,
            bytes: bytes.len(),
        });
        let started = Instant::now();
        let compiled = Component::new(engine, bytes)?;
        tell(CompileEvent::Finished {
            component,
            elapsed: started.elapsed(),
        });
        if let Some(cache) = &self.cache {
            // A cache that cannot be written only costs the next run a compilation.
            let _ = cache.store(engine, bytes, &compiled);
        }
        Ok(compiled)
    }
}
