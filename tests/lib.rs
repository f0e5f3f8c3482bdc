//! Shared helpers of the integration tests (`tests/all/`) and benches (`tests/benches/`):
//! where the fixtures are, small WAT components, and a generic host.

pub mod host;

use std::path::PathBuf;
use std::sync::OnceLock;

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// The committed fixture component `fixtures/components/<name>.wasm`.
pub fn fixture(name: &str) -> PathBuf {
    workspace_root()
        .join("fixtures/components")
        .join(format!("{name}.wasm"))
}

/// The bytes of the fixture component `name`.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture components are committed")
}

/// A workload component read from the fixture component `name`, its bytes in memory.
pub fn fixture_component(name: &str) -> compose_resolver::ComponentDecl {
    compose_resolver::ComponentDecl::from_bytes(format!("{name}.wasm"), fixture_bytes(name))
}

/// An example workload file, `fixtures/<name>/workload.toml`.
pub fn example_workload(name: &str) -> PathBuf {
    workspace_root()
        .join("fixtures")
        .join(name)
        .join("workload.toml")
}

/// A component that wac-cli 0.12 ships in `examples/deps/example/` (`hello`, `greeter`),
/// found in the registry source of the dev-dependency through `cargo metadata`, so that no
/// third-party file is copied into this repository.
pub fn wac_example(name: &str) -> PathBuf {
    static WAC_CLI: OnceLock<PathBuf> = OnceLock::new();
    let dir = WAC_CLI.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1"])
            .current_dir(workspace_root())
            .output()
            .expect("cargo metadata runs");
        assert!(output.status.success(), "cargo metadata failed");
        let metadata: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
        let package = metadata["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == "wac-cli")
            .expect("wac-cli is a dev-dependency");
        PathBuf::from(package["manifest_path"].as_str().expect("manifest_path"))
            .parent()
            .expect("manifest folder")
            .to_owned()
    });
    dir.join("examples/deps/example")
        .join(format!("{name}.wasm"))
}

/// A WAT component type of an instance with one function `get: func(x: u32) -> u32`.
pub const GET_U32: &str = r#"(instance (export "get" (func (param "x" u32) (result u32))))"#;

/// A component that imports each of `imports` (`name` or `name implements iface`) as an
/// instance of `ty`, and exports each of `exports` as an instance with a real `get: func(u32) -> u32`.
pub fn wat_component(imports: &[&str], ty: &str, exports: &[&str]) -> Vec<u8> {
    let mut wat = String::from("(component\n");
    for import in imports {
        match import.split_once(" implements ") {
            Some((label, iface)) => {
                wat += &format!("  (import \"{label}\" (implements \"{iface}\") {ty})\n")
            }
            None => wat += &format!("  (import \"{import}\" {ty})\n"),
        }
    }
    if !exports.is_empty() {
        wat += r#"  (core module $m (func (export "get") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func $get (param "x" u32) (result u32) (canon lift (core func $i "get")))
  (instance $api (export "get" (func $get)))
"#;
    }
    for export in exports {
        wat += &format!("  (export \"{export}\" (instance $api))\n");
    }
    wat += ")";
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

/// The function `function` of the instance `interface` that `instance` exports.
///
/// # Panics
/// When the instance exports no such function (a test's failure).
pub fn exported_func<T: 'static>(
    instance: &wasmtime::component::Instance,
    mut store: impl wasmtime::AsContextMut<Data = T>,
    interface: &str,
    function: &str,
) -> wasmtime::component::Func {
    let missing = || format!("no export {interface}#{function}");
    let export = instance
        .get_export_index(&mut store, None, interface)
        .unwrap_or_else(|| panic!("{}", missing()));
    let index = instance
        .get_export_index(&mut store, Some(&export), function)
        .unwrap_or_else(|| panic!("{}", missing()));
    instance
        .get_func(&mut store, index)
        .unwrap_or_else(|| panic!("{}", missing()))
}

/// The trap code in an error's chain of causes, if there is one: what a test compares
/// when two ways of running one call must fail alike.
pub fn trap_of(error: &(dyn std::error::Error + 'static)) -> Option<wasmtime::Trap> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
            return Some(*trap);
        }
        cause = e.source();
    }
    None
}
