//! `compose build` (compose-static): one composed component from a resolved workload, one
//! test per rule. Every composed component is run in Wasmtime and checked through real
//! calls, not only validated.

use compose_host::HostView;
use compose_host::keyvalue::{KeyValue, MemoryStore};
use compose_resolver::{ComponentDecl, Plan, Problem, Workload, resolve, resolve_file};
use compose_static::{ComposeError, ComposeOptions, Composition, Extern, compose};
use compose_tests::{example_workload, fixture, wac_example, workspace_root};
use std::path::PathBuf;
use std::sync::Arc;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};
use wasmtime::component::{
    Component, ComponentNamedList, Instance, Lift, Linker, Lower, ResourceTable,
};
use wasmtime::{Config, Engine, Store};

// --- running components -----------------------------------------------------------------

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_implements(true);
    Engine::new(&config).expect("the engine configures")
}

/// The tests' store data: the resource table of the host backends' buckets.
#[derive(Default)]
struct Host {
    table: ResourceTable,
}

impl HostView for Host {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

/// The example workload composed and instantiated in a new store, with the host's
/// environment and the `team-c-postgres` backend over `team_c` linked.
fn composed_shop(team_c: Arc<MemoryStore>) -> (Store<Host>, Instance) {
    let engine = engine();
    let bytes = compose(&shop_plan(), &ComposeOptions::default()).expect("the shop composes");
    instantiate(
        &engine,
        &shop_linker(&engine, team_c),
        &bytes,
        Host::default(),
    )
}

/// Instantiates `bytes` with `linker` in a new store holding `host`.
fn instantiate(
    engine: &Engine,
    linker: &Linker<Host>,
    bytes: &[u8],
    host: Host,
) -> (Store<Host>, Instance) {
    let component = Component::new(engine, bytes).expect("the composed component compiles");
    let mut store = Store::new(engine, host);
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("the composed component instantiates");
    (store, instance)
}

/// Calls `func` of the exported instance `interface` (or the top-level export `func` when
/// `interface` is `None`).
fn call<P, R>(
    store: &mut Store<Host>,
    instance: &Instance,
    interface: Option<&str>,
    func: &str,
    params: P,
) -> R
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let parent = interface.map(|name| {
        instance
            .get_export_index(&mut *store, None, name)
            .unwrap_or_else(|| panic!("no export `{name}`"))
    });
    let index = instance
        .get_export_index(&mut *store, parent.as_ref(), func)
        .unwrap_or_else(|| panic!("no function `{func}` in {interface:?}"));
    let typed = instance
        .get_typed_func::<P, R>(&mut *store, &index)
        .unwrap_or_else(|e| panic!("`{func}` has another type: {e:#}"));
    typed
        .call(&mut *store, params)
        .unwrap_or_else(|e| panic!("calling `{func}` fails: {e:#}"))
}

/// A linker that serves what the shop leaves to the host: `wasi:cli/environment` with
/// `GREETING=Hi`, and the `wasi:keyvalue/store` backend labelled `team-c-postgres` over
/// `team_c` (compose-host's in-memory store).
fn shop_linker(engine: &Engine, team_c: Arc<MemoryStore>) -> Linker<Host> {
    let mut linker = Linker::<Host>::new(engine);
    linker
        .instance("wasi:cli/environment@0.2.0")
        .unwrap()
        .func_wrap("get-environment", |_, ()| {
            Ok((vec![("GREETING".to_owned(), "Hi".to_owned())],))
        })
        .unwrap();
    compose_host::keyvalue::define(
        &mut linker.instance("team-c-postgres").unwrap(),
        team_c,
        compose_host::keyvalue::Served::new("memory", "team-c-postgres"),
    )
    .unwrap();
    linker
}

// --- building workloads -------------------------------------------------------------------

fn resolved(workload: &Workload) -> Plan {
    resolve(workload).unwrap_or_else(|e| {
        let problems: Vec<String> = e.diagnostics.iter().map(|d| d.to_string()).collect();
        panic!("the workload resolves: {problems:#?}")
    })
}

fn composed(plan: &Plan) -> Composition {
    Composition::build(plan, &ComposeOptions::default())
        .unwrap_or_else(|e| panic!("the plan composes: {:#}", anyhow::Error::new(e)))
}

fn shop_plan() -> Plan {
    resolve_file(example_workload("shop")).expect("the shop resolves")
}

fn hello_greeter() -> Workload {
    Workload::new("hello-greeter")
        .with_component("hello", ComponentDecl::from_path(wac_example("hello")))
        .with_component("greeter", ComponentDecl::from_path(wac_example("greeter")))
}

fn validate(bytes: &[u8]) {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .expect("the component validates");
}

fn labelled(name: &str, implements: Option<&str>) -> Extern {
    Extern {
        name: name.to_owned(),
        implements: implements.map(str::to_owned),
    }
}

/// The WAT type of an instance with one function `name: func(x: u32) -> u32`.
fn instance_type(func: &str) -> String {
    format!(r#"(instance (export "{func}" (func (param "x" u32) (result u32))))"#)
}

/// A component that imports `import` (an instance with `run(x: u32) -> u32`), if any, and
/// exports `export` with `run(x) = import.run(x) * 10 + digit` (or `x * 10 + digit`).
fn chain_link(import: Option<&str>, export: &str, digit: u32) -> Vec<u8> {
    let (import_wat, core_import, call) = match import {
        Some(name) => (
            format!(
                r#"(import "{name}" {ty})
  (alias export 0 "run" (func $prev))
  (core func $prev (canon lower (func $prev)))
  (core instance $imports (export "prev" (func $prev)))"#,
                ty = instance_type("run")
            ),
            r#"(import "imports" "prev" (func $prev (param i32) (result i32)))"#,
            "local.get 0 call $prev",
        ),
        None => (String::new(), "", "local.get 0"),
    };
    let instantiate = if import.is_some() {
        r#"(core instance $i (instantiate $m (with "imports" (instance $imports))))"#
    } else {
        "(core instance $i (instantiate $m))"
    };
    let wat = format!(
        r#"(component
  {import_wat}
  (core module $m
    {core_import}
    (func (export "run") (param i32) (result i32)
      {call} i32.const 10 i32.mul i32.const {digit} i32.add))
  {instantiate}
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (instance $api (export "run" (func $run)))
  (export "{export}" (instance $api)))"#
    );
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

/// The counter at the bottom of the diamond: `next()` returns 1, 2, 3... per instance.
fn counter() -> Vec<u8> {
    wat::parse_str(
        r#"(component
  (core module $m
    (global $n (mut i32) (i32.const 0))
    (func (export "next") (result i32)
      global.get $n i32.const 1 i32.add global.set $n global.get $n))
  (core instance $i (instantiate $m))
  (func $next (result u32) (canon lift (core func $i "next")))
  (instance $api (export "next" (func $next)))
  (export "test:diamond/counter" (instance $api)))"#,
    )
    .expect("counter")
}

/// A side of the diamond: `next()` is the counter's `next()` plus `offset`.
fn side(export: &str, offset: u32) -> Vec<u8> {
    let wat = format!(
        r#"(component
  (import "test:diamond/counter" (instance (export "next" (func (result u32)))))
  (alias export 0 "next" (func $next))
  (core func $next (canon lower (func $next)))
  (core instance $imports (export "next" (func $next)))
  (core module $m
    (import "imports" "next" (func $next (result i32)))
    (func (export "next") (result i32) call $next i32.const {offset} i32.add))
  (core instance $i (instantiate $m (with "imports" (instance $imports))))
  (func $f (result u32) (canon lift (core func $i "next")))
  (instance $api (export "next" (func $f)))
  (export "{export}" (instance $api)))"#
    );
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

/// The top of the diamond: `both()` is `left.next() * 1000 + right.next()`.
fn top() -> Vec<u8> {
    wat::parse_str(
        r#"(component
  (import "test:diamond/left" (instance (export "next" (func (result u32)))))
  (import "test:diamond/right" (instance (export "next" (func (result u32)))))
  (alias export 0 "next" (func $left))
  (alias export 1 "next" (func $right))
  (core func $left (canon lower (func $left)))
  (core func $right (canon lower (func $right)))
  (core instance $imports (export "left" (func $left)) (export "right" (func $right)))
  (core module $m
    (import "imports" "left" (func $left (result i32)))
    (import "imports" "right" (func $right (result i32)))
    (func (export "both") (result i32)
      call $left i32.const 1000 i32.mul call $right i32.add))
  (core instance $i (instantiate $m (with "imports" (instance $imports))))
  (func $both (result u32) (canon lift (core func $i "both")))
  (instance $api (export "both" (func $both)))
  (export "test:diamond/top" (instance $api)))"#,
    )
    .expect("top")
}

fn chain_workload() -> Workload {
    Workload::new("chain")
        .with_component(
            "bottom",
            ComponentDecl::from_bytes("bottom", chain_link(None, "test:chain/bottom", 1)),
        )
        .with_component(
            "middle",
            ComponentDecl::from_bytes(
                "middle",
                chain_link(Some("test:chain/bottom"), "test:chain/middle", 2),
            ),
        )
        .with_component(
            "top",
            ComponentDecl::from_bytes(
                "top",
                chain_link(Some("test:chain/middle"), "test:chain/top", 3),
            ),
        )
}

fn diamond_workload() -> Workload {
    Workload::new("diamond")
        .with_component("counter", ComponentDecl::from_bytes("counter", counter()))
        .with_component(
            "left",
            ComponentDecl::from_bytes("left", side("test:diamond/left", 0)),
        )
        .with_component(
            "right",
            ComponentDecl::from_bytes("right", side("test:diamond/right", 0)),
        )
        .with_component("top", ComponentDecl::from_bytes("top", top()))
        .with_export("test:diamond/top", "top", None)
        .with_export("test:diamond/counter", "counter", None)
}

// --- the shop -----------------------------------------------------------------------------

#[test]
fn shop_leaves_only_host_interfaces_and_host_backends_as_imports() {
    let composition = composed(&shop_plan());
    validate(&composition.bytes);
    assert_eq!(
        composition.imports,
        [
            labelled("team-c-postgres", Some("wasi:keyvalue/store@0.2.0-draft")),
            labelled("wasi:cli/environment@0.2.0", None),
        ],
        "the host backend keeps its `implements` label"
    );
    assert_eq!(
        composition.exports,
        [
            labelled("acme:app/handler@0.1.0", None),
            labelled("acme:app/report@0.1.0", None),
        ]
    );
    // Six components, five files: the two teams' backends share kv-memory.wasm.
    assert_eq!(composition.instances, 6);
    assert_eq!(composition.packages, 5);
    assert_eq!(composition.bindings, 4);
}

#[test]
fn shop_labelled_backends_keep_separate_state() {
    let team_c = Arc::new(MemoryStore::default());
    let (mut store, shop) = composed_shop(team_c.clone());
    let handler = Some("acme:app/handler@0.1.0");
    let get = |store: &mut Store<Host>, team: &str, key: &str| -> Option<String> {
        call::<_, (Option<String>,)>(store, &shop, handler, "get", (team, key)).0
    };
    call::<_, ()>(&mut store, &shop, handler, "put", ("a", "color", "red"));
    assert_eq!(get(&mut store, "a", "color").as_deref(), Some("red"));
    assert_eq!(
        get(&mut store, "b", "color"),
        None,
        "team b does not see team a's write"
    );
    call::<_, ()>(&mut store, &shop, handler, "put", ("b", "color", "blue"));
    assert_eq!(get(&mut store, "a", "color").as_deref(), Some("red"));
    assert_eq!(get(&mut store, "b", "color").as_deref(), Some("blue"));
    assert!(
        team_c.list_keys("shop", None).unwrap().keys.is_empty(),
        "the host's backend is not used by the teams"
    );
}

#[test]
fn shop_greets_through_the_formatter_and_the_host_environment() {
    let (mut store, shop) = composed_shop(Arc::default());
    let handler = Some("acme:app/handler@0.1.0");
    let (first,): (String,) = call(&mut store, &shop, handler, "greet", ("Ada",));
    let (second,): (String,) = call(&mut store, &shop, handler, "greet", ("Bob",));
    assert_eq!(first, "Hi, Ada! (#1)");
    assert_eq!(
        second, "Hi, Bob! (#2)",
        "one formatter instance serves every call"
    );
}

#[test]
fn shop_sessions_cross_components() {
    let (mut store, shop) = composed_shop(Arc::default());
    let handler = Some("acme:app/handler@0.1.0");
    let (first,): (String,) = call(&mut store, &shop, handler, "open-session", ("ada",));
    let (second,): (String,) = call(&mut store, &shop, handler, "open-session", ("bob",));
    assert_eq!(
        first, "ada:1",
        "the session store ran the session's destructor"
    );
    assert_eq!(second, "bob:2");
}

#[test]
fn shop_host_backend_is_served_by_its_label() {
    let team_c = Arc::new(MemoryStore::default());
    team_c.set("shop", "pears", b"5").unwrap();
    team_c.set("shop", "apples", b"3").unwrap();
    team_c.set("other", "plums", b"1").unwrap();
    let (mut store, shop) = composed_shop(team_c);
    let (summary,): (String,) = call(
        &mut store,
        &shop,
        Some("acme:app/report@0.1.0"),
        "summary",
        (),
    );
    assert_eq!(summary, "apples,pears", "bucket `shop` only");
}

// --- wac's own example --------------------------------------------------------------------

/// `greet` of the wac example's greeter, linked by hand with the hello component in Wasmtime.
fn greet_linked_by_hand() -> String {
    let engine = engine();
    let mut store = Store::new(&engine, Host::default());
    let hello = Component::from_file(&engine, wac_example("hello")).expect("hello compiles");
    let hello = Linker::new(&engine)
        .instantiate(&mut store, &hello)
        .expect("hello instantiates");
    let hello = hello
        .get_typed_func::<(), (String,)>(&mut store, "hello")
        .expect("hello exports hello");
    let mut linker = Linker::new(&engine);
    linker
        .root()
        .func_wrap("hello", move |mut store, ()| hello.call(&mut store, ()))
        .unwrap();
    let greeter = Component::from_file(&engine, wac_example("greeter")).expect("greeter compiles");
    let greeter = linker
        .instantiate(&mut store, &greeter)
        .expect("greeter instantiates");
    call::<_, (String,)>(&mut store, &greeter, None, "greet", ()).0
}

#[test]
fn hello_greeter_greets_as_the_original_components_do() {
    let expected = greet_linked_by_hand();
    let composition = composed(&resolved(&hello_greeter()));
    assert!(composition.imports.is_empty(), "{:?}", composition.imports);
    assert_eq!(composition.exports, [labelled("greet", None)]);
    let engine = engine();
    let (mut store, instance) = instantiate(
        &engine,
        &Linker::new(&engine),
        &composition.bytes,
        Host::default(),
    );
    let (greeting,): (String,) = call(&mut store, &instance, None, "greet", ());
    assert_eq!(greeting, expected);
}

// --- shapes: chain and diamond ------------------------------------------------------------

#[test]
fn chain_of_three_calls_through_every_level() {
    let composition = composed(&resolved(&chain_workload()));
    assert!(composition.imports.is_empty(), "{:?}", composition.imports);
    assert_eq!(composition.exports, [labelled("test:chain/top", None)]);
    assert_eq!(composition.bindings, 2);
    let engine = engine();
    let (mut store, chain) = instantiate(
        &engine,
        &Linker::new(&engine),
        &composition.bytes,
        Host::default(),
    );
    let (result,): (u32,) = call(&mut store, &chain, Some("test:chain/top"), "run", (7u32,));
    assert_eq!(result, 7123, "((7 * 10 + 1) * 10 + 2) * 10 + 3");
}

#[test]
fn diamond_shares_one_instance_of_the_common_dependency() {
    let composition = composed(&resolved(&diamond_workload()));
    assert!(composition.imports.is_empty(), "{:?}", composition.imports);
    assert_eq!(composition.instances, 4);
    let engine = engine();
    let (mut store, diamond) = instantiate(
        &engine,
        &Linker::new(&engine),
        &composition.bytes,
        Host::default(),
    );
    let top = Some("test:diamond/top");
    let (first,): (u32,) = call(&mut store, &diamond, top, "both", ());
    let (second,): (u32,) = call(&mut store, &diamond, top, "both", ());
    // One counter behind both sides: left sees 1 and 3, right 2 and 4.
    assert_eq!((first, second), (1002, 3004));
    let (next,): (u32,) = call(
        &mut store,
        &diamond,
        Some("test:diamond/counter"),
        "next",
        (),
    );
    assert_eq!(
        next, 5,
        "the exported counter is the instance both sides share"
    );
}

#[test]
fn one_file_under_two_names_is_one_package_and_two_instances() {
    // The diamond's sides from one file: `next()` of each is the shared counter's.
    let dir = scratch_dir("one-file");
    std::fs::write(dir.join("side.wasm"), side("test:diamond/side", 0)).unwrap();
    std::fs::write(dir.join("counter.wasm"), counter()).unwrap();
    let mut workload = Workload::new("two-sides")
        .with_component("counter", ComponentDecl::from_path("counter.wasm"))
        .with_component("one", ComponentDecl::from_path("side.wasm"))
        .with_component("two", ComponentDecl::from_path("side.wasm"))
        .with_export("one", "one", Some("test:diamond/side".into()))
        .with_export("two", "two", Some("test:diamond/side".into()));
    workload.base_dir = dir;
    let composition = composed(&resolved(&workload));
    assert_eq!((composition.packages, composition.instances), (2, 3));
    assert_eq!(
        composition.exports,
        [
            labelled("one", Some("test:diamond/side")),
            labelled("two", Some("test:diamond/side")),
        ]
    );
    let engine = engine();
    let (mut store, instance) = instantiate(
        &engine,
        &Linker::new(&engine),
        &composition.bytes,
        Host::default(),
    );
    let (a,): (u32,) = call(&mut store, &instance, Some("one"), "next", ());
    let (b,): (u32,) = call(&mut store, &instance, Some("two"), "next", ());
    assert_eq!((a, b), (1, 2));
}

// --- host imports -------------------------------------------------------------------------

/// A component importing `import` with only the functions `funcs` (`f: func(x: u32) -> u32`
/// each) and exporting `export` with `run(x) = sum of every f(x)`.
fn host_user(import: &str, funcs: &[&str], export: &str) -> Vec<u8> {
    let exports: String = funcs
        .iter()
        .map(|f| format!(r#"(export "{f}" (func (param "x" u32) (result u32)))"#))
        .collect();
    let mut aliases = String::new();
    let mut core_imports = String::new();
    let mut body = String::from("i32.const 0");
    for (i, f) in funcs.iter().enumerate() {
        aliases += &format!(
            "(alias export 0 \"{f}\" (func $f{i}))\n(core func $c{i} (canon lower (func $f{i})))\n"
        );
        core_imports +=
            &format!("(import \"imports\" \"{f}\" (func $c{i} (param i32) (result i32)))\n");
        body += &format!(" local.get 0 call $c{i} i32.add");
    }
    let core_exports: String = (0..funcs.len())
        .map(|i| format!(r#"(export "{}" (func $c{i}))"#, funcs[i]))
        .collect();
    let wat = format!(
        r#"(component
  (import "{import}" (instance {exports}))
  {aliases}
  (core instance $imports {core_exports})
  (core module $m
    {core_imports}
    (func (export "run") (param i32) (result i32) {body}))
  (core instance $i (instantiate $m (with "imports" (instance $imports))))
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (instance $api (export "run" (func $run)))
  (export "{export}" (instance $api)))"#
    );
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

#[test]
fn one_host_interface_imported_by_several_components_is_one_merged_import() {
    // Each component imports only the function it uses; the host serves both through one
    // import, on the higher of two semver-compatible versions.
    let workload = Workload::new("merged")
        .with_component(
            "one",
            ComponentDecl::from_bytes(
                "one",
                host_user("test:host/math@0.1.0", &["double"], "test:use/one"),
            ),
        )
        .with_component(
            "two",
            ComponentDecl::from_bytes(
                "two",
                host_user("test:host/math@0.1.2", &["triple"], "test:use/two"),
            ),
        )
        .with_host_interface("test:host/math@0.1.0");
    let composition = composed(&resolved(&workload));
    assert_eq!(
        composition.imports,
        [labelled("test:host/math@0.1.2", None)]
    );
    let engine = engine();
    let mut linker = Linker::new(&engine);
    let mut math = linker.instance("test:host/math@0.1.2").unwrap();
    math.func_wrap("double", |_, (x,): (u32,)| Ok((x * 2,)))
        .unwrap();
    math.func_wrap("triple", |_, (x,): (u32,)| Ok((x * 3,)))
        .unwrap();
    let (mut store, instance) = instantiate(&engine, &linker, &composition.bytes, Host::default());
    let (one,): (u32,) = call(&mut store, &instance, Some("test:use/one"), "run", (5u32,));
    let (two,): (u32,) = call(&mut store, &instance, Some("test:use/two"), "run", (5u32,));
    assert_eq!((one, two), (10, 15));
}

#[test]
fn host_imports_that_cannot_be_merged_name_both_components() {
    let wide = wat::parse_str(
        r#"(component
  (import "test:host/math@0.1.0" (instance (export "double" (func (param "x" u64) (result u64)))))
  (alias export 0 "double" (func $double))
  (core func $double (canon lower (func $double)))
  (core instance $imports (export "double" (func $double)))
  (core module $m
    (import "imports" "double" (func $double (param i64) (result i64)))
    (func (export "run") (param i64) (result i64) local.get 0 call $double))
  (core instance $i (instantiate $m (with "imports" (instance $imports))))
  (func $run (param "x" u64) (result u64) (canon lift (core func $i "run")))
  (instance $api (export "run" (func $run)))
  (export "test:use/wide" (instance $api)))"#,
    )
    .expect("wide");
    let workload = Workload::new("conflict")
        .with_component(
            "narrow",
            ComponentDecl::from_bytes(
                "narrow",
                host_user("test:host/math@0.1.0", &["double"], "test:use/narrow"),
            ),
        )
        .with_component("wide", ComponentDecl::from_bytes("wide", wide))
        .with_host_interface("test:host/math@0.1.0");
    // The resolver refuses what `compose build` could not merge (issue 9), naming both
    // components, so that a workload it accepts always composes.
    let error = resolve(&workload).unwrap_err();
    let conflict = error
        .problems()
        .find(|p| p.code() == "compose::host-import-conflict")
        .unwrap_or_else(|| panic!("{:?}", error.diagnostics));
    assert!(
        matches!(conflict, Problem::HostImportConflict { import, first, second, .. }
            if import == "test:host/math@0.1.0"
                && ([first, second] == ["narrow", "wide"] || [first, second] == ["wide", "narrow"])),
        "{conflict:?}"
    );
    let message = conflict.to_string();
    assert!(
        message.contains("`narrow` and `wide`") || message.contains("`wide` and `narrow`"),
        "{message}"
    );
    assert!(message.contains("function `double`"), "{message}");
}

#[test]
fn labelled_export_keeps_its_implements() {
    // wac 0.12 writes top-level exports without `implements`; compose-static restores it.
    let mut workload = Workload::new("labelled")
        .with_component("primary", ComponentDecl::from_path("formatter.wasm"))
        .with_export("primary", "primary", Some("acme:text/format@0.1.0".into()));
    workload.base_dir = fixture("formatter").parent().unwrap().to_owned();
    let composition = composed(&resolved(&workload));
    validate(&composition.bytes);
    assert_eq!(
        composition.exports,
        [labelled("primary", Some("acme:text/format@0.1.0"))]
    );
    let engine = engine();
    let (mut store, instance) = instantiate(
        &engine,
        &Linker::new(&engine),
        &composition.bytes,
        Host::default(),
    );
    let (greeting,): (String,) = call(&mut store, &instance, Some("primary"), "greet", ("Hi", "k"));
    assert_eq!(greeting, "Hi, k! (#1)");
}

// --- side by side with wac plug -----------------------------------------------------------

/// What `wac plug --plug <plugs>... <socket>` produces: wac_graph::plug on the same bytes.
fn wac_plug(plugs: &[&[u8]], socket: &[u8]) -> Vec<u8> {
    let mut graph = CompositionGraph::new();
    let register = |graph: &mut CompositionGraph, name: &str, bytes: &[u8]| {
        let package = Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())
            .expect("wac reads the component");
        graph.register_package(package).expect("registers")
    };
    let plugs: Vec<_> = plugs
        .iter()
        .enumerate()
        .map(|(i, bytes)| register(&mut graph, &format!("plug:p{i}"), bytes))
        .collect();
    let socket = register(&mut graph, "socket:s", socket);
    wac_graph::plug(&mut graph, plugs, socket).expect("wac plugs");
    graph.encode(EncodeOptions::default()).expect("wac encodes")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn hello_greeter_gives_what_wac_plug_gives() {
    let ours = composed(&resolved(&hello_greeter())).bytes;
    let theirs = wac_plug(
        &[&read(wac_example("hello"))],
        &read(wac_example("greeter")),
    );
    validate(&ours);
    validate(&theirs);
    let engine = engine();
    let greet = |bytes: &[u8]| {
        let (mut store, instance) =
            instantiate(&engine, &Linker::new(&engine), bytes, Host::default());
        call::<_, (String,)>(&mut store, &instance, None, "greet", ()).0
    };
    assert_eq!(greet(&ours), greet(&theirs));
}

#[test]
fn chain_gives_what_wac_plug_gives_in_two_steps() {
    let bottom = chain_link(None, "test:chain/bottom", 1);
    let middle = chain_link(Some("test:chain/bottom"), "test:chain/middle", 2);
    let top = chain_link(Some("test:chain/middle"), "test:chain/top", 3);
    // wac plug does not plug transitively: given both plugs at once, the middle's own
    // import stays an import of the result...
    let at_once = wac_plug(&[&bottom, &middle], &top);
    validate(&at_once);
    let (imports, _) = top_level(&at_once);
    assert_eq!(imports, ["test:chain/bottom"]);
    // ...so it takes one `wac plug` per level; compose build takes the workload at once.
    let step = wac_plug(&[&bottom], &middle);
    let theirs = wac_plug(&[&step], &top);
    let ours = composed(&resolved(&chain_workload())).bytes;
    validate(&theirs);
    let engine = engine();
    let run = |bytes: &[u8], x: u32| {
        let (mut store, instance) =
            instantiate(&engine, &Linker::new(&engine), bytes, Host::default());
        call::<_, (u32,)>(&mut store, &instance, Some("test:chain/top"), "run", (x,)).0
    };
    for x in [0, 7, 42] {
        assert_eq!(run(&ours, x), run(&theirs, x));
    }
}

#[test]
fn shop_wac_plug_leaves_labelled_imports_unfilled() {
    // wac plug matches imports to exports by name only: the frontend's labelled imports
    // (`team-a-postgres`, implementing `wasi:keyvalue/store`) stay imports. compose build fills
    // them from the components of the same names.
    let frontend = read(fixture("frontend"));
    let theirs = wac_plug(
        &[
            &read(fixture("kv-memory")),
            &read(fixture("formatter")),
            &read(fixture("session-store")),
        ],
        &frontend,
    );
    validate(&theirs);
    let (imports, _) = top_level(&theirs);
    assert!(
        imports.contains(&"team-a-postgres".to_owned()),
        "{imports:?}"
    );
    assert!(
        imports.contains(&"team-b-postgres".to_owned()),
        "{imports:?}"
    );
    let ours = composed(&shop_plan());
    assert!(!ours.imports.iter().any(|i| i.name.starts_with("team-a")));
    // Where both fill the same imports, they answer the same: serve the teams' labels from
    // the host for wac's composition, and compare greetings.
    let engine = engine();
    let mut linker = shop_linker(&engine, Arc::new(MemoryStore::default()));
    for team in ["team-a-postgres", "team-b-postgres"] {
        let store = Arc::new(MemoryStore::default());
        compose_host::keyvalue::define(
            &mut linker.instance(team).unwrap(),
            store,
            compose_host::keyvalue::Served::new("memory", team),
        )
        .unwrap();
    }
    let greet = |bytes: &[u8]| {
        let (mut store, instance) = instantiate(&engine, &linker, bytes, Host::default());
        let handler = Some("acme:app/handler@0.1.0");
        let first = call::<_, (String,)>(&mut store, &instance, handler, "greet", ("Ada",)).0;
        let session =
            call::<_, (String,)>(&mut store, &instance, handler, "open-session", ("ada",)).0;
        (first, session)
    };
    assert_eq!(greet(&ours.bytes), greet(&theirs));
}

/// The names of the top-level imports and exports of `bytes`.
fn top_level(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("parses") {
            wasmparser::Payload::ComponentImportSection(s) if depth == 0 => {
                imports.extend(s.into_iter().map(|i| i.unwrap().name.name.to_owned()))
            }
            wasmparser::Payload::ComponentExportSection(s) if depth == 0 => {
                exports.extend(s.into_iter().map(|e| e.unwrap().name.name.to_owned()))
            }
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            _ => {}
        }
    }
    (imports, exports)
}

// --- determinism and errors -----------------------------------------------------------------

#[test]
fn same_workload_gives_byte_identical_output() {
    let first = compose(&shop_plan(), &ComposeOptions::default()).unwrap();
    let second = compose(&shop_plan(), &ComposeOptions::default()).unwrap();
    assert!(first == second, "two builds of the shop differ");
    let diamond = || compose(&resolved(&diamond_workload()), &ComposeOptions::default()).unwrap();
    assert!(diamond() == diamond(), "two builds of the diamond differ");
}

/// A chain of `n` links, `link<i>` importing `test:long/link<i-1>`.
fn long_chain(n: usize) -> Workload {
    (0..n).fold(Workload::new("long"), |workload, i| {
        let import = (i > 0).then(|| format!("test:long/link{}", i - 1));
        let bytes = chain_link(import.as_deref(), &format!("test:long/link{i}"), 1);
        workload.with_component(
            format!("link{i}"),
            ComponentDecl::from_bytes(format!("link{i}"), bytes),
        )
    })
}

#[test]
fn workload_over_the_instance_limit_is_refused_before_encoding() {
    // A chain of n components needs 2n + 1 instances (n instances, n aliases of the
    // exports wired or exported, one export): 499 fit in wasmparser's 1,000, 500 do not.
    let fits = composed(&resolved(&long_chain(499)));
    validate(&fits.bytes);
    let error = compose(&resolved(&long_chain(500)), &ComposeOptions::default()).unwrap_err();
    assert!(
        matches!(
            error,
            ComposeError::TooLarge {
                count: 1001,
                limit: 1000,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("compose run"), "{error}");
    // Without validation, the limit is the caller's business.
    let options = ComposeOptions::default().with_validation(false);
    assert!(compose(&resolved(&long_chain(500)), &options).is_ok());
}

#[test]
fn inconsistent_plan_is_an_error_not_a_panic() {
    let mut plan = shop_plan();
    plan.order.pop();
    let error = compose(&plan, &ComposeOptions::default()).unwrap_err();
    assert!(
        matches!(error, ComposeError::InvalidPlan { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("leaves out"), "{error}");
    let mut plan = shop_plan();
    plan.order.reverse();
    let error = compose(&plan, &ComposeOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains("does not come before it"),
        "{error}"
    );
}

// --- the command line -----------------------------------------------------------------------

fn scratch_dir(name: &str) -> PathBuf {
    let dir = workspace_root()
        .join("target/tmp/compose-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
