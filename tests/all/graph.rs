//! `compose graph`: pictures of a workload's wiring (compose-graph), one test per rule.
//!
//! Snapshots live in `tests/all/snapshots/`; after an intended change, review the
//! `.snap.new` files insta writes (or run with `INSTA_UPDATE=always`) and commit them.

use compose_graph::{EdgeKind, Format, Node, WorkloadGraph, draw_file};
use compose_resolver::{ComponentDecl, Problem, Provider, Workload, resolve_file};
use compose_tests::{example_workload, workspace_root};

fn shop() -> WorkloadGraph {
    draw_file(example_workload("shop")).expect("the shop workload reads")
}

fn broken() -> WorkloadGraph {
    draw_file(example_workload("broken")).expect("the broken workload reads")
}

fn render(graph: &WorkloadGraph, format: Format) -> String {
    graph.render(format).expect("renders")
}

fn component_names(graph: &WorkloadGraph) -> Vec<&str> {
    graph
        .nodes()
        .filter_map(|(_, n)| match n {
            Node::Component { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

/// A component that imports each of `imports` and exports each of `exports`, every one an
/// instance with a function `get: func(x: u32) -> u32`.
fn component(imports: &[&str], exports: &[&str]) -> Vec<u8> {
    compose_tests::wat_component(imports, compose_tests::GET_U32, exports)
}

#[test]
fn shop_as_dot() {
    insta::assert_snapshot!(render(&shop(), Format::Dot));
}

#[test]
fn shop_as_mermaid() {
    insta::assert_snapshot!(render(&shop(), Format::Mermaid));
}

#[test]
fn shop_as_json() {
    insta::assert_snapshot!(render(&shop(), Format::Json));
}

#[test]
fn broken_as_dot() {
    insta::assert_snapshot!(render(&broken(), Format::Dot));
}

#[test]
fn broken_as_mermaid() {
    insta::assert_snapshot!(render(&broken(), Format::Mermaid));
}

#[test]
fn broken_as_json() {
    insta::assert_snapshot!(render(&broken(), Format::Json));
}

#[test]
fn nodes_are_components_host_and_exports() {
    let graph = shop();
    assert!(graph.resolved());
    assert_eq!(
        component_names(&graph),
        [
            "frontend",
            "team-a-postgres",
            "team-b-postgres",
            "formatter",
            "sessions",
            "reporter"
        ]
    );
    let frontend = graph
        .nodes()
        .find_map(|(_, n)| match n {
            Node::Component {
                name, file, size, ..
            } if name == "frontend" => Some((file.clone(), *size)),
            _ => None,
        })
        .expect("frontend");
    let bytes = std::fs::metadata(workspace_root().join("fixtures/components/frontend.wasm"))
        .expect("fixture")
        .len() as usize;
    assert_eq!(
        frontend,
        ("../components/frontend.wasm".into(), Some(bytes))
    );
    let nodes: Vec<&Node> = graph.nodes().map(|(_, n)| n).collect();
    assert!(nodes.contains(&&Node::HostInterface {
        name: "wasi:cli/environment@0.2.0".into()
    }));
    assert!(nodes.contains(&&Node::HostBackend {
        label: "team-c-postgres".into(),
        interface: "wasi:keyvalue/store@0.2.0-draft".into()
    }));
    assert!(nodes.contains(&&Node::Export {
        name: "acme:app/handler@0.1.0".into()
    }));
    assert_eq!(graph.host_patterns(), ["wasi:cli/*@0.2.0"]);
}

#[test]
fn one_edge_per_binding_from_the_importer_to_what_serves_it() {
    let graph = shop();
    let plan = resolve_file(example_workload("shop")).expect("resolves");
    let name = |id| match graph.node(id) {
        Node::Component { name, .. } => format!("component {name}"),
        Node::HostInterface { name } => format!("host {name}"),
        Node::HostBackend { label, .. } => format!("backend {label}"),
        other => panic!("a binding ends at {other:?}"),
    };
    let mut drawn: Vec<(String, String, String)> = graph
        .edges()
        .filter(|(_, _, e)| matches!(e.kind, EdgeKind::Binding(_)))
        .map(|(from, to, e)| (name(from), e.import.clone(), name(to)))
        .collect();
    let mut planned: Vec<(String, String, String)> = plan
        .components
        .iter()
        .flat_map(|c| {
            c.bindings.iter().map(|b| {
                let to = match &b.provider {
                    Provider::Component { component, .. } => {
                        format!("component {}", plan.component(*component).name)
                    }
                    Provider::HostInterface => format!("host {}", b.import.name),
                    Provider::HostBackend { label, .. } => format!("backend {label}"),
                    Provider::Remote { remote, .. } => {
                        format!("remote {}", plan.remote(*remote).name)
                    }
                };
                (format!("component {}", c.name), b.import.name.clone(), to)
            })
        })
        .collect();
    drawn.sort();
    planned.sort();
    assert_eq!(drawn, planned);
    let exports = graph
        .edges()
        .filter(|(_, _, e)| matches!(e.kind, EdgeKind::Export { .. }))
        .count();
    assert_eq!(exports, plan.exports.len());
}

#[test]
fn labelled_imports_are_drawn_differently() {
    let graph = shop();
    let labelled = graph
        .edges()
        .find(|(_, _, e)| e.import == "team-a-postgres")
        .expect("the team-a-postgres edge")
        .2;
    assert_eq!(
        labelled.label(),
        "team-a-postgres: wasi:keyvalue/store@0.2.0-draft"
    );
    let plain = graph
        .edges()
        .find(|(_, _, e)| e.import == "acme:text/format@0.1.0")
        .expect("the format edge")
        .2;
    assert_eq!(plain.label(), "acme:text/format@0.1.0");

    let dot = render(&graph, Format::Dot);
    let line = |needle: &str| {
        dot.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}"))
            .to_owned()
    };
    let labelled = line("\"frontend\" -> \"team-a-postgres\"");
    assert!(labelled.contains("team-a-postgres: wasi:keyvalue/store@0.2.0-draft"));
    assert!(labelled.contains("style=dashed"), "{labelled}");
    assert!(line("\"frontend\" -> \"formatter\"").contains("style=solid"));

    let mermaid = render(&graph, Format::Mermaid);
    assert!(mermaid.contains("-.->|\"team-a-postgres: wasi:keyvalue/store@0.2.0-draft\"|"));
    assert!(mermaid.contains("-->|\"acme:text/format@0.1.0\"|"));
}

#[test]
fn a_workload_that_does_not_resolve_is_drawn_with_red_loose_ends() {
    let graph = broken();
    assert!(!graph.resolved());
    let error = graph.error().expect("the resolver's error");
    assert!(
        error
            .problems()
            .any(|p| matches!(p, Problem::Unsatisfied { .. }))
    );
    assert!(
        error
            .problems()
            .any(|p| matches!(p, Problem::Ambiguous { .. }))
    );

    let loose: Vec<(String, &str, String)> = graph
        .edges()
        .filter_map(|(_, to, e)| match (&e.kind, graph.node(to)) {
            (EdgeKind::Problem { code, .. }, Node::Unresolved { reason }) => {
                Some((e.label(), *code, reason.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        loose,
        [
            (
                "team-b-postgres: wasi:keyvalue/store@0.2.0-draft".to_owned(),
                "compose::missing-backend",
                "no component or host backend named team-b-postgres".to_owned()
            ),
            (
                "acme:text/format@0.1.0".to_owned(),
                "compose::ambiguous-import",
                "ambiguous: exported by formatter, formatter-copy".to_owned()
            ),
            (
                "acme:session/sessions@0.1.0".to_owned(),
                "compose::unsatisfied-import",
                "unsatisfied: no component exports it, the host does not provide it".to_owned()
            ),
        ]
    );
    // The imports that did resolve are drawn as the resolver bound them.
    let bound: Vec<&str> = graph
        .edges()
        .filter(|(_, _, e)| matches!(e.kind, EdgeKind::Binding(_)))
        .map(|(_, _, e)| e.import.as_str())
        .collect();
    assert_eq!(bound, ["team-a-postgres", "wasi:cli/environment@0.2.0"]);

    let dot = render(&graph, Format::Dot);
    assert!(dot.contains("workload broken (does not resolve)"));
    let red = dot
        .lines()
        .filter(|l| l.contains("-> \"unresolved:") && l.contains("#d93025"))
        .count();
    assert_eq!(red, 3);
}

#[test]
fn json_is_the_plan_json_with_relative_paths_and_documented_additions() {
    let mut json = shop().to_json();
    assert_eq!(json["resolved"], true);
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(
        json["host"],
        serde_json::json!({
            "interfaces": ["wasi:cli/*@0.2.0"],
            "backends": { "team-c-postgres": "wasi:keyvalue/store@0.2.0-draft" },
        })
    );
    let object = json.as_object_mut().expect("an object");
    object.remove("host");
    let mut plan = resolve_file(example_workload("shop"))
        .expect("resolves")
        .to_json();
    for (drawn, planned) in json["components"]
        .as_array_mut()
        .expect("components")
        .iter_mut()
        .zip(plan["components"].as_array_mut().expect("components"))
    {
        let relative = drawn["path"].as_str().expect("a path").to_owned();
        assert!(relative.starts_with("../components/"), "{relative}");
        let full = planned["path"].as_str().expect("a path");
        assert!(full.ends_with(relative.trim_start_matches("../")), "{full}");
        drawn["path"] = planned["path"].clone();
    }
    assert_eq!(json, plan);

    let broken = broken().to_json();
    assert_eq!(broken["resolved"], false);
    assert_eq!(broken["order"], serde_json::Value::Null);
    let frontend = &broken["components"][0];
    let session = frontend["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .find(|i| i["name"] == "acme:session/sessions@0.1.0")
        .expect("the session import");
    assert_eq!(session["provider"], serde_json::Value::Null);
    assert_eq!(session["problem"], "compose::unsatisfied-import");
    let codes: Vec<&str> = broken["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["code"].as_str().expect("code"))
        .collect();
    assert!(codes.contains(&"compose::ambiguous-import"), "{codes:?}");
    // Host imports only name the imports the host really serves.
    assert_eq!(
        broken["host-imports"],
        serde_json::json!([{
            "name": "wasi:cli/environment@0.2.0",
            "implements": null,
            "backend": null,
            "importers": ["frontend"],
        }])
    );
}

#[test]
fn svg_is_valid_xml_naming_every_component() {
    for graph in [shop(), broken()] {
        let svg = render(&graph, Format::Svg);
        // Graphviz writes the SVG 1.1 DOCTYPE, which roxmltree only reads when allowed.
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let document = roxmltree::Document::parse_with_options(&svg, options).expect("valid XML");
        assert_eq!(document.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        for name in component_names(&graph) {
            assert!(
                texts.contains(&name),
                "{name} is not drawn in the SVG of {}",
                graph.name()
            );
        }
    }
}

#[test]
fn output_is_deterministic_and_has_no_absolute_paths() {
    let root = workspace_root().display().to_string();
    for format in [Format::Dot, Format::Mermaid, Format::Json, Format::Svg] {
        for (first, second) in [(shop(), shop()), (broken(), broken())] {
            let text = render(&first, format);
            assert_eq!(text, render(&second, format));
            assert!(!text.contains(&root), "{format:?} shows an absolute path");
        }
    }
}

#[test]
fn the_readme_picture_is_current() {
    let committed = std::fs::read_to_string(workspace_root().join("docs/shop.svg"))
        .expect("docs/shop.svg is committed");
    assert!(
        committed == render(&shop(), Format::Svg),
        "docs/shop.svg is stale: run `compose graph fixtures/shop/workload.toml -o docs/shop.svg`"
    );
}

#[test]
fn a_component_that_cannot_be_read_is_drawn_red_and_its_importers_dangle() {
    let text = r#"
        name = "missing"
        [components.frontend]
        path = "frontend.wasm"
        [components.store]
        path = "no-such-file.wasm"
    "#;
    let dir = workspace_root().join("fixtures/components");
    let workload = Workload::parse("workload.toml", text.into(), &dir).expect("parses");
    let graph = WorkloadGraph::new(&workload);
    assert!(!graph.resolved());
    let store = graph
        .nodes()
        .find_map(|(_, n)| match n {
            Node::Component {
                name,
                size,
                problem,
                ..
            } if name == "store" => Some((*size, problem.clone())),
            _ => None,
        })
        .expect("the store is drawn");
    assert_eq!(store.0, None);
    assert!(store.1.expect("a problem").contains("no-such-file.wasm"));
    let loose = graph
        .edges()
        .filter(|(_, _, e)| matches!(e.kind, EdgeKind::Problem { .. }))
        .count();
    assert_eq!(loose, 5, "every import of the frontend is unsatisfied");
}

#[test]
fn a_cycle_is_drawn_as_a_note() {
    let workload = Workload::new("cycle")
        .with_component(
            "a",
            ComponentDecl::from_bytes("a.wasm", component(&["acme:x/b"], &["acme:x/a"])),
        )
        .with_component(
            "b",
            ComponentDecl::from_bytes("b.wasm", component(&["acme:x/a"], &["acme:x/b"])),
        );
    let graph = WorkloadGraph::new(&workload);
    assert!(!graph.resolved());
    assert_eq!(component_names(&graph), ["a", "b"]);
    assert!(graph.notes().iter().any(|n| n.code == "compose::cycle"));
    let dot = render(&graph, Format::Dot);
    assert!(dot.contains("components depend on each other in a cycle"));
    assert!(dot.contains("label=<<b>a</b><br/><font point-size=\"9\">a.wasm</font>"));
}

#[test]
fn the_picture_checks_the_backends_against_the_hosts_plugins() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("workload.toml");
    let teams = workspace_root().join("fixtures/components/teams.wasm");
    let text = format!(
        "name = \"teams\"\n\
         [host.backends.team-a-postgres]\n\
         interface = \"wasi:keyvalue/store@0.2.0-draft\"\n\
         plugin = \"mysql\"\n\
         [host.backends.team-b-postgres]\n\
         interface = \"wasi:keyvalue/store@0.2.0-draft\"\n\
         [components.teams]\n\
         path = {teams:?}\n"
    );
    std::fs::write(&path, text).expect("writes the workload");
    let profile = compose_host::Plugins::<compose_host::HostState>::builtin().profile();
    let graph = compose_graph::draw_file_with(&path, &profile).expect("reads");
    let error = graph.error().expect("the host has no `mysql` plugin");
    let codes: Vec<_> = error.diagnostics.iter().map(|d| d.problem.code()).collect();
    assert_eq!(codes, ["compose::unknown-plugin"]);
    // Without a host profile nothing checks the plugins.
    assert!(draw_file(&path).expect("reads").resolved());
}
