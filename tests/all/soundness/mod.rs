//! The soundness property (issue 9): *a workload that `compose resolve` accepts builds and
//! runs*, and one it rejects is explained by diagnostics with a code and a span — checked
//! on 1,000 seeded workloads made by mutating the example workloads and by composing the
//! fixture components anew (see `generate.rs` for the mutations, `check.rs` for the checks).
//!
//! Every finding is collected and reported at once with its seed, the class of unsound
//! acceptance it belongs to and the workload file; the test fails if there is any.
//!
//! Environment:
//! - `COMPOSE_SOUNDNESS_SEED=<seed>` checks that one case only, printing its workload file
//!   and the outcome (replays a reported finding);
//! - `COMPOSE_SOUNDNESS_CASES=<n>` (default 1,000) and `COMPOSE_SOUNDNESS_BASE=<seed>`
//!   (default fixed, so CI checks the same workloads every run) choose other cases.

mod check;
mod generate;
mod pool;
mod spec;

use check::Verdict;
use pool::Pool;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use wasmtime::Engine;

/// The first seed of the cases CI checks.
const DEFAULT_BASE: u64 = 0x9_0000;

/// One problem found: the seed, the workload file and what went wrong.
struct Finding {
    seed: u64,
    class: &'static str,
    message: String,
    toml: String,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        Pool::load(&std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("soundness-pool"))
    })
}

/// The engine of every case: compose-linker's configuration (fixtures have no async
/// functions), with Wasmtime's compilation cache in the test's temporary folder so that
/// each distinct component is compiled once, not once per workload that uses it.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = compose_linker::config();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("soundness-cache");
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(
            wasmtime::Cache::new(cache).expect("the cache configures"),
        ));
        Engine::new(&config).expect("the engine configures")
    })
}

/// Generates and checks the case `seed`; a panic anywhere is a finding too.
fn run(seed: u64) -> (String, Result<Verdict, String>) {
    let toml = generate::Gen::new(seed, pool()).workload().to_toml(pool());
    let outcome =
        catch_unwind(AssertUnwindSafe(|| check::check(engine(), &toml))).unwrap_or_else(|panic| {
            let message = (panic.downcast_ref::<String>().cloned())
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {message}"))
        });
    (toml, outcome)
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={value} is not a number")))
}

#[test]
fn accepted_workloads_build_and_run_and_rejected_ones_are_diagnosed() {
    if let Some(seed) = env_u64("COMPOSE_SOUNDNESS_SEED") {
        let (toml, outcome) = run(seed);
        println!("seed {seed:#x}:\n{toml}\n{outcome:?}");
        assert!(outcome.is_ok(), "seed {seed:#x} fails");
        return;
    }
    let base = env_u64("COMPOSE_SOUNDNESS_BASE").unwrap_or(DEFAULT_BASE);
    let cases = env_u64("COMPOSE_SOUNDNESS_CASES").unwrap_or(1000) as usize;
    let started = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let verdicts = Mutex::new(Vec::new());
    let findings = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cases {
                        break;
                    }
                    let seed = base + i as u64;
                    match run(seed) {
                        (_, Ok(verdict)) => verdicts.lock().unwrap().push(verdict),
                        (toml, Err(message)) => findings.lock().unwrap().push(Finding {
                            seed,
                            class: check::classify(&toml, &message),
                            message,
                            toml,
                        }),
                    }
                }
            });
        }
    });
    let verdicts = verdicts.into_inner().unwrap();
    let mut findings = findings.into_inner().unwrap();
    findings.sort_by_key(|f| f.seed);
    let accepted = verdicts.iter().filter(|v| **v != Verdict::Rejected).count();
    let calls: usize = (verdicts.iter())
        .map(|v| match v {
            Verdict::Accepted { calls } => *calls,
            Verdict::Rejected => 0,
        })
        .sum();
    println!(
        "{cases} workloads from seed {base:#x} in {:.1} s: {accepted} accepted and sound ({calls} calls compared), {} rejected with good diagnostics, {} findings",
        started.elapsed().as_secs_f64(),
        verdicts.len() - accepted,
        findings.len()
    );
    report(&findings);
}

/// Prints every finding (seed, class, message, workload file), then fails if there is one.
fn report(findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let mut classes = std::collections::BTreeMap::<&str, Vec<String>>::new();
    for f in findings {
        println!(
            "--- seed {:#x} (class {}; replay with COMPOSE_SOUNDNESS_SEED={:#x})\n{}\n{}",
            f.seed, f.class, f.seed, f.message, f.toml
        );
        classes
            .entry(f.class)
            .or_default()
            .push(format!("{:#x}", f.seed));
    }
    for (class, seeds) in &classes {
        println!(
            "class {class}: {} finding(s): {}",
            seeds.len(),
            seeds.join(" ")
        );
    }
    panic!(
        "{} generated workloads are unsound (see above)",
        findings.len()
    );
}
