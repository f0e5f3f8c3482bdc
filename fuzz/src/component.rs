//! Target `component`: component loading. The input makes one component — a fixture with
//! bytes overwritten, inserted or cut (mode 0), a `wasm-smith` component (mode 1), or the
//! input's bytes themselves (mode 2) — which is then resolved twice: alone (the host
//! serving every `wasi:` and `acme:` interface), and in place of one fixture of a workload
//! of every fixture component. Accepted plans are composed with `compose-static`.

use crate::{check, fixtures::fixtures};
use arbitrary::{Arbitrary, Unstructured};
use compose_resolver::{ComponentDecl, Workload, resolve};

/// Resolves (and composes, when it resolves) workloads holding the component `data` makes.
pub fn component(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(bytes) = make(&mut u) else { return };
    let alone = Workload::new("alone")
        .with_component(
            "fuzzed",
            ComponentDecl::from_bytes("fuzzed.wasm", bytes.clone()),
        )
        .with_host_interface("wasi:*")
        .with_host_interface("acme:*");
    check_resolve(&alone);
    let fixtures = &fixtures().components;
    let replaced = u.choose_index(fixtures.len()).unwrap_or(0);
    let mut all = Workload::new("all").with_host_interface("wasi:*");
    for (i, fixture) in fixtures.iter().enumerate() {
        let name = fixture.file.trim_end_matches(".wasm").to_owned();
        let bytes = if i == replaced {
            bytes.clone()
        } else {
            fixture.bytes.to_vec()
        };
        all = all.with_component(name, ComponentDecl::from_bytes(&fixture.file, bytes));
    }
    check_resolve(&all);
}

fn check_resolve(workload: &Workload) {
    match resolve(workload) {
        Ok(plan) => check::plan(&plan),
        Err(error) => check::resolve_error(&error, None),
    }
}

/// The component's bytes, as the input's first byte chooses.
fn make(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => mutated(u)?,
        1 => {
            let config = wasm_smith::Config::arbitrary(u)?;
            wasm_smith::Component::new(config, u)?.to_bytes()
        }
        _ => u.bytes(u.len())?.to_vec(),
    })
}

/// A fixture component with up to 16 edits: a byte overwritten, inserted, or the rest cut.
fn mutated(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let mut bytes = u.choose(&fixtures().components)?.bytes.to_vec();
    for _ in 0..u.int_in_range(1..=16u8)? {
        if bytes.is_empty() {
            break;
        }
        let at = u.choose_index(bytes.len())?;
        match u.int_in_range(0..=5u8)? {
            0..=3 => bytes[at] = u8::arbitrary(u)?,
            4 => bytes.insert(at, u8::arbitrary(u)?),
            _ => bytes.truncate(at),
        }
    }
    Ok(bytes)
}
