//! Hybrid linking (issue 13): a workload linked per component, with its clusters fused
//! (`LinkMode::Clusters`, the default) and composed whole (`LinkMode::Composed`) does the
//! same thing — the same values, the same traps, the same resource destructor runs — and
//! has the same components live after each call, up to what a mode instantiates at once
//! (a fused cluster's members together; composed, everything) — called synchronously or
//! on fibers from an async runtime (`Execution`, issue 19) alike. Plus the cluster rules
//! of the resolver and their diagnostics.

use crate::linker::{RESOURCE_OWNER, RESOURCE_USER};
use compose_host::Call;
use compose_host::EngineOptions;
use compose_host::{Host, Plugins};
use compose_linker::{Execution, LinkMode};
use compose_resolver::{ComponentDecl, Instantiation, Plan, Workload, resolve};
use compose_tests::example_workload;
use std::collections::BTreeSet;

/// What one call did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// The call as written.
    call: String,
    /// Its result in WAVE, or the trap code that ended it (`None`: it failed otherwise).
    result: Result<Option<String>, Option<wasmtime::Trap>>,
    /// The components live after it.
    live: BTreeSet<String>,
    /// The components instantiated before or during it but not live after it: discarded
    /// by a trap.
    dead: BTreeSet<String>,
}

/// Links `plan` in `mode` with compose-host (WASI 0.2 with `GREETING=Hey`, in-memory
/// backends) and runs `calls` in one store: a step for the new store (its eager
/// components), then one per call. Also returns the members of each fused unit.
fn run(plan: &Plan, mode: LinkMode, calls: &[&str]) -> (Vec<Step>, Vec<Vec<String>>) {
    run_as(plan, mode, Execution::Sync, calls)
}

/// [`run`], with the calls running as `execution` says (on fibers for
/// [`Execution::Async`]).
fn run_as(
    plan: &Plan,
    mode: LinkMode,
    execution: Execution,
    calls: &[&str],
) -> (Vec<Step>, Vec<Vec<String>>) {
    let limits = EngineOptions {
        link: mode,
        execution,
        ..EngineOptions::default()
    };
    let host = Host::link_with(plan, &Plugins::builtin(), &limits).unwrap_or_else(|e| {
        panic!(
            "`{}` does not link {mode}: {}",
            plan.name,
            crate::linker::chain(&e)
        )
    });
    let offer = compose_host::grants::Offer::default().env("GREETING", "Hey");
    let mut store = host
        .new_store(&offer)
        .expect("the eager components instantiate");
    let step = |call: &str, result, store: &wasmtime::Store<compose_host::HostState>| {
        let state = &store.data().workload;
        let live: BTreeSet<String> = state
            .live_instances()
            .map(|i| i.component.to_owned())
            .collect();
        let dead = (plan.components.iter())
            .map(|c| c.name.clone())
            .filter(|c| state.instantiations(c) > 0 && !live.contains(c))
            .collect();
        Step {
            call: call.to_owned(),
            result,
            live,
            dead,
        }
    };
    let mut steps = vec![step("(a new store)", Ok(None), &store)];
    for call in calls {
        let parsed = Call::parse(call).expect("a valid call");
        let result = host.invoke(&mut store, None, &parsed);
        steps.push(step(
            call,
            result.map_err(|e| compose_tests::trap_of(&e)),
            &store,
        ));
    }
    (steps, host.workload().fused_clusters().to_vec())
}

/// What a mode that instantiates `units` at once has live where per-component linking has
/// `live` and has discarded `dead`: each unit with a live member, whole, but none with a
/// discarded member (a trap ends the instance the unit shares).
fn expected_live(
    live: &BTreeSet<String>,
    dead: &BTreeSet<String>,
    units: &[Vec<String>],
) -> BTreeSet<String> {
    let has = |unit: &Vec<String>, set: &BTreeSet<String>| unit.iter().any(|m| set.contains(m));
    let mut expected = live.clone();
    for unit in units.iter().filter(|u| has(u, live)) {
        expected.extend(unit.iter().cloned());
    }
    for unit in units.iter().filter(|u| has(u, dead)) {
        expected.retain(|m| !unit.contains(m));
    }
    expected
}

/// Runs `calls` on `plan` in the three link modes, each called synchronously and on fibers
/// ([`Execution`]), and checks that they all agree; `fused` is
/// what the clusters mode must fuse, and the composed mode fuses everything (no cluster
/// silently left per component). Returns the per-component run's
/// steps, for the caller to check against what it expects.
fn same_in_every_mode(plan: &Plan, calls: &[&str], fused: &[&[&str]]) -> Vec<Step> {
    let everything: Vec<String> = plan.components.iter().map(|c| c.name.clone()).collect();
    same_in_every_mode_composing(plan, calls, fused, &[everything])
}

/// [`same_in_every_mode`] with what the composed mode fuses given: nothing, for a
/// workload that cannot be composed whole without changing what it does.
fn same_in_every_mode_composing(
    plan: &Plan,
    calls: &[&str],
    fused: &[&[&str]],
    composed: &[Vec<String>],
) -> Vec<Step> {
    let (base, units) = run(plan, LinkMode::PerComponent, calls);
    assert!(units.is_empty(), "per component fuses nothing: {units:?}");
    let modes = [
        LinkMode::PerComponent,
        LinkMode::Clusters,
        LinkMode::Composed,
    ];
    let runs = (modes.into_iter())
        .flat_map(|mode| [Execution::Sync, Execution::Async].map(|e| (mode, e)))
        .skip(1);
    for (mode, execution) in runs {
        let (steps, units) = run_as(plan, mode, execution, calls);
        match mode {
            LinkMode::PerComponent => assert!(units.is_empty()),
            LinkMode::Clusters => assert_eq!(units, fused, "the fused clusters"),
            LinkMode::Composed => assert_eq!(units, composed, "composed"),
        }
        assert_eq!(steps.len(), base.len());
        for (expected, step) in base.iter().zip(&steps) {
            let at = format!("{} {mode} {execution:?}: {}", plan.name, expected.call);
            assert_eq!(step.result, expected.result, "{at}");
            let live = expected_live(&expected.live, &expected.dead, &units);
            assert_eq!(step.live, live, "live after {at}");
        }
    }
    base
}

fn ok(text: &str) -> Result<Option<String>, Option<wasmtime::Trap>> {
    Ok(Some(text.to_owned()))
}

fn names(live: &BTreeSet<String>) -> Vec<&str> {
    live.iter().map(String::as_str).collect()
}

// --- the differential test ----------------------------------------------------------------

#[test]
fn the_shop_gives_the_same_results_in_every_link_mode() {
    let plan = compose_resolver::resolve_file(example_workload("shop")).unwrap();
    let handler = "acme:app/handler@0.1.0";
    let calls = [
        format!(r#"{handler}#put("a", "k", "from-a")"#),
        format!(r#"{handler}#get("a", "k")"#),
        format!(r#"{handler}#get("b", "k")"#),
        format!(r#"{handler}#greet("ann")"#),
        format!(r#"{handler}#greet("bob")"#),
        // A session resource of `sessions`, outside the cluster, made and dropped by
        // `frontend`, inside it: the handle crosses the cluster's boundary.
        format!(r#"{handler}#open-session("alice")"#),
        format!(r#"{handler}#open-session("bob")"#),
        "acme:app/report@0.1.0#summary()".to_owned(),
        // `formatter` traps on an empty name: inside the cluster when fused.
        format!(r#"{handler}#greet("")"#),
    ];
    let calls: Vec<&str> = calls.iter().map(String::as_str).collect();
    let steps = same_in_every_mode(&plan, &calls, &[&["frontend", "formatter"]]);
    assert_eq!(
        names(&steps[0].live),
        ["reporter"],
        "only the eager component"
    );
    assert_eq!(steps[2].result, ok(r#"some("from-a")"#));
    assert_eq!(steps[3].result, ok("none"));
    assert_eq!(steps[4].result, ok(r#""Hey, ann! (#1)""#));
    assert_eq!(steps[5].result, ok(r#""Hey, bob! (#2)""#));
    assert_eq!(steps[7].result, ok(r#""bob:2""#));
    assert_eq!(
        steps[9].result,
        Err(Some(wasmtime::Trap::UnreachableCodeReached))
    );
    assert!(
        !steps[9].live.contains("formatter"),
        "the trapped instance is discarded"
    );
}

/// The owner and user of a resource (`linker::RESOURCE_OWNER`/`RESOURCE_USER`): the user's
/// `run` gives an own handle back to its owner and drops another, and returns `100 * the
/// rep given back + the owner's destructor runs`.
fn resources(user: Instantiation, owner: Instantiation) -> Workload {
    let component = |name: &str, wat: &str, how| {
        let bytes = wat::parse_str(wat).unwrap();
        ComponentDecl::from_bytes(format!("{name}.wat"), bytes).with_instantiation(how)
    };
    Workload::new("resources")
        .with_component("user", component("user", RESOURCE_USER, user))
        .with_component("owner", component("owner", RESOURCE_OWNER, owner))
}

#[test]
fn resources_inside_a_fused_cluster_run_their_destructors_as_when_linked() {
    // Both eager: the default rule clusters them (the user imports from the owner).
    let plan = resolve(&resources(Instantiation::Eager, Instantiation::Eager)).unwrap();
    assert_eq!(plan.clusters.len(), 1, "{:?}", plan.clusters);
    let steps = same_in_every_mode(&plan, &["run()", "run()"], &[&["user", "owner"]]);
    // Two destructor runs per `run`, counted in the one owner instance of the store.
    assert_eq!(steps[1].result, ok("702"));
    assert_eq!(steps[2].result, ok("704"));
}

#[test]
fn a_lazy_cluster_is_instantiated_whole_on_its_first_call() {
    let workload =
        resources(Instantiation::Lazy, Instantiation::Lazy).with_cluster("pair", ["user", "owner"]);
    let plan = resolve(&workload).unwrap();
    let steps = same_in_every_mode(&plan, &["run()"], &[&["user", "owner"]]);
    assert!(steps[0].live.is_empty(), "nothing is eager");
    assert_eq!(names(&steps[1].live), ["owner", "user"]);
}

#[test]
fn the_stream_pipeline_gives_the_same_results_in_every_link_mode() {
    // `source` and `transform` fused; the stream from them reaches `sink` through a
    // trampoline, as a handle in the store.
    let workload = compose_resolver::Workload::from_file(example_workload("pipe"))
        .unwrap()
        .with_cluster("upstream", ["source", "transform"]);
    let plan = resolve(&workload).unwrap();
    let sink = "acme:pipe/sink@0.1.0";
    let calls = [
        format!("{sink}#run(1048576)"),
        format!("{sink}#run-direct(1000)"),
        format!("{sink}#run-partial(10000, 777)"),
        format!("{sink}#run-future(5)"),
        format!("{sink}#run-check(4)"),
        format!("{sink}#run-explode(100)"),
    ];
    let calls: Vec<&str> = calls.iter().map(String::as_str).collect();
    let steps = same_in_every_mode(&plan, &calls, &[&["source", "transform"]]);
    assert!(matches!(&steps[1].result, Ok(Some(pair)) if pair.starts_with("(1048576, ")));
    assert_eq!(steps[5].result, ok("ok(4)"));
    assert!(steps[6].result.is_err(), "transform explodes");
}

#[test]
fn the_async_workload_gives_the_same_results_in_every_link_mode() {
    let workload = compose_resolver::Workload::from_file(example_workload("async"))
        .unwrap()
        .with_cluster("sync", ["caller", "sync-ops"]);
    let plan = resolve(&workload).unwrap();
    let calls = [
        "acme:pipe/driver@0.1.0#run-add(100)",
        r#"acme:pipe/driver@0.1.0#run-echo(2, "abc")"#,
        // Traps alike: a synchronous export may not block (component model rule).
        "acme:pipe/sync-driver@0.1.0#run-add(9)",
    ];
    let steps = same_in_every_mode(&plan, &calls, &[&["caller", "sync-ops"]]);
    assert_eq!(steps[1].result, ok("100"));
    assert!(steps[3].result.is_err());
}

#[test]
fn settings_give_the_same_results_though_composing_them_whole_would_not() {
    // Two instances of one component, each with its own `wasi:config/store`: one
    // composition would have one import of it, so the composed mode links them per
    // component, and says why.
    let plan = compose_resolver::resolve_file(example_workload("settings")).unwrap();
    let calls = [
        r#"alpha#get("greeting")"#,
        r#"beta#get("greeting")"#,
        "alpha#all()",
    ];
    let steps = same_in_every_mode_composing(&plan, &calls, &[], &[]);
    assert_eq!(steps[1].result, ok(r#"ok(some("Hi"))"#));
    assert_eq!(steps[2].result, ok(r#"ok(some("Hello"))"#));
    let limits = EngineOptions {
        link: LinkMode::Composed,
        ..EngineOptions::default()
    };
    let host = Host::link_with(&plan, &Plugins::builtin(), &limits).unwrap();
    let [(_, why)] = host.workload().unfused_clusters() else {
        panic!("{:?}", host.workload().unfused_clusters());
    };
    assert!(why.contains("host definitions of their own"), "{why}");
}

#[test]
fn a_synchronous_call_inside_a_fused_cluster_works_in_an_async_workload() {
    // Linked per component, Wasmtime 48 cannot forward `caller`'s synchronous call to
    // `sync-ops` in a store with concurrency support (see `async_linking`); fused into one
    // cluster the call never leaves the composition, and the resolver does not warn.
    let workload = compose_resolver::Workload::from_file(example_workload("async"))
        .unwrap()
        .with_cluster("sync", ["caller", "sync-ops"]);
    let plan = resolve(&workload).unwrap();
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let call = ["acme:pipe/driver@0.1.0#run-add-sync-callee(5)"];
    let (steps, _) = run(&plan, LinkMode::Clusters, &call);
    assert_eq!(steps[1].result, ok("5"), "five calls of add-one");
    let (steps, _) = run(&plan, LinkMode::PerComponent, &call);
    assert_eq!(steps[1].result, Err(None), "per component it still fails");
}

#[test]
fn a_trap_inside_a_fused_cluster_names_the_call_into_it_and_its_members() {
    let plan = compose_resolver::resolve_file(example_workload("shop")).unwrap();
    let host = Host::link(&plan, &Plugins::builtin()).unwrap();
    assert_eq!(
        host.workload().link_mode(),
        LinkMode::Clusters,
        "the default"
    );
    let mut store = host
        .new_store(&compose_host::grants::Offer::default())
        .unwrap();
    let call = Call::parse(r#"acme:app/handler@0.1.0#greet("")"#).unwrap();
    let error = host.invoke(&mut store, None, &call).unwrap_err();
    let text = format!("{error:#}: {}", crate::linker::chain(&error));
    for part in [
        "greet of `frontend` (called by `host`)",
        "in the fused cluster of `frontend`, `formatter`",
        "indirect-acme:text/format@0.1.0-greet",
        "unreachable",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
}

// --- the cluster rules ---------------------------------------------------------------------

/// The shop's components, in a workload file with `clusters` as its `[clusters]` table.
fn shop_with(clusters: &str) -> Result<Plan, compose_resolver::ResolveError> {
    let text = format!(
        r#"name = "shop"
[host]
interfaces = ["wasi:cli/*@0.2.0"]
backends = {{ team-c-postgres = "wasi:keyvalue/store@0.2.0-draft" }}
[components.frontend]
path = "frontend.wasm"
[components.team-a-postgres]
path = "kv-memory.wasm"
[components.team-b-postgres]
path = "kv-memory.wasm"
[components.formatter]
path = "formatter.wasm"
[components.sessions]
path = "session-store.wasm"
[components.reporter]
path = "reporter.wasm"
instantiate = "eager"
[clusters]
{clusters}"#
    );
    let dir = compose_tests::workspace_root().join("fixtures/components");
    let workload = Workload::parse("workload.toml", text, &dir)?;
    resolve(&workload)
}

/// `(code, line, column)` of each diagnostic.
fn located(diagnostics: &[compose_resolver::Diagnostic]) -> Vec<(&'static str, usize, usize)> {
    diagnostics
        .iter()
        .map(|d| {
            let (line, column) = d.line_column().expect("a position");
            (d.problem.code(), line, column)
        })
        .collect()
}

#[test]
fn every_cluster_problem_is_reported_at_once_pointing_into_the_file() {
    // Problems of the file's own shape first, as for components: the reader reports them
    // all before anything is resolved...
    let error = shop_with("empty = []\nBad_Name = [\"sessions\"]\n").expect_err("invalid");
    assert_eq!(
        located(&error.diagnostics),
        [
            ("compose::invalid-workload", 19, 1),
            ("compose::invalid-name", 20, 1)
        ]
    );
    let empty = error.diagnostics[0].to_string();
    assert!(
        empty.contains("cluster `empty` lists no components"),
        "{empty}"
    );
    // ...then the resolver reports every member it cannot place.
    let error = shop_with(
        r#"hot = ["frontend", "formater"]
cold = ["formatter", "frontend"]
"#,
    )
    .expect_err("the clusters are wrong");
    assert_eq!(
        located(&error.diagnostics),
        [
            ("compose::unknown-cluster-member", 19, 20),
            ("compose::duplicate-cluster-member", 20, 22),
        ],
        "{error:?}"
    );
    let texts: Vec<String> = error.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        texts[0].contains("cluster `hot` names `formater`"),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("component `frontend` is in cluster `hot` and again in cluster `cold`"),
        "{texts:?}"
    );
}

#[test]
fn a_cluster_of_components_that_do_not_import_from_each_other_is_a_warning() {
    let plan = shop_with(r#"odd = ["formatter", "sessions"]"#).expect("a warning only");
    assert_eq!(
        located(&plan.warnings),
        [("compose::disconnected-cluster", 19, 1)]
    );
    assert!(
        plan.warnings[0]
            .to_string()
            .contains("[formatter] and [sessions]"),
        "{}",
        plan.warnings[0]
    );
}

#[test]
fn the_plan_says_which_cluster_each_component_is_in() {
    let plan = shop_with(r#"hot = ["frontend", "formatter"]"#).unwrap();
    let cluster = |name: &str| {
        let id = plan.find(name).expect("a component");
        let at = plan.cluster_of(id).expect("every component is in one");
        let members = plan.clusters[at].members.iter();
        members
            .map(|m| plan.component(*m).name.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(cluster("formatter"), ["frontend", "formatter"]);
    assert_eq!(cluster("sessions"), ["sessions"], "a lazy component alone");
    assert_eq!(
        cluster("reporter"),
        ["reporter"],
        "eager, importing from no component"
    );
    assert!(
        plan.to_string()
            .contains("clusters\n  hot: frontend, formatter ([clusters])")
    );
    let json = plan.to_json();
    assert_eq!(json["clusters"][0]["members"][1], "formatter");
}

#[test]
fn eager_components_that_import_from_each_other_form_a_cluster_by_default() {
    let workload = resources(Instantiation::Eager, Instantiation::Eager);
    let plan = resolve(&workload).unwrap();
    assert_eq!(plan.clusters.len(), 1);
    assert!(!plan.clusters[0].explicit);
    assert!(
        plan.to_string().contains("user: user, owner (eager)"),
        "{plan}"
    );
    // An eager importer of a lazy server: two clusters of one, nothing fused.
    let plan = resolve(&resources(Instantiation::Eager, Instantiation::Lazy)).unwrap();
    assert_eq!(plan.clusters.len(), 2);
    let (_, fused) = run(&plan, LinkMode::Clusters, &["run()"]);
    assert!(fused.is_empty());
}

#[test]
fn a_cluster_whose_fusion_would_change_behaviour_is_linked_per_component_with_why() {
    // A `max-memory` is charged per component: fused, it could not be.
    let workload = resources(Instantiation::Lazy, Instantiation::Lazy);
    let workload = Workload {
        components: (workload.components.into_iter())
            .map(|(name, decl)| match name.as_str() {
                "owner" => (name, decl.with_max_memory(1 << 20)),
                _ => (name, decl),
            })
            .collect(),
        ..workload
    }
    .with_cluster("pair", ["user", "owner"]);
    let plan = resolve(&workload).unwrap();
    let limits = EngineOptions::default();
    let host = Host::link_with(&plan, &Plugins::builtin(), &limits).unwrap();
    let workload = host.workload();
    assert!(workload.fused_clusters().is_empty());
    let [(members, why)] = workload.unfused_clusters() else {
        panic!("{:?}", workload.unfused_clusters());
    };
    assert_eq!(members, &["user", "owner"]);
    assert!(why.contains("`owner` has a max-memory"), "{why}");
    // Linked per component, it still runs.
    let (steps, _) = run(&plan, LinkMode::Clusters, &["run()"]);
    assert_eq!(steps[1].result, ok("702"));
}

#[test]
fn a_resource_owned_inside_a_fused_cluster_crosses_to_a_user_outside_it() {
    // `owner` fused with an unrelated component (a warning, not an error); `user` stays
    // outside and reaches the owner's resource through the cluster's exports.
    let workload = resources(Instantiation::Lazy, Instantiation::Lazy)
        .with_component(
            "pad",
            ComponentDecl::from_bytes(
                "bench-callee.wasm",
                compose_tests::fixture_bytes("bench-callee"),
            ),
        )
        .with_export("t:r/res", "owner", None)
        .with_export("run", "user", None)
        .with_export("acme:bench/ops@0.1.0", "pad", None)
        .with_cluster("owned", ["owner", "pad"]);
    let plan = resolve(&workload).unwrap();
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    let steps = same_in_every_mode(&plan, &["run()", "run()"], &[&["owner", "pad"]]);
    assert_eq!(steps[1].result, ok("702"));
    assert_eq!(steps[2].result, ok("704"));
    assert_eq!(names(&steps[1].live), ["owner", "user"], "per component");
}

/// The tally workload: `user` drives a `counter` resource (synchronous constructor, async
/// method) of `owner`, in a workload with async functions.
fn tally() -> Workload {
    Workload::new("tally")
        .with_component("user", compose_tests::fixture_component("tally-user"))
        .with_component("owner", compose_tests::fixture_component("tally-owner"))
        .with_export("acme:pipe/tally-driver@0.1.0", "user", None)
        .with_export("acme:pipe/tally@0.1.0", "owner", None)
}

#[test]
fn a_resource_crosses_components_of_an_async_workload_when_they_are_fused() {
    let calls = [
        "acme:pipe/tally-driver@0.1.0#run(3)",
        "acme:pipe/tally@0.1.0#drops()",
    ];
    // Per component, the resource's synchronous constructor cannot be forwarded in a store
    // that runs concurrently (Wasmtime 48): the resolver warns, the call fails saying so.
    let plan = resolve(&tally()).unwrap();
    let codes: Vec<_> = plan.warnings.iter().map(|w| w.problem.code()).collect();
    assert_eq!(codes, ["compose::sync-call-in-async-workload"]);
    assert!(
        plan.warnings[0]
            .to_string()
            .contains("[constructor]counter")
    );
    let (steps, _) = run(&plan, LinkMode::PerComponent, &calls[..1]);
    assert_eq!(steps[1].result, Err(None), "{:?}", steps[1]);
    // Composed whole, or with the two fused into one cluster, it runs: 10 + 1 + 2 + 3, and
    // the counter's destructor ran once.
    for (mode, workload) in [
        (LinkMode::Composed, tally()),
        (
            LinkMode::Clusters,
            tally().with_cluster("pair", ["user", "owner"]),
        ),
    ] {
        let plan = resolve(&workload).unwrap();
        let (steps, fused) = run(&plan, mode, &calls);
        assert_eq!(fused, [["user", "owner"]], "{mode}");
        assert_eq!(steps[1].result, ok("16"), "{mode}");
        assert_eq!(steps[2].result, ok("1"), "{mode}: one destructor run");
    }
}
