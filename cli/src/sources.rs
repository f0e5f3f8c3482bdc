//! Registry sources for every command that reads a workload: `--locked`, `--offline`,
//! `--insecure-registry`, and the blob cache they pull into.

use compose_linker::CodeCache;
use compose_registry::{BlobCache, Pulled, RegistryOptions};
use compose_resolver::{
    ComponentSource, Diagnostic, HostProfile, Plan, Problem, PullFailure, ResolveError, Workload,
    resolve_with,
};
use std::path::Path;
use std::process::ExitCode;

/// How registry sources are fetched, shared by the commands that read a workload.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Sources {
    /// Refuse registry sources that compose.lock does not list, or whose registry now
    /// answers another digest than the locked one.
    #[arg(long)]
    locked: bool,
    /// Use only the local cache: never connect to a registry.
    #[arg(long)]
    offline: bool,
    /// Reach this registry (`HOST[:PORT]`) over plain HTTP; registries on this machine
    /// always may. May be repeated.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    insecure: Vec<String>,
}

/// Why there are no options: no cache folder to keep blobs in.
pub const NO_CACHE: &str =
    "no cache folder for registry components: set COMPOSE_CACHE_DIR, XDG_CACHE_HOME or HOME";

impl Sources {
    /// The registry client's options, blobs in the cache folder (`compose cache dir`);
    /// `None` when there is no cache folder.
    pub fn options(&self) -> Option<RegistryOptions> {
        Some(RegistryOptions {
            cache: BlobCache::new(CodeCache::default_dir()?),
            offline: self.offline,
            locked: self.locked,
            insecure: self.insecure.clone(),
        })
    }

    /// Reads the workload file, pulls its registry sources (saying which were downloaded)
    /// and resolves it for `profile`.
    pub fn resolve(&self, path: &Path, profile: &HostProfile) -> Result<Plan, ResolveError> {
        resolve_with(&self.load(path)?, profile)
    }

    /// Reads the workload file and pulls its registry sources, saying which were
    /// downloaded: the workload with every registry component's bytes in the cache.
    ///
    /// # Errors
    /// The file cannot be read or parsed, or a registry source cannot be pulled (each a
    /// diagnostic at its component).
    pub fn load(&self, path: &Path) -> Result<Workload, ResolveError> {
        let (workload, pulled) = match self.options() {
            Some(options) => compose_registry::load_workload(path, &options)?,
            None => {
                let workload = Workload::from_file(path)?;
                if compose_registry::has_registry_sources(&workload) {
                    return Err(no_cache(&workload));
                }
                (workload, Vec::new())
            }
        };
        said(&pulled);
        Ok(workload)
    }

    /// [`Sources::resolve`] for the host and world `host` names, printing what stops it.
    ///
    /// # Errors
    /// The exit status after printing why: the target world cannot be found (2), or the
    /// workload does not resolve (1, every diagnostic printed).
    pub fn plan(&self, path: &Path, host: &crate::profile::Host) -> Result<Plan, ExitCode> {
        let profile = host.profile()?;
        self.resolve(path, &profile)
            .map_err(|error| crate::report::resolve_error(&error))
    }
}

/// A diagnostic at each registry source: there is nowhere to keep it.
fn no_cache(workload: &Workload) -> ResolveError {
    let diagnostics = workload
        .components
        .iter()
        .filter_map(|(name, decl)| match &decl.source.value {
            ComponentSource::Oci(oci) => {
                let problem = Problem::PullFailed {
                    component: name.clone(),
                    reference: oci.reference.to_string(),
                    cause: PullFailure::Other {
                        reason: NO_CACHE.into(),
                    },
                };
                let span = decl.source.span.clone();
                Some(Diagnostic::new(problem, workload.text.as_ref(), span))
            }
            _ => None,
        })
        .collect();
    ResolveError::new(diagnostics)
}

/// One line on standard error for each reference that was downloaded.
fn said(pulled: &[Pulled]) {
    for p in pulled.iter().filter(|p| p.downloaded) {
        eprintln!(
            "pulled {} ({}, {} bytes)",
            p.reference, p.manifest_digest, p.size
        );
    }
}
