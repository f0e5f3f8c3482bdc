//! The compiled-code cache (`compose_linker::CodeCache`, issue 19): a warm link compiles
//! nothing, an entry that is truncated, corrupted or another Wasmtime configuration's is
//! compiled again with the same results and rewritten, and links racing on one folder
//! leave valid entries. (`--no-cache`, the default folder and two processes at once are
//! tested through the CLI, in cli/tests.)

use compose_host::{Call, EngineOptions, Host, HostEngine, Plugins};
use compose_linker::{CacheLookup, CodeCache, CompileEvent, CompileOptions, LinkMode};
use compose_resolver::{Plan, resolve_file_with};
use compose_tests::example_workload;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The shop, resolved for compose-host.
fn shop() -> Plan {
    let plugins = Plugins::<compose_host::HostState>::builtin();
    resolve_file_with(example_workload("shop"), &plugins.profile()).expect("the shop resolves")
}

/// Per component (so that each file is one entry), through the cache in `dir`.
fn options(dir: &Path, compiled: &Arc<Mutex<Vec<String>>>) -> EngineOptions {
    let compiled = compiled.clone();
    EngineOptions {
        link: LinkMode::PerComponent,
        compile: CompileOptions {
            cache: Some(CodeCache::new(dir)),
            observer: Some(Arc::new(move |event: &CompileEvent<'_>| {
                if let CompileEvent::Started { component, .. } = event {
                    compiled.lock().unwrap().push((*component).to_owned());
                }
            })),
        },
        ..EngineOptions::default()
    }
}

/// Links the shop through the cache in `dir` and greets twice: the components compiled
/// (not taken from the cache), and the greetings.
fn link_and_greet(plan: &Plan, dir: &Path) -> (Vec<String>, Vec<Option<String>>) {
    let compiled = Arc::new(Mutex::new(Vec::new()));
    let host = Host::link_with(plan, &Plugins::builtin(), &options(dir, &compiled))
        .expect("the shop links");
    let mut store = host
        .new_store(&compose_host::grants::Offer::default().env("GREETING", "Hi"))
        .expect("a store");
    let greet = Call::parse(r#"handler#greet("ann")"#).unwrap();
    let greetings = (0..2)
        .map(|_| host.invoke(&mut store, None, &greet).expect("greets"))
        .collect();
    let mut compiled = compiled.lock().unwrap().clone();
    compiled.sort();
    (compiled, greetings)
}

/// The greetings of the shop's `handler#greet("ann")` twice in one store.
fn expected() -> Vec<Option<String>> {
    vec![
        Some(r#""Hi, ann! (#1)""#.into()),
        Some(r#""Hi, ann! (#2)""#.into()),
    ]
}

/// The entry of component `name`'s file for the engine the shop is linked on.
fn entry_of(plan: &Plan, dir: &Path, name: &str) -> std::path::PathBuf {
    let compiled = Arc::new(Mutex::new(Vec::new()));
    let engine = HostEngine::new(plan, &options(dir, &compiled)).unwrap();
    let component = plan.component(plan.find(name).unwrap());
    let bytes = &plan.file(component.file).ty.bytes;
    CodeCache::new(dir).entry_path(engine.engine(), bytes)
}

#[test]
fn a_warm_link_takes_every_component_from_the_cache() {
    let plan = shop();
    let dir = tempfile::tempdir().unwrap();
    let (cold, greetings) = link_and_greet(&plan, dir.path());
    // Five files (the two teams' backends share one).
    assert_eq!(cold.len(), 5, "{cold:?}");
    assert_eq!(greetings, expected());
    let (warm, greetings) = link_and_greet(&plan, dir.path());
    assert_eq!(warm, Vec::<String>::new(), "nothing compiled");
    assert_eq!(greetings, expected());
}

#[test]
fn a_truncated_corrupted_or_foreign_entry_is_compiled_again_with_the_same_results() {
    let plan = shop();
    let dir = tempfile::tempdir().unwrap();
    link_and_greet(&plan, dir.path());
    let entry = entry_of(&plan, dir.path(), "formatter");
    let good = std::fs::read(&entry).expect("the formatter's entry exists");
    // Another configuration's compiled formatter, in a valid entry under this one's name.
    let foreign = {
        let mut config = compose_linker::config();
        config.consume_fuel(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let bytes = compose_tests::fixture_bytes("formatter");
        let other = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(other.path());
        let (_, lookup) = cache.component(&engine, &bytes).unwrap();
        assert_eq!(lookup, CacheLookup::Miss);
        std::fs::read(cache.entry_path(&engine, &bytes)).unwrap()
    };
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x5a;
    let cases = [
        ("truncated", good[..good.len() / 3].to_vec()),
        ("a byte flipped", flipped),
        ("empty", Vec::new()),
        ("another Wasmtime configuration's", foreign),
    ];
    for (what, bytes) in cases {
        std::fs::write(&entry, &bytes).unwrap();
        let (compiled, greetings) = link_and_greet(&plan, dir.path());
        assert_eq!(compiled, ["formatter"], "{what}");
        assert_eq!(greetings, expected(), "{what}");
        // Rewritten: the next link compiles nothing.
        assert_eq!(
            link_and_greet(&plan, dir.path()).0,
            Vec::<String>::new(),
            "{what}"
        );
    }
}

#[test]
fn links_racing_on_one_folder_leave_one_valid_entry_each() {
    let plan = Arc::new(shop());
    let dir = tempfile::tempdir().unwrap();
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (plan, dir) = (plan.clone(), dir.path().to_owned());
            std::thread::spawn(move || link_and_greet(&plan, &dir).1)
        })
        .collect();
    for racer in racers {
        assert_eq!(racer.join().unwrap(), expected());
    }
    let files: Vec<_> = std::fs::read_dir(dir.path().join("components"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.len(),
        5,
        "one entry per file, no temporary file left: {files:?}"
    );
    assert!(files.iter().all(|f| f.ends_with(".cwasm")), "{files:?}");
    assert_eq!(link_and_greet(&plan, dir.path()).0, Vec::<String>::new());
}
