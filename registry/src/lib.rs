//! `compose-registry`: the components of a workload from OCI registries.
//!
//! A workload file names a registry component with `source = "oci://HOST/REPO:TAG"`
//! (optionally `@sha256:…`); compose-resolver parses the reference and, having no network
//! code, expects its bytes to be there when it resolves. This crate puts them there:
//! [`Registry::pull_workload`] resolves every reference to a manifest digest (from the
//! reference, `compose.lock` or the registry), checks that the artifact follows the CNCF
//! Wasm OCI artifact layout ([`artifact`]), fetches the manifest and the Wasm layer into a
//! content-addressed [`BlobCache`] (verified when pulled and when read, written
//! atomically) and fills in each source's [`PulledComponent`]. Every failure is a
//! [`Diagnostic`] pointing at the component's `source` line. [`Lock`] is `compose.lock`;
//! [`Registry::push`] pushes a component as a Wasm artifact.
//!
//! ```no_run
//! use compose_registry::{BlobCache, Registry, RegistryOptions};
//! use compose_resolver::{Workload, resolve};
//!
//! let mut workload = Workload::from_file("workload.toml")?;
//! let registry = Registry::new(RegistryOptions::new(BlobCache::new("/tmp/compose-cache")))?;
//! let pulled = registry.pull_workload(&mut workload, None)?;
//! for p in &pulled {
//!     eprintln!("{} -> {} ({} bytes)", p.reference, p.manifest_digest, p.size);
//! }
//! let plan = resolve(&workload)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Transport: HTTPS with rustls (the `ring` provider), except plain HTTP for registries on
//! this machine (`localhost`, `127.0.0.0/8`, `[::1]`) and those named in
//! [`RegistryOptions::insecure`]. Credentials come from the Docker configuration
//! (`~/.docker/config.json`, its `auths` and credential helpers); without any, requests
//! are anonymous.
#![deny(missing_docs)]

pub mod artifact;
mod cache;
mod lock;

pub use cache::{BlobCache, CacheError, digest_of};
pub use lock::{LOCK_FILE, LOCK_VERSION, Lock, LockedPackage};

use artifact::{ComponentConfig, Descriptor, Manifest, WasmConfig};
use compose_resolver::{
    ComponentSource, Diagnostic, OciReference, Problem, PullFailure, PulledComponent, ResolveError,
    Workload,
};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// How [`Registry`] may reach registries and what it must agree with.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Where blobs are kept.
    pub cache: BlobCache,
    /// Use only the cache: never connect (`--offline`).
    pub offline: bool,
    /// Refuse a source that the lock does not list or whose digest differs from the
    /// locked one (`--locked`).
    pub locked: bool,
    /// Registries (`HOST[:PORT]`) that may be reached over plain HTTP although they are
    /// not on this machine (`--insecure-registry`).
    pub insecure: Vec<String>,
}

impl RegistryOptions {
    /// Online, not locked, blobs in `cache`.
    pub fn new(cache: BlobCache) -> Self {
        Self {
            cache,
            offline: false,
            locked: false,
            insecure: Vec::new(),
        }
    }
}

/// What [`Registry::pull_workload`] did for one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The `oci://` reference as written.
    pub reference: String,
    /// The manifest digest it resolved to.
    pub manifest_digest: String,
    /// The Wasm layer's digest.
    pub layer_digest: String,
    /// The component's size in bytes.
    pub size: u64,
    /// Whether any blob was downloaded (`false`: everything came from the cache).
    pub downloaded: bool,
}

impl Pulled {
    /// Its entry in `compose.lock`.
    pub fn locked(&self) -> LockedPackage {
        LockedPackage {
            reference: self.reference.clone(),
            digest: self.manifest_digest.clone(),
            layer: self.layer_digest.clone(),
            size: self.size,
        }
    }
}

/// Why one reference could not be fetched; [`FetchError::problem`] names the component.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The registry did not answer, refused, or had no such thing.
    #[error("{0}")]
    Pull(PullFailure),
    /// The artifact is not a Wasm component artifact.
    #[error("not a Wasm component artifact: {0}")]
    NotWasm(String),
    /// Bytes with another digest than the one naming them.
    #[error("the {what} from the {place} has digest {actual}, not {expected}")]
    Digest {
        /// `manifest` or `Wasm layer`.
        what: &'static str,
        /// `registry` or `cache`.
        place: &'static str,
        /// The digest naming them.
        expected: String,
        /// Theirs.
        actual: String,
    },
    /// `--locked` and the lock has no entry.
    #[error("not in the lock file")]
    NotLocked,
    /// `--locked` and another digest.
    #[error("locked at {locked}, but {by} {actual}")]
    LockMismatch {
        /// The lock's.
        locked: String,
        /// The other.
        actual: String,
        /// Who answers it.
        by: &'static str,
    },
    /// `--offline` and not cached.
    #[error("not in the local cache: {0}")]
    NotCached(String),
}

impl FetchError {
    /// The problem of component `component`, whose source is `reference`; `lock` is the
    /// lock file's path, for [`Problem::NotLocked`].
    pub fn problem(&self, component: &str, reference: &str, lock: &std::path::Path) -> Problem {
        let (component, reference) = (component.to_owned(), reference.to_owned());
        match self.clone() {
            FetchError::Pull(cause) => Problem::PullFailed {
                component,
                reference,
                cause,
            },
            FetchError::NotWasm(reason) => Problem::NotAWasmArtifact {
                component,
                reference,
                reason,
            },
            FetchError::Digest {
                what,
                place,
                expected,
                actual,
            } => Problem::DigestMismatch {
                component,
                reference,
                what,
                place,
                expected,
                actual,
            },
            FetchError::NotLocked => Problem::NotLocked {
                component,
                reference,
                lock: lock.to_owned(),
            },
            FetchError::LockMismatch { locked, actual, by } => Problem::LockMismatch {
                component,
                reference,
                locked,
                actual,
                answered_by: by,
            },
            FetchError::NotCached(reason) => Problem::NotCached {
                component,
                reference,
                reason,
            },
        }
    }
}

/// Why [`Registry::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The async runtime could not start.
    #[error("cannot start the runtime of the registry client: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Why [`Registry::push`] failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The reference names no tag, or a digest: a push names a tag.
    #[error("`{0}` must name a tag and no digest to be pushed (`oci://HOST/REPOSITORY:TAG`)")]
    NeedsTag(String),
    /// `--offline`.
    #[error("cannot push to `{0}` offline")]
    Offline(String),
    /// The registry refused or failed.
    #[error("cannot push to `{reference}`: {cause}")]
    Registry {
        /// The reference.
        reference: String,
        /// Why.
        cause: PullFailure,
    },
}

/// What [`Registry::push`] pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The manifest's digest: `oci://…@<digest>` names exactly these bytes.
    pub manifest_digest: String,
    /// The Wasm layer's digest.
    pub layer_digest: String,
    /// The component's size in bytes.
    pub size: u64,
}

/// A client of OCI registries with a blob cache.
pub struct Registry {
    options: RegistryOptions,
    runtime: tokio::runtime::Runtime,
    /// One HTTP client per registry, built on first use: building one loads the system's
    /// root certificates, which costs more than a request on loopback.
    clients: std::sync::Mutex<std::collections::HashMap<String, Arc<Client>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The component's fetched bytes, for one reference.
struct Fetched {
    pulled: Pulled,
    component: PulledComponent,
}

impl Registry {
    /// A client with `options`.
    ///
    /// # Errors
    /// [`RegistryError::Runtime`] when its (single-threaded) tokio runtime cannot start.
    pub fn new(options: RegistryOptions) -> Result<Self, RegistryError> {
        // reqwest is built without a default crypto provider (to leave aws-lc-rs out);
        // installing one twice is harmless, so the result is ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(RegistryError::Runtime)?;
        Ok(Self {
            options,
            runtime,
            clients: Default::default(),
        })
    }

    /// The options.
    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// Fetches every `oci://` source of `workload` (once per reference) and fills in its
    /// [`PulledComponent`]; `lock` is the workload's `compose.lock`, if any, at `lock_path`.
    ///
    /// Each reference's manifest digest is the one the reference pins, else (with
    /// `--locked` or offline) the lock's, else the one the registry answers for the tag;
    /// with `--locked`, a tag is also asked of the registry (unless offline) and must still
    /// name the locked digest. Returns what each reference resolved to, in reference order.
    ///
    /// # Errors
    /// Every component that could not be fetched, each a [`Diagnostic`] at its `source`:
    /// [`Problem::PullFailed`], [`Problem::NotAWasmArtifact`], [`Problem::DigestMismatch`],
    /// [`Problem::NotLocked`], [`Problem::LockMismatch`] and [`Problem::NotCached`].
    /// Nothing unverified is ever written to the cache.
    pub fn pull_workload(
        &self,
        workload: &mut Workload,
        lock: Option<(&Lock, &std::path::Path)>,
    ) -> Result<Vec<Pulled>, ResolveError> {
        let mut results: BTreeMap<OciReference, Result<Fetched, FetchError>> = BTreeMap::new();
        for decl in workload.components.values() {
            if let ComponentSource::Oci(oci) = &decl.source.value
                && !results.contains_key(&oci.reference)
            {
                let locked = lock.map(|(lock, _)| lock);
                let result = self.fetch(&oci.reference, locked);
                results.insert(oci.reference.clone(), result);
            }
        }
        let lock_path = lock.map_or_else(|| PathBuf::from(LOCK_FILE), |(_, p)| p.to_owned());
        let mut diagnostics = Vec::new();
        let text = workload.text.clone();
        for (name, decl) in &mut workload.components {
            let span = decl.source.span.clone();
            let ComponentSource::Oci(oci) = &mut decl.source.value else {
                continue;
            };
            match &results[&oci.reference] {
                Ok(fetched) => oci.pulled = Some(fetched.component.clone()),
                Err(error) => {
                    let problem = error.problem(name, &oci.reference.to_string(), &lock_path);
                    let diagnostic =
                        Diagnostic::new(problem, text.as_ref(), span).with_label("this source");
                    diagnostics.push(diagnostic);
                }
            }
        }
        if !diagnostics.is_empty() {
            return Err(ResolveError::new(diagnostics));
        }
        Ok(results
            .into_values()
            .filter_map(|r| r.ok().map(|f| f.pulled))
            .collect())
    }

    /// Fetches one component (`compose pull`): as [`Registry::pull_workload`] does for one
    /// source, with no lock.
    ///
    /// # Errors
    /// A [`FetchError`], as for a source of a workload.
    pub fn pull(&self, reference: &OciReference) -> Result<(Pulled, PulledComponent), FetchError> {
        self.fetch(reference, None)
            .map(|fetched| (fetched.pulled, fetched.component))
    }

    fn fetch(&self, reference: &OciReference, lock: Option<&Lock>) -> Result<Fetched, FetchError> {
        let written = reference.to_string();
        let entry = lock.and_then(|lock| lock.get(&written));
        if self.options.locked && entry.is_none() {
            return Err(FetchError::NotLocked);
        }
        if let (true, Some(entry), Some(pin)) =
            (self.options.locked, entry, reference.digest.as_ref())
            && &entry.digest != pin
        {
            return Err(FetchError::LockMismatch {
                locked: entry.digest.clone(),
                actual: pin.clone(),
                by: "the reference pins",
            });
        }
        let session = if self.options.offline {
            None
        } else {
            Some(self.session(reference))
        };
        // The manifest digest: the pin, else (locked or offline) the lock's, else what the
        // registry answers for the tag now (a `HEAD`, so that a cached manifest is not
        // downloaded again). Locked and online, the tag must still name the locked digest.
        let use_lock = self.options.locked || self.options.offline;
        let mut known = reference
            .digest
            .clone()
            .or_else(|| entry.filter(|_| use_lock).map(|e| e.digest.clone()));
        if let (Some(session), None) = (&session, &reference.digest) {
            let locked = entry.filter(|_| self.options.locked);
            if locked.is_some() || known.is_none() {
                let now = self.runtime.block_on(session.tag_digest())?;
                if let Some(entry) = locked
                    && now != entry.digest
                {
                    return Err(FetchError::LockMismatch {
                        locked: entry.digest.clone(),
                        actual: now,
                        by: "the registry now answers",
                    });
                }
                // A registry's answer that is not a sha256 digest is not used to name a
                // file; the manifest is then fetched by tag and its own digest computed.
                known = Some(now).filter(|d| compose_resolver::is_sha256_digest(d));
            }
        }
        let mut downloaded = false;
        let cache = &self.options.cache;
        let online = session.is_some();
        let cached = |digest: &str, what| match cache.get(digest) {
            Ok(bytes) => Ok(bytes),
            // A bad copy in the cache is pulled again (and replaced) when online.
            Err(CacheError::Corrupt { .. }) if online => Ok(None),
            Err(CacheError::Corrupt {
                expected, actual, ..
            }) => Err(FetchError::Digest {
                what,
                place: "cache",
                expected,
                actual,
            }),
            Err(e) => Err(FetchError::Pull(PullFailure::Other {
                reason: e.to_string(),
            })),
        };
        let store = |digest: &str, bytes: &[u8]| {
            cache.put(digest, bytes).map_err(|e| {
                FetchError::Pull(PullFailure::Other {
                    reason: format!("cannot write the cache: {e}"),
                })
            })
        };
        // The manifest.
        let (manifest_digest, manifest) = match (&known, &session) {
            (Some(digest), _) if let Some(bytes) = cached(digest, "manifest")? => {
                (digest.clone(), bytes)
            }
            (known, Some(session)) => {
                let bytes = self.runtime.block_on(session.manifest(known.as_deref()))?;
                let actual = digest_of(&bytes);
                if let Some(expected) = known
                    && &actual != expected
                {
                    return Err(FetchError::Digest {
                        what: "manifest",
                        place: "registry",
                        expected: expected.clone(),
                        actual,
                    });
                }
                // Checked before it is kept: an artifact of another kind is not cached.
                artifact::wasm_layer(&bytes).map_err(FetchError::NotWasm)?;
                store(&actual, &bytes)?;
                downloaded = true;
                (actual, bytes)
            }
            (Some(digest), None) => {
                return Err(FetchError::NotCached(format!(
                    "its manifest {digest} was never pulled"
                )));
            }
            (None, None) => {
                return Err(FetchError::NotCached(
                    "offline, a tag needs its digest from compose.lock or the reference (`…@sha256:…`)"
                        .into(),
                ));
            }
        };
        let layer = artifact::wasm_layer(&manifest).map_err(FetchError::NotWasm)?;
        // The Wasm layer.
        let (bytes, path) = match cached(&layer.digest, "Wasm layer")? {
            Some(bytes) => {
                let path = cache
                    .path(&layer.digest)
                    .expect("wasm_layer checks the digest");
                (bytes, path)
            }
            None => {
                let Some(session) = &session else {
                    return Err(FetchError::NotCached(format!(
                        "its Wasm layer {} was never pulled",
                        layer.digest
                    )));
                };
                let bytes = self.runtime.block_on(session.blob(&layer))?;
                let actual = digest_of(&bytes);
                if actual != layer.digest {
                    return Err(FetchError::Digest {
                        what: "Wasm layer",
                        place: "registry",
                        expected: layer.digest.clone(),
                        actual,
                    });
                }
                downloaded = true;
                let path = store(&layer.digest, &bytes)?;
                (bytes, path)
            }
        };
        let size = bytes.len() as u64;
        Ok(Fetched {
            pulled: Pulled {
                reference: written,
                manifest_digest: manifest_digest.clone(),
                layer_digest: layer.digest.clone(),
                size,
                downloaded,
            },
            component: PulledComponent {
                manifest_digest,
                digest: layer.digest,
                path,
                bytes: Arc::from(bytes),
            },
        })
    }

    /// A session for `reference`, with the client of its registry.
    fn session(&self, reference: &OciReference) -> Session {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let client = clients
            .entry(reference.registry.clone())
            .or_insert_with(|| Arc::new(Session::client(reference, &self.options.insecure)))
            .clone();
        Session::new(reference, client)
    }

    /// Pushes `bytes` (a component) to `reference` as a Wasm artifact: the layer, the
    /// config (`component` lists its imports and exports), then the manifest under the tag.
    /// The same bytes and names give the same manifest digest every time.
    ///
    /// # Errors
    /// [`PushError::NeedsTag`] for a reference without a tag or with a digest,
    /// [`PushError::Offline`] when offline, [`PushError::Registry`] when the registry
    /// refuses or cannot be reached.
    pub fn push(
        &self,
        reference: &OciReference,
        bytes: &[u8],
        component: ComponentConfig,
    ) -> Result<Pushed, PushError> {
        if reference.tag.is_none() || reference.digest.is_some() {
            return Err(PushError::NeedsTag(reference.to_string()));
        }
        if self.options.offline {
            return Err(PushError::Offline(reference.to_string()));
        }
        let session = self.session(reference);
        let layer_digest = digest_of(bytes);
        let config = WasmConfig {
            architecture: "wasm".into(),
            os: "wasip2".into(),
            layer_digests: vec![layer_digest.clone()],
            component: Some(component),
        };
        let config = serde_json::to_vec(&config).expect("a config serialises");
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(artifact::OCI_MANIFEST_MEDIA_TYPE.into()),
            config: Descriptor {
                media_type: artifact::WASM_CONFIG_MEDIA_TYPE.into(),
                digest: digest_of(&config),
                size: config.len() as u64,
            },
            layers: vec![Descriptor {
                media_type: artifact::WASM_LAYER_MEDIA_TYPE.into(),
                digest: layer_digest.clone(),
                size: bytes.len() as u64,
            }],
        };
        let manifest = serde_json::to_vec(&manifest).expect("a manifest serialises");
        let manifest_digest = digest_of(&manifest);
        let fail = |e: FetchError| PushError::Registry {
            reference: reference.to_string(),
            cause: match e {
                FetchError::Pull(cause) => cause,
                other => PullFailure::Other {
                    reason: other.to_string(),
                },
            },
        };
        self.runtime
            .block_on(session.push(bytes.to_vec(), config, manifest))
            .map_err(fail)?;
        Ok(Pushed {
            manifest_digest,
            layer_digest,
            size: bytes.len() as u64,
        })
    }
}

/// Reads the workload file at `path` and pulls its registry sources: [`Workload::from_file`],
/// then, when the workload has any `oci://` source, `compose.lock` beside it (if there is
/// one) and [`Registry::pull_workload`]. A workload of paths only is returned as read,
/// without touching the cache or the lock.
///
/// # Errors
/// As [`Workload::from_file`] and [`Registry::pull_workload`];
/// [`Problem::InvalidLock`] for a lock file that cannot be read.
pub fn load_workload(
    path: &std::path::Path,
    options: &RegistryOptions,
) -> Result<(Workload, Vec<Pulled>), ResolveError> {
    let mut workload = Workload::from_file(path)?;
    if !has_registry_sources(&workload) {
        return Ok((workload, Vec::new()));
    }
    let lock_path = Lock::path_for(path);
    let lock = Lock::read(&lock_path)?;
    let registry = Registry::new(options.clone()).map_err(|e| runtime_failure(&workload, &e))?;
    let pulled = registry.pull_workload(&mut workload, lock.as_ref().map(|l| (l, &*lock_path)))?;
    Ok((workload, pulled))
}

/// Pulls every registry source of the workload file at `path` as it is now (ignoring an
/// existing lock, so that moved tags are followed) and writes `compose.lock` beside it,
/// atomically: what `compose lock` does. Returns the lock and its path.
///
/// # Errors
/// As [`load_workload`]; a [`Problem::InvalidLock`] when the lock cannot be written.
pub fn lock_workload(
    path: &std::path::Path,
    options: &RegistryOptions,
) -> Result<(Lock, PathBuf), ResolveError> {
    let options = RegistryOptions {
        locked: false,
        ..options.clone()
    };
    let mut workload = Workload::from_file(path)?;
    let lock_path = Lock::path_for(path);
    let pulled = if has_registry_sources(&workload) {
        let registry = Registry::new(options).map_err(|e| runtime_failure(&workload, &e))?;
        registry.pull_workload(&mut workload, None)?
    } else {
        Vec::new()
    };
    let lock = Lock::of(pulled.iter().map(Pulled::locked));
    lock.write(&lock_path).map_err(|e| {
        Diagnostic::new(
            Problem::InvalidLock {
                path: lock_path.clone(),
                reason: format!("cannot write it: {e}"),
            },
            None,
            None,
        )
    })?;
    Ok((lock, lock_path))
}

/// Whether any component of `workload` comes from a registry.
pub fn has_registry_sources(workload: &Workload) -> bool {
    workload
        .components
        .values()
        .any(|c| matches!(c.source.value, ComponentSource::Oci(_)))
}

fn runtime_failure(workload: &Workload, error: &RegistryError) -> ResolveError {
    let (name, decl) = workload
        .components
        .iter()
        .find(|(_, c)| matches!(c.source.value, ComponentSource::Oci(_)))
        .expect("called for a workload with registry sources");
    let problem = Problem::PullFailed {
        component: name.clone(),
        reference: match &decl.source.value {
            ComponentSource::Oci(oci) => oci.reference.to_string(),
            _ => String::new(),
        },
        cause: PullFailure::Other {
            reason: error.to_string(),
        },
    };
    Diagnostic::new(problem, workload.text.as_ref(), decl.source.span.clone()).into()
}

/// One reference's connection: the client, its reference for oci-client and credentials.
struct Session {
    client: Arc<Client>,
    reference: Reference,
    auth: RegistryAuth,
}

impl Session {
    /// The client for `reference`'s registry: plain HTTP for loopback and `insecure`
    /// registries, HTTPS for the others.
    fn client(reference: &OciReference, insecure: &[String]) -> Client {
        let plain = reference.is_loopback() || insecure.contains(&reference.registry);
        let protocol = if plain {
            oci_client::client::ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
        } else {
            oci_client::client::ClientProtocol::Https
        };
        let config = oci_client::client::ClientConfig {
            protocol,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            ..Default::default()
        };
        Client::new(config)
    }

    fn new(reference: &OciReference, client: Arc<Client>) -> Self {
        let oci_reference = match (&reference.tag, &reference.digest) {
            (Some(tag), Some(digest)) => Reference::with_tag_and_digest(
                reference.registry.clone(),
                reference.repository.clone(),
                tag.clone(),
                digest.clone(),
            ),
            (None, Some(digest)) => Reference::with_digest(
                reference.registry.clone(),
                reference.repository.clone(),
                digest.clone(),
            ),
            (tag, None) => Reference::with_tag(
                reference.registry.clone(),
                reference.repository.clone(),
                tag.clone().unwrap_or_default(),
            ),
        };
        Self {
            client,
            reference: oci_reference,
            auth: credentials(&reference.registry),
        }
    }

    /// The reference by tag only (what the tag names now).
    fn by_tag(&self) -> Reference {
        Reference::with_tag(
            self.reference.registry().to_owned(),
            self.reference.repository().to_owned(),
            self.reference.tag().unwrap_or_default().to_owned(),
        )
    }

    async fn tag_digest(&self) -> Result<String, FetchError> {
        self.client
            .fetch_manifest_digest(&self.by_tag(), &self.auth)
            .await
            .map_err(failure)
    }

    async fn manifest(&self, digest: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let reference = match digest {
            Some(digest) => self.reference.clone_with_digest(digest.to_owned()),
            None => self.by_tag(),
        };
        let (bytes, _) = self
            .client
            .pull_manifest_raw(&reference, &self.auth, artifact::ACCEPTED_MANIFESTS)
            .await
            .map_err(failure)?;
        Ok(bytes.to_vec())
    }

    async fn blob(&self, layer: &Descriptor) -> Result<Vec<u8>, FetchError> {
        self.client
            .store_auth_if_needed(self.reference.resolve_registry(), &self.auth)
            .await;
        let mut out = Vec::with_capacity(usize::try_from(layer.size).unwrap_or(0).min(1 << 28));
        self.client
            .pull_blob(&self.reference, layer.digest.as_str(), &mut out)
            .await
            .map_err(|e| match failure(e) {
                FetchError::Digest {
                    expected, actual, ..
                } => FetchError::Digest {
                    what: "Wasm layer",
                    place: "registry",
                    expected,
                    actual,
                },
                other => other,
            })?;
        Ok(out)
    }

    async fn push(
        &self,
        layer: Vec<u8>,
        config: Vec<u8>,
        manifest: Vec<u8>,
    ) -> Result<(), FetchError> {
        self.client
            .store_auth_if_needed(self.reference.resolve_registry(), &self.auth)
            .await;
        self.client
            .auth(
                &self.reference,
                &self.auth,
                oci_client::RegistryOperation::Push,
            )
            .await
            .map_err(failure)?;
        for blob in [layer, config] {
            let digest = digest_of(&blob);
            self.client
                .push_blob(&self.reference, blob, &digest)
                .await
                .map_err(failure)?;
        }
        let content_type = http_header(artifact::OCI_MANIFEST_MEDIA_TYPE);
        self.client
            .push_manifest_raw(&self.reference, manifest, content_type)
            .await
            .map_err(failure)?;
        Ok(())
    }
}

fn http_header(value: &'static str) -> http::HeaderValue {
    http::HeaderValue::from_static(value)
}

/// The credentials for `registry` from the Docker configuration, else anonymous.
fn credentials(registry: &str) -> RegistryAuth {
    let server = match registry {
        "docker.io" | "index.docker.io" => "https://index.docker.io/v1/",
        other => other,
    };
    match docker_credential::get_credential(server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(user, password)) => {
            RegistryAuth::Basic(user, password)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
            RegistryAuth::Bearer(token)
        }
        Err(_) => RegistryAuth::Anonymous,
    }
}

/// An error and its causes, `: `-separated (reqwest's own message names only the URL).
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}

/// What an oci-client error means for the user.
fn failure(error: OciDistributionError) -> FetchError {
    let reason = chain(&error);
    let pull = |cause| FetchError::Pull(cause);
    match &error {
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            pull(PullFailure::Unreachable { reason })
        }
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => pull(PullFailure::AuthRefused { reason }),
        OciDistributionError::ImageManifestNotFoundError(_)
        | OciDistributionError::ServerError { code: 404, .. } => {
            pull(PullFailure::NotFound { reason })
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<_> = envelope.errors.iter().map(|e| &e.code).collect();
            let any = |wanted: &[OciErrorCode]| codes.iter().any(|c| wanted.contains(c));
            if any(&[OciErrorCode::Unauthorized, OciErrorCode::Denied]) {
                pull(PullFailure::AuthRefused { reason })
            } else if any(&[
                OciErrorCode::NameUnknown,
                OciErrorCode::ManifestUnknown,
                OciErrorCode::BlobUnknown,
                OciErrorCode::NotFound,
            ]) {
                pull(PullFailure::NotFound { reason })
            } else {
                pull(PullFailure::Other { reason })
            }
        }
        OciDistributionError::DigestError(oci_client::errors::DigestError::VerificationError {
            expected,
            actual,
        }) => FetchError::Digest {
            what: "manifest",
            place: "registry",
            expected: expected.clone(),
            actual: actual.clone(),
        },
        _ => pull(PullFailure::Other { reason }),
    }
}
