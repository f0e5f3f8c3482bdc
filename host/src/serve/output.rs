//! Guests' standard output and error under `compose serve`: each line a component writes
//! goes to the server's own stream prefixed with the stream, the request's id and the
//! component, `stdout [7] greeter :: LINE`, as `wasmtime serve` prefixes `stdout [7] :: `
//! (wasmtime-cli 48, `src/commands/serve.rs`, `LogStream`) — so that lines of concurrent
//! requests and of different components can be told apart.
//!
//! wasmtime-wasi reads a guest's streams from the store's one WASI context, which cannot
//! tell which component writes (its `stdout` serves WASI 0.2's `get-stdout` and WASI 0.3's
//! `write-via-stream` alike, as [`crate::grants`] explains for the environment). So the
//! components that import `wasi:cli/stdout` or `wasi:cli/stderr`, of WASI 0.2 or 0.3, get
//! definitions of their own ([`compose_linker::WorkloadLinker::component_host`]) writing
//! into that component's line buffer ([`Output`]): WASI 0.2's `get-stdout` and
//! `get-stderr` return an `output-stream` that writes into it, WASI 0.3's
//! `write-via-stream` pipes the guest's `stream<u8>` into it. A line is written out
//! whole, prefix first, when its newline comes; a line left without one is written (with
//! a newline) when its request ends.
//!
//! The request is the one whose handler call asked for the stream: a WASI 0.2 store serves
//! one request, and a WASI 0.3 handler's store, whose instances serve several at once
//! ([`super::Reuse`]), registers the guest task of each handler call while its request
//! is in flight ([`Output::started`]); a definition looks for it at the root of
//! Wasmtime's async call stack (`StoreContextMut::async_call_stack`, which passes through
//! compose-linker's trampolines to the handler call), and takes the store's first request
//! when it finds none registered there. A stream keeps the id it was asked for under: one
//! a guest keeps across requests shows the first one's.
//!
//! (Two components with definitions of their own are not fused together, compose-linker's
//! rule; a component that imports neither stream is fused as before.)

use crate::grants;
use bytes::Bytes;
use compose_linker::{LookupError, WorkloadLinker};
use compose_resolver::Plan;
use std::collections::HashMap;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use tokio::sync::oneshot;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    FutureReader, GuestTaskId, Linker, Resource, ResourceTable, Source, StreamConsumer,
    StreamReader,
};
use wasmtime_wasi::p2::{DynOutputStream, OutputStream, Pollable, StreamResult};
use wasmtime_wasi::p3::bindings::cli::types::ErrorCode;

/// The WASI 0.2 release wasmtime-wasi 48 defines; the per-component definitions shadow
/// its instances under the same names.
const P2: &str = "0.2.12";

/// The WASI 0.3 release wasmtime-wasi 48 defines.
const P3: &str = "0.3.0";

/// The WASI releases whose streams are prefixed, as import prefixes (`…@0.2` for any
/// 0.2.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    P2,
    P3,
}

impl Release {
    fn prefix(self) -> &'static str {
        match self {
            Self::P2 => "0.2",
            Self::P3 => "0.3",
        }
    }
}

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

/// The guests' line buffers of one store, by request, component and stream, and the
/// request each of its WASI 0.3 handler calls serves.
#[derive(Default)]
pub(crate) struct Output {
    /// The id of the store's first request (a WASI 0.2 store's only one).
    request: u64,
    /// The request each handler call of the store serves, by the call's guest task.
    tasks: HashMap<GuestTaskId, u64>,
    lines: HashMap<(u64, usize, Stream), Arc<Mutex<Lines>>>,
}

impl Output {
    /// The buffers of a store whose first request is `request`, none yet.
    pub(crate) fn new(request: u64) -> Self {
        Self {
            request,
            ..Self::default()
        }
    }

    /// The id of the store's first request.
    pub(crate) fn request(&self) -> u64 {
        self.request
    }

    /// The handler call whose guest task is `task` serves request `request`: output asked
    /// for under it (in the call, or a call it makes) is that request's.
    pub(crate) fn started(&mut self, task: GuestTaskId, request: u64) {
        self.tasks.insert(task, request);
    }

    /// Request `request` has ended: the lines its guests left without a newline are
    /// written (with one), and its buffers and handler call forgotten. (A stream a guest
    /// still writes to keeps its buffer, under the same prefix.)
    pub(crate) fn ended(&mut self, request: u64) {
        self.tasks.retain(|_, r| *r != request);
        self.lines.retain(|(r, _, _), lines| {
            if *r == request {
                lock(lines).end();
            }
            *r != request
        });
    }

    /// The request that `root`, the guest task at the root of the caller's async call
    /// stack, serves, if it was registered ([`Output::started`]); else the store's first.
    fn request_of(&self, root: Option<GuestTaskId>) -> u64 {
        let registered = root.and_then(|task| self.tasks.get(&task));
        registered.copied().unwrap_or(self.request)
    }

    /// The line buffer of component `component` (named `name`) for `stream` in request
    /// `request`, made at its first use.
    fn lines(
        &mut self,
        request: u64,
        component: usize,
        name: &str,
        stream: Stream,
    ) -> Arc<Mutex<Lines>> {
        let lines = (self.lines.entry((request, component, stream))).or_insert_with(|| {
            Arc::new(Mutex::new(Lines {
                prefix: format!("{} [{request}] {name} :: ", stream.name()),
                pending: Vec::new(),
                stream,
            }))
        });
        lines.clone()
    }
}

fn lock(lines: &Mutex<Lines>) -> MutexGuard<'_, Lines> {
    lines.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// Writes out the line left without its newline, if any, with one.
    fn end(&mut self) {
        if let Some(line) = self.rest() {
            self.stream.write(&line);
        }
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
    /// The end of the store (or of a stream that outlived its request): a line left
    /// without its newline is written with one.
    fn drop(&mut self) {
        self.end();
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
        lock(&self.0).write(&bytes);
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

/// What a WASI 0.3 `write-via-stream` pipes the guest's `stream<u8>` into: the
/// component's buffer. Wasmtime drops it when the guest ends the stream, which resolves the
/// call's future (`_ended`).
struct GuestConsumer {
    lines: Arc<Mutex<Lines>>,
    _ended: oneshot::Sender<()>,
}

impl<D> StreamConsumer<D> for GuestConsumer {
    type Item = u8;

    /// Takes every byte the guest offers at once: the buffer never blocks.
    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        source: Source<'_, u8>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<wasmtime::component::StreamResult>> {
        let mut source = source.as_direct(store);
        let bytes = source.remaining();
        let taken = bytes.len();
        lock(&self.lines).write(bytes);
        source.mark_read(taken);
        Poll::Ready(Ok(wasmtime::component::StreamResult::Completed))
    }
}

/// Defines, for each component of `plan` that imports `wasi:cli/stdout` or
/// `wasi:cli/stderr` (0.2.x or 0.3.x), the ones it imports writing prefixed lines
/// ([`Output`]). Call after WASI itself is defined in `linker`.
///
/// # Errors
/// [`LookupError::UnknownComponent`] only for a plan that does not match the linker's.
pub(crate) fn define_for_components<T: OutputView>(
    linker: &mut WorkloadLinker<'_, T>,
    plan: &Plan,
) -> Result<(), LookupError> {
    for (index, component) in plan.components.iter().enumerate() {
        let imported = |&(stream, release): &(Stream, Release)| {
            let prefix = format!("wasi:cli/{}@{}", stream.name(), release.prefix());
            grants::imports(component, &prefix)
        };
        let streams: Vec<(Stream, Release)> = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .flat_map(|s| [(s, Release::P2), (s, Release::P3)])
            .filter(imported)
            .collect();
        if streams.is_empty() {
            continue;
        }
        let name: Arc<str> = component.name.as_str().into();
        linker.component_host(&component.name, move |linker| {
            (streams.iter()).try_for_each(|&(stream, release)| match release {
                Release::P2 => define_p2(linker, index, name.clone(), stream),
                Release::P3 => define_p3(linker, index, name.clone(), stream),
            })
        })?;
    }
    Ok(())
}

/// The line buffer of component `index` (named `name`) for `stream`, in the request that
/// the calling guest task serves.
fn guest_lines<'a, T: OutputView>(
    cx: &'a mut StoreContextMut<'_, T>,
    index: usize,
    name: &str,
    stream: Stream,
) -> (Arc<Mutex<Lines>>, &'a mut ResourceTable) {
    // Only a store with handler calls registered runs concurrently and has a stack to
    // look at (Wasmtime 48's `async_call_stack` panics in a store without concurrency
    // support, a WASI 0.2 handler's): any other serves the store's request.
    let registered = !cx.data_mut().output().0.tasks.is_empty();
    let root = registered
        .then(|| cx.async_call_stack().ok().and_then(Iterator::last))
        .flatten();
    let (output, table) = cx.data_mut().output();
    let request = output.request_of(root);
    (output.lines(request, index, name, stream), table)
}

/// Defines WASI 0.2's `wasi:cli/stdout` (`get-stdout`) or `wasi:cli/stderr`
/// (`get-stderr`) for component `index`, named `name`.
fn define_p2<T: OutputView>(
    linker: &mut Linker<T>,
    index: usize,
    name: Arc<str>,
    stream: Stream,
) -> wasmtime::Result<()> {
    let mut instance = linker.instance(&format!("wasi:cli/{}@{P2}", stream.name()))?;
    instance.func_wrap(
        &format!("get-{}", stream.name()),
        move |mut cx: StoreContextMut<'_, T>, (): ()| {
            let (lines, table) = guest_lines(&mut cx, index, &name, stream);
            let stream: DynOutputStream = Box::new(GuestStream(lines));
            let stream: Resource<DynOutputStream> = table.push(stream)?;
            Ok((stream,))
        },
    )?;
    Ok(())
}

/// Defines WASI 0.3's `wasi:cli/stdout` or `wasi:cli/stderr` (`write-via-stream`) for
/// component `index`, named `name`: the guest's stream goes into the component's buffer,
/// and the future returned resolves (always to `ok`) when the guest has ended it.
fn define_p3<T: OutputView>(
    linker: &mut Linker<T>,
    index: usize,
    name: Arc<str>,
    stream: Stream,
) -> wasmtime::Result<()> {
    type Written = FutureReader<Result<(), ErrorCode>>;
    let mut instance = linker.instance(&format!("wasi:cli/{}@{P3}", stream.name()))?;
    instance.func_wrap(
        "write-via-stream",
        move |mut cx: StoreContextMut<'_, T>, (data,): (StreamReader<u8>,)| {
            let (lines, _) = guest_lines(&mut cx, index, &name, stream);
            let (ended, end) = oneshot::channel();
            data.pipe(
                &mut cx,
                GuestConsumer {
                    lines,
                    _ended: ended,
                },
            )?;
            let written = async move {
                // The guest has ended the stream (or the store is going).
                let _ = end.await;
                Ok::<_, wasmtime::Error>(Ok(()))
            };
            Ok((Written::new(&mut cx, written)?,))
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
        let lines = output.lines(7, 0, "greeter", Stream::Stdout);
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
        let first = output.lines(1, 0, "a", Stream::Stderr);
        assert!(Arc::ptr_eq(
            &first,
            &output.lines(1, 0, "a", Stream::Stderr)
        ));
        assert!(!Arc::ptr_eq(
            &first,
            &output.lines(1, 0, "a", Stream::Stdout)
        ));
        assert!(!Arc::ptr_eq(
            &first,
            &output.lines(1, 1, "b", Stream::Stderr)
        ));
        assert!(!Arc::ptr_eq(
            &first,
            &output.lines(2, 0, "a", Stream::Stderr)
        ));
        assert_eq!(first.lock().unwrap().prefix, "stderr [1] a :: ");
    }

    #[test]
    fn a_request_that_ends_forgets_its_buffers_and_its_calls_and_no_other() {
        let mut output = Output::new(3);
        let third = output.lines(3, 0, "a", Stream::Stdout);
        let fourth = output.lines(4, 0, "a", Stream::Stdout);
        assert_eq!(
            output.request_of(None),
            3,
            "no task: the store's first request"
        );
        output.ended(3);
        assert!(!Arc::ptr_eq(
            &third,
            &output.lines(3, 0, "a", Stream::Stdout)
        ));
        assert!(Arc::ptr_eq(
            &fourth,
            &output.lines(4, 0, "a", Stream::Stdout)
        ));
        assert_eq!(fourth.lock().unwrap().prefix, "stdout [4] a :: ");
    }
}
