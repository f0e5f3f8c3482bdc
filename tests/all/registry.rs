//! Components from OCI registries (`source = "oci://…"`, issue 21), against the real
//! registry that `scripts/registry.sh` starts (Debian's docker-registry on loopback): the
//! fixture components are pushed to it, then workloads that name them resolve, compose and
//! run as the same workload from paths does; a lock, `--locked` and `--offline`; a moved
//! tag, a corrupted blob, a container image and a garbage layer are refused.
//!
//! The tests read `COMPOSE_TEST_REGISTRY` (`127.0.0.1:PORT`) and, to corrupt a blob in
//! the registry's storage, `COMPOSE_REGISTRY_DIR`. In CI (`CI=true`) a missing variable
//! fails the test; elsewhere the test says it is skipped.

use compose_host::serve::{SERVED, ServeState};
use compose_host::{Call, Host, Plugins};
use compose_registry::artifact::ComponentConfig;
use compose_registry::{
    BlobCache, Lock, Registry, RegistryOptions, digest_of, load_workload, lock_workload,
};
use compose_resolver::{
    OciReference, Plan, Problem, PullFailure, ResolveError, resolve_file_with, resolve_with,
};
use compose_static::{ComposeOptions, Composition};
use compose_tests::{example_workload, fixture_bytes};
use std::io::Write;
use std::path::Path;

/// The registry's `HOST:PORT`, or `None` (after saying so) outside CI.
fn registry(test: &str) -> Option<String> {
    if let Ok(registry) = std::env::var("COMPOSE_TEST_REGISTRY") {
        return Some(registry);
    }
    let why = "COMPOSE_TEST_REGISTRY is not set; run the tests under scripts/registry.sh (`scripts/registry.sh run -- cargo test`)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why}");
    }
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
    None
}

/// A repository name no other test (or earlier run) uses.
fn fresh_repository(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("compose-tests/{test}-{}-{nanos}", std::process::id()).replace('_', "-")
}

fn reference(registry: &str, repository: &str, tag: &str) -> OciReference {
    format!("oci://{registry}/{repository}:{tag}")
        .parse()
        .expect("a valid reference")
}

/// A client whose cache is `cache`.
fn client(cache: &Path, offline: bool, locked: bool) -> Registry {
    let options = RegistryOptions {
        offline,
        locked,
        ..RegistryOptions::new(BlobCache::new(cache))
    };
    Registry::new(options).expect("a client")
}

/// Pushes `bytes` to `reference` as a Wasm artifact; its manifest digest.
fn push(reference: &OciReference, bytes: &[u8]) -> String {
    let scratch = tempfile::tempdir().unwrap();
    client(scratch.path(), false, false)
        .push(reference, bytes, ComponentConfig::default())
        .unwrap_or_else(|e| panic!("push to {reference}: {e}"))
        .manifest_digest
}

/// The file of example workload `name` with every component from the registry under
/// `repository`, each fixture pushed as `<repository>/<fixture>:1.0.0`.
fn example_from(name: &str, registry: &str, repository: &str) -> String {
    let text = std::fs::read_to_string(example_workload(name)).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        match line
            .strip_prefix("path = \"../components/")
            .and_then(|rest| rest.split_once(".wasm\""))
        {
            Some((fixture, rest)) => {
                let reference = reference(registry, &format!("{repository}/{fixture}"), "1.0.0");
                out.push_str(&format!("source = \"{reference}\"{rest}\n"));
            }
            None => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// Pushes `fixtures` and writes example workload `name` naming them in a new folder.
fn example_in_registry(
    name: &str,
    fixtures: &[&str],
    registry: &str,
    test: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let repository = fresh_repository(test);
    for fixture in fixtures {
        let reference = reference(registry, &format!("{repository}/{fixture}"), "1.0.0");
        push(&reference, &fixture_bytes(fixture));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workload.toml");
    std::fs::write(&path, example_from(name, registry, &repository)).unwrap();
    (dir, path)
}

/// The shop, its fixtures pushed to the registry.
fn shop_in_registry(registry: &str, test: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let fixtures = [
        "frontend",
        "kv-memory",
        "formatter",
        "session-store",
        "reporter",
    ];
    example_in_registry("shop", &fixtures, registry, test)
}

fn profile() -> compose_resolver::HostProfile {
    Plugins::<compose_host::HostState>::builtin().profile()
}

/// The workload file at `path`, pulled through `options` and resolved for compose-host.
fn resolve_through(path: &Path, options: &RegistryOptions) -> Result<Plan, ResolveError> {
    let (workload, _) = load_workload(path, options)?;
    resolve_with(&workload, &profile())
}

fn options(cache: &Path) -> RegistryOptions {
    RegistryOptions::new(BlobCache::new(cache))
}

/// The only problem of a failed load.
fn only_problem(result: Result<Plan, ResolveError>) -> Problem {
    let error = result.expect_err("the workload is refused");
    assert_eq!(error.diagnostics.len(), 1, "{:?}", error.diagnostics);
    let diagnostic = &error.diagnostics[0];
    assert!(
        diagnostic.line_column().is_some(),
        "the diagnostic points into the workload file"
    );
    diagnostic.problem.clone()
}

fn greet(plan: &Plan) -> Vec<Option<String>> {
    let host = Host::link_with(plan, &Plugins::builtin(), &Default::default()).expect("links");
    let mut store = host
        .new_store(&compose_host::grants::Offer::default().env("GREETING", "Hi"))
        .unwrap();
    let call = Call::parse(r#"handler#greet("ann")"#).unwrap();
    (0..2)
        .map(|_| host.invoke(&mut store, None, &call).expect("greets"))
        .collect()
}

#[test]
fn a_workload_from_the_registry_resolves_composes_and_runs_as_from_paths() {
    let Some(registry) = registry("registry_shop") else {
        return;
    };
    let (dir, path) = shop_in_registry(&registry, "shop");
    let cache = dir.path().join("cache");
    let pulled = load_workload(&path, &options(&cache)).expect("pulls").1;
    assert_eq!(pulled.len(), 5, "five references: {pulled:?}");
    assert!(pulled.iter().all(|p| p.downloaded));
    let from_registry = resolve_through(&path, &options(&cache)).expect("resolves");
    let again = load_workload(&path, &options(&cache)).unwrap().1;
    assert!(
        again.iter().all(|p| !p.downloaded),
        "a second load downloads no blob"
    );
    let from_paths = resolve_file_with(example_workload("shop"), &profile()).unwrap();
    // The same plan: the same bindings, clusters and exports, component by component.
    let json = |plan: &Plan| {
        let mut json = plan.to_json();
        for c in json["components"].as_array_mut().unwrap() {
            c.as_object_mut().unwrap().remove("path");
        }
        json
    };
    assert_eq!(json(&from_registry), json(&from_paths));
    // The same composed component, byte for byte.
    let compose = |plan: &Plan| Composition::build(plan, &ComposeOptions::default()).unwrap();
    assert_eq!(compose(&from_registry).bytes, compose(&from_paths).bytes);
    // The same answers when linked and run.
    assert_eq!(greet(&from_registry), greet(&from_paths));
    assert_eq!(
        greet(&from_registry)[1].as_deref(),
        Some(r#""Hi, ann! (#2)""#)
    );
}

/// Serves `plan` and sends `GET /greet/ann` twice: the statuses and bodies.
fn serve_greetings(plan: Plan) -> Vec<(u16, String)> {
    let server = crate::serve::Running::start_serving(plan, Default::default());
    (0..2).map(|_| server.get("/greet/ann")).collect()
}

#[test]
fn a_workload_from_the_registry_is_served_as_from_paths() {
    let Some(registry) = registry("registry_serve") else {
        return;
    };
    let (dir, path) = example_in_registry("web", &["http-greeter", "formatter"], &registry, "web");
    let profile = Plugins::<ServeState>::builtin()
        .profile()
        .with_interfaces(SERVED.iter().copied());
    let (workload, _) = load_workload(&path, &options(&dir.path().join("cache"))).unwrap();
    let from_registry = resolve_with(&workload, &profile).expect("resolves");
    let from_paths = resolve_file_with(example_workload("web"), &profile).unwrap();
    let served = serve_greetings(from_registry);
    assert_eq!(served, serve_greetings(from_paths));
    assert_eq!(served[1], (200, "Hello, ann! (#1)\nvisits: 2\n".into()));
}

#[test]
fn lock_then_locked_resolves_offline_from_the_cache_alone() {
    let Some(registry) = registry("registry_lock") else {
        return;
    };
    let (dir, path) = shop_in_registry(&registry, "lock");
    let cache = dir.path().join("cache");
    let (lock, lock_path) = lock_workload(&path, &options(&cache)).expect("locks");
    assert_eq!(lock_path, dir.path().join("compose.lock"));
    assert_eq!(lock.packages.len(), 5);
    // Deterministic: locking again writes the same bytes.
    let first = std::fs::read(&lock_path).unwrap();
    lock_workload(&path, &options(&cache)).unwrap();
    assert_eq!(std::fs::read(&lock_path).unwrap(), first);
    assert_eq!(Lock::read(&lock_path).unwrap(), Some(lock));
    let offline = RegistryOptions {
        offline: true,
        locked: true,
        ..options(&cache)
    };
    resolve_through(&path, &offline).expect("resolves offline, locked");
    // Offline with an empty cache: nothing to read.
    let empty = dir.path().join("empty");
    let problem = resolve_through(
        &path,
        &RegistryOptions {
            offline: true,
            ..options(&empty)
        },
    )
    .unwrap_err();
    assert!(
        problem
            .problems()
            .all(|p| matches!(p, Problem::NotCached { .. }))
    );
}

#[test]
fn a_moved_tag_under_locked_names_the_component_and_both_digests() {
    let Some(registry) = registry("registry_moved") else {
        return;
    };
    let repository = fresh_repository("moved");
    let kv = reference(&registry, &repository, "1.0.0");
    let before = push(&kv, &fixture_bytes("kv-memory"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workload.toml");
    std::fs::write(
        &path,
        format!("name = \"moved\"\n\n[components.kv]\nsource = \"{kv}\"\n"),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    lock_workload(&path, &options(&cache)).unwrap();
    let after = push(&kv, &fixture_bytes("formatter"));
    assert_ne!(before, after);
    let locked = RegistryOptions {
        locked: true,
        ..options(&cache)
    };
    let problem = only_problem(resolve_through(&path, &locked));
    assert_eq!(
        problem,
        Problem::LockMismatch {
            component: "kv".into(),
            reference: kv.to_string(),
            locked: before,
            actual: after,
            answered_by: "the registry now answers",
        }
    );
    // Without `--locked` the tag is followed.
    resolve_through(&path, &options(&cache)).expect("resolves unlocked");
}

#[test]
fn a_corrupted_blob_in_the_registry_is_refused_and_not_cached() {
    let Some(registry) = registry("registry_corrupted") else {
        return;
    };
    let Ok(storage) = std::env::var("COMPOSE_REGISTRY_DIR") else {
        registry_dir_missing("registry_corrupted");
        return;
    };
    let kv = reference(&registry, &fresh_repository("corrupted"), "1.0.0");
    let bytes = fixture_bytes("kv-memory");
    push(&kv, &bytes);
    // The registry's own file of the blob (distribution's filesystem layout), overwritten
    // with as many other bytes.
    let digest = digest_of(&bytes);
    let hex = &digest["sha256:".len()..];
    let data = Path::new(&storage)
        .join("storage/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let garbage = vec![0x5a; bytes.len()];
    std::fs::write(&data, &garbage).expect("the blob's file is in the registry's storage");
    let dir = tempfile::tempdir().unwrap();
    let cache = BlobCache::new(dir.path());
    let error = client(dir.path(), false, false)
        .pull(&kv)
        .expect_err("refused");
    let problem = error.problem("kv", &kv.to_string(), Path::new("compose.lock"));
    match problem {
        Problem::DigestMismatch {
            what,
            place,
            expected,
            actual,
            ..
        } => {
            assert_eq!((what, place), ("Wasm layer", "registry"));
            assert_eq!(expected, digest);
            assert_eq!(actual, digest_of(&garbage));
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    assert!(
        !cache.path(&digest).unwrap().exists(),
        "nothing is cached of a corrupted blob"
    );
    // Put it right, for any other test that pushes the same fixture.
    std::fs::write(&data, &bytes).unwrap();
}

fn registry_dir_missing(test: &str) {
    let why = "COMPOSE_REGISTRY_DIR is not set; run the tests under scripts/registry.sh";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why}");
    }
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// Uploads `bytes` as a blob of `repository` with the distribution API's monolithic upload
/// (`POST` then `PUT …?digest=`).
fn upload_blob(registry: &str, repository: &str, bytes: &[u8]) -> String {
    let digest = digest_of(bytes);
    let response = ureq::post(&format!("http://{registry}/v2/{repository}/blobs/uploads/"))
        .send_empty()
        .expect("an upload starts");
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a Location")
        .to_owned();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("http://{registry}{location}")
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    ureq::put(&format!("{url}{separator}digest={digest}"))
        .header("content-type", "application/octet-stream")
        .send(bytes)
        .expect("the blob uploads");
    digest
}

#[test]
fn a_container_image_is_refused_as_not_a_wasm_artifact() {
    let Some(registry) = registry("registry_image") else {
        return;
    };
    let repository = fresh_repository("image");
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"not really a tarball";
    let config_digest = upload_blob(&registry, &repository, config);
    let layer_digest = upload_blob(&registry, &repository, layer);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    ureq::put(&format!("http://{registry}/v2/{repository}/manifests/3.20"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .send(manifest.as_bytes())
        .expect("the manifest uploads");
    let image = reference(&registry, &repository, "3.20");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workload.toml");
    std::fs::write(
        &path,
        format!("name = \"image\"\n\n[components.app]\nsource = \"{image}\"\n"),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let problem = only_problem(resolve_through(&path, &options(&cache)));
    let Problem::NotAWasmArtifact { reason, .. } = problem else {
        panic!("expected not-a-wasm-artifact, got {problem:?}");
    };
    assert!(reason.contains("a container image"), "{reason}");
    assert!(
        !BlobCache::new(&cache)
            .path(&digest_of(manifest.as_bytes()))
            .unwrap()
            .exists(),
        "the image's manifest is not cached"
    );
}

#[test]
fn a_garbage_layer_and_a_core_module_are_not_components() {
    let Some(registry) = registry("registry_garbage") else {
        return;
    };
    let repository = fresh_repository("garbage");
    let garbage = reference(&registry, &repository, "garbage");
    push(&garbage, b"\0asm but not really");
    let core = reference(&registry, &repository, "core");
    push(&core, &wat::parse_str("(module)").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workload.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"garbage\"\n\n[components.a]\nsource = \"{garbage}\"\n\n[components.b]\nsource = \"{core}\"\n"
        ),
    )
    .unwrap();
    let error = resolve_through(&path, &options(&dir.path().join("cache"))).unwrap_err();
    let codes: Vec<_> = error.problems().map(Problem::code).collect();
    assert_eq!(
        codes,
        ["compose::not-a-component", "compose::not-a-component"]
    );
}

#[test]
fn an_unknown_repository_or_tag_is_not_found() {
    let Some(registry) = registry("registry_unknown") else {
        return;
    };
    let repository = fresh_repository("unknown");
    let kv = reference(&registry, &repository, "1.0.0");
    push(&kv, &fixture_bytes("kv-memory"));
    let dir = tempfile::tempdir().unwrap();
    for missing in [
        reference(&registry, &repository, "9.9.9"),
        reference(&registry, &format!("{repository}-nope"), "1.0.0"),
    ] {
        let error = client(dir.path(), false, false)
            .pull(&missing)
            .expect_err("missing");
        let problem = error.problem("kv", &missing.to_string(), Path::new("compose.lock"));
        assert!(
            matches!(
                problem,
                Problem::PullFailed {
                    cause: PullFailure::NotFound { .. },
                    ..
                }
            ),
            "{missing}: {problem:?}"
        );
    }
}

#[test]
fn push_then_pull_round_trips_the_composed_component_byte_for_byte() {
    let Some(registry) = registry("registry_round_trip") else {
        return;
    };
    let plan = resolve_file_with(example_workload("shop"), &profile()).unwrap();
    let composed = Composition::build(&plan, &ComposeOptions::default()).unwrap();
    let shop = reference(&registry, &fresh_repository("round-trip"), "1.0.0");
    let digest = push(&shop, &composed.bytes);
    // Pushing the same bytes again gives the same manifest.
    assert_eq!(push(&shop, &composed.bytes), digest);
    let dir = tempfile::tempdir().unwrap();
    let (pulled, component) = client(dir.path(), false, false).pull(&shop).expect("pulls");
    assert_eq!(pulled.manifest_digest, digest);
    assert!(pulled.downloaded);
    assert_eq!(&component.bytes[..], &composed.bytes[..]);
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&component.bytes)
        .expect("the pulled component validates");
    // By digest, offline, from the cache alone.
    let pinned: OciReference = format!("{shop}@{digest}").parse().unwrap();
    let (again, _) = client(dir.path(), true, false)
        .pull(&pinned)
        .expect("from the cache");
    assert!(!again.downloaded);
}
