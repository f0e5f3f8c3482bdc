//! A component's imports and exports, read from its bytes with wac-types.

use crate::names::{InterfaceName, names_match};
use std::sync::Arc;
use wac_types::{ItemKind, Package, Types, WorldId};

/// One import or export of a component.
#[derive(Debug, Clone)]
pub struct Item {
    /// The name in the component's import or export section: an interface name
    /// (`acme:kv/store@0.1.0`) or a plain name (`hello`, `team-a-postgres`).
    pub name: String,
    /// For a plain name that carries the component model's `implements` option, the
    /// interface the labelled instance implements (`acme:kv/store@0.1.0`).
    pub implements: Option<String>,
    /// Its type, in the plan's [`Types`].
    pub kind: ItemKind,
}

impl Item {
    /// The interface this item is an instance of: its own name for an interface name, the
    /// `implements` interface for a label; `None` for other plain names.
    pub fn interface(&self) -> Option<&str> {
        self.implements
            .as_deref()
            .or_else(|| InterfaceName::parse(&self.name).map(|n| n.text))
    }

    /// `name` for interface names and plain names, `name (implements I)` for labels.
    pub fn describe(&self) -> String {
        match &self.implements {
            Some(interface) => format!("{} (implements {interface})", self.name),
            None => self.name.clone(),
        }
    }
}

/// The type of one component file: read once, however many workload components use it.
#[derive(Debug, Clone)]
pub struct ComponentType {
    /// The component's bytes.
    pub bytes: Arc<[u8]>,
    /// Its world (component type) in the plan's [`Types`].
    pub world: WorldId,
    /// Its imports, in the order of its import section.
    pub imports: Vec<Item>,
    /// Its exports, in the order of its export section.
    pub exports: Vec<Item>,
    /// What one instance of it defines: core instances, memories and tables.
    pub counts: ComponentCounts,
}

/// The core instances, memories and tables a component defines, nested components and
/// modules included: what one instance of it takes from Wasmtime's pooling allocator. A
/// module instantiated twice counts its memories and tables once, so a pool sized from
/// these needs a margin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComponentCounts {
    /// Core instances (`instance` sections, all nesting levels together).
    pub core_instances: u32,
    /// Memories defined (not imported) by its modules.
    pub memories: u32,
    /// Tables defined (not imported) by its modules.
    pub tables: u32,
}

impl ComponentCounts {
    /// Counts them in `bytes`, a valid component.
    fn read(bytes: &[u8]) -> Self {
        use wasmparser::Payload;
        let mut counts = Self::default();
        for payload in wasmparser::Parser::new(0).parse_all(bytes).flatten() {
            match payload {
                Payload::InstanceSection(r) => counts.core_instances += r.count(),
                Payload::MemorySection(r) => counts.memories += r.count(),
                Payload::TableSection(r) => counts.tables += r.count(),
                _ => {}
            }
        }
        counts
    }
}

impl ComponentType {
    /// Validates `bytes` (with every WebAssembly feature wasmparser knows), reads the
    /// component's imports and exports into `types` and counts what an instance defines.
    ///
    /// # Errors
    /// A message when `bytes` is not a valid component: empty, not WebAssembly, a core
    /// module, or invalid.
    pub fn read(bytes: Arc<[u8]>, types: &mut Types) -> Result<Self, String> {
        if bytes.is_empty() {
            return Err("the file is empty".into());
        }
        if !wasmparser::Parser::is_component(&bytes) {
            return Err(if wasmparser::Parser::is_core_wasm(&bytes) {
                "it is a core module, not a component".into()
            } else {
                "it is not WebAssembly".into()
            });
        }
        let package = Package::from_bytes("component", None, bytes.to_vec(), types)
            .map_err(|e| format!("{e:#}"))?;
        let world = package.ty();
        let items = |map: &indexmap::IndexMap<String, ItemKind>| -> Vec<Item> {
            map.iter()
                .map(|(name, kind)| Item {
                    name: name.clone(),
                    implements: implements(name, *kind, types),
                    kind: *kind,
                })
                .collect()
        };
        let imports = items(&types[world].imports);
        let exports = items(&types[world].exports);
        let counts = ComponentCounts::read(&bytes);
        Ok(Self {
            bytes,
            world,
            imports,
            exports,
            counts,
        })
    }
}

/// The interface a plain-named instance implements. wac-types gives a labelled instance
/// (`(import "team-a-postgres" (implements "acme:kv/store") (instance ...))`) the id of
/// the interface it implements, while an unlabelled plain-named instance has none.
fn implements(name: &str, kind: ItemKind, types: &Types) -> Option<String> {
    match kind {
        ItemKind::Instance(id) if InterfaceName::parse(name).is_none() => types[id].id.clone(),
        _ => None,
    }
}

/// The item named `name` among `items`: the one of exactly that name, else the first whose
/// name is semver-compatible with it.
pub(crate) fn find_export<'a>(items: &'a [Item], name: &str) -> Option<&'a Item> {
    items
        .iter()
        .find(|e| e.name == name)
        .or_else(|| items.iter().find(|e| names_match(name, &e.name)))
}
