//! The `wrpc` plugin: `wasi:keyvalue/store@0.2.0-draft`, with `atomics` and `batch`,
//! served by a key-value store on another machine, reached over wRPC
//! (`[host.backends.LABEL] plugin = "wrpc"`, `url = "tcp://HOST:PORT"` or
//! `"unix:///path"`). Each operation is one wRPC invocation of the remote's function of the
//! same name (`open`, `[method]bucket.get`, `increment`, ...), in the instance of its
//! interface, as wit-bindgen-wrpc's client makes it: that client is what this plugin calls
//! with, so the remote can be any wRPC server of these interfaces (one made with
//! wit-bindgen-wrpc, or another host).
//!
//! Buckets cross as wRPC's SPEC.md carries a resource: an opaque handle (`list<u8>`),
//! whose meaning is the remote's. wRPC has no drop of a remote resource, so the plugin
//! keeps one handle per bucket identifier, from the remote's `open`: a guest's `open`
//! asks the remote again (it may refuse) and replaces it; a method whose invocation fails
//! forgets it, so the next call opens the bucket again (a remote that restarted forgets
//! its handles).
//!
//! A failure to reach the remote is the interface's own error, `other(message)`, never a
//! trap, as for the other key-value plugins: the message names the label, the remote's
//! address, the function and the cause. Every invocation ends within `timeout-ms`
//! (default 10 s). The guest's call waits for it (on tokio's blocking pool when the
//! workload runs async, as `postgres`'s queries do).

use super::framework::{BackendPlugin, HostView, Unavailable};
use super::keys::{self, KeyRule, KeyType};
use super::keyvalue::{self, Entry, Error, KeyResponse, KeyValue, Served};
use bytes::Bytes;
use compose_resolver::{BackendConfig, ConfigIssue, PlannedBackend, PluginSchema, RemoteUrl};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::LinkerInstance;
use wrpc_transport::Invoke;

mod client {
    wit_bindgen_wrpc::generate!({
        path: "../wit/deps/wasi-keyvalue",
        world: "wasi:keyvalue/imports",
    });
}

use client::wasi::keyvalue::{atomics, batch, store};

/// The default of `timeout-ms`: how long one invocation may take, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const KEYS: &[KeyRule] = &[
    KeyRule {
        key: "url",
        required: true,
        ty: KeyType::String(url),
        help: "the remote's wRPC address: `url = \"tcp://HOST:PORT\"` or \
               `url = \"unix:///path/to/socket\"`",
    },
    KeyRule {
        key: "timeout-ms",
        required: false,
        ty: KeyType::Integer {
            min: 1,
            max: 3_600_000,
        },
        help: "how long one call to the remote may take, in milliseconds, connecting \
               included (default 10000)",
    },
];

/// The rule of `url`: an address as `[remotes]` takes it ([`RemoteUrl::parse`]).
fn url(value: &str) -> Result<(), String> {
    RemoteUrl::parse(value).map(drop)
}

/// The `wrpc` plugin: every label a store of its own on its remote, connecting per call.
#[derive(Default)]
pub struct WrpcPlugin;

impl WrpcPlugin {
    /// The plugin's name.
    pub const NAME: &'static str = "wrpc";

    /// The plugin.
    pub fn new() -> Self {
        Self
    }

    /// The address and timeout of `backend` (its configuration was validated by
    /// [`PluginSchema::validate`]).
    fn address(backend: &PlannedBackend) -> Result<(RemoteUrl, Duration), Unavailable> {
        let written = backend.config.get_str("url").unwrap_or_default();
        let url = RemoteUrl::parse(written).map_err(Unavailable::new)?;
        let timeout = match backend.config.get("timeout-ms") {
            Some(toml::Value::Integer(ms)) => Duration::from_millis((*ms).max(1) as u64),
            _ => DEFAULT_TIMEOUT,
        };
        Ok((url, timeout))
    }

    /// The store of `backend`: a client of its remote (no connection is made until a call).
    ///
    /// # Errors
    /// Its `url` is not a wRPC address.
    pub fn connect(&self, backend: &PlannedBackend) -> Result<Arc<dyn KeyValue>, Unavailable> {
        let (url, timeout) = Self::address(backend)?;
        let remote = Remote {
            label: backend.label.clone(),
            url: url.to_string(),
            timeout,
        };
        Ok(match url {
            RemoteUrl::Tcp { host, port } => {
                let client = wrpc_transport::tcp::Client::from(format!("{host}:{port}"));
                Arc::new(WrpcStore::new(client, remote))
            }
            RemoteUrl::Unix(path) => Arc::new(WrpcStore::new(
                wrpc_transport::unix::Client::from(path),
                remote,
            )),
        })
    }
}

impl PluginSchema for WrpcPlugin {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn interfaces(&self) -> Vec<String> {
        keyvalue::interfaces()
    }

    fn keys(&self) -> Vec<String> {
        KEYS.iter().map(|k| k.key.to_owned()).collect()
    }

    fn validate(&self, config: &BackendConfig) -> Vec<ConfigIssue> {
        keys::validate_keys(config, KEYS, Self::NAME)
    }
}

impl<T: HostView> BackendPlugin<T> for WrpcPlugin {
    /// Connects once to the remote (no invocation is sent).
    fn check(&self, backend: &PlannedBackend) -> Result<(), Unavailable> {
        let (url, timeout) = Self::address(backend)?;
        crate::check::connect(&url, timeout).map_err(|why| {
            Unavailable::new(format!("cannot connect to {url}: {why}"))
                .help("start the remote, or correct `url`")
        })
    }

    fn define(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let served = Served::new(Self::NAME, &backend.label);
        keyvalue::define(instance, self.connect(backend)?, served).map_err(Unavailable::defining)
    }

    /// Each call on tokio's blocking pool, so that a request waiting for the remote does
    /// not hold a worker thread.
    fn define_async(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let served = Served::new(Self::NAME, &backend.label);
        keyvalue::define_blocking(instance, self.connect(backend)?, served)
            .map_err(Unavailable::defining)
    }
}

/// Which remote a label's calls go to, for their errors and deadline.
struct Remote {
    label: String,
    url: String,
    timeout: Duration,
}

/// One label's key-value store on a remote: a wRPC client (`C`: TCP or a Unix socket)
/// and the handle of each bucket opened so far.
pub(crate) struct WrpcStore<C> {
    client: Arc<C>,
    remote: Arc<Remote>,
    handles: Mutex<HashMap<String, Bytes>>,
}

/// What one invocation returns: the transport's error, or the remote's answer (its own
/// `error` included).
type Answer<R> = wit_bindgen_wrpc::anyhow::Result<Result<R, store::Error>>;

impl<C> WrpcStore<C>
where
    C: Invoke<Context = ()> + Send + Sync + 'static,
{
    fn new(client: C, remote: Remote) -> Self {
        Self {
            client: Arc::new(client),
            remote: Arc::new(remote),
            handles: Mutex::new(HashMap::new()),
        }
    }

    /// Runs one invocation of `function`, made by `invoke` with the client, on the
    /// linker's runtime for remote calls, within the timeout; waits for its answer.
    /// Returns the remote's answer, or (`Err`) why there is none, as `other(message)`.
    fn invoke<R, F>(
        &self,
        function: &str,
        invoke: impl FnOnce(Arc<C>) -> F,
    ) -> Result<Result<R, Error>, Error>
    where
        R: Send + 'static,
        F: Future<Output = Answer<R>> + Send + 'static,
    {
        let limit = self.remote.timeout;
        let invocation = invoke(self.client.clone());
        // The timer is made on the runtime that runs it.
        let call = async move { tokio::time::timeout(limit, invocation).await };
        let failed = |cause: String| {
            let Remote { label, url, .. } = &*self.remote;
            Error::Other(format!(
                "calling `{function}` on the remote backend `{label}` at {url} failed: {cause}"
            ))
        };
        match compose_linker::wait_on_remote_runtime(call) {
            Err(why) => Err(failed(why)),
            Ok(Err(_elapsed)) => Err(failed(format!("no answer within {}ms", limit.as_millis()))),
            // The generated client's context ("failed to invoke ...") repeats the function.
            Ok(Ok(Err(transport))) => Err(failed(transport.root_cause().to_string())),
            Ok(Ok(Ok(answer))) => Ok(answer.map_err(Error::from)),
        }
    }

    /// The remote's handle of `bucket`, from its `open`, which replaces any kept.
    fn open_remote(&self, bucket: &str) -> Result<Bytes, Error> {
        let identifier = bucket.to_owned();
        let handle = self.invoke("open", |client| async move {
            let opened = store::open(&*client, (), &identifier).await?;
            Ok(opened.map(Bytes::from))
        })??;
        self.lock().insert(bucket.to_owned(), handle.clone());
        Ok(handle)
    }

    /// Runs `invoke` on the handle of `bucket` (opening it first if none is kept); a
    /// failure to reach the remote forgets the handle.
    fn on_bucket<R, F>(
        &self,
        bucket: &str,
        function: &str,
        invoke: impl FnOnce(Arc<C>, Bytes) -> F,
    ) -> Result<R, Error>
    where
        R: Send + 'static,
        F: Future<Output = Answer<R>> + Send + 'static,
    {
        let kept = self.lock().get(bucket).cloned();
        let handle = match kept {
            Some(handle) => handle,
            None => self.open_remote(bucket)?,
        };
        let answer = self.invoke(function, |client| invoke(client, handle));
        if answer.is_err() {
            self.lock().remove(bucket);
        }
        answer?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bytes>> {
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl From<store::Error> for Error {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::NoSuchStore => Error::NoSuchStore,
            store::Error::AccessDenied => Error::AccessDenied,
            store::Error::Other(message) => Error::Other(message),
        }
    }
}

/// A bucket's handle as the client passes it.
fn borrowed(handle: Bytes) -> wrpc_transport::ResourceBorrow<store::Bucket> {
    handle.into()
}

impl<C> KeyValue for WrpcStore<C>
where
    C: Invoke<Context = ()> + Send + Sync + 'static,
{
    fn open(&self, bucket: &str) -> Result<(), Error> {
        self.open_remote(bucket).map(drop)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let key = key.to_owned();
        self.on_bucket(bucket, "[method]bucket.get", |client, handle| async move {
            let got = store::Bucket::get(&*client, (), &borrowed(handle), &key).await?;
            Ok(got.map(|value| value.map(|v| v.to_vec())))
        })
    }

    fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<(), Error> {
        let (key, value) = (key.to_owned(), Bytes::copy_from_slice(value));
        self.on_bucket(bucket, "[method]bucket.set", |client, handle| async move {
            store::Bucket::set(&*client, (), &borrowed(handle), &key, &value).await
        })
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), Error> {
        let key = key.to_owned();
        self.on_bucket(
            bucket,
            "[method]bucket.delete",
            |client, handle| async move {
                store::Bucket::delete(&*client, (), &borrowed(handle), &key).await
            },
        )
    }

    fn exists(&self, bucket: &str, key: &str) -> Result<bool, Error> {
        let key = key.to_owned();
        self.on_bucket(
            bucket,
            "[method]bucket.exists",
            |client, handle| async move {
                store::Bucket::exists(&*client, (), &borrowed(handle), &key).await
            },
        )
    }

    fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyResponse, Error> {
        self.on_bucket(
            bucket,
            "[method]bucket.list-keys",
            |client, handle| async move {
                let page =
                    store::Bucket::list_keys(&*client, (), &borrowed(handle), cursor).await?;
                Ok(page.map(|p| KeyResponse {
                    keys: p.keys,
                    cursor: p.cursor,
                }))
            },
        )
    }

    fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, Error> {
        let key = key.to_owned();
        self.on_bucket(bucket, "increment", |client, handle| async move {
            atomics::increment(&*client, (), &borrowed(handle), &key, delta).await
        })
    }

    fn get_many(&self, bucket: &str, keys: &[String]) -> Result<Vec<Entry>, Error> {
        let keys = keys.to_vec();
        self.on_bucket(bucket, "get-many", |client, handle| async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let got = batch::get_many(&*client, (), &borrowed(handle), &keys).await?;
            Ok(got.map(|entries| {
                let entry = |e: Option<(String, Bytes)>| e.map(|(k, v)| (k, v.to_vec()));
                entries.into_iter().map(entry).collect()
            }))
        })
    }

    fn set_many(&self, bucket: &str, entries: &[(String, Vec<u8>)]) -> Result<(), Error> {
        let entries: Vec<(String, Bytes)> = (entries.iter())
            .map(|(k, v)| (k.clone(), Bytes::copy_from_slice(v)))
            .collect();
        self.on_bucket(bucket, "set-many", |client, handle| async move {
            let entries: Vec<(&str, &Bytes)> =
                entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
            batch::set_many(&*client, (), &borrowed(handle), &entries).await
        })
    }

    fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), Error> {
        let keys = keys.to_vec();
        self.on_bucket(bucket, "delete-many", |client, handle| async move {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            batch::delete_many(&*client, (), &borrowed(handle), &keys).await
        })
    }
}
