//! Writing what a command produces to a file, atomically.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` so that readers see the old file or the whole new one, never a
/// part: into a new temporary file in the same folder (same file system, so the rename is
/// atomic), synced, then renamed over `path` (`tempfile`'s `NamedTempFile::persist`). A
/// failed write leaves no temporary file behind.
///
/// # Errors
/// The operating system's error when the folder does not exist or cannot be written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".compose-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn writing_replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("graph.dot");
        write_atomically(&path, b"old").expect("writes");
        write_atomically(&path, b"new").expect("replaces");
        assert_eq!(fs::read(&path).expect("reads"), b"new");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["graph.dot"]);
        assert!(write_atomically(&dir.path().join("missing/graph.dot"), b"x").is_err());
    }
}
