//! A soak of compose-linker's resource forwarding (issue 9): the shop's `handler#open-session`
//! creates a session in `sessions` (an `acme:session/sessions` resource that crosses to the
//! frontend), reads it and drops it, so that its destructor runs in `sessions`. One store
//! makes `COMPOSE_SOAK_CALLS` such calls (default 1,000,000); the process's resident memory
//! (`/proc/self/statm`) and the linker's forwarded handles are printed after 10,000 calls
//! (warm-up) and at each tenth of the run, with the time per call.
//!
//! Run: `cargo bench -p compose-tests --bench linker_soak` (figures in docs/benchmarks.md).
//! The host interfaces the shop leaves to the host are served by the generic test host.

use compose_linker::{WorkloadLinker, WorkloadState};
use compose_resolver::resolve_file;
use compose_tests::example_workload;
use std::time::Instant;
use wasmtime::component::Val;
use wasmtime::{Engine, Store};

struct Soak {
    workload: WorkloadState,
}

/// The resident set size in KiB.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm");
    pages * 4
}

fn main() {
    let calls: u64 = std::env::var("COMPOSE_SOAK_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let plan = resolve_file(example_workload("shop")).expect("the shop resolves");
    let engine = Engine::new(&compose_linker::config_for(&plan)).expect("engine");
    let mut linker = WorkloadLinker::<Soak>::new(&engine, &plan);
    compose_tests::host::define_plan(linker.host(), &engine, &plan).expect("host");
    let workload = linker.compile(|soak| &mut soak.workload).expect("links");
    let state = workload.new_state();
    let mut store = Store::new(&engine, Soak { workload: state });
    workload.instantiate(&mut store).expect("eager");
    let func = workload
        .func(Some("handler"), "open-session")
        .expect("open-session");
    let args = [Val::String("u".into())];
    let mut results = [Val::Bool(false)];
    let checkpoints: Vec<u64> = std::iter::once(10_000.min(calls))
        .chain((1..=10).map(|t| calls * t / 10))
        .collect();
    println!(
        "{:>10} {:>10} {:>18} {:>12}",
        "calls", "RSS KiB", "forwarded handles", "µs/call"
    );
    let (mut last, mut since) = (0u64, Instant::now());
    for i in 1..=calls {
        workload
            .call(&mut store, &func, &args, &mut results)
            .expect("open-session");
        if checkpoints.contains(&i) && i != last {
            let expected = Val::String(format!("u:{i}"));
            assert_eq!(results[0], expected, "each session's destructor ran once");
            let per_call = since.elapsed().as_secs_f64() * 1e6 / (i - last) as f64;
            let handles = store.data().workload.forwarded_handles();
            println!("{i:>10} {:>10} {handles:>18} {per_call:>12.2}", rss_kib());
            (last, since) = (i, Instant::now());
        }
    }
}
