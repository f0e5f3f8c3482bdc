//! `compose cache`: where compiled components are kept, and removing them; `--no-cache`,
//! shared by the commands that compile (`run`, `serve`, `check`).

use crate::report;
use compose_linker::CodeCache;
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
    /// Remove every compiled component from the cache.
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
    /// The cache to compile through: the default one, unless `--no-cache` (or no folder
    /// for it can be found).
    pub fn cache(self) -> Option<CodeCache> {
        if self.no_cache {
            return None;
        }
        CodeCache::default_dir().map(CodeCache::new)
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
            if let Err(error) = cache.clean() {
                let error = anyhow::Error::new(error)
                    .context(format!("cannot clean {}", cache.dir().display()));
                return report::failure(&error);
            }
            eprintln!(
                "removed the compiled components in {}",
                cache.dir().display()
            );
        }
    }
    ExitCode::SUCCESS
}
