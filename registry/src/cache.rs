//! Blobs on disk, content-addressed: `<dir>/blobs/sha256/<hex>`, the layout of an OCI
//! image layout's `blobs/` folder (image-spec `image-layout.md`), so that the same bytes
//! are kept once whatever references name them.
//!
//! A blob is written only after its SHA-256 has been checked against its digest, to a
//! temporary file in the same folder that is renamed into place: two processes pulling the
//! same blob leave one valid file, and a crash leaves none half-written. A blob is checked
//! again every time it is read, so a file corrupted on disk is reported (and never used).

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A folder of blobs named by their digests, shared by every process that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCache {
    dir: PathBuf,
}

/// Why a blob could not be read from or written to the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The file's bytes do not have the digest it is named by.
    #[error("the cached blob {path} has digest {actual}, not {expected}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The digest it is named by.
        expected: String,
        /// The SHA-256 of its bytes.
        actual: String,
    },
    /// Bytes handed to [`BlobCache::put`] that do not have the digest given for them.
    #[error("bytes with digest {actual} cannot be stored as {expected}")]
    Mismatch {
        /// The digest given.
        expected: String,
        /// Their SHA-256.
        actual: String,
    },
    /// A digest that is not `sha256:` and 64 lowercase hexadecimal digits.
    #[error("`{0}` is not a sha256 digest")]
    InvalidDigest(String),
    /// The file system failed.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// `read`, `write`, `create`.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// The OCI digest of `bytes`: `sha256:` and the hexadecimal SHA-256.
pub fn digest_of(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for byte in hash {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

impl BlobCache {
    /// The blobs under `root/blobs/sha256/`. `root` is the cache folder that
    /// compose-linker's compiled-code cache uses too (`CodeCache::default_dir`:
    /// `$COMPOSE_CACHE_DIR`, else `$XDG_CACHE_HOME/compose`, else `~/.cache/compose`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            dir: root.into().join("blobs").join("sha256"),
        }
    }

    /// The folder that holds the blobs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the blob `digest` (whether or not it exists).
    ///
    /// # Errors
    /// [`CacheError::InvalidDigest`] for a digest that is not `sha256:` and 64 hex digits
    /// (which also keeps a digest from naming a file outside the folder).
    pub fn path(&self, digest: &str) -> Result<PathBuf, CacheError> {
        if !compose_resolver::is_sha256_digest(digest) {
            return Err(CacheError::InvalidDigest(digest.to_owned()));
        }
        Ok(self.dir.join(&digest["sha256:".len()..]))
    }

    /// The bytes of blob `digest`, checked against it; `None` when it is not cached.
    ///
    /// # Errors
    /// [`CacheError::Corrupt`] when the file's bytes have another digest (the file is left
    /// for the user to see; [`BlobCache::put`] replaces it), [`CacheError::Io`] when it
    /// cannot be read.
    pub fn get(&self, digest: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let path = self.path(digest)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CacheError::Io {
                    what: "read",
                    path,
                    source,
                });
            }
        };
        let actual = digest_of(&bytes);
        if actual != digest {
            return Err(CacheError::Corrupt {
                path,
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(Some(bytes))
    }

    /// Stores `bytes` as blob `digest`, atomically; returns its file.
    ///
    /// # Errors
    /// [`CacheError::Mismatch`] when `bytes` do not have that digest (nothing is written),
    /// [`CacheError::Io`] when the folder or the file cannot be written.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.path(digest)?;
        let actual = digest_of(bytes);
        if actual != digest {
            return Err(CacheError::Mismatch {
                expected: digest.to_owned(),
                actual,
            });
        }
        let io = |what, path: &Path| {
            let path = path.to_owned();
            move |source| CacheError::Io { what, path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        let mut file =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(io("write", &self.dir))?;
        file.write_all(bytes)
            .and_then(|()| file.as_file().sync_all())
            .map_err(io("write", file.path()))?;
        file.persist(&path).map_err(|e| CacheError::Io {
            what: "write",
            path: path.clone(),
            source: e.error,
        })?;
        Ok(path)
    }

    /// Removes every blob.
    ///
    /// # Errors
    /// The file system's, when the folder exists and cannot be removed.
    pub fn clean(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
