//! The top-level imports and exports of a composed component, and the one place where this
//! crate patches what wac encodes: the `implements` of labelled exports.

use crate::Extern;
use std::collections::HashMap;
use wasm_encoder::{Component, ComponentExportSection, ComponentExternName, RawSection};
use wasmparser::{BinaryReaderError, Parser, Payload};

/// Calls `visit` with every payload of the outermost component of `bytes`, skipping the
/// contents of nested modules and components (their section payloads are still visited).
fn top_level_payloads<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(&Payload<'a>) -> Result<(), BinaryReaderError>,
) -> Result<(), BinaryReaderError> {
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if depth == 0 {
            visit(&payload)?;
        }
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) if depth == 0 => break,
            Payload::End(_) => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}

fn extern_of(name: &wasmparser::ComponentExternName<'_>) -> Extern {
    Extern {
        name: name.name.to_owned(),
        implements: name.implements.map(str::to_owned),
    }
}

/// The imports and exports of the outermost component of `bytes`, in section order.
pub(crate) fn top_level(bytes: &[u8]) -> Result<(Vec<Extern>, Vec<Extern>), BinaryReaderError> {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    top_level_payloads(bytes, |payload| {
        match payload {
            Payload::ComponentImportSection(reader) => {
                for import in reader.clone() {
                    imports.push(extern_of(&import?.name));
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader.clone() {
                    exports.push(extern_of(&export?.name));
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok((imports, exports))
}

/// Adds `(implements "I")` to the top-level exports of `bytes` named in `implements`
/// (label → interface) that lack it, copying every other section unchanged.
///
/// wac-graph 0.12 limitation: `CompositionGraph::encode` writes the composition's own
/// exports with `ComponentBuilder::export(name, ..)`, a bare name, so a labelled instance
/// export (`team-a-postgres`, implementing `acme:kv/store@0.1.0`) loses its `implements`
/// annotation, although wac keeps it on imports and inside types. The export section is
/// the last thing wac writes before its custom sections and nothing refers to export
/// indices here, so rewriting the names of that one section is safe; everything else is
/// wac's encoding byte for byte.
pub(crate) fn restore_export_implements(
    bytes: &[u8],
    implements: &HashMap<&str, &str>,
) -> Result<Vec<u8>, BinaryReaderError> {
    let mut out = Component::new();
    top_level_payloads(bytes, |payload| {
        match payload {
            Payload::Version { .. } | Payload::End(_) => {}
            Payload::ComponentExportSection(reader) => {
                let mut section = ComponentExportSection::new();
                for export in reader.clone() {
                    let export = export?;
                    let interface = export
                        .name
                        .implements
                        .or_else(|| implements.get(export.name.name).copied());
                    let name = ComponentExternName {
                        name: export.name.name.into(),
                        implements: interface.map(Into::into),
                        external_id: export.name.external_id.map(Into::into),
                        version_suffix: export.name.version_suffix.map(Into::into),
                    };
                    // wasm-encoder's `wasmparser` conversions (its reencoder's) map the kind
                    // and type reference unchanged.
                    section.export(
                        name,
                        export.kind.into(),
                        export.index,
                        export.ty.map(Into::into),
                    );
                }
                out.section(&section);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let range = range.start as usize..range.end as usize;
                    out.section(&RawSection {
                        id,
                        data: &bytes[range],
                    });
                }
            }
        }
        Ok(())
    })?;
    Ok(out.finish())
}
