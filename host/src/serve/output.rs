//! Guests' standard output and error under `compose serve`: each line a component writes
//! goes to the server's own stream prefixed with the stream, the request's id and the
//! component, `stdout [7] greeter :: LINE`, as `wasmtime serve` prefixes `stdout [7] :: `
//! (wasmtime-cli 48, `src/commands/serve.rs`, `LogStream`) — so that lines of concurrent
//! requests and of different components can be told apart.
//!
//! The components that import WASI 0.2's `wasi:cli/stdout` or `wasi:cli/stderr` get
//! definitions of their own ([`compose_linker::WorkloadLinker::component_host`], as
//! [`crate::grants`] defines `wasi:cli/environment`): their `get-stdout` and `get-stderr`
//! return a stream writing into that component's line buffer in the request's store
//! ([`Output`]). A line is written out whole, prefix first, when its newline comes; a line
//! left without one is written (with a newline) when the request's store is dropped, at
//! the end of the request. WASI 0.3's `wasi:cli/stdout` is not prefixed yet: it writes to
//! the server's stream as `compose run` does.
//!
//! (Two components with definitions of their own are not fused together, compose-linker's
//! rule; a component that imports neither stream is fused as before.)

use crate::grants;
use bytes::Bytes;
use compose_linker::{LookupError, WorkloadLinker};
use compose_resolver::Plan;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::{DynOutputStream, OutputStream, Pollable, StreamResult};

/// The WASI 0.2 release wasmtime-wasi 48 defines; the per-component definitions shadow
/// its instances under the same names.
const P2: &str = "0.2.12";

/// One of a guest's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }

    /// Writes `bytes` to the server's own stream of this kind, at once (a whole line, so
    /// that lines of concurrent requests do not mix).
    fn write(self, bytes: &[u8]) {
        // The server's stream gone: nowhere to tell it.
        let _ = match self {
            Self::Stdout => std::io::stdout().lock().write_all(bytes),
            Self::Stderr => std::io::stderr().lock().write_all(bytes),
        };
    }
}

/// The guests' line buffers of one request's store, by component and stream.
#[derive(Default)]
pub(crate) struct Output {
    /// The request's id (the store's: a WASI 0.3 handler's reused store keeps the id of
    /// the first request it served).
    request: u64,
    lines: HashMap<(usize, Stream), Arc<Mutex<Lines>>>,
}

impl Output {
    /// The buffers of request `request`'s store, none yet.
    pub(crate) fn new(request: u64) -> Self {
        Self {
            request,
            lines: HashMap::new(),
        }
    }

    /// The line buffer of component `component` (named `name`) for `stream`, made at its
    /// first use.
    fn lines(&mut self, component: usize, name: &str, stream: Stream) -> Arc<Mutex<Lines>> {
        let request = self.request;
        let lines = self.lines.entry((component, stream)).or_insert_with(|| {
            Arc::new(Mutex::new(Lines {
                prefix: format!("{} [{request}] {name} :: ", stream.name()),
                pending: Vec::new(),
                stream,
            }))
        });
        lines.clone()
    }
}

/// What the per-component definitions need from the store data.
pub(crate) trait OutputView: Send + 'static {
    /// The store's line buffers and its resource table.
    fn output(&mut self) -> (&mut Output, &mut ResourceTable);
}

/// One component's output on one stream: the line being written, and its prefix.
struct Lines {
    prefix: String,
    pending: Vec<u8>,
    stream: Stream,
}

impl Lines {
    /// Adds `bytes`, writing out each line they complete.
    fn write(&mut self, bytes: &[u8]) {
        for line in self.complete(bytes) {
            self.stream.write(&line);
        }
    }

    /// Adds `bytes`; the lines they complete, each with the prefix and its newline.
    fn complete(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let rest = self.pending.split_off(end + 1);
            let line = std::mem::replace(&mut self.pending, rest);
            lines.push(self.prefixed(&line));
        }
        lines
    }

    /// The line left without its newline, if any, with the prefix and a newline.
    fn rest(&mut self) -> Option<Vec<u8>> {
        if self.pending.is_empty() {
            return None;
        }
        let mut line = std::mem::take(&mut self.pending);
        line.push(b'\n');
        Some(self.prefixed(&line))
    }

    fn prefixed(&self, line: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + line.len());
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend_from_slice(line);
        out
    }
}

impl Drop for Lines {
    /// The end of the request: a line left without its newline is written with one.
    fn drop(&mut self) {
        if let Some(line) = self.rest() {
            self.stream.write(&line);
        }
    }
}

/// The `output-stream` a component's `get-stdout` or `get-stderr` returns: it writes
/// into the component's buffer, never blocks and never fails.
struct GuestStream(Arc<Mutex<Lines>>);

#[wasmtime_wasi::async_trait]
impl Pollable for GuestStream {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        (self.0.lock().unwrap_or_else(PoisonError::into_inner)).write(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        // Lines are written out as they complete; a partial one waits for its end.
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

/// Defines, for each component of `plan` that imports `wasi:cli/stdout` or
/// `wasi:cli/stderr` (0.2.x), the one it imports writing prefixed lines ([`Output`]).
/// Call after WASI itself is defined in `linker`.
///
/// # Errors
/// [`LookupError::UnknownComponent`] only for a plan that does not match the linker's.
pub(crate) fn define_for_components<T: OutputView>(
    linker: &mut WorkloadLinker<'_, T>,
    plan: &Plan,
) -> Result<(), LookupError> {
    for (index, component) in plan.components.iter().enumerate() {
        let streams: Vec<Stream> = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter(|s| grants::imports(component, &format!("wasi:cli/{}@0.2", s.name())))
            .collect();
        if streams.is_empty() {
            continue;
        }
        let name: Arc<str> = component.name.as_str().into();
        linker.component_host(&component.name, move |linker| {
            (streams.iter()).try_for_each(|&stream| define(linker, index, name.clone(), stream))
        })?;
    }
    Ok(())
}

/// Defines `wasi:cli/stdout` (`get-stdout`) or `wasi:cli/stderr` (`get-stderr`) for
/// component `index`, named `name`.
fn define<T: OutputView>(
    linker: &mut Linker<T>,
    index: usize,
    name: Arc<str>,
    stream: Stream,
) -> wasmtime::Result<()> {
    let mut instance = linker.instance(&format!("wasi:cli/{}@{P2}", stream.name()))?;
    instance.func_wrap(
        &format!("get-{}", stream.name()),
        move |mut cx: StoreContextMut<'_, T>, (): ()| {
            let (output, table) = cx.data_mut().output();
            let stream: DynOutputStream = Box::new(GuestStream(output.lines(index, &name, stream)));
            let stream: Resource<DynOutputStream> = table.push(stream)?;
            Ok((stream,))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: Vec<Vec<u8>>) -> Vec<String> {
        (lines.into_iter())
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn each_line_starts_with_the_prefix_however_the_writes_split_it() {
        let mut output = Output::new(7);
        let lines = output.lines(0, "greeter", Stream::Stdout);
        let mut lines = lines.lock().unwrap();
        assert!(lines.complete(b"hel").is_empty());
        assert_eq!(
            text(lines.complete(b"lo\nworld\n\npart")),
            [
                "stdout [7] greeter :: hello\n",
                "stdout [7] greeter :: world\n",
                "stdout [7] greeter :: \n",
            ]
        );
        // The end of the request ends the partial line; nothing is left after it.
        assert_eq!(
            text(lines.rest().into_iter().collect()),
            ["stdout [7] greeter :: part\n"]
        );
        assert!(lines.rest().is_none());
    }

    #[test]
    fn a_component_has_one_buffer_per_stream_in_a_store() {
        let mut output = Output::new(1);
        let first = output.lines(0, "a", Stream::Stderr);
        assert!(Arc::ptr_eq(&first, &output.lines(0, "a", Stream::Stderr)));
        assert!(!Arc::ptr_eq(&first, &output.lines(0, "a", Stream::Stdout)));
        assert!(!Arc::ptr_eq(&first, &output.lines(1, "b", Stream::Stderr)));
        assert_eq!(first.lock().unwrap().prefix, "stderr [1] a :: ");
    }
}
