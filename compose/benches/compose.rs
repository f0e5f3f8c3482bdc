//! How long composing takes as workloads grow: chains of 10, 100 and 1,000 small
//! generated components, each importing the interface of the one before.
//!
//! `compose_chain*` time `compose_static::compose` on an already resolved plan;
//! `resolve_chain` times the resolver on the same workload, for comparison. Run with
//! `cargo bench -p compose-static --bench compose`; figures are in `docs/benchmarks.md`.

use compose_resolver::{ComponentDecl, Plan, Workload, resolve};
use compose_static::{ComposeOptions, compose};
use divan::Bencher;

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [10, 100, 1000];

/// Link `i` of a chain: exports `bench:chain/link<i>` with `run(x) = previous.run(x) + 1`.
fn link(i: usize) -> Vec<u8> {
    let ty = r#"(instance (export "run" (func (param "x" u32) (result u32))))"#;
    let wat = if i == 0 {
        r#"(component
  (core module $m (func (export "run") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
  (core instance $i (instantiate $m))
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (instance $api (export "run" (func $run)))
  (export "bench:chain/link0" (instance $api)))"#
            .to_owned()
    } else {
        format!(
            r#"(component
  (import "bench:chain/link{previous}" {ty})
  (alias export 0 "run" (func $previous))
  (core func $previous (canon lower (func $previous)))
  (core instance $imports (export "previous" (func $previous)))
  (core module $m
    (import "imports" "previous" (func $previous (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) local.get 0 call $previous i32.const 1 i32.add))
  (core instance $i (instantiate $m (with "imports" (instance $imports))))
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (instance $api (export "run" (func $run)))
  (export "bench:chain/link{i}" (instance $api)))"#,
            previous = i - 1
        )
    };
    wat::parse_str(&wat).expect("the generated link parses")
}

fn chain(n: usize) -> Workload {
    (0..n).fold(Workload::new("chain"), |workload, i| {
        workload.with_component(
            format!("link{i}"),
            ComponentDecl::from_bytes(format!("link{i}"), link(i)),
        )
    })
}

fn plan(n: usize) -> Plan {
    resolve(&chain(n)).expect("the chain resolves")
}

/// Composed and validated. 450 is near the largest chain one component can hold: a chain
/// of n needs 2n + 1 instances and wasmparser (and so Wasmtime) accepts 1,000.
#[divan::bench(args = [10, 100, 450], sample_count = 10, sample_size = 1)]
fn compose_chain(bencher: Bencher, n: usize) {
    let plan = plan(n);
    let options = ComposeOptions::default();
    bencher.bench(|| compose(&plan, &options).expect("the chain composes"));
}

/// Composed without validation: how building and encoding grow up to 1,000 components
/// (whose composition is over the instance limit, so only encoded here).
#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn compose_chain_unvalidated(bencher: Bencher, n: usize) {
    let plan = plan(n);
    let options = ComposeOptions::default().with_validation(false);
    bencher.bench(|| compose(&plan, &options).expect("the chain composes"));
}

/// The resolver on the same workloads, for comparison (not part of `compose`'s time).
#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn resolve_chain(bencher: Bencher, n: usize) {
    let workload = chain(n);
    bencher.bench(|| resolve(&workload).expect("the chain resolves"));
}
