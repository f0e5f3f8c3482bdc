//! The component files the generator draws from: every committed fixture component, read
//! through the resolver (so nothing here names an interface), plus small WAT components
//! derived from the interface names the fixtures use — exporters and importers of those
//! names with another type (`get: func(u32) -> u32`), at the same and at other versions,
//! and bridges that import one name and export another (two bridges make a cycle).

use compose_resolver::ComponentType;
use compose_resolver::wac_types::{ItemKind, Types};
use compose_tests::workspace_root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// An import or export of a pool file: its name and, for a label, the interface it implements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub name: String,
    pub implements: Option<String>,
    /// For an instance, the names of its functions that are not resource functions.
    pub funcs: Vec<String>,
}

impl Name {
    /// The interface this item is an instance of, if any.
    pub fn interface(&self) -> Option<&str> {
        self.implements
            .as_deref()
            .or_else(|| self.name.contains(':').then_some(self.name.as_str()))
    }
}

/// One component file.
#[derive(Debug)]
pub struct PoolFile {
    /// A short name for messages (`frontend`, `odd-export-3`).
    pub stem: String,
    /// Where it is written (fixtures are committed; generated ones live in the test's temp folder).
    pub path: PathBuf,
    /// Whether it is a committed fixture.
    pub fixture: bool,
    pub imports: Vec<Name>,
    pub exports: Vec<Name>,
}

/// Every file the generator may use, and the names they import and export.
#[derive(Debug)]
pub struct Pool {
    pub files: Vec<PoolFile>,
    /// Every interface name imported, exported or implemented by a fixture.
    pub interfaces: Vec<String>,
    /// Every `implements` label a fixture imports.
    pub labels: Vec<String>,
}

impl Pool {
    /// Reads the fixture components and writes the derived WAT components into `dir`.
    pub fn load(dir: &std::path::Path) -> Pool {
        let mut files: Vec<PoolFile> = fixture_paths()
            .into_iter()
            .map(|path| read(path, true))
            .collect();
        // Each interface with the union of its functions over the fixtures.
        let mut functions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut labels = BTreeSet::new();
        for item in files
            .iter()
            .flat_map(|f| f.imports.iter().chain(&f.exports))
        {
            if let Some(interface) = item.interface() {
                let funcs = functions.entry(interface.to_owned()).or_default();
                funcs.extend(
                    item.funcs
                        .iter()
                        .filter(|f| !funcs.contains(f))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
            if item.implements.is_some() {
                labels.insert(item.name.clone());
            }
        }
        let interfaces: Vec<String> = functions.keys().cloned().collect();
        let labels: Vec<String> = labels.into_iter().collect();
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("the pool folder can be made");
        let labelled: Vec<(String, String)> = (files.iter())
            .flat_map(|f| &f.imports)
            .filter_map(|i| Some((i.name.clone(), i.implements.clone()?)))
            .collect();
        for (stem, wat) in derived(&functions, &labelled) {
            let path = dir.join(format!("{stem}.wasm"));
            std::fs::write(&path, &wat).expect("the pool folder is writable");
            files.push(read(path, false));
        }
        Pool {
            files,
            interfaces,
            labels,
        }
    }
}

/// Whether export `export` could serve import `import` by its name or interface.
pub fn serves(export: &Name, import: &Name) -> bool {
    compose_resolver::names_match(&import.name, &export.name)
        || matches!((import.interface(), export.interface()),
            (Some(i), Some(e)) if compose_resolver::names_match(i, e))
}

fn fixture_paths() -> Vec<PathBuf> {
    let dir = workspace_root().join("fixtures/components");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/components is committed")
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .filter(|p| !is_large_fixture(p))
        .filter(|p| !is_async_fixture(p))
        .collect();
    paths.sort();
    paths
}

/// Whether a fixture is one of the large ones kept for start-up measurements (more than
/// 1 MiB: the JavaScript HTTP handler `js-http.wasm`, 12.8 MB): every generated workload
/// that drew it would spend most of a minute compiling it.
fn is_large_fixture(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 1 << 20)
}

/// Whether a fixture has async functions (or passes streams, futures, error-contexts):
/// such components need an engine with concurrency support and `call_async`; this property
/// test runs every workload on one synchronous engine, and `tests/all/async_linking.rs` and
/// `tests/all/hybrid.rs` cover them instead.
fn is_async_fixture(path: &std::path::Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let mut types = compose_resolver::wac_types::Types::default();
    compose_resolver::ComponentType::read(bytes.into(), &mut types).is_ok_and(|ty| {
        (ty.imports.iter().chain(&ty.exports))
            .any(|item| compose_resolver::needs_concurrency(&types, item.kind))
    })
}

/// Reads a component's imports and exports through the resolver.
fn read(path: PathBuf, fixture: bool) -> PoolFile {
    let bytes: Arc<[u8]> = std::fs::read(&path).expect("pool file").into();
    let mut types = Types::default();
    let ty = ComponentType::read(bytes, &mut types)
        .unwrap_or_else(|e| panic!("{} is a component: {e}", path.display()));
    let names = |items: &[compose_resolver::Item]| -> Vec<Name> {
        items
            .iter()
            .map(|i| Name {
                name: i.name.clone(),
                implements: i.implements.clone(),
                funcs: match i.kind {
                    ItemKind::Instance(id) => (types[id].exports.iter())
                        .filter(|(n, k)| matches!(k, ItemKind::Func(_)) && !n.contains('['))
                        .map(|(n, _)| n.clone())
                        .collect(),
                    _ => Vec::new(),
                },
            })
            .collect()
    };
    PoolFile {
        stem: path.file_stem().unwrap().to_string_lossy().into_owned(),
        fixture,
        imports: names(&ty.imports),
        exports: names(&ty.exports),
        path,
    }
}

/// `name` at other versions: a compatible one, an incompatible one and a pre-release (only
/// for versioned names).
pub fn versions(name: &str) -> Vec<String> {
    let Some((base, version)) = name.split_once('@') else {
        return vec![name.to_owned()];
    };
    let Ok(v) = semver::Version::parse(version) else {
        return vec![name.to_owned()];
    };
    let compatible = if v.major == 0 {
        format!("{}.{}.{}", v.major, v.minor, v.patch + 7)
    } else {
        format!("{}.{}.0", v.major, v.minor + 3)
    };
    let incompatible = if v.major == 0 {
        format!("0.{}.0", v.minor + 1)
    } else {
        format!("{}.0.0", v.major + 1)
    };
    let pre = format!("{version}-rc.1");
    [version.to_owned(), compatible, incompatible, pre]
        .into_iter()
        .map(|v| format!("{base}@{v}"))
        .collect()
}

/// The WAT components derived from the fixtures' names, as `(stem, bytes)`. `functions`
/// gives each interface's function names; every derived component gives each of them the
/// type `func(x: u32) -> u32`, which no fixture uses.
fn derived(
    functions: &BTreeMap<String, Vec<String>>,
    labels: &[(String, String)],
) -> Vec<(String, Vec<u8>)> {
    let interfaces: Vec<&String> = functions.keys().collect();
    let funcs = |i: &str| functions[i].clone();
    let mut out = Vec::new();
    for (i, interface) in interfaces.iter().enumerate() {
        let own = (interface.as_str(), None, funcs(interface));
        for (v, version) in versions(interface).iter().enumerate() {
            let export = (version.as_str(), None, funcs(interface));
            out.push((format!("odd-export-{i}-v{v}"), odd(&[], &[export])));
        }
        let plain = format!("odd-{i}");
        let export = (plain.as_str(), None, vec!["get".to_owned()]);
        out.push((
            format!("odd-import-{i}"),
            odd(std::slice::from_ref(&own), &[export]),
        ));
        // Bridges around a ring of the names: `i` imports name i and exports name i+1, and
        // `back` the other way, so a workload with both has a cycle.
        let next = interfaces[(i + 1) % interfaces.len()];
        let next = (next.as_str(), None, funcs(next));
        out.push((
            format!("bridge-{i}"),
            odd(std::slice::from_ref(&own), std::slice::from_ref(&next)),
        ));
        out.push((format!("bridge-back-{i}"), odd(&[next], &[own])));
    }
    for (i, (label, interface)) in labels.iter().enumerate() {
        // The same label and interface with another type (the host then serves one name
        // under two types), and the label implementing another interface.
        let other = interfaces[(i + 1) % interfaces.len()];
        for (j, interface) in [interface, other].into_iter().enumerate() {
            let import = (label.as_str(), Some(interface.as_str()), funcs(interface));
            let plain = format!("odd-label-{i}");
            let export = (plain.as_str(), None, vec!["get".to_owned()]);
            out.push((format!("odd-label-{i}-{j}"), odd(&[import], &[export])));
        }
    }
    out
}

/// An import or export of a derived component: name, `implements`, function names.
type Odd<'a> = (&'a str, Option<&'a str>, Vec<String>);

/// A component importing and exporting instances whose functions are all
/// `func(x: u32) -> u32` (exports return their argument).
fn odd(imports: &[Odd<'_>], exports: &[Odd<'_>]) -> Vec<u8> {
    let instance_type = |funcs: &[String]| {
        let funcs = if funcs.is_empty() {
            &["get".to_owned()][..]
        } else {
            funcs
        };
        let exports: String = (funcs.iter())
            .map(|f| format!(r#"(export "{f}" (func (param "x" u32) (result u32)))"#))
            .collect();
        format!("(instance {exports})")
    };
    let mut wat = String::from("(component\n");
    for (name, implements, funcs) in imports {
        let implements = implements.map_or(String::new(), |i| format!(r#"(implements "{i}")"#));
        wat += &format!(
            "  (import \"{name}\" {implements} {})\n",
            instance_type(funcs)
        );
    }
    wat += r#"  (core module $m (func (export "f") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func $f (param "x" u32) (result u32) (canon lift (core func $i "f")))
"#;
    for (n, (name, _, funcs)) in exports.iter().enumerate() {
        let funcs = if funcs.is_empty() {
            &["get".to_owned()][..]
        } else {
            funcs
        };
        let items: String = funcs
            .iter()
            .map(|f| format!(r#"(export "{f}" (func $f))"#))
            .collect();
        wat += &format!("  (instance $e{n} {items})\n  (export \"{name}\" (instance $e{n}))\n");
    }
    wat += ")";
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}
