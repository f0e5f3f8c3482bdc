//! Inputs that must end in a diagnostic, not a hang (issue 9's "no hang" property, for
//! what the fuzz targets cannot reach: they never let the resolver read the machine's files).

use compose_resolver::{Workload, resolve};
use std::time::Duration;

/// Resolves `workload` on another thread; `None` if it has not finished in 10 s.
fn resolve_within_10s(workload: Workload) -> Option<Result<(), Vec<&'static str>>> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = resolve(&workload)
            .map(|_| ())
            .map_err(|e| e.problems().map(|p| p.code()).collect());
        let _ = send.send(outcome);
    });
    receive.recv_timeout(Duration::from_secs(10)).ok()
}

/// A component `path` naming a FIFO (or a device such as `/dev/zero`) must be refused as
/// not a regular file; `std::fs::read` on it blocks forever (or reads until memory runs out).
#[test]
fn a_component_path_that_is_not_a_regular_file_is_an_error_not_a_hang() {
    let dir = std::env::temp_dir().join(format!("compose-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("component.wasm");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo makes a FIFO");
    let text = format!(
        "name = \"fifo\"\n[components.app]\npath = {:?}\n",
        fifo.display().to_string()
    );
    let workload = Workload::parse("workload.toml", text, &dir).expect("parses");
    let outcome = resolve_within_10s(workload);
    let _ = std::fs::remove_file(&fifo);
    assert_eq!(
        outcome,
        Some(Err(vec!["compose::read-component"])),
        "resolving a workload whose component is a FIFO ends with compose::read-component"
    );
}
