//! `compose cache`: where compiled components (and blobs pulled from registries) are
//! kept, and removing them; `--no-cache`,
//! shared by the commands that compile (`run`, `serve`).

use crate::report;
use compose_linker::{CodeCache, CompileOptions};
use std::process::ExitCode;

/// Arguments of `compose cache`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print the cache's folder: `$COMPOSE_CACHE_DIR`, else `$XDG_CACHE_HOME/compose`, else
    /// `~/.cache/compose`.
    Dir,
    /// Remove every compiled component and every blob pulled from a registry from the cache.
    Clean,
}

/// `--no-cache`, shared by the commands that compile components.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Flag {
    /// Compile every component, neither reading nor writing the compiled-code cache.
    #[arg(long)]
    no_cache: bool,
}

impl Flag {
    /// How to compile: through the default cache unless `--no-cache` (or no folder for it
    /// can be found), showing slow compilations on a terminal.
    pub fn compile_options(self) -> CompileOptions {
        let cache = (!self.no_cache)
            .then(CodeCache::default_dir)
            .flatten()
            .map(CodeCache::new);
        CompileOptions {
            cache,
            observer: crate::progress::observer(),
        }
    }
}

/// Prints the cache's folder, or removes its entries. Exit status 0, or 1 when no folder
/// can be found or the entries cannot be removed.
pub fn run(args: Args) -> ExitCode {
    let Some(dir) = CodeCache::default_dir() else {
        return report::failure(&anyhow::anyhow!(
            "no cache folder: set COMPOSE_CACHE_DIR, XDG_CACHE_HOME or HOME"
        ));
    };
    let cache = CodeCache::new(dir);
    match args.command {
        Command::Dir => println!("{}", cache.dir().display()),
        Command::Clean => {
            let blobs = compose_registry::BlobCache::new(cache.dir());
            if let Err(error) = cache.clean().and_then(|()| blobs.clean()) {
                let error = anyhow::Error::new(error)
                    .context(format!("cannot clean {}", cache.dir().display()));
                return report::failure(&error);
            }
            eprintln!(
                "removed the compiled components and the registry blobs in {}",
                cache.dir().display()
            );
        }
    }
    ExitCode::SUCCESS
}
