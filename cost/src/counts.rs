//! Static cost of one component binary: what one instantiation of it creates.

use serde::Serialize;
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentOuterAliasKind,
    ComponentTypeRef, Encoding, Instance, Parser, Payload,
};

/// Bytes in one WebAssembly page.
pub const PAGE: u64 = 65536;

/// What one instantiation of a component (or core module) creates, counted from its binary.
///
/// A core module instantiated twice counts twice; imported memories and tables are not
/// counted (their exporter created them); `FromExports` instances create nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Core modules defined in the binary, nested components included (static, not per instantiation).
    pub core_modules: u64,
    /// Core instances one instantiation creates (`instantiate` of a core module).
    pub core_instances: u64,
    /// Nested component instances one instantiation creates (the top component not counted).
    pub component_instances: u64,
    /// Linear memories defined by the instantiated core modules.
    pub memories: u64,
    /// Their initial size, in bytes (pages × 64 KiB).
    pub memory_initial_bytes: u64,
    /// Their declared maximum, in bytes; `None` when any memory has no maximum.
    pub memory_maximum_bytes: Option<u64>,
    /// Tables defined by the instantiated core modules.
    pub tables: u64,
    /// Their initial elements, summed.
    pub table_elements: u64,
    /// Globals defined by the instantiated core modules.
    pub globals: u64,
}

impl Default for Counts {
    /// Nothing: no instances, no memories (and so a bounded maximum of 0 bytes).
    fn default() -> Self {
        Counts {
            core_modules: 0,
            core_instances: 0,
            component_instances: 0,
            memories: 0,
            memory_initial_bytes: 0,
            memory_maximum_bytes: Some(0),
            tables: 0,
            table_elements: 0,
            globals: 0,
        }
    }
}

impl Counts {
    /// Adds `other` once, as one more instantiation of it.
    pub fn add(&mut self, other: &Counts) {
        self.core_instances += other.core_instances;
        self.component_instances += other.component_instances;
        self.memories += other.memories;
        self.memory_initial_bytes += other.memory_initial_bytes;
        self.memory_maximum_bytes = match (self.memory_maximum_bytes, other.memory_maximum_bytes) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.tables += other.tables;
        self.table_elements += other.table_elements;
        self.globals += other.globals;
    }
}

/// A module or component being parsed: its own definitions and what it instantiates.
#[derive(Default)]
struct Frame {
    /// Per instantiation (for a module: its memories etc.; for a component: filled at its end).
    own: Counts,
    /// Core modules defined inside, nested ones included.
    modules_defined: u64,
    /// The core module index space: `Some` for a module defined here, `None` for one imported or aliased.
    modules: Vec<Option<Counts>>,
    /// The component index space, likewise.
    components: Vec<Option<Counts>>,
    is_component: bool,
}

/// Counts what one instantiation of the component (or core module) in `bytes` creates.
///
/// # Errors
/// The binary's parse error, when it is not valid Wasm.
pub fn count(bytes: &[u8]) -> Result<Counts, wasmparser::BinaryReaderError> {
    let mut stack: Vec<Frame> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding, .. } => stack.push(Frame {
                is_component: encoding == Encoding::Component,
                ..Frame::default()
            }),
            Payload::End(_) => {
                let done = stack.pop().unwrap_or_default();
                let mut counts = done.own;
                counts.core_modules = done.modules_defined;
                match stack.last_mut() {
                    Some(parent) => {
                        parent.modules_defined += done.modules_defined;
                        if done.is_component {
                            parent.components.push(Some(counts));
                        } else {
                            parent.modules_defined += 1;
                            parent.modules.push(Some(counts));
                        }
                    }
                    None if done.is_component => return Ok(counts),
                    None => {
                        return Ok(Counts {
                            core_modules: 1,
                            core_instances: 1,
                            ..counts
                        });
                    }
                }
            }
            other => {
                if let Some(frame) = stack.last_mut() {
                    section(frame, other)?;
                }
            }
        }
    }
    Ok(Counts::default())
}

/// Adds one section's definitions or instantiations to `frame`.
fn section(frame: &mut Frame, payload: Payload<'_>) -> Result<(), wasmparser::BinaryReaderError> {
    match payload {
        Payload::MemorySection(reader) => {
            for memory in reader {
                let memory = memory?;
                let page = 1u64 << memory.page_size_log2.unwrap_or(16);
                frame.own.memories += 1;
                frame.own.memory_initial_bytes += memory.initial * page;
                frame.own.memory_maximum_bytes = frame
                    .own
                    .memory_maximum_bytes
                    .zip(memory.maximum)
                    .map(|(sum, max)| sum + max * page);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader {
                frame.own.tables += 1;
                frame.own.table_elements += table?.ty.initial;
            }
        }
        Payload::GlobalSection(reader) => frame.own.globals += u64::from(reader.count()),
        Payload::InstanceSection(reader) => {
            for instance in reader {
                if let Instance::Instantiate { module_index, .. } = instance? {
                    let module = slot(&frame.modules, module_index);
                    frame.own.core_instances += 1;
                    frame.own.add(&module);
                }
            }
        }
        Payload::ComponentInstanceSection(reader) => {
            for instance in reader {
                if let ComponentInstance::Instantiate {
                    component_index, ..
                } = instance?
                {
                    let component = slot(&frame.components, component_index);
                    frame.own.component_instances += 1;
                    frame.own.add(&component);
                }
            }
        }
        Payload::ComponentImportSection(reader) => {
            for import in reader {
                match import?.ty {
                    ComponentTypeRef::Module(_) => frame.modules.push(None),
                    ComponentTypeRef::Component(_) => frame.components.push(None),
                    _ => {}
                }
            }
        }
        Payload::ComponentAliasSection(reader) => {
            for alias in reader {
                alias_slot(frame, alias?);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The counts of the module or component at `index` (nothing for one imported or aliased).
fn slot(space: &[Option<Counts>], index: u32) -> Counts {
    space
        .get(index as usize)
        .copied()
        .flatten()
        .unwrap_or_default()
}

/// Keeps the index spaces aligned when an alias adds a module or component.
fn alias_slot(frame: &mut Frame, alias: ComponentAlias<'_>) {
    match alias {
        ComponentAlias::Outer {
            kind: ComponentOuterAliasKind::CoreModule,
            ..
        }
        | ComponentAlias::InstanceExport {
            kind: ComponentExternalKind::Module,
            ..
        } => frame.modules.push(None),
        ComponentAlias::Outer {
            kind: ComponentOuterAliasKind::Component,
            ..
        }
        | ComponentAlias::InstanceExport {
            kind: ComponentExternalKind::Component,
            ..
        } => frame.components.push(None),
        _ => {}
    }
}
