//! Compiled components on disk, so that a restart does not compile the same bytes again
//! (what `wasmtime run` and `wasmtime serve` do with Wasmtime's own cache).
//!
//! An entry is keyed by the SHA-256 of the component's bytes and of the engine's
//! compatibility hash (`Engine::precompile_compatibility_hash`: Wasmtime's version and
//! every setting that changes compiled code), so another Wasmtime or another configuration
//! never finds this one's entry. An entry is `<dir>/components/<key>.cwasm`: [`MAGIC`], the
//! SHA-256 of the payload, then the payload (`Component::serialize`). It is written to a
//! temporary file in the same folder and renamed into place, atomically, so two processes
//! compiling the same component leave one valid entry and a crash leaves none half-written.
//! An entry that cannot be read, is truncated or corrupted, or that Wasmtime refuses (it
//! checks its own version and settings again) is compiled again and rewritten.
//!
//! Why not Wasmtime's `Cache` (its `cache` feature): it deserializes whatever its zstd
//! entries decompress to, with no check that the bytes are the ones it wrote, and
//! `Component::deserialize` is only sound on Wasmtime's own output; a flipped byte on disk
//! must end in a recompile, never in loading unchecked code. The digest here is that check.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// What an entry starts with: the format and its version.
pub const MAGIC: &[u8; 16] = b"compose-cwasm-1\n";

/// A folder of compiled components, shared by every process that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCache {
    dir: PathBuf,
}

/// How [`CodeCache::component`] got a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLookup {
    /// Its entry was there and valid: nothing was compiled.
    Hit,
    /// No entry: compiled, and the entry written.
    Miss,
    /// An entry that could not be used (the reason): compiled, and the entry rewritten.
    Invalid(String),
}

impl CodeCache {
    /// The cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the cache lives by default: `$COMPOSE_CACHE_DIR`, else `compose` in the XDG
    /// base directory spec's cache folder (`$XDG_CACHE_HOME`, else `$HOME/.cache`); `None`
    /// when none of these is set (to an absolute path, as the spec requires of XDG's).
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).map(PathBuf::from);
        if let Some(dir) = var("COMPOSE_CACHE_DIR").filter(|d| !d.as_os_str().is_empty()) {
            return Some(dir);
        }
        let xdg = var("XDG_CACHE_HOME").filter(|d| d.is_absolute());
        let base = xdg.or_else(|| {
            var("HOME")
                .filter(|h| h.is_absolute())
                .map(|h| h.join(".cache"))
        });
        base.map(|base| base.join("compose"))
    }

    /// The cache's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The component of `bytes` compiled for `engine`: from its entry when that is valid,
    /// else compiled and written (a failed write only loses the entry: the component is
    /// returned all the same).
    ///
    /// # Errors
    /// Wasmtime's, when `bytes` do not compile.
    pub fn component(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, CacheLookup)> {
        let lookup = match self.load(engine, bytes) {
            Ok(component) => return Ok((component, CacheLookup::Hit)),
            Err(lookup) => lookup,
        };
        let component = Component::new(engine, bytes)?;
        let _ = self.store(engine, bytes, &component);
        Ok((component, lookup))
    }

    /// The component of `bytes` for `engine` from its entry, or why there is none to use
    /// ([`CacheLookup::Miss`] or [`CacheLookup::Invalid`]).
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<Component, CacheLookup> {
        let entry = std::fs::read(self.entry_path(engine, bytes)).map_err(|_| CacheLookup::Miss)?;
        load(engine, &entry).map_err(CacheLookup::Invalid)
    }

    /// Writes `component`, compiled from `bytes` for `engine`, as its entry (atomically,
    /// replacing an invalid one).
    ///
    /// # Errors
    /// Wasmtime's when the component cannot be serialized, the operating system's when the
    /// entry cannot be written.
    pub fn store(
        &self,
        engine: &Engine,
        bytes: &[u8],
        component: &Component,
    ) -> wasmtime::Result<()> {
        let payload = component.serialize()?;
        write_entry(&self.entry_path(engine, bytes), &payload)?;
        Ok(())
    }

    /// The file of the entry of `bytes` compiled for `engine` (which may not exist).
    pub fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut key = HashWriter(Sha256::new());
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut key);
        key.0.update(bytes);
        let name = format!("{}.cwasm", hex(&key.0.finalize()));
        self.dir.join("components").join(name)
    }

    /// Removes every entry (the folder itself stays).
    ///
    /// # Errors
    /// The operating system's, when the entries cannot be removed.
    pub fn clean(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.dir.join("components")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The component of a valid entry, or why the entry is not valid.
fn load(engine: &Engine, entry: &[u8]) -> Result<Component, String> {
    let rest = entry
        .strip_prefix(MAGIC)
        .ok_or("not an entry of this format")?;
    let (digest, payload) = rest.split_at_checked(32).ok_or("truncated")?;
    if Sha256::digest(payload).as_slice() != digest {
        return Err("its digest does not match its bytes (truncated or corrupted)".into());
    }
    // SAFETY: `payload` is what `Component::serialize` wrote for an engine with the same
    // compatibility hash (the entry's name), byte for byte (its SHA-256, written with it,
    // matches); Wasmtime checks its version and settings again and refuses a mismatch.
    #[allow(
        unsafe_code,
        reason = "deserializing compiled code this cache wrote and verified"
    )]
    let component = unsafe { Component::deserialize(engine, payload) };
    component.map_err(|e| format!("Wasmtime refuses it: {e}"))
}

/// Writes `payload` as the entry at `path`, atomically.
fn write_entry(path: &Path, payload: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, MAGIC)?;
    std::io::Write::write_all(&mut file, &Sha256::digest(payload))?;
    std::io::Write::write_all(&mut file, payload)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds a `Hash` into SHA-256 (the compatibility hash is an `impl Hash`).
struct HashWriter(Sha256);

impl std::hash::Hasher for HashWriter {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Never called by `Hash` implementations (only by a hasher's owner); the digest of
    /// what was written is the result.
    fn finish(&self) -> u64 {
        0
    }
}
