//! `wasi:keyvalue/store@0.2.0-draft`, with `atomics` and `batch` of the same package,
//! served for one label at a time over a [`KeyValue`] store; the `memory` and `postgres`
//! plugins are two such stores.
//!
//! A label's instance holds the functions of all three interfaces (`bucket`, `open` and
//! the bucket's methods; `increment`; `get-many`, `set-many`, `delete-many`; their names
//! do not clash): `atomics` and `batch` take a `bucket` of `store`, so they can only act
//! on a label's data from the same instance. A component importing the label gets the
//! functions its instance type names and nothing else.
//!
//! Why not `wasmtime-wasi-keyvalue`: its `add_to_linker` defines the instance under the
//! interface's own name (`wasi:keyvalue/store@0.2.0-draft`), never under a label such as
//! `team-a-postgres`, and reaches its state through a `fn` pointer over the store data,
//! which cannot tell two labels apart; its in-memory store is also copied into each
//! bucket when opened, so writes do not outlive the bucket. Its generated types are
//! private. So the types come from `bindgen!` over the same WIT text (`wit/deps`), and the
//! functions are defined here, per label, by closures that hold the label's store.

use super::framework::HostView;
use std::sync::Arc;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    ComponentNamedList, Lift, LinkerInstance, Lower, Resource, ResourceType,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-keyvalue",
        world: "wasi:keyvalue/imports",
        with: { "wasi:keyvalue/store.bucket": crate::plugin::keyvalue::Bucket },
    });
}

/// The interface the key-value plugins serve.
pub const INTERFACE: &str = "wasi:keyvalue/store@0.2.0-draft";

/// `wasi:keyvalue/atomics@0.2.0-draft` (`increment`; the 0.2.0-draft WIT has no `cas`),
/// served in the same instance as [`INTERFACE`].
pub const ATOMICS: &str = "wasi:keyvalue/atomics@0.2.0-draft";

/// `wasi:keyvalue/batch@0.2.0-draft` (`get-many`, `set-many`, `delete-many`), served in
/// the same instance as [`INTERFACE`].
pub const BATCH: &str = "wasi:keyvalue/batch@0.2.0-draft";

/// Every interface a label of a key-value plugin serves: [`INTERFACE`], [`ATOMICS`] and
/// [`BATCH`] (what the plugins' [`PluginSchema::interfaces`](compose_resolver::PluginSchema::interfaces) say).
pub fn interfaces() -> Vec<String> {
    [INTERFACE, ATOMICS, BATCH].map(str::to_owned).to_vec()
}

/// One entry of `batch`'s `get-many`: the key and its value, `None` for a missing key.
pub type Entry = Option<(String, Vec<u8>)>;

/// The `error` variant of `wasi:keyvalue/store`: what a store's failure looks like to the
/// guest (`no-such-store`, `access-denied`, `other(message)`).
pub use bindings::wasi::keyvalue::store::Error;
/// A page of keys and the cursor of the next page (`None`: no more).
pub use bindings::wasi::keyvalue::store::KeyResponse;

/// One label's key-value data: what `wasi:keyvalue/store`'s functions do, bucket by
/// bucket. Errors reach the guest as the interface's [`Error`], never as traps.
pub trait KeyValue: Send + Sync + 'static {
    /// Whether bucket `bucket` may be opened (the default: every identifier may).
    ///
    /// # Errors
    /// `no-such-store` or `access-denied` when it may not.
    fn open(&self, bucket: &str) -> Result<(), Error> {
        let _ = bucket;
        Ok(())
    }
    /// The value under `key`, if any.
    ///
    /// # Errors
    /// The store's failure.
    fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Stores `value` under `key`, replacing what was there.
    ///
    /// # Errors
    /// The store's failure.
    fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<(), Error>;
    /// Removes `key`; nothing happens when it is not there.
    ///
    /// # Errors
    /// The store's failure.
    fn delete(&self, bucket: &str, key: &str) -> Result<(), Error>;
    /// Whether `key` is there.
    ///
    /// # Errors
    /// The store's failure.
    fn exists(&self, bucket: &str, key: &str) -> Result<bool, Error>;
    /// One page of the bucket's keys from position `cursor` (0 when `None`) in key order,
    /// and the cursor of the next page.
    ///
    /// # Errors
    /// The store's failure.
    fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyResponse, Error>;

    /// `atomics.increment`: adds `delta` to the counter under `key` (0 when the key is
    /// missing) and returns the new value, as one atomic step — concurrent increments of
    /// one key never lose one. A counter is stored as its decimal text (`"64"`, what `get`
    /// returns; the format of `wasmtime-wasi-keyvalue`'s in-memory store).
    ///
    /// # Errors
    /// `other` when the value under `key` is not a counter or the sum would exceed
    /// `u64::MAX` (the value is then left as it was), or the store's failure.
    fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, Error>;

    /// `batch.get-many`: the entry of each of `keys`, in their order (`None` for a missing
    /// key), read at one point in time.
    ///
    /// # Errors
    /// The store's failure.
    fn get_many(&self, bucket: &str, keys: &[String]) -> Result<Vec<Entry>, Error>;

    /// `batch.set-many`: stores every entry, all or none (a key given twice: the last
    /// value wins).
    ///
    /// # Errors
    /// The store's failure; nothing was written then.
    fn set_many(&self, bucket: &str, entries: &[(String, Vec<u8>)]) -> Result<(), Error>;

    /// `batch.delete-many`: removes every one of `keys`, all or none (missing keys are
    /// no error).
    ///
    /// # Errors
    /// The store's failure; nothing was removed then.
    fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), Error>;
}

/// A counter's value as `increment` reads it: decimal text of a `u64`, or `None`.
pub(crate) fn counter_value(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The error of an `increment` whose key holds something else than a counter, or whose
/// sum would overflow.
pub(crate) fn not_a_counter(key: &str) -> Error {
    Error::Other(format!(
        "the value under `{key}` is not a counter (the decimal text of a u64), \
         or adding the delta would exceed u64::MAX"
    ))
}

/// How many keys one `list-keys` call returns at most.
pub const PAGE_SIZE: usize = 1000;

/// An open bucket: the store of the label it was opened through, and its identifier.
/// (A handle always acts on the store it came from, whichever label's function it is
/// passed to: a guest can only reach stores it was given.)
pub struct Bucket {
    store: Arc<dyn KeyValue>,
    name: Arc<str>,
}

/// Which backend a store serves, as the spans of its calls name it (`compose.plugin`,
/// docs/tracing.md): the plugin and the label.
#[derive(Debug, Clone)]
pub struct Served {
    /// The plugin's name (`memory`, `postgres`).
    pub plugin: Arc<str>,
    /// The `implements` label it serves.
    pub label: Arc<str>,
}

impl Served {
    /// The backend of `plugin` for `label`.
    pub fn new(plugin: &str, label: &str) -> Self {
        Self {
            plugin: plugin.into(),
            label: label.into(),
        }
    }

    /// The span of one operation (not entered); a disabled span without a subscriber.
    fn span(&self, operation: &str) -> tracing::Span {
        tracing::info_span!(
            target: "compose",
            "compose.plugin",
            plugin = &*self.plugin,
            label = &*self.label,
            operation,
        )
    }
}

/// Defines `wasi:keyvalue/store@0.2.0-draft` — the `bucket` resource, `open` and the
/// bucket's methods — in `instance` (the label's linker instance), over `store`, as
/// synchronous host functions: each operation runs on the calling thread, in a span
/// naming `served`'s plugin and label.
///
/// # Errors
/// Wasmtime's, when a name is defined twice.
pub fn define<T: HostView>(
    instance: &mut LinkerInstance<'_, T>,
    store: Arc<dyn KeyValue>,
    served: Served,
) -> wasmtime::Result<()> {
    define_with(instance, store, served, false)
}

/// [`define`] for a store whose operations block (they wait for a network service) in a
/// workload called from an async runtime
/// ([`Execution::Async`](compose_linker::Execution::Async)): each operation runs on
/// tokio's blocking pool (`tokio::task::spawn_blocking`) while the guest's fiber waits, so
/// that the runtime's worker thread serves other requests meanwhile.
///
/// # Errors
/// Wasmtime's, when a name is defined twice.
pub fn define_blocking<T: HostView>(
    instance: &mut LinkerInstance<'_, T>,
    store: Arc<dyn KeyValue>,
    served: Served,
) -> wasmtime::Result<()> {
    define_with(instance, store, served, true)
}

fn define_with<T: HostView>(
    instance: &mut LinkerInstance<'_, T>,
    store: Arc<dyn KeyValue>,
    served: Served,
    blocking: bool,
) -> wasmtime::Result<()> {
    let served = Arc::new(served);
    let open = served.clone();
    instance.resource("bucket", ResourceType::host::<Bucket>(), |mut cx, rep| {
        cx.data_mut()
            .table()
            .delete(Resource::<Bucket>::new_own(rep))?;
        Ok(())
    })?;
    instance.func_wrap(
        "open",
        move |mut cx: StoreContextMut<'_, T>, (name,): (String,)| {
            let _span = open.span("open").entered();
            if let Err(error) = store.open(&name) {
                return Ok((Err(error),));
            }
            let bucket = Bucket {
                store: store.clone(),
                name: name.into(),
            };
            Ok((Ok(cx.data_mut().table().push(bucket)?),))
        },
    )?;
    method(
        instance,
        &served,
        "[method]bucket.get",
        blocking,
        |cx, (bucket, key): (_, String)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.get(&name, &key)))
        },
    )?;
    method(
        instance,
        &served,
        "[method]bucket.set",
        blocking,
        |cx, (bucket, key, value): (_, String, Vec<u8>)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.set(&name, &key, &value)))
        },
    )?;
    method(
        instance,
        &served,
        "[method]bucket.delete",
        blocking,
        |cx, (bucket, key): (_, String)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.delete(&name, &key)))
        },
    )?;
    method(
        instance,
        &served,
        "[method]bucket.exists",
        blocking,
        |cx, (bucket, key): (_, String)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.exists(&name, &key)))
        },
    )?;
    method(
        instance,
        &served,
        "[method]bucket.list-keys",
        blocking,
        |cx, (bucket, cursor): (_, Option<u64>)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.list_keys(&name, cursor)))
        },
    )?;
    // wasi:keyvalue/atomics
    method(
        instance,
        &served,
        "increment",
        blocking,
        |cx, (bucket, key, delta): (_, String, u64)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.increment(&name, &key, delta)))
        },
    )?;
    // wasi:keyvalue/batch
    method(
        instance,
        &served,
        "get-many",
        blocking,
        |cx, (bucket, keys): (_, Vec<String>)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.get_many(&name, &keys)))
        },
    )?;
    method(
        instance,
        &served,
        "set-many",
        blocking,
        |cx, (bucket, entries): (_, Vec<(String, Vec<u8>)>)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.set_many(&name, &entries)))
        },
    )?;
    method(
        instance,
        &served,
        "delete-many",
        blocking,
        |cx, (bucket, keys): (_, Vec<String>)| {
            let (store, name) = open_bucket(cx, &bucket)?;
            Ok(Box::new(move || store.delete_many(&name, &keys)))
        },
    )
}

/// One operation of a bucket, ready to run: what a method's call does once its
/// arguments are read from the store.
type Operation<R> = Box<dyn FnOnce() -> R + Send>;

/// Defines function `name` that acts on a bucket (a method of `bucket`, or a function of
/// `atomics` or `batch` taking one): `prepare` reads the arguments (a bucket handle
/// first) and returns the operation, which runs on the calling thread, or (`blocking`) on
/// tokio's blocking pool from an async host function.
fn method<T: HostView, P, R>(
    instance: &mut LinkerInstance<'_, T>,
    served: &Arc<Served>,
    name: &'static str,
    blocking: bool,
    prepare: fn(&mut StoreContextMut<'_, T>, P) -> wasmtime::Result<Operation<R>>,
) -> wasmtime::Result<()>
where
    P: ComponentNamedList + Lift + Send + Sync + 'static,
    R: Send + Sync + 'static,
    (R,): ComponentNamedList + Lower + Send + Sync,
{
    let served = served.clone();
    if !blocking {
        return instance.func_wrap(name, move |mut cx, params: P| {
            let _span = served.span(name).entered();
            Ok((prepare(&mut cx, params)?(),))
        });
    }
    instance.func_wrap_async(name, move |mut cx, params: P| {
        let span = served.span(name);
        Box::new(async move {
            let operation = prepare(&mut cx, params)?;
            let result = tokio::task::spawn_blocking(move || span.in_scope(operation)).await?;
            Ok((result,))
        })
    })
}

/// The store and identifier of the bucket behind `handle`. A handle that is not in the
/// table is the guest's bug (the component model never passes one): a trap.
fn open_bucket<T: HostView>(
    cx: &mut StoreContextMut<'_, T>,
    handle: &Resource<Bucket>,
) -> wasmtime::Result<(Arc<dyn KeyValue>, Arc<str>)> {
    let bucket = cx.data_mut().table().get(handle)?;
    Ok((bucket.store.clone(), bucket.name.clone()))
}
