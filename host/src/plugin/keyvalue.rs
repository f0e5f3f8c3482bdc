//! `wasi:keyvalue/store@0.2.0-draft`, served for one label at a time over a [`KeyValue`]
//! store; the `memory` and `postgres` plugins are two such stores.
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
use wasmtime::component::{LinkerInstance, Resource, ResourceType};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-keyvalue",
        world: "wasi:keyvalue/imports",
        with: { "wasi:keyvalue/store.bucket": crate::plugin::keyvalue::Bucket },
    });
}

/// The interface the key-value plugins serve.
pub const INTERFACE: &str = "wasi:keyvalue/store@0.2.0-draft";

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

/// Defines `wasi:keyvalue/store@0.2.0-draft` — the `bucket` resource, `open` and the
/// bucket's methods — in `instance` (the label's linker instance), over `store`.
///
/// # Errors
/// Wasmtime's, when a name is defined twice.
pub fn define<T: HostView>(
    instance: &mut LinkerInstance<'_, T>,
    store: Arc<dyn KeyValue>,
) -> wasmtime::Result<()> {
    instance.resource("bucket", ResourceType::host::<Bucket>(), |mut cx, rep| {
        cx.data_mut()
            .table()
            .delete(Resource::<Bucket>::new_own(rep))?;
        Ok(())
    })?;
    instance.func_wrap(
        "open",
        move |mut cx: StoreContextMut<'_, T>, (name,): (String,)| {
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
    instance.func_wrap(
        "[method]bucket.get",
        |mut cx: StoreContextMut<'_, T>, (bucket, key): (Resource<Bucket>, String)| {
            let (store, name) = open_bucket(&mut cx, &bucket)?;
            Ok((store.get(&name, &key),))
        },
    )?;
    instance.func_wrap(
        "[method]bucket.set",
        |mut cx: StoreContextMut<'_, T>,
         (bucket, key, value): (Resource<Bucket>, String, Vec<u8>)| {
            let (store, name) = open_bucket(&mut cx, &bucket)?;
            Ok((store.set(&name, &key, &value),))
        },
    )?;
    instance.func_wrap(
        "[method]bucket.delete",
        |mut cx: StoreContextMut<'_, T>, (bucket, key): (Resource<Bucket>, String)| {
            let (store, name) = open_bucket(&mut cx, &bucket)?;
            Ok((store.delete(&name, &key),))
        },
    )?;
    instance.func_wrap(
        "[method]bucket.exists",
        |mut cx: StoreContextMut<'_, T>, (bucket, key): (Resource<Bucket>, String)| {
            let (store, name) = open_bucket(&mut cx, &bucket)?;
            Ok((store.exists(&name, &key),))
        },
    )?;
    instance.func_wrap(
        "[method]bucket.list-keys",
        |mut cx: StoreContextMut<'_, T>, (bucket, cursor): (Resource<Bucket>, Option<u64>)| {
            let (store, name) = open_bucket(&mut cx, &bucket)?;
            Ok((store.list_keys(&name, cursor),))
        },
    )
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
