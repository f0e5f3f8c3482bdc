//! `compose.lock`: for every registry source of a workload, the digest it resolved to, so
//! that a later build uses the same bytes or says why it cannot.
//!
//! Shaped like `wkg.lock` version 1 (wasm-pkg-tools): a `version` and one `[[packages]]`
//! table per reference, sorted by reference so that the same sources always give the same
//! file, byte for byte:
//!
//! ```toml
//! # This file is written by `compose lock`. Do not edit it.
//! version = 1
//!
//! [[packages]]
//! reference = "oci://127.0.0.1:5000/acme/kv-memory:1.2.0"
//! digest = "sha256:…"   # the manifest's: what the tag named when locked
//! layer = "sha256:…"    # the Wasm layer's: the component's bytes
//! size = 36969          # the component's size in bytes
//! ```

use compose_resolver::{Diagnostic, Problem, ResolveError, is_sha256_digest};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name, beside the workload file.
pub const LOCK_FILE: &str = "compose.lock";

/// The lock format's version.
pub const LOCK_VERSION: u32 = 1;

/// A lock file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// [`LOCK_VERSION`].
    pub version: u32,
    /// One entry per reference, sorted by reference.
    #[serde(default)]
    pub packages: Vec<LockedPackage>,
}

/// One locked reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    /// The `oci://` reference as the workload file writes it.
    pub reference: String,
    /// The digest of the manifest it resolved to.
    pub digest: String,
    /// The digest of the Wasm layer.
    pub layer: String,
    /// The Wasm layer's size in bytes.
    pub size: u64,
}

impl Lock {
    /// The lock file of the workload file at `workload`: `compose.lock` beside it.
    pub fn path_for(workload: &Path) -> PathBuf {
        match workload.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(LOCK_FILE),
            _ => PathBuf::from(LOCK_FILE),
        }
    }

    /// Reads the lock file at `path`; `None` when there is none.
    ///
    /// # Errors
    /// [`Problem::InvalidLock`] when it cannot be read, is not TOML of this shape, has
    /// another version or a digest that is not `sha256:…`.
    pub fn read(path: &Path) -> Result<Option<Self>, ResolveError> {
        let invalid = |reason: String| -> ResolveError {
            Diagnostic::new(
                Problem::InvalidLock {
                    path: path.to_owned(),
                    reason,
                },
                None,
                None,
            )
            .into()
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(invalid(e.to_string())),
        };
        let lock: Lock = toml::from_str(&text).map_err(|e| invalid(e.message().to_owned()))?;
        if lock.version != LOCK_VERSION {
            return Err(invalid(format!(
                "version {} is not the version this compose writes ({LOCK_VERSION})",
                lock.version
            )));
        }
        if let Some(bad) = lock
            .packages
            .iter()
            .find(|p| !is_sha256_digest(&p.digest) || !is_sha256_digest(&p.layer))
        {
            return Err(invalid(format!(
                "the entry of `{}` has a digest that is not `sha256:` and 64 hex digits",
                bad.reference
            )));
        }
        Ok(Some(lock))
    }

    /// The entry of `reference` (as written, `oci://…`), if locked.
    pub fn get(&self, reference: &str) -> Option<&LockedPackage> {
        self.packages.iter().find(|p| p.reference == reference)
    }

    /// The lock of `packages`, sorted and without duplicates.
    pub fn of(packages: impl IntoIterator<Item = LockedPackage>) -> Self {
        let mut packages: Vec<_> = packages.into_iter().collect();
        packages.sort_by(|a, b| a.reference.cmp(&b.reference));
        packages.dedup_by(|a, b| a.reference == b.reference);
        Self {
            version: LOCK_VERSION,
            packages,
        }
    }

    /// The file's text: a header comment, then the TOML.
    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).expect("a lock serialises");
        format!("# This file is written by `compose lock`. Do not edit it.\n{body}")
    }

    /// Writes the lock to `path` atomically (a temporary file in the same folder, renamed).
    ///
    /// # Errors
    /// The file system's, when the folder cannot be written.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(self.to_text().as_bytes())?;
        file.as_file().sync_all()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
