//! A remote's `types` given as a WIT folder rather than a component: the folder's package
//! is parsed (wit-parser, as `--wit` is), and wit-component encodes a component that
//! exports every interface of it — a dummy whose functions trap, never run — so the
//! remote's exports are read and type-checked exactly as from a `types` component.

use std::path::Path;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

/// The component that exports every interface of the WIT package in folder `dir` (its
/// `deps/` resolved as wit-parser resolves them).
///
/// # Errors
/// A message when the folder does not parse, defines no interface, or does not encode.
pub(crate) fn component(dir: &Path) -> Result<Vec<u8>, String> {
    let mut resolve = Resolve::new();
    let (package, _) = resolve
        .push_dir(dir)
        .map_err(|e| format!("its WIT does not parse: {e:#}"))?;
    let interfaces: Vec<String> = (resolve.packages[package].interfaces.values())
        .filter_map(|id| resolve.id_of(*id))
        .collect();
    if interfaces.is_empty() {
        let name = &resolve.packages[package].name;
        return Err(format!("WIT package `{name}` defines no interface"));
    }
    let exports: String = interfaces
        .iter()
        .map(|i| format!("  export {i};\n"))
        .collect();
    let source = format!("package compose:remote-types;\nworld types {{\n{exports}}}\n");
    let world_package = resolve
        .push_str("compose-remote-types.wit", &source)
        .map_err(encode)?;
    let world = resolve
        .select_world(&[world_package], Some("types"))
        .map_err(encode)?;
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .map_err(encode)?;
    ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(encode)
}

/// The message of a WIT that parsed but did not encode.
fn encode(error: impl std::fmt::Display) -> String {
    format!("its WIT does not encode: {error:#}")
}
