//! The commands of registries: `compose lock`, `push` and `pull`.

use crate::report;
use crate::sources::{NO_CACHE, Sources};
use anyhow::Context;
use compose_registry::Registry;
use compose_resolver::{Diagnostic, OciReference};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `compose lock`.
#[derive(clap::Args)]
pub struct LockArgs {
    /// The workload file; compose.lock is written beside it.
    workload: PathBuf,
    #[command(flatten)]
    sources: Sources,
}

/// Pulls every registry source as the registry has it now and writes compose.lock; exit
/// status 1 when a source cannot be pulled (the lock is then left as it was).
pub fn lock(args: LockArgs) -> ExitCode {
    let Some(options) = args.sources.options() else {
        return report::failure(&anyhow::anyhow!(NO_CACHE));
    };
    match compose_registry::lock_workload(&args.workload, &options) {
        Ok((lock, path)) => {
            for p in &lock.packages {
                eprintln!("  {} {} ({} bytes)", p.reference, p.digest, p.size);
            }
            eprintln!(
                "locked {} reference(s) in {}",
                lock.packages.len(),
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => report::resolve_error(&error),
    }
}

/// Arguments of `compose push`.
#[derive(clap::Args)]
pub struct PushArgs {
    /// The workload file.
    workload: PathBuf,
    /// Where to push: `oci://HOST[:PORT]/REPOSITORY:TAG`.
    reference: String,
    #[command(flatten)]
    host: crate::profile::Host,
    #[command(flatten)]
    sources: Sources,
}

/// Composes the workload as `compose build` does and pushes the component as a Wasm OCI
/// artifact; prints the manifest digest on standard output.
pub fn push(args: PushArgs) -> ExitCode {
    let reference: OciReference = match parse_reference(&args.reference) {
        Ok(reference) => reference,
        Err(error) => return report::failure(&error),
    };
    let (plan, composition) = match crate::build::compose(&args.workload, &args.sources, &args.host)
    {
        Ok(composed) => composed,
        Err(status) => return status,
    };
    let config = compose_registry::artifact::ComponentConfig {
        exports: composition.exports.iter().map(|e| e.name.clone()).collect(),
        imports: composition.imports.iter().map(|i| i.name.clone()).collect(),
    };
    let pushed = args
        .sources
        .options()
        .ok_or_else(|| anyhow::anyhow!(NO_CACHE))
        .and_then(|options| Registry::new(options).context("cannot start the registry client"))
        .and_then(|registry| {
            registry
                .push(&reference, &composition.bytes, config)
                .map_err(anyhow::Error::new)
        });
    match pushed {
        Ok(pushed) => {
            eprintln!(
                "pushed workload `{}` to {reference}: {} bytes, layer {}",
                plan.name, pushed.size, pushed.layer_digest
            );
            println!("{}", pushed.manifest_digest);
            ExitCode::SUCCESS
        }
        Err(error) => report::failure(&error),
    }
}

/// Arguments of `compose pull`.
#[derive(clap::Args)]
pub struct PullArgs {
    /// What to pull: `oci://HOST[:PORT]/REPOSITORY:TAG[@sha256:…]`.
    reference: String,
    /// Where to write the component (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    sources: Sources,
}

/// Pulls one component (through the cache) and writes it; prints the manifest digest on
/// standard output.
pub fn pull(args: PullArgs) -> ExitCode {
    let reference = match parse_reference(&args.reference) {
        Ok(reference) => reference,
        Err(error) => return report::failure(&error),
    };
    let registry = args
        .sources
        .options()
        .ok_or_else(|| anyhow::anyhow!(NO_CACHE))
        .and_then(|options| Registry::new(options).context("cannot start the registry client"));
    let registry = match registry {
        Ok(registry) => registry,
        Err(error) => return report::failure(&error),
    };
    let (pulled, component) = match registry.pull(&reference) {
        Ok(pulled) => pulled,
        Err(error) => {
            let problem = error.problem("-", &reference.to_string(), Path::new("compose.lock"));
            report::diagnostic(&Diagnostic::new(problem, None, None));
            return ExitCode::FAILURE;
        }
    };
    let written = crate::output::write_atomically(&args.output, &component.bytes)
        .with_context(|| format!("cannot write the component to `{}`", args.output.display()));
    if let Err(error) = written {
        return report::failure(&error);
    }
    eprintln!(
        "{} {reference}: {} bytes, written to `{}`",
        if pulled.downloaded {
            "pulled"
        } else {
            "from the cache:"
        },
        pulled.size,
        args.output.display()
    );
    println!("{}", pulled.manifest_digest);
    ExitCode::SUCCESS
}

/// `oci://…`, or a reference without the scheme (as other tools write it).
fn parse_reference(text: &str) -> anyhow::Result<OciReference> {
    let with_scheme = if text.starts_with(compose_resolver::OCI_SCHEME) {
        text.to_owned()
    } else {
        format!("{}{text}", compose_resolver::OCI_SCHEME)
    };
    with_scheme.parse().map_err(anyhow::Error::new)
}
