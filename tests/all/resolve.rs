//! The resolver's rules (docs/workload.md, "Matching rules"), one test per rule, on the committed
//! fixture components, small WAT components and wac-cli's example components.

use compose_resolver::{
    BackendConfig, BackendOffer, BindingTarget, ComponentDecl, ConfigIssue, HostProfile, Plan,
    PluginSchema, Problem, Provider, Referrer, ResolveError, Rule, WantedExport, Workload, resolve,
    resolve_file, resolve_file_with, resolve_with,
};
use compose_tests::{
    GET_U32, example_workload, fixture, fixture_bytes, wac_example, wat_component as component,
};

fn bytes(name: &str, bytes: Vec<u8>) -> ComponentDecl {
    ComponentDecl::from_bytes(name, bytes)
}

fn problems(error: &ResolveError) -> Vec<&Problem> {
    error.problems().collect()
}

fn provider_of<'p>(plan: &'p Plan, component: &str, import: &str) -> &'p Provider {
    let id = plan.find(component).expect("component");
    &plan
        .component(id)
        .bindings
        .iter()
        .find(|b| b.import.name == import)
        .expect("import")
        .provider
}

fn served_by(plan: &Plan, component: &str, import: &str) -> (String, String) {
    match provider_of(plan, component, import) {
        Provider::Component { component, export } => {
            (plan.component(*component).name.clone(), export.clone())
        }
        other => panic!("{import} of {component} is served by {other:?}"),
    }
}

/// Writes `text` as `workload.toml` in a fresh folder and resolves it there; fixture
/// components are referred to as `$FIXTURES/<name>.wasm`.
fn resolve_text(text: &str) -> Result<Plan, ResolveError> {
    let dir = tempdir();
    let text = text.replace(
        "$FIXTURES",
        &fixture("x").parent().unwrap().display().to_string(),
    );
    let path = dir.join("workload.toml");
    std::fs::write(&path, text).unwrap();
    resolve_file(&path)
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "compose-resolve-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_example_workload_resolves_with_every_rule() {
    let plan = resolve_file(example_workload("shop")).expect("the example resolves");
    // Rule 2: each label reaches the component of its name, never the other.
    assert_eq!(
        served_by(&plan, "frontend", "team-a-postgres"),
        (
            "team-a-postgres".into(),
            "wasi:keyvalue/store@0.2.0-draft".into()
        )
    );
    assert_eq!(
        served_by(&plan, "frontend", "team-b-postgres"),
        (
            "team-b-postgres".into(),
            "wasi:keyvalue/store@0.2.0-draft".into()
        )
    );
    // Rule 2, host backend.
    assert_eq!(
        provider_of(&plan, "reporter", "team-c-postgres"),
        &Provider::HostBackend {
            label: "team-c-postgres".into(),
            interface: "wasi:keyvalue/store@0.2.0-draft".into()
        }
    );
    // Rule 3 and rule 1.
    assert_eq!(
        served_by(&plan, "frontend", "acme:text/format@0.1.0").0,
        "formatter"
    );
    let frontend = plan.component(plan.find("frontend").unwrap());
    let rule = |import: &str| {
        frontend
            .bindings
            .iter()
            .find(|b| b.import.name == import)
            .unwrap()
            .rule
    };
    assert_eq!(rule("acme:session/sessions@0.1.0"), Rule::Explicit);
    assert_eq!(rule("acme:text/format@0.1.0"), Rule::Name);
    assert_eq!(rule("team-a-postgres"), Rule::Label);
    assert_eq!(rule("wasi:cli/environment@0.2.0"), Rule::Host);
    // The same file under two names is read once.
    let a = &plan.component(plan.find("team-a-postgres").unwrap()).ty;
    let b = &plan.component(plan.find("team-b-postgres").unwrap()).ty;
    assert!(std::sync::Arc::ptr_eq(a, b));
    // Topological order: every server before its importers.
    let position = |name: &str| {
        plan.order
            .iter()
            .position(|id| plan.component(*id).name == name)
            .unwrap()
    };
    assert!(position("team-a-postgres") < position("frontend"));
    assert!(position("formatter") < position("frontend"));
    let exports: Vec<_> = plan.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exports, ["acme:app/handler@0.1.0", "acme:app/report@0.1.0"]);
    assert!(plan.warnings.is_empty());
    let hosts: Vec<_> = plan
        .host_imports()
        .iter()
        .map(|h| h.import.name.clone())
        .collect();
    assert_eq!(hosts, ["wasi:cli/environment@0.2.0", "team-c-postgres"]);
}

#[test]
fn rule_1_an_explicit_binding_wins_over_ambiguity() {
    let importer = component(&["acme:kv/store@0.1.0"], GET_U32, &["acme:app/api"]);
    let provider = component(&[], GET_U32, &["acme:kv/store@0.1.0"]);
    let workload = Workload::new("explicit")
        .with_component(
            "app",
            bytes("app", importer).with_binding(
                "acme:kv/store@0.1.0",
                BindingTarget::Component {
                    component: "second".into(),
                    export: None,
                },
            ),
        )
        .with_component("first", bytes("first", provider.clone()))
        .with_component("second", bytes("second", provider));
    let plan = resolve(&workload).expect("resolves");
    assert_eq!(served_by(&plan, "app", "acme:kv/store@0.1.0").0, "second");
    // `first` is not used and exports nothing the workload exports... but without
    // [exports] its exports are workload exports (nothing imports from it): no warning.
    assert!(plan.warnings.is_empty());
}

#[test]
fn rule_1_explicit_bindings_must_name_real_components_imports_and_exports() {
    let error = resolve_text(
        r#"
name = "bad-bindings"
[components.frontend]
path = "$FIXTURES/frontend.wasm"
imports = { "acme:text/format@0.1.0" = "nope", "acme:session/sessions@0.1.0" = { component = "formatter", export = "missing" }, "not-an-import" = "formatter" }
[components.team-a-postgres]
path = "$FIXTURES/kv-memory.wasm"
[components.team-b-postgres]
path = "$FIXTURES/kv-memory.wasm"
[components.formatter]
path = "$FIXTURES/formatter.wasm"
[host]
interfaces = ["wasi:cli/*@0.2.0"]
"#,
    )
    .unwrap_err();
    let found = problems(&error);
    assert!(
        found
            .iter()
            .any(|p| matches!(p, Problem::UnknownComponent { target, .. } if target == "nope")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| matches!(p, Problem::UnknownExport { target, wanted: WantedExport::Name(wanted), .. } if target == "formatter" && wanted == "missing")), "{found:?}");
    assert!(found.iter().any(|p| matches!(p, Problem::UnknownImport { import, available, .. } if import == "not-an-import" && available.iter().any(|a| a == "acme:text/format@0.1.0"))), "{found:?}");
    // Each points at its line in the file.
    let unknown = error
        .diagnostics
        .iter()
        .find(|d| matches!(d.problem, Problem::UnknownComponent { .. }))
        .unwrap();
    assert_eq!(unknown.line_column().map(|(line, _)| line), Some(5));
    let help = unknown.problem.help().unwrap();
    assert!(
        help.contains("frontend, team-a-postgres, team-b-postgres, formatter"),
        "{help}"
    );
}

#[test]
fn rule_1_host_serves_an_explicitly_bound_import() {
    let importer = component(&["acme:kv/store@0.1.0"], GET_U32, &["acme:app/api"]);
    let workload = Workload::new("to-host")
        .with_component(
            "app",
            bytes("app", importer).with_binding("acme:kv/store@0.1.0", BindingTarget::Host),
        )
        .with_host_interface("acme:kv/*@0.1.0");
    let plan = resolve(&workload).unwrap();
    assert_eq!(
        provider_of(&plan, "app", "acme:kv/store@0.1.0"),
        &Provider::HostInterface
    );
}

#[test]
fn rule_2_a_label_never_falls_back_to_another_provider_of_its_interface() {
    // `cache` exports the interface, but the import's label names `team-a-postgres`.
    let error = resolve_text(
        r#"
name = "no-fallback"
[components.frontend]
path = "$FIXTURES/frontend.wasm"
[components.cache]
path = "$FIXTURES/kv-memory.wasm"
[components.team-b-postgres]
path = "$FIXTURES/kv-memory.wasm"
[components.formatter]
path = "$FIXTURES/formatter.wasm"
[components.sessions]
path = "$FIXTURES/session-store.wasm"
[host]
interfaces = ["wasi:cli/*@0.2.0"]
"#,
    )
    .unwrap_err();
    let found = problems(&error);
    assert_eq!(error.errors().count(), 1, "{found:?}");
    assert!(
        matches!(found[0], Problem::MissingBackend { component, label, interface }
        if component == "frontend" && label == "team-a-postgres" && interface == "wasi:keyvalue/store@0.2.0-draft")
    );
    let help = found[0].help().unwrap();
    assert!(
        help.contains("[components.team-a-postgres]") && help.contains("backends"),
        "{help}"
    );
    assert_eq!(error.diagnostics[0].line_column(), Some((3, 13)));
}

#[test]
fn rule_2_a_label_backend_must_serve_the_interface() {
    let error = resolve_text(
        r#"
name = "wrong-backends"
[host]
backends = { team-c-postgres = "acme:text/format@0.1.0" }
[components.reporter]
path = "$FIXTURES/reporter.wasm"
"#,
    )
    .unwrap_err();
    assert!(
        matches!(problems(&error)[0], Problem::BackendMismatch { offer: BackendOffer::HostBackend { .. }, label, .. } if label == "team-c-postgres")
    );

    let labelled = component(
        &["team-a implements acme:kv/store@0.1.0"],
        GET_U32,
        &["acme:app/api"],
    );
    let workload = Workload::new("wrong-component")
        .with_component("app", bytes("app", labelled))
        .with_component("team-a", bytes("fmt", fixture_bytes("formatter")));
    let error = resolve(&workload).unwrap_err();
    assert!(
        matches!(problems(&error)[0], Problem::BackendMismatch { offer: BackendOffer::Component { exports }, .. } if exports.iter().any(|e| e.contains("acme:text/format@0.1.0"))),
        "{:?}",
        problems(&error)
    );
}

#[test]
fn rule_2_two_labels_of_one_interface_reach_two_backends() {
    let importer = component(
        &[
            "left implements acme:kv/store@0.1.0",
            "right implements acme:kv/store@0.1.0",
        ],
        GET_U32,
        &["acme:app/api"],
    );
    let kv = component(&[], GET_U32, &["acme:kv/store@0.1.0"]);
    let workload = Workload::new("two-labels")
        .with_component("app", bytes("app", importer))
        .with_component("left", bytes("kv", kv.clone()))
        .with_host_backend("right", "acme:kv/store@0.1.2");
    let plan = resolve(&workload).unwrap();
    assert_eq!(served_by(&plan, "app", "left").0, "left");
    assert!(
        matches!(provider_of(&plan, "app", "right"), Provider::HostBackend { label, .. } if label == "right")
    );
}

#[test]
fn rule_3_names_match_semver_compatibly() {
    let importer = component(
        &[
            "acme:kv/store@0.1.0",
            "acme:log/sink@1.0.0",
            "acme:pre/api@1.0.0-rc.1",
        ],
        GET_U32,
        &["acme:app/api"],
    );
    let workload = Workload::new("semver")
        .with_component("app", bytes("app", importer))
        .with_component(
            "kv",
            bytes("kv", component(&[], GET_U32, &["acme:kv/store@0.1.5"])),
        )
        .with_component(
            "kv-next",
            bytes("kv2", component(&[], GET_U32, &["acme:kv/store@0.2.0"])),
        )
        .with_component(
            "log",
            bytes("log", component(&[], GET_U32, &["acme:log/sink@1.4.0"])),
        )
        .with_component(
            "pre",
            bytes("pre", component(&[], GET_U32, &["acme:pre/api@1.0.0-rc.2"])),
        );
    let error = resolve(&workload).unwrap_err();
    // 0.1.0 ↔ 0.1.5 and 1.0.0 ↔ 1.4.0 match; 0.2.0 does not; pre-releases only exactly.
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        matches!(found[0], Problem::Unsatisfied { import, .. } if import == "acme:pre/api@1.0.0-rc.1")
    );
}

#[test]
fn rule_3_two_exporters_are_an_ambiguity_that_lists_them() {
    let importer = component(&["acme:kv/store@0.1.0"], GET_U32, &["acme:app/api"]);
    let provider = component(&[], GET_U32, &["acme:kv/store@0.1.0"]);
    let workload = Workload::new("ambiguous")
        .with_component("app", bytes("app", importer))
        .with_component("one", bytes("one", provider.clone()))
        .with_component("two", bytes("two", provider));
    let error = resolve(&workload).unwrap_err();
    let found = problems(&error);
    assert!(
        matches!(found[0], Problem::Ambiguous { candidates, .. } if candidates == &["one", "two"])
    );
    assert_eq!(
        found[0].to_string(),
        "import `acme:kv/store@0.1.0` of `app` is ambiguous: one, two export it"
    );
    assert!(
        found[0]
            .help()
            .unwrap()
            .contains(r#"imports = { "acme:kv/store@0.1.0" = "one" }"#)
    );
}

#[test]
fn rule_3_the_host_serves_what_no_component_exports() {
    let importer = component(
        &[
            "wasi:cli/environment@0.2.3",
            "wasi:io/streams@0.2.0",
            "wasi:logging/logging",
            "acme:other/x@1.0.0",
        ],
        GET_U32,
        &["acme:app/api"],
    );
    let workload = Workload::new("host")
        .with_component("app", bytes("app", importer))
        .with_host_interface("wasi:cli/*@0.2.0")
        .with_host_interface("wasi:*@0.2.0")
        .with_host_interface("wasi:logging/logging");
    let error = resolve(&workload).unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        matches!(found[0], Problem::Unsatisfied { import, .. } if import == "acme:other/x@1.0.0")
    );
    assert!(found[0].help().unwrap().contains("[host] interfaces"));
}

#[test]
fn rule_4_bindings_type_check_structurally() {
    // The session store's `closed-count` returns `u32`; this importer expects `string`.
    let wrong = component(
        &["acme:session/sessions@0.1.0"],
        r#"(instance (export "closed-count" (func (result string))))"#,
        &["acme:app/api"],
    );
    // A subset of the functions is fine (subtyping): `closed-count` alone.
    let subset = component(
        &["acme:session/sessions@0.1.0"],
        r#"(instance (export "closed-count" (func (result u32))))"#,
        &["acme:app/other"],
    );
    let workload = Workload::new("types")
        .with_component("app", bytes("app", wrong))
        .with_component("ok", bytes("ok", subset))
        .with_component(
            "sessions",
            bytes("sessions", fixture_bytes("session-store")),
        );
    let error = resolve(&workload).unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    let Problem::TypeMismatch {
        component,
        import,
        server,
        export,
        detail,
    } = found[0]
    else {
        panic!("{found:?}")
    };
    assert_eq!(
        (component.as_str(), import.as_str()),
        ("app", "acme:session/sessions@0.1.0")
    );
    assert_eq!(
        (server.as_str(), export.as_str()),
        ("sessions", "acme:session/sessions@0.1.0")
    );
    assert_eq!(
        detail,
        "function `closed-count`, result: expected `string`, found `u32`"
    );
}

#[test]
fn rule_5_a_cycle_is_an_error_that_prints_it() {
    let a = component(&["x:y/b"], GET_U32, &["x:y/a"]);
    let b = component(&["x:y/c"], GET_U32, &["x:y/b"]);
    let c = component(&["x:y/a"], GET_U32, &["x:y/c"]);
    let workload = Workload::new("cycle")
        .with_component("a", bytes("a", a))
        .with_component("b", bytes("b", b))
        .with_component("c", bytes("c", c));
    let error = resolve(&workload).unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        "components depend on each other in a cycle: a → b → c → a"
    );
}

#[test]
fn rule_6_workload_exports_must_exist_and_implicit_ones_must_not_clash() {
    let error = resolve_text(
        r#"
name = "exports"
[components.kv]
path = "$FIXTURES/kv-memory.wasm"
[exports]
"wasi:keyvalue/store@0.2.0-draft" = "kv"
"acme:kv/other" = { component = "kv", export = "missing" }
"x:y/z" = "ghost"
"#,
    )
    .unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        matches!(found[0], Problem::UnknownExport { wanted: WantedExport::Name(wanted), .. } if wanted == "missing")
    );
    assert!(
        matches!(found[1], Problem::UnknownComponent { target, referrer: Referrer::Export { export }, .. } if target == "ghost" && export == "x:y/z")
    );

    let workload = Workload::new("clash")
        .with_component("one", bytes("one", fixture_bytes("kv-memory")))
        .with_component("two", bytes("two", fixture_bytes("kv-memory")));
    let error = resolve(&workload).unwrap_err();
    assert!(
        matches!(problems(&error)[0], Problem::ExportClash { export, first, second } if export == "wasi:keyvalue/store@0.2.0-draft" && first == "one" && second == "two")
    );
    assert!(problems(&error)[0].help().unwrap().contains("[exports]"));
}

#[test]
fn rule_6_without_exports_the_roots_exports_are_the_workloads() {
    let workload = Workload::new("implicit")
        .with_component("formatter", bytes("f", fixture_bytes("formatter")))
        .with_component("kv", bytes("kv", fixture_bytes("kv-memory")))
        .with_component("reporter", bytes("r", fixture_bytes("reporter")))
        .with_component("team-c-postgres", bytes("kv", fixture_bytes("kv-memory")));
    let plan = resolve(&workload).unwrap();
    let exports: Vec<_> = plan
        .exports
        .iter()
        .map(|e| (e.name.as_str(), plan.component(e.component).name.as_str()))
        .collect();
    assert_eq!(
        exports,
        [
            ("acme:text/format@0.1.0", "formatter"),
            ("wasi:keyvalue/store@0.2.0-draft", "kv"),
            ("acme:app/report@0.1.0", "reporter")
        ]
    );
}

#[test]
fn rule_7_an_unused_component_is_a_warning() {
    let plan = resolve_text(
        r#"
name = "unused"
[components.formatter]
path = "$FIXTURES/formatter.wasm"
[components.kv]
path = "$FIXTURES/kv-memory.wasm"
[exports]
"acme:text/format@0.1.0" = "formatter"
"#,
    )
    .expect("warnings do not stop resolution");
    assert_eq!(plan.warnings.len(), 1);
    assert!(
        matches!(&plan.warnings[0].problem, Problem::UnusedComponent { component } if component == "kv")
    );
    assert_eq!(plan.warnings[0].line_column(), Some((5, 13)));
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let error = resolve_text(
        r#"
name = "many"
[components.frontend]
path = "$FIXTURES/frontend.wasm"
[components.one]
path = "$FIXTURES/formatter.wasm"
[components.two]
path = "$FIXTURES/formatter.wasm"
[components.missing]
path = "nowhere.wasm"
[components.unused]
path = "$FIXTURES/kv-memory.wasm"
[exports]
"acme:app/handler@0.1.0" = "frontend"
"#,
    )
    .unwrap_err();
    let codes: Vec<_> = error.problems().map(Problem::code).collect();
    assert_eq!(
        codes,
        [
            "compose::read-component",
            "compose::missing-backend",
            "compose::missing-backend",
            "compose::ambiguous-import",
            "compose::unsatisfied-import",
            "compose::unsatisfied-import",
            "compose::unused-component",
            "compose::unused-component",
            "compose::unused-component",
        ],
        "{:#?}",
        error.diagnostics
    );
}

#[test]
fn a_failing_workload_returns_the_partial_plan_of_what_resolved() {
    let error = resolve_text(
        r#"
name = "partial"
[components.frontend]
path = "$FIXTURES/frontend.wasm"
[components.team-a-postgres]
path = "$FIXTURES/kv-memory.wasm"
[components.team-b-postgres]
path = "missing.wasm"
[components.formatter]
path = "$FIXTURES/formatter.wasm"
[host]
interfaces = ["wasi:cli/*@0.2.0"]
"#,
    )
    .unwrap_err();
    let partial = error.partial.as_deref().expect("a partial plan");
    let plan = &partial.plan;
    let names: Vec<_> = plan.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["frontend", "team-a-postgres", "formatter"]);
    assert_eq!(
        served_by(plan, "frontend", "team-a-postgres").0,
        "team-a-postgres"
    );
    assert_eq!(
        served_by(plan, "frontend", "acme:text/format@0.1.0").0,
        "formatter"
    );
    let unbound: Vec<_> = partial
        .unbound
        .iter()
        .map(|u| {
            let why = u.diagnostic.map(|d| error.diagnostics[d].problem.code());
            (u.import.name.as_str(), why)
        })
        .collect();
    assert_eq!(
        unbound,
        [
            ("team-b-postgres", Some("compose::read-component")),
            (
                "acme:session/sessions@0.1.0",
                Some("compose::unsatisfied-import")
            ),
        ]
    );
    assert_eq!(partial.unreadable[0].name, "team-b-postgres");
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempdir();
    std::fs::write(dir.join("empty.wasm"), b"").unwrap();
    std::fs::write(dir.join("garbage.wasm"), b"not wasm at all").unwrap();
    std::fs::write(dir.join("core.wasm"), wat::parse_str("(module)").unwrap()).unwrap();
    std::fs::write(dir.join("broken.wasm"), b"\0asm\x0d\0\x01\0\xff").unwrap();
    let text = r#"name = "files"
[components.empty]
path = "empty.wasm"
[components.garbage]
path = "garbage.wasm"
[components.core]
path = "core.wasm"
[components.broken]
path = "broken.wasm"
[components.absent]
path = "absent.wasm"
"#;
    std::fs::write(dir.join("workload.toml"), text).unwrap();
    let error = resolve_file(dir.join("workload.toml")).unwrap_err();
    let messages: Vec<_> = error.problems().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 5, "{messages:#?}");
    assert!(messages[0].contains("the file is empty"));
    assert!(messages[1].contains("it is not WebAssembly"));
    assert!(messages[2].contains("it is a core module, not a component"));
    assert!(matches!(
        error.diagnostics[3].problem,
        Problem::NotAComponent { .. }
    ));
    assert!(messages[4].contains("cannot read component `absent`"));
    assert_eq!(error.diagnostics[4].line_column(), Some((11, 8)));
}

#[test]
fn bad_workload_files_are_clear_errors() {
    let invalid = resolve_text("name = \"x\"\n[components.a\npath = 1\n").unwrap_err();
    assert!(matches!(
        &invalid.diagnostics[0].problem,
        Problem::InvalidWorkload { .. }
    ));
    assert_eq!(
        invalid.diagnostics[0].line_column().map(|(l, _)| l),
        Some(2)
    );

    let unknown =
        resolve_text("name = \"x\"\n[components.a]\npath = \"a.wasm\"\npaht = 2\n").unwrap_err();
    let message = unknown.diagnostics[0].problem.to_string();
    assert!(
        message.contains("unknown field `paht`") && message.contains("`path`"),
        "{message}"
    );
    assert_eq!(unknown.diagnostics[0].line_column(), Some((4, 1)));

    let missing_name = resolve_text("[components.a]\npath = \"a.wasm\"\n").unwrap_err();
    assert!(
        missing_name.diagnostics[0]
            .problem
            .to_string()
            .contains("missing field `name`")
    );

    let names = resolve_text("name = \"Not Kebab\"\n[components.Bad_Name]\npath = \"a.wasm\"\n[host]\ninterfaces = [\"not a name\"]\n").unwrap_err();
    let codes: Vec<_> = names.problems().map(Problem::code).collect();
    assert_eq!(codes, ["compose::invalid-name", "compose::invalid-name"]);

    let missing_file = resolve_file("/nonexistent/workload.toml").unwrap_err();
    assert!(matches!(
        &missing_file.diagnostics[0].problem,
        Problem::ReadWorkload { .. }
    ));
}

#[test]
fn wac_cli_hello_and_greeter_resolve() {
    let workload = Workload::new("greeting")
        .with_component("greeter", ComponentDecl::from_path(wac_example("greeter")))
        .with_component("hello", ComponentDecl::from_path(wac_example("hello")));
    let plan = resolve(&workload).expect("wac's example pair resolves");
    assert_eq!(
        served_by(&plan, "greeter", "hello"),
        ("hello".into(), "hello".into())
    );
    let exports: Vec<_> = plan.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exports, ["greet"]);
    assert_eq!(
        plan.order
            .iter()
            .map(|id| plan.component(*id).name.as_str())
            .collect::<Vec<_>>(),
        ["hello", "greeter"]
    );
}

#[test]
fn a_thousand_generated_components_resolve() {
    // A chain c0 ← c1 ← … ← c999, each importing the previous one's interface, plus a
    // fan-out: every tenth component also imports c0's interface.
    const N: usize = 1000;
    let mut workload = Workload::new("generated");
    for i in 0..N {
        let mut imports = Vec::new();
        let previous = format!("gen:c{}/api@1.0.0", i.saturating_sub(1));
        let root = "gen:c0/api@1.0.0".to_owned();
        if i > 0 {
            imports.push(previous);
        }
        if i > 1 && i % 10 == 0 {
            imports.push(root);
        }
        let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
        let export = format!("gen:c{i}/api@1.0.{i}");
        let bytes = component(&imports, GET_U32, &[&export]);
        workload =
            workload.with_component(format!("c{i}"), ComponentDecl::from_bytes("gen", bytes));
    }
    let plan = resolve(&workload).expect("the generated workload resolves");
    assert_eq!(plan.components.len(), N);
    let served: usize = plan
        .components
        .iter()
        .map(|c| c.component_bindings().count())
        .sum();
    assert_eq!(served, N - 1 + 99);
    assert_eq!(plan.order.len(), N);
    assert_eq!(plan.exports.len(), 1);
    assert_eq!(
        plan.exports[0].name,
        format!("gen:c{}/api@1.0.{}", N - 1, N - 1)
    );
}

#[test]
fn json_plan_is_stable_and_complete() {
    let plan = resolve_file(example_workload("shop")).unwrap();
    let json = plan.to_json();
    assert_eq!(
        json,
        resolve_file(example_workload("shop")).unwrap().to_json()
    );
    let frontend = &json["components"][0];
    assert_eq!(frontend["name"], "frontend");
    let label = &frontend["imports"][0];
    assert_eq!(label["name"], "team-a-postgres");
    assert_eq!(label["implements"], "wasi:keyvalue/store@0.2.0-draft");
    assert_eq!(label["rule"], "label");
    assert_eq!(label["provider"]["component"], "team-a-postgres");
    assert_eq!(json["exports"][1]["component"], "reporter");
    assert_eq!(
        json["host-imports"][1]["backend"],
        "wasi:keyvalue/store@0.2.0-draft"
    );
}

// --- what the host serves (issue 9: what resolves must build and run) ---------------------

/// A component importing `name` (with `ty`) that exports `acme:app/api`.
fn host_user(name: &str, ty: &str) -> Vec<u8> {
    component(&[name], ty, &["acme:app/api"])
}

const GET_U64: &str = r#"(instance (export "get" (func (param "x" u64) (result u32))))"#;

#[test]
fn an_import_bound_to_host_must_be_declared_in_host() {
    let error = resolve_text(&format!(
        r#"
name = "undeclared"
[components.app]
path = "{}"
imports = {{ "acme:kv/store@0.1.0" = "host" }}
"#,
        write_temp("app.wasm", &host_user("acme:kv/store@0.1.0", GET_U32)).display()
    ))
    .unwrap_err();
    let found = problems(&error);
    assert!(
        matches!(found[0], Problem::UndeclaredHostImport { component, import }
            if component == "app" && import == "acme:kv/store@0.1.0"),
        "{found:?}"
    );
    assert_eq!(error.diagnostics[0].line_column(), Some((5, 37)));
    assert!(found[0].help().unwrap().contains("[host] interfaces"));
}

#[test]
fn a_label_bound_to_host_must_name_a_host_backend_of_its_interface() {
    let app = component(
        &[
            "team-a implements acme:kv/store@0.1.0",
            "team-b implements acme:kv/store@0.1.0",
        ],
        GET_U32,
        &["acme:app/api"],
    );
    let workload = Workload::new("labels-to-host")
        .with_component(
            "app",
            bytes("app", app)
                .with_binding("team-a", BindingTarget::Host)
                .with_binding("team-b", BindingTarget::Host),
        )
        .with_host_backend("team-b", "acme:text/format@0.1.0");
    let error = resolve(&workload).unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(matches!(found[0], Problem::MissingBackend { label, .. } if label == "team-a"));
    assert!(
        matches!(found[1], Problem::BackendMismatch { label, offer: BackendOffer::HostBackend { interface }, .. }
        if label == "team-b" && interface == "acme:text/format@0.1.0")
    );
}

#[test]
fn host_imports_of_one_label_must_merge_into_one_type() {
    let narrow = component(
        &["tenant-a implements acme:kv/store@0.1.0"],
        GET_U32,
        &["acme:one/api"],
    );
    let wide = component(
        &["tenant-a implements acme:kv/store@0.1.0"],
        GET_U64,
        &["acme:two/api"],
    );
    let workload = Workload::new("merge")
        .with_component("storefront", bytes("storefront", narrow))
        .with_component("admin", bytes("admin", wide))
        .with_host_backend("tenant-a", "acme:kv/store@0.1.0");
    let error = resolve(&workload).unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    let Problem::HostImportConflict {
        import,
        first,
        second,
        detail,
    } = found[0]
    else {
        panic!("{found:?}")
    };
    assert_eq!(import, "tenant-a");
    let mut both = [first.as_str(), second.as_str()];
    both.sort();
    assert_eq!(
        both,
        ["admin", "storefront"],
        "two different components are named"
    );
    assert!(detail.contains("function `get`, parameter `x`"), "{detail}");
}

#[test]
fn export_names_must_be_component_model_names() {
    let workload = |name: &str| {
        Workload::new("names")
            .with_component("kv", bytes("kv", fixture_bytes("kv-memory")))
            .with_export(name, "kv", Some("wasi:keyvalue/store@0.2.0-draft".into()))
    };
    for bad in ["api_v2", "acme:app/handler@1.2", "Not Kebab"] {
        let error = resolve(&workload(bad)).unwrap_err();
        let found = problems(&error);
        assert!(
            matches!(found[0], Problem::InvalidExportName { name, .. } if name == bad),
            "{bad}: {found:?}"
        );
    }
    for good in ["api", "acme:app/handler@1.2.0", "get-user"] {
        resolve(&workload(good)).unwrap_or_else(|e| panic!("{good}: {:?}", e.diagnostics));
    }
}

#[test]
fn export_names_must_differ_in_more_than_case() {
    let error = resolve_text(&format!(
        r#"
name = "case"
[components.kv]
path = "{}"
[exports]
api = {{ component = "kv", export = "wasi:keyvalue/store@0.2.0-draft" }}
API = {{ component = "kv", export = "wasi:keyvalue/store@0.2.0-draft" }}
"#,
        fixture("kv-memory").display()
    ))
    .unwrap_err();
    let found = problems(&error);
    assert!(
        matches!(found[0], Problem::DuplicateExportName { first, second } if first == "api" && second == "API"),
        "{found:?}"
    );
    assert_eq!(error.diagnostics[0].line_column().map(|(l, _)| l), Some(7));
}

/// A bytes file in a fresh temporary folder, for workload files that name it.
fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = tempdir().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

// --- host plugins: a workload checked against what a host has (issue 10) ------------------

/// A plugin serving `wasi:keyvalue/store@0.2.0-draft`, named `name`; with `url_env`, it requires the
/// key `url-env`, which must be an environment variable's name, else it takes no keys.
struct KvPlugin {
    name: &'static str,
    url_env: bool,
}

impl PluginSchema for KvPlugin {
    fn name(&self) -> &str {
        self.name
    }
    fn interfaces(&self) -> Vec<String> {
        vec!["wasi:keyvalue/store@0.2.0-draft".into()]
    }
    fn keys(&self) -> Vec<String> {
        self.url_env
            .then(|| "url-env".to_owned())
            .into_iter()
            .collect()
    }
    fn validate(&self, config: &BackendConfig) -> Vec<ConfigIssue> {
        let valid = |v: &str| !v.is_empty() && !v.contains('=');
        match config.get("url-env") {
            None if self.url_env => vec![ConfigIssue {
                key: None,
                message: "`url-env` is required".into(),
                help: None,
            }],
            Some(value) if !value.as_str().is_some_and(valid) => vec![
                ConfigIssue::key("url-env", "`url-env` must name an environment variable")
                    .with_help("write `url-env = \"TEAM_A_DATABASE_URL\"`"),
            ],
            _ => vec![],
        }
    }
}

fn profile() -> HostProfile {
    HostProfile::new()
        .with_plugin(
            std::sync::Arc::new(KvPlugin {
                name: "kv",
                url_env: true,
            }),
            true,
        )
        .with_interfaces(["wasi:cli/*@0.2.0"])
}

fn reporter_workload(backend: &str) -> String {
    format!(
        r#"
name = "plugins"
[components.reporter]
path = "$FIXTURES/reporter.wasm"
{backend}
"#
    )
}

fn resolve_text_with(text: &str, profile: &HostProfile) -> Result<Plan, ResolveError> {
    let dir = tempdir();
    let text = text.replace(
        "$FIXTURES",
        &fixture("x").parent().unwrap().display().to_string(),
    );
    let path = dir.join("workload.toml");
    std::fs::write(&path, text).unwrap();
    resolve_file_with(&path, profile)
}

#[test]
fn a_backend_table_names_its_plugin_and_configuration() {
    let plan = resolve_text_with(
        &reporter_workload(
            "[host.backends.team-c-postgres]\ninterface = \"wasi:keyvalue/store@0.2.0-draft\"\nplugin = \"kv\"\nurl-env = \"TEAM_C\"",
        ),
        &profile(),
    )
    .unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    let backend = &plan.host.backends["team-c-postgres"];
    assert_eq!(backend.plugin.as_deref(), Some("kv"));
    assert_eq!(backend.config.get_str("url-env"), Some("TEAM_C"));
    // The short form gets the default plugin of its interface.
    let plan = resolve_text_with(
        &reporter_workload(
            "[host]\nbackends = { team-c-postgres = \"wasi:keyvalue/store@0.2.0-draft\" }",
        ),
        &HostProfile::new().with_plugin(
            std::sync::Arc::new(KvPlugin {
                name: "memory-kv",
                url_env: false,
            }),
            true,
        ),
    )
    .unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    assert_eq!(
        plan.host.backends["team-c-postgres"].plugin.as_deref(),
        Some("memory-kv")
    );
}

#[test]
fn a_backend_must_be_served_by_a_plugin_of_the_host() {
    let cases = [
        ("plugin = \"mysql\"", "compose::unknown-plugin", 7),
        (
            "plugin = \"kv\"\nurl-env = \"X=1\"",
            "compose::invalid-backend-config",
            8,
        ),
        (
            "plugin = \"kv\"\nurl-env = \"X\"\ntable = \"t\"",
            "compose::invalid-backend-config",
            9,
        ),
        ("plugin = \"kv\"", "compose::invalid-backend-config", 5),
    ];
    for (keys, code, line) in cases {
        let text = reporter_workload(&format!(
            "[host.backends.team-c-postgres]\ninterface = \"wasi:keyvalue/store@0.2.0-draft\"\n{keys}"
        ));
        let error = resolve_text_with(&text, &profile()).unwrap_err();
        let d = &error.diagnostics[0];
        assert_eq!(
            (d.problem.code(), d.line_column().map(|(l, _)| l)),
            (code, Some(line)),
            "{keys}: {d}"
        );
    }
    // An interface no plugin serves, with and without a plugin named.
    let text = reporter_workload(
        "[host.backends.team-c-postgres]\ninterface = \"acme:other/x@1.0.0\"\nplugin = \"kv\"",
    );
    let codes: Vec<_> = resolve_text_with(&text, &profile())
        .unwrap_err()
        .problems()
        .map(Problem::code)
        .collect();
    assert!(codes.contains(&"compose::plugin-mismatch"), "{codes:?}");
    let text = reporter_workload("[host]\nbackends = { team-c-postgres = \"acme:other/x@1.0.0\" }");
    let codes: Vec<_> = resolve_text_with(&text, &profile())
        .unwrap_err()
        .problems()
        .map(Problem::code)
        .collect();
    assert!(codes.contains(&"compose::no-plugin"), "{codes:?}");
    // Without a profile nothing is checked.
    let text = reporter_workload(
        "[host.backends.team-c-postgres]\ninterface = \"wasi:keyvalue/store@0.2.0-draft\"\nplugin = \"mysql\"",
    );
    resolve_text_with(&text, &HostProfile::any()).unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
}

#[test]
fn an_import_left_to_the_host_must_be_one_the_host_serves() {
    let app = host_user("acme:kv/store@0.1.0", GET_U32);
    let workload = Workload::new("unserved")
        .with_component("app", bytes("app", app))
        .with_host_interface("acme:kv/store@0.1.0");
    let error = resolve_with(&workload, &profile()).unwrap_err();
    assert!(
        matches!(problems(&error)[0], Problem::HostCannotServe { import, serves, .. }
            if import == "acme:kv/store@0.1.0" && serves == &["wasi:cli/*@0.2.0"]),
        "{:?}",
        error.diagnostics
    );
}

#[test]
fn a_declaration_checks_only_the_backends_that_name_a_plugin_of_the_host() {
    let declared = profile().declaration();
    // No plugin named: left to the embedding host (the full profile's default plugin
    // would require `url-env`).
    let text = reporter_workload(
        "[host]\nbackends = { team-c-postgres = \"wasi:keyvalue/store@0.2.0-draft\" }",
    );
    let plan =
        resolve_text_with(&text, &declared).unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    assert_eq!(plan.host.backends["team-c-postgres"].plugin, None);
    let error = resolve_text_with(&text, &profile()).unwrap_err();
    assert_eq!(
        error.diagnostics[0].problem.code(),
        "compose::invalid-backend-config"
    );
    // A plugin this host does not have: another host's.
    let text = reporter_workload(
        "[host.backends.team-c-postgres]\ninterface = \"wasi:keyvalue/store@0.2.0-draft\"\nplugin = \"nats-kv\"",
    );
    let plan =
        resolve_text_with(&text, &declared).unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    assert_eq!(
        plan.host.backends["team-c-postgres"].plugin.as_deref(),
        Some("nats-kv")
    );
    // A plugin this host has keeps its checks, at the same line.
    let text = reporter_workload(
        "[host.backends.team-c-postgres]\ninterface = \"wasi:keyvalue/store@0.2.0-draft\"\nplugin = \"kv\"\nurl-env = \"X=1\"",
    );
    let error = resolve_text_with(&text, &declared).unwrap_err();
    let d = &error.diagnostics[0];
    assert_eq!(
        (d.problem.code(), d.line_column().map(|(l, _)| l)),
        ("compose::invalid-backend-config", Some(8))
    );
    // An interface the host does not serve is taken as declared.
    let app = host_user("acme:kv/store@0.1.0", GET_U32);
    let workload = Workload::new("elsewhere")
        .with_component("app", bytes("app", app))
        .with_host_interface("acme:kv/store@0.1.0");
    let plan = resolve_with(&workload, &declared).unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    assert_eq!(plan.host_imports().len(), 1);
}

#[test]
fn component_config_is_carried_into_the_plan() {
    let plan = resolve_text(
        r#"
name = "config"
[components.kv]
path = "$FIXTURES/kv-memory.wasm"
[components.kv.config]
greeting = "Hi"
retries = 3
"#,
    )
    .unwrap();
    let config = &plan.component(plan.find("kv").unwrap()).config;
    assert_eq!(config["greeting"], "Hi");
    assert_eq!(config["retries"], "3");
    let error = resolve_text(
        "name = \"config\"\n[components.kv]\npath = \"$FIXTURES/kv-memory.wasm\"\nconfig = { nested = { a = 1 } }\n",
    )
    .unwrap_err();
    assert_eq!(problems(&error)[0].code(), "compose::invalid-workload");
}

// --- diagnostics at scale (issue 9) --------------------------------------------------------

#[test]
fn line_index_renders_exactly_as_miette_does() {
    use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource, SourceCode};
    let text = "name = \"x\"\n\n[components.a]\npath = \"é.wasm\"\nimports = { b = \"c\" }\n\n[exports]\n\"q\" = \"a\"\n";
    let indexed = compose_resolver::SourceFile::new("w.toml", text);
    let scanned = NamedSource::new("w.toml", text.to_owned());
    for (start, len) in [
        (0, 4),
        (14, 12),
        (40, 5),
        (text.len() - 4, 3),
        (text.len(), 0),
    ] {
        let span = miette::SourceSpan::new(start.into(), len);
        for context in [0, 1, 2] {
            let a = indexed.read_span(&span, context, context).unwrap();
            let b = scanned.read_span(&span, context, context).unwrap();
            assert_eq!(
                (a.data(), a.span(), a.line(), a.column()),
                (b.data(), b.span(), b.line(), b.column()),
                "span {start}+{len}, context {context}"
            );
        }
    }
    // And a whole rendered report.
    let error = resolve_text("name = \"x\"\n\n[components.a]\npath = \"$FIXTURES/none.wasm\"\n")
        .unwrap_err();
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, &error.diagnostics[0])
        .unwrap();
    assert!(out.contains(" 4 │ path = "), "{out}");
}
