//! Target worlds (`--target WORLD`, [`TargetWorld`]): a workload, seen as the one
//! component `compose build` makes of it, checked against the world of the platform it is
//! deployed on with wac-types' `validate_target`: every export the world requires, and
//! nothing imported from the host that the world does not import.

use compose_resolver::{
    HostProfile, Plan, Problem, ResolveError, TargetError, TargetWorld, Workload, resolve_with,
};
use compose_tests::{example_workload, fixture_component};

/// Resolves `workload` for any host, checked against world `target`.
fn resolve_for(workload: &Workload, target: &str) -> Result<Plan, ResolveError> {
    let target = TargetWorld::find(target, None).expect("a built-in world");
    resolve_with(workload, &HostProfile::any().with_target(target))
}

fn example(name: &str) -> Workload {
    Workload::from_file(example_workload(name)).unwrap()
}

/// The HTTP example with its `visits` backend served by a component of the workload
/// (kv-memory, the component the label names) rather than by the host.
fn web_with_visits_in_a_component() -> Workload {
    let mut workload = example("web");
    workload.host.backends.clear();
    workload.with_component("visits", fixture_component("kv-memory"))
}

/// The target problems of `error`, as `(code, message)`.
fn problems(error: &ResolveError) -> Vec<(&'static str, String)> {
    error
        .problems()
        .map(|p| (p.code(), p.to_string()))
        .collect()
}

#[test]
fn the_http_example_fits_wasi_http_proxy_once_its_backend_is_a_component() {
    let plan = resolve_for(&web_with_visits_in_a_component(), "wasi:http/proxy@0.2.x")
        .unwrap_or_else(|e| panic!("{:?}", problems(&e)));
    assert_eq!(plan.name, "web");
}

#[test]
fn a_backend_left_to_the_host_is_an_import_the_proxy_world_does_not_have() {
    let error = resolve_for(&example("web"), "wasi:http/proxy@0.2.12").unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    let diagnostic = &error.diagnostics[0];
    assert!(matches!(
        &diagnostic.problem,
        Problem::NotInTarget { import, components, target }
            if import == "visits" && components == "`greeter`" && target == "wasi:http/proxy@0.2.12"
    ));
    // It points at the importing component's table.
    let (line, _) = diagnostic.line_column().expect("a line");
    let text = std::fs::read_to_string(example_workload("web")).unwrap();
    let at = text.lines().nth(line - 1).unwrap();
    assert_eq!(at, "[components.greeter]");
}

#[test]
fn the_shop_lacks_the_proxy_worlds_export_and_imports_what_it_does_not_offer() {
    let error = resolve_for(&example("shop"), "wasi:http/proxy@0.2.x").unwrap_err();
    let found = problems(&error);
    let missing: Vec<_> = error
        .problems()
        .filter_map(|p| match p {
            Problem::MissingTargetExport { export, .. } => Some(export.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(missing, ["wasi:http/incoming-handler@0.2.12"], "{found:?}");
    let imports: Vec<_> = error
        .problems()
        .filter_map(|p| match p {
            Problem::NotInTarget { import, .. } => Some(import.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        imports,
        ["team-c-postgres", "wasi:cli/environment@0.2.0"],
        "{found:?}"
    );
}

#[test]
fn the_command_example_fits_wasi_cli_command_and_not_wasi_http_proxy() {
    resolve_for(&example("greet"), "wasi:cli/command@0.2.x")
        .unwrap_or_else(|e| panic!("{:?}", problems(&e)));
    let error = resolve_for(&example("greet"), "wasi:http/proxy@0.2.x").unwrap_err();
    assert!(
        error.problems().any(|p| matches!(p,
            Problem::MissingTargetExport { export, .. } if export == "wasi:http/incoming-handler@0.2.12")),
        "{:?}",
        problems(&error)
    );
}

#[test]
fn a_wasi_0_3_handler_fits_wasi_http_service() {
    resolve_for(&example("web-p3"), "wasi:http/service@0.3.0")
        .unwrap_or_else(|e| panic!("{:?}", problems(&e)));
}

#[test]
fn a_world_of_a_wit_folder_may_include_a_built_in_world() {
    let dir = tempfile::tempdir().unwrap();
    let wit = "package acme:platform@1.0.0;\n\n\
        world strict {\n  include wasi:http/proxy@0.2.12;\n  export wasi:cli/run@0.2.12;\n}\n";
    std::fs::write(dir.path().join("platform.wit"), wit).unwrap();
    let target = TargetWorld::find("acme:platform/strict", Some(dir.path())).unwrap();
    assert_eq!(target.name(), "acme:platform/strict@1.0.0");
    let profile = HostProfile::any().with_target(target);
    let error = resolve_with(&web_with_visits_in_a_component(), &profile).unwrap_err();
    let found = problems(&error);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.contains("wasi:cli/run@0.2.12"), "{found:?}");
}

#[test]
fn an_unknown_world_is_an_error_listing_the_known_ones() {
    let Err(error) = TargetWorld::find("wasi:http/prox@0.2.x", None) else {
        panic!("an unknown world was found");
    };
    assert!(matches!(error, TargetError::UnknownWorld { .. }));
    let text = error.to_string();
    assert!(text.contains("wasi:http/proxy@0.2.12"), "{text}");
    assert!(text.contains("wasi:cli/command@0.3.0"), "{text}");
    let Err(TargetError::InvalidName(_)) = TargetWorld::find("proxy", None) else {
        panic!("a name without a package was taken");
    };
}
