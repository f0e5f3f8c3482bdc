//! Progress on a terminal: a component whose compilation takes more than a second is named
//! while it compiles, and how long it took is said when it is done — on standard error,
//! and only when that is a terminal (as cargo does), so scripts and logs see nothing.

use compose_linker::{CompileEvent, CompileObserver};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a compilation runs before it is shown.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The compilation under way (components compile one at a time): its component, when it
/// started, and whether its line was printed.
type Current = Arc<Mutex<Option<(String, Instant, bool)>>>;

/// The observer that shows slow compilations, or `None` when standard error is not a
/// terminal.
pub fn observer() -> Option<CompileObserver> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let current: Current = Arc::default();
    Some(Arc::new(move |event: &CompileEvent<'_>| match *event {
        CompileEvent::Started { component, bytes } => started(&current, component, bytes),
        CompileEvent::Finished { component, elapsed } => {
            let shown = current
                .lock()
                .ok()
                .and_then(|mut c| c.take())
                .is_some_and(|c| c.2);
            if shown {
                eprintln!(
                    "    Compiled `{component}` in {:.1}s",
                    elapsed.as_secs_f64()
                );
            }
        }
    }))
}

/// Records the compilation and prints its line if it is still running after [`SHOW_AFTER`].
fn started(current: &Current, component: &str, bytes: usize) {
    let start = Instant::now();
    if let Ok(mut slot) = current.lock() {
        *slot = Some((component.to_owned(), start, false));
    }
    let (current, component) = (current.clone(), component.to_owned());
    std::thread::spawn(move || {
        std::thread::sleep(SHOW_AFTER);
        let Ok(mut slot) = current.lock() else { return };
        if let Some((name, at, shown)) = slot.as_mut()
            && *name == component
            && *at == start
        {
            *shown = true;
            let mib = bytes as f64 / (1024.0 * 1024.0);
            eprintln!(
                "   Compiling `{component}` ({mib:.1} MiB; the next start takes it from the cache)…"
            );
        }
    });
}
