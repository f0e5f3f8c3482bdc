//! `[remotes]`: providers on other machines, as the resolver matches them (rules 1–4 of
//! docs/workload.md apply to a remote as to a component), as the plan records them, and as
//! `compose build` and `compose graph` treat them.

use compose_resolver::{
    BindingTarget, ComponentDecl, ComponentSource, Plan, Problem, Provider, RemoteDecl, RemoteUrl,
    ResolveError, Rule, Workload, resolve,
};
use compose_tests::{GET_U32, wat_component as component};

const KV: &str = "acme:kv/store@0.1.0";

/// A remote at `url` serving `exports`, typed by `types` (component bytes).
fn remote(url: &str, exports: &[&str], types: Vec<u8>) -> RemoteDecl {
    let types = ComponentSource::Bytes {
        name: "types.wasm".into(),
        bytes: types.into(),
    };
    RemoteDecl::with_types(url, exports.iter().copied(), types)
}

/// A component exporting `KV` with `get: func(x: u32) -> u32`: the remote's types.
fn kv_types() -> Vec<u8> {
    component(&[], GET_U32, &[KV])
}

/// `app` importing `import` (as `GET_U32`) and exporting `api`.
fn app(import: &str) -> ComponentDecl {
    ComponentDecl::from_bytes("app.wasm", component(&[import], GET_U32, &["api"]))
}

fn provider<'p>(plan: &'p Plan, component: &str) -> (&'p Provider, Rule) {
    let id = plan.find(component).expect("component");
    let binding = &plan.component(id).bindings[0];
    (&binding.provider, binding.rule)
}

fn problems(error: &ResolveError) -> Vec<&Problem> {
    error.problems().collect()
}

#[test]
fn a_remote_serves_an_import_of_an_interface_it_alone_exports() {
    let workload = Workload::new("split")
        .with_component("app", app(KV))
        .with_remote("kv", remote("tcp://10.0.0.5:7761", &[KV], kv_types()));
    let plan = resolve(&workload).expect("resolves");
    let (provider, rule) = provider(&plan, "app");
    let Provider::Remote { remote, export } = provider else {
        panic!("served by {provider:?}");
    };
    assert_eq!((rule, export.as_str()), (Rule::Name, KV));
    let remote = plan.remote(*remote);
    assert_eq!(remote.name, "kv");
    let tcp = RemoteUrl::Tcp {
        host: "10.0.0.5".into(),
        port: 7761,
    };
    assert_eq!(remote.url, tcp);
    // A remote is not a component: not in the order, not a host import.
    assert_eq!(plan.order.len(), 1);
    assert!(plan.host_imports().is_empty());
    assert!(
        plan.to_string()
            .contains("<- remote kv (tcp://10.0.0.5:7761)")
    );
}

#[test]
fn an_explicit_binding_names_a_remote_where_a_component_exports_the_interface_too() {
    let local = ComponentDecl::from_bytes("kv.wasm", kv_types());
    let bound = app(KV).with_binding(
        KV,
        BindingTarget::Component {
            component: "far".into(),
            export: None,
        },
    );
    let workload = Workload::new("split")
        .with_component("app", bound)
        .with_component("near", local)
        .with_remote("far", remote("unix:///run/kv.sock", &[KV], kv_types()));
    let plan = resolve(&workload).expect("resolves");
    assert!(matches!(
        provider(&plan, "app"),
        (Provider::Remote { .. }, Rule::Explicit)
    ));
}

#[test]
fn without_a_binding_a_remote_and_a_component_of_one_interface_are_ambiguous() {
    let workload = Workload::new("split")
        .with_component("app", app(KV))
        .with_component("near", ComponentDecl::from_bytes("kv.wasm", kv_types()))
        .with_remote("far", remote("tcp://h:1", &[KV], kv_types()));
    let error = resolve(&workload).unwrap_err();
    let Problem::Ambiguous { candidates, .. } = problems(&error)[0] else {
        panic!("{:?}", problems(&error));
    };
    assert_eq!(candidates, &["near", "far"]);
}

#[test]
fn an_implements_label_names_its_remote() {
    let labelled = format!("team-a implements {KV}");
    let workload = Workload::new("split")
        .with_component("app", app(&labelled))
        .with_remote("team-a", remote("tcp://h:1", &[KV], kv_types()));
    let plan = resolve(&workload).expect("resolves");
    let (provider, rule) = provider(&plan, "app");
    assert_eq!(rule, Rule::Label);
    assert!(matches!(provider, Provider::Remote { export, .. } if export == KV));
}

#[test]
fn a_remote_export_is_type_checked_against_the_import() {
    // Types from a component that imports the interface with another `get`.
    let other = r#"(instance (export "get" (func (param "x" string) (result u32))))"#;
    let workload = Workload::new("split")
        .with_component("app", app(KV))
        .with_remote(
            "kv",
            remote("tcp://h:1", &[KV], component(&[KV], other, &[])),
        );
    let error = resolve(&workload).unwrap_err();
    assert!(
        matches!(problems(&error)[..], [Problem::TypeMismatch { server, .. }] if server == "kv"),
        "{:?}",
        problems(&error)
    );
}

#[test]
fn a_remote_url_is_tcp_host_port_or_an_absolute_unix_path() {
    let tcp = |host: &str, port| RemoteUrl::Tcp {
        host: host.into(),
        port,
    };
    assert_eq!(
        RemoteUrl::parse("tcp://10.0.0.5:7761"),
        Ok(tcp("10.0.0.5", 7761))
    );
    assert_eq!(RemoteUrl::parse("tcp://[::1]:80"), Ok(tcp("[::1]", 80)));
    let unix = RemoteUrl::parse("unix:///run/f.sock").unwrap();
    assert_eq!(unix, RemoteUrl::Unix("/run/f.sock".into()));
    assert_eq!(unix.to_string(), "unix:///run/f.sock");
    for bad in [
        "http://h:1",
        "tcp://h",
        "tcp://:1",
        "tcp://h:0",
        "tcp://h:65536",
        "tcp://h:1/path",
        "unix://relative.sock",
        "h:1",
    ] {
        assert!(RemoteUrl::parse(bad).is_err(), "{bad} parses");
    }
}

/// A component exporting an interface with a resource and a function taking it.
fn resource_types() -> Vec<u8> {
    wat::parse_str(
        r#"(component
        (type $r (resource (rep i32)))
        (core module $m (func (export "f") (param i32)))
        (core instance $i (instantiate $m))
        (func $f (param "x" (borrow $r)) (canon lift (core func $i "f")))
        (instance $api (export "t" (type $r)) (export "f" (func $f)))
        (export "acme:res/api@0.1.0" (instance $api)))"#,
    )
    .expect("WAT")
}

#[test]
fn a_remote_export_with_resources_is_refused_once_and_its_importers_are_not_blamed() {
    let importer = r#"(instance (export "t" (type (sub resource))))"#;
    let api = "acme:res/api@0.1.0";
    let workload = Workload::new("split")
        .with_component(
            "app",
            ComponentDecl::from_bytes("app.wasm", component(&[api], importer, &["api"])),
        )
        .with_remote("far", remote("tcp://h:1", &[api], resource_types()));
    let error = resolve(&workload).unwrap_err();
    let [Problem::UnsupportedRemoteType { what, .. }] = problems(&error)[..] else {
        panic!("{:?}", problems(&error));
    };
    assert_eq!(*what, "a resource");
    assert!(
        error.diagnostics[0]
            .to_string()
            .contains("wRPC cannot carry")
    );
}

#[test]
fn a_remote_lists_only_exports_its_types_have() {
    let workload = Workload::new("split")
        .with_component("app", app(KV))
        .with_remote(
            "kv",
            remote("tcp://h:1", &[KV, "acme:kv/admin@0.1.0"], kv_types()),
        );
    let error = resolve(&workload).unwrap_err();
    let [
        Problem::UnknownRemoteExport {
            export, available, ..
        },
    ] = problems(&error)[..]
    else {
        panic!("{:?}", problems(&error));
    };
    assert_eq!(
        (export.as_str(), available.as_slice()),
        ("acme:kv/admin@0.1.0", &[KV.to_owned()][..])
    );
}

#[test]
fn a_remote_takes_no_name_of_a_component() {
    let workload = Workload::new("split")
        .with_component("app", app(KV))
        .with_component("kv", ComponentDecl::from_bytes("kv.wasm", kv_types()))
        .with_remote("kv", remote("tcp://h:1", &[KV], kv_types()));
    let error = resolve(&workload).unwrap_err();
    assert!(matches!(
        problems(&error)[0],
        Problem::RemoteNameTaken {
            by: "a component",
            ..
        }
    ));
}

fn split() -> Plan {
    let workload = Workload::new("split")
        .with_component("app", app(KV))
        .with_remote("kv", remote("tcp://10.0.0.5:7761", &[KV], kv_types()));
    resolve(&workload).expect("resolves")
}

#[test]
fn compose_build_refuses_a_workload_with_a_remote_and_says_which() {
    let error = compose_static::Composition::build(&split(), &Default::default()).unwrap_err();
    let compose_static::ComposeError::RemoteNotComposable { diagnostic } = &error else {
        panic!("{error}");
    };
    assert!(
        matches!(&diagnostic.problem, Problem::RemoteNotComposable { remote, .. } if remote == "kv")
    );
}

#[test]
fn the_graph_draws_a_remote_outside_the_workload_and_the_host() {
    let graph = compose_graph::WorkloadGraph::from_outcome(Ok(split()));
    let remote = compose_graph::Node::Remote {
        name: "kv".into(),
        url: "tcp://10.0.0.5:7761".into(),
    };
    assert!(graph.nodes().any(|(_, n)| *n == remote));
    assert!(graph.to_dot().contains("\"remote:kv\" [shape=box3d"));
    assert!(graph.to_mermaid().contains(":::remote"));
}

#[test]
fn json_names_the_remote_and_its_address() {
    let json = split().to_json();
    let provider = &json["components"][0]["imports"][0]["provider"];
    assert_eq!(provider["kind"], "remote");
    assert_eq!(provider["remote"], "kv");
    assert_eq!(provider["url"], "tcp://10.0.0.5:7761");
}

/// A workload in a folder of its own: `app` importing `KV`, and a remote typed by the WIT
/// folder `wit/` holding `wit` as its one file.
fn with_wit_types(wit: &str) -> (tempfile::TempDir, Result<Plan, ResolveError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.wasm"),
        component(&[KV], GET_U32, &["api"]),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("wit")).unwrap();
    std::fs::write(dir.path().join("wit/kv.wit"), wit).unwrap();
    let workload = format!(
        "name = \"split\"\n[components.app]\npath = \"app.wasm\"\n\
         [remotes.kv]\nurl = \"tcp://10.0.0.5:7761\"\nexports = [\"{KV}\"]\ntypes = \"wit\"\n"
    );
    std::fs::write(dir.path().join("workload.toml"), workload).unwrap();
    let plan = compose_resolver::resolve_file(dir.path().join("workload.toml"));
    (dir, plan)
}

#[test]
fn a_remotes_types_may_be_a_wit_folder_and_are_checked_as_from_a_component() {
    let wit = "package acme:kv@0.1.0;\ninterface store {\n  get: func(x: u32) -> u32;\n}\n";
    let (_dir, plan) = with_wit_types(wit);
    let plan = plan.expect("resolves");
    let (provider, _) = provider(&plan, "app");
    assert!(
        matches!(provider, Provider::Remote { export, .. } if export == KV),
        "{provider:?}"
    );
    // The same folder with another signature is a type mismatch, as a component's is.
    let wrong = "package acme:kv@0.1.0;\ninterface store {\n  get: func(x: string) -> u32;\n}\n";
    let (_dir, error) = with_wit_types(wrong);
    let error = error.unwrap_err();
    assert!(
        matches!(problems(&error)[..], [Problem::TypeMismatch { server, .. }] if server == "kv"),
        "{error:?}"
    );
}

#[test]
fn a_wit_folder_that_does_not_parse_is_unreadable_types_in_the_parsers_words() {
    let (_dir, error) = with_wit_types("package acme:kv@0.1.0;\ninterface store {\n  get: func(\n");
    let error = error.unwrap_err();
    let [Problem::UnreadableRemoteTypes { reason, types, .. }] = &problems(&error)[..] else {
        panic!("{error:?}");
    };
    assert_eq!(types, "wit");
    assert!(
        reason.contains("does not parse") && reason.contains("found eof"),
        "{reason}"
    );
}
