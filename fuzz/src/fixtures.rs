//! The committed fixture components and the names they import and export, read once.

use compose_resolver::ComponentType;
use compose_resolver::wac_types::Types;
use std::sync::{Arc, OnceLock};

/// One fixture component.
pub struct Fixture {
    /// Its file name (`frontend.wasm`).
    pub file: String,
    pub bytes: Arc<[u8]>,
}

/// Every fixture component, and every import and export name (and implemented interface)
/// among them: the fuzzers' dictionary of names.
pub struct Fixtures {
    pub components: Vec<Fixture>,
    pub names: Vec<String>,
}

/// The fixtures of `fixtures/components`, in file-name order.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/components");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("fixtures/components is committed")
            .map(|e| e.expect("a folder entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            // Not the large ones kept for start-up measurements (more than 1 MiB: the
            // JavaScript HTTP handler, 12.8 MB), which every input would copy and parse.
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= 1 << 20))
            .collect();
        paths.sort();
        let mut names = Vec::new();
        let components = paths
            .into_iter()
            .map(|path| {
                let bytes: Arc<[u8]> = std::fs::read(&path).expect("a fixture").into();
                let ty = ComponentType::read(bytes.clone(), &mut Types::default())
                    .expect("fixtures are components");
                for item in ty.imports.iter().chain(&ty.exports) {
                    names.push(item.name.clone());
                    names.extend(item.implements.clone());
                }
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                Fixture { file, bytes }
            })
            .collect();
        names.sort();
        names.dedup();
        Fixtures { components, names }
    })
}
