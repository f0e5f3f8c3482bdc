//! Grants (`[allow]`, `[components.NAME.allow]`): deny by default, enforced per component
//! in one store, refused where composing would widen them.

use compose_host::grants::{GrantError, Offer};
use compose_host::{Call, EngineOptions, Host, HostError, Plugins};
use compose_linker::LinkMode;
use compose_resolver::{Grants, HostProfile, Plan, Problem, Workload, resolve_with};
use compose_static::{ComposeError, ComposeOptions, Composition};
use compose_tests::example_workload;

/// The shop, with GREETING granted to `component` only (not to every component).
fn shop_granting_greeting_to(component: &str) -> Plan {
    let mut workload = Workload::from_file(example_workload("shop")).unwrap();
    workload.allow = Default::default();
    let greeting = Grants {
        env: vec!["GREETING".into()],
        ..Grants::default()
    };
    let decl = workload.components.get_mut(component).unwrap();
    decl.allow.grants = greeting;
    resolve_with(&workload, &HostProfile::any()).expect("the shop resolves")
}

/// Example workload `name`, resolved for any host.
fn example(name: &str) -> Plan {
    let workload = Workload::from_file(example_workload(name)).unwrap();
    resolve_with(&workload, &HostProfile::any()).expect("the example resolves")
}

fn greet(plan: &Plan, mode: LinkMode) -> Result<String, HostError> {
    let options = EngineOptions {
        link: mode,
        ..EngineOptions::default()
    };
    let host = Host::link_with(plan, &Plugins::builtin(), &options)?;
    let mut store = host.new_store(&Offer::default().env("GREETING", "Hi"))?;
    let call = Call::parse(r#"acme:app/handler@0.1.0#greet("ann")"#).unwrap();
    Ok(host.invoke(&mut store, None, &call)?.unwrap_or_default())
}

#[test]
fn a_component_sees_only_the_variables_it_is_granted_even_in_one_store() {
    for mode in [LinkMode::PerComponent, LinkMode::Clusters] {
        let granted = greet(&shop_granting_greeting_to("frontend"), mode).unwrap();
        assert!(granted.starts_with("\"Hi, ann!"), "{mode}: {granted}");
        // The same store holds a component granted GREETING (the formatter), but the
        // frontend, which reads it, is not: it sees no GREETING.
        let denied = greet(&shop_granting_greeting_to("formatter"), mode).unwrap();
        assert!(denied.starts_with("\"Hello, ann!"), "{mode}: {denied}");
    }
}

#[test]
fn the_workloads_allow_table_grants_every_component() {
    let plan = example("shop");
    assert!(plan.grants_are_uniform());
    for mode in [
        LinkMode::PerComponent,
        LinkMode::Clusters,
        LinkMode::Composed,
    ] {
        let greeting = greet(&plan, mode).unwrap();
        assert!(greeting.starts_with("\"Hi, ann!"), "{mode}: {greeting}");
    }
}

#[test]
fn a_cluster_whose_members_have_different_grants_is_not_fused_and_says_why() {
    let plan = shop_granting_greeting_to("frontend");
    let options = EngineOptions::default();
    let host = Host::link_with(&plan, &Plugins::builtin(), &options).unwrap();
    let reasons: Vec<_> = (host.workload().unfused_clusters().iter())
        .map(|(_, why)| why.clone())
        .collect();
    assert!(
        reasons.iter().any(|why| why.contains("different grants")),
        "{reasons:?}"
    );
}

#[test]
fn composing_components_with_different_grants_is_refused_with_a_diagnostic() {
    let plan = shop_granting_greeting_to("frontend");
    let Err(HostError::GrantsDiffer(diagnostic)) = greet(&plan, LinkMode::Composed) else {
        panic!("--link composed widened the grants");
    };
    assert!(matches!(diagnostic.problem, Problem::GrantsDiffer { .. }));
    assert!(diagnostic.to_string().contains("env"), "{diagnostic}");
    let composed = Composition::build(&plan, &ComposeOptions::default());
    let Err(ComposeError::GrantsDiffer { diagnostic }) = composed else {
        panic!("compose build widened the grants");
    };
    assert_eq!(diagnostic.problem.code(), "compose::grants-differ");
}

#[test]
fn a_directory_no_component_is_granted_is_an_error_naming_the_fix() {
    let plan = example("greet");
    let offer = Offer {
        dirs: vec![(std::env::temp_dir(), "/elsewhere".into())],
        ..Offer::default()
    };
    let Err(error) = compose_host::grants::contexts(&plan, &offer) else {
        panic!("an ungranted directory was preopened");
    };
    assert!(matches!(error, GrantError::Ungranted { .. }));
    assert!(error.to_string().contains("dirs = ["), "{error}");
}
