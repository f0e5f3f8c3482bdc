//! Grants (`[allow]`, `[components.NAME.allow]`): deny by default, enforced per component
//! in one store, refused where composing would widen them.

use compose_host::grants::{GrantError, Offer};
use compose_host::serve::outgoing::Denial;
use compose_host::serve::{SERVED, ServeOptions, ServeState};
use compose_host::{Call, EngineOptions, Host, HostError, Plugins};
use compose_linker::LinkMode;
use compose_resolver::{Grants, HostProfile, Origin, Plan, Problem, Workload, resolve_with};
use compose_static::{ComposeError, ComposeOptions, Composition};
use compose_tests::example_workload;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

/// An HTTP server on a free loopback port that answers every request with
/// `hello from upstream` and counts the connections it accepted.
struct Upstream {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Upstream {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        // The thread ends with the test binary.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                answer(stream);
            }
        });
        Self { port, accepted }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Reads one request's head from `stream` and answers it.
fn answer(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let body = "hello from upstream";
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Serves `fixtures/web` granting `http` to the greeter alone or, in `[allow]`, to every
/// component; with the denied requests as they are logged.
fn serve_web_granting(
    http: &[String],
    to_greeter_only: bool,
) -> (crate::serve::Running, Arc<Mutex<Vec<Denial>>>) {
    let profile = Plugins::<ServeState>::builtin()
        .profile()
        .with_interfaces(SERVED.iter().copied());
    let mut workload = Workload::from_file(example_workload("web")).unwrap();
    let grants = Grants {
        http: http.iter().map(|o| Origin::parse(o).unwrap()).collect(),
        ..Grants::default()
    };
    match to_greeter_only {
        true => workload.components.get_mut("greeter").unwrap().allow.grants = grants,
        false => workload.allow.grants = grants,
    }
    let plan = resolve_with(&workload, &profile).expect("the web workload resolves");
    assert_eq!(plan.grants_are_uniform(), !to_greeter_only);
    let denials = Arc::new(Mutex::new(Vec::new()));
    let log = denials.clone();
    let options = ServeOptions {
        denials: Arc::new(move |denial: &Denial| log.lock().unwrap().push(denial.clone())),
        ..ServeOptions::default()
    };
    (crate::serve::Running::start_serving(plan, options), denials)
}

#[test]
fn an_outgoing_request_reaches_a_granted_origin_and_another_is_denied_unseen() {
    let (granted, other) = (Upstream::start(), Upstream::start());
    // Granted to the greeter alone (its own `handle`), then to every component (the
    // store's hooks): both paths answer alike.
    for to_greeter_only in [true, false] {
        let (server, denials) = serve_web_granting(&[granted.origin()], to_greeter_only);
        let reached = server.get(&format!("/fetch/{}/hi", granted.origin()));
        assert_eq!(reached, (200, "hello from upstream".into()));
        let (status, body) = server.get(&format!("/fetch/{}/hi", other.origin()));
        assert_eq!(status, 502, "{body}");
        assert!(body.contains("HttpRequestDenied"), "{body}");
        let denials = denials.lock().unwrap().clone();
        assert_eq!(denials.len(), 1, "{denials:?}");
        assert!(denials[0].component.contains("greeter"), "{denials:?}");
        assert_eq!(denials[0].origin, other.origin());
    }
    assert_eq!(granted.accepted.load(Ordering::SeqCst), 2);
    assert_eq!(
        other.accepted.load(Ordering::SeqCst),
        0,
        "a denied request was sent"
    );
}

#[test]
fn with_no_http_grant_every_outgoing_request_is_denied() {
    let upstream = Upstream::start();
    let (server, denials) = serve_web_granting(&[], false);
    let (status, body) = server.get(&format!("/fetch/{}/hi", upstream.origin()));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("HttpRequestDenied"), "{body}");
    assert_eq!(denials.lock().unwrap().len(), 1);
    assert_eq!(upstream.accepted.load(Ordering::SeqCst), 0);
}
