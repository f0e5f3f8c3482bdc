//! Target worlds (`--target WORLD`): whether a workload fits the world of the platform it
//! is deployed on. The workload, seen as the one component `compose build` makes of it,
//! must export everything the world exports, and may import from the host only what the
//! world imports, with compatible types — wac-types' `validate_target`, the check behind
//! `wac targets`, applied to the whole workload rather than one component.
//!
//! This module finds and reads the world; the resolver's check of a workload against it
//! is in `target_checks`.
//!
//! The WASI worlds `compose-host` serves are built in, from the WIT of wasmtime-wasi-http 48
//! (`wit/targets/`: WASI 0.2.12 and 0.3.0); `--wit DIR` adds the worlds of a WIT package
//! (with its `deps/`, or using the built-in WASI packages), searched first.

use std::path::{Path, PathBuf};
use wac_types::{ItemKind, Package, Type, Types, WorldId};
use wit_parser::{PackageId, Resolve};

/// A built-in WIT package: its file name, for errors, and its text.
type WitFile = (&'static str, &'static str);

/// WASI 0.2.12, as wasmtime-wasi-http 48 ships it, each package after those it uses.
const WASI_0_2: &[WitFile] = &[
    (
        "io.wit",
        include_str!("../../wit/targets/wasi-0.2.12/io.wit"),
    ),
    (
        "clocks.wit",
        include_str!("../../wit/targets/wasi-0.2.12/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../wit/targets/wasi-0.2.12/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../wit/targets/wasi-0.2.12/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../wit/targets/wasi-0.2.12/sockets.wit"),
    ),
    (
        "cli.wit",
        include_str!("../../wit/targets/wasi-0.2.12/cli.wit"),
    ),
    (
        "http.wit",
        include_str!("../../wit/targets/wasi-0.2.12/http.wit"),
    ),
];

/// WASI 0.3.0, as wasmtime-wasi-http 48 ships it, each package after those it uses.
const WASI_0_3: &[WitFile] = &[
    (
        "clocks.wit",
        include_str!("../../wit/targets/wasi-0.3.0/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../wit/targets/wasi-0.3.0/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../wit/targets/wasi-0.3.0/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../wit/targets/wasi-0.3.0/sockets.wit"),
    ),
    (
        "cli.wit",
        include_str!("../../wit/targets/wasi-0.3.0/cli.wit"),
    ),
    (
        "http.wit",
        include_str!("../../wit/targets/wasi-0.3.0/http.wit"),
    ),
];

/// Why a target world could not be found or read: an error in the command's arguments,
/// before any workload is resolved.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The name is not `NAMESPACE:PACKAGE/WORLD[@VERSION]`.
    #[error(
        "`{0}` is not a world name: write NAMESPACE:PACKAGE/WORLD with an optional version, as in `wasi:http/proxy@0.2.12` or `wasi:http/proxy@0.2.x`"
    )]
    InvalidName(String),
    /// No package searched has the world.
    #[error("no world `{name}` is known{}: the known worlds are {}", .wit.as_ref().map(|p| format!(" (searched {} and the built-in WASI worlds)", p.display())).unwrap_or_default(), .known.join(", "))]
    UnknownWorld {
        /// The name asked for.
        name: String,
        /// The `--wit` folder searched, if any.
        wit: Option<PathBuf>,
        /// Every world that could have been named.
        known: Vec<String>,
    },
    /// The WIT at `path` (a `--wit` folder, or a built-in file) does not parse or encode.
    #[error("cannot read the WIT in `{}`: {message}", .path.display())]
    Wit {
        /// The folder or file.
        path: PathBuf,
        /// wit-parser's or wit-component's error, with its causes.
        message: String,
    },
}

/// A world to check workloads against, ready to be loaded into a plan's types.
#[derive(Debug, Clone)]
pub struct TargetWorld {
    /// Its full name: `wasi:http/proxy@0.2.12`.
    name: String,
    /// The WIT package that holds it, encoded as a component by wit-component (the WIT
    /// package binary format, which wac-types reads).
    package: Vec<u8>,
}

/// A world name split into its package (`wasi:http`), world (`proxy`) and version
/// (`0.2.12`, `0.2` for `0.2.x`, or none).
struct WorldName<'a> {
    package: &'a str,
    world: &'a str,
    version: Option<&'a str>,
}

impl<'a> WorldName<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let (path, version) = match text.split_once('@') {
            Some((path, version)) => (path, Some(version.trim_end_matches(".x"))),
            None => (text, None),
        };
        let (package, world) = path.split_once('/')?;
        let (namespace, name) = package.split_once(':')?;
        let ok = |s: &str| !s.is_empty() && !s.contains([':', '/', '@']);
        (ok(namespace) && ok(name) && ok(world) && version.is_none_or(|v| !v.is_empty())).then_some(
            Self {
                package,
                world,
                version,
            },
        )
    }

    /// Whether `candidate` (a package's version) is the version asked for: any, the
    /// same, or one starting with it (`0.2.12` for `0.2`).
    fn accepts(&self, candidate: Option<&semver::Version>) -> bool {
        match (self.version, candidate) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(wanted), Some(v)) => {
                let v = v.to_string();
                v == wanted || v.starts_with(&format!("{wanted}."))
            }
        }
    }
}

impl TargetWorld {
    /// The world `name` (`NAMESPACE:PACKAGE/WORLD`, optionally `@VERSION`, where `0.2.x`
    /// or `0.2` means any 0.2 release): from the WIT package in `wit` (a folder with its
    /// `deps/`, or one `.wit` file) when it has it, else a built-in WASI world
    /// (`wasi:http/proxy@0.2.12`, `wasi:cli/command@0.2.12`, `wasi:http/service@0.3.0`,
    /// `wasi:cli/command@0.3.0`, …). Of several matching releases, the newest.
    ///
    /// # Errors
    /// [`TargetError::InvalidName`], [`TargetError::UnknownWorld`] (listing the worlds
    /// there are), or [`TargetError::Wit`] when `wit` does not parse.
    pub fn find(name: &str, wit: Option<&Path>) -> Result<Self, TargetError> {
        let wanted = WorldName::parse(name).ok_or_else(|| TargetError::InvalidName(name.into()))?;
        let builtin = builtin()?;
        let mut resolves = Vec::new();
        if let Some(dir) = wit {
            resolves.push((with_wit(&builtin, dir)?, dir));
        }
        resolves.push((builtin, Path::new("wit/targets")));
        let mut known = Vec::new();
        for (resolve, path) in &resolves {
            if let Some((package, full)) = find_world(resolve, &wanted, &mut known) {
                let bytes =
                    wit_component::encode(resolve, package).map_err(|e| wit_error(path, &e))?;
                return Ok(Self {
                    name: full,
                    package: bytes,
                });
            }
        }
        known.sort();
        known.dedup();
        Err(TargetError::UnknownWorld {
            name: name.into(),
            wit: wit.map(Path::to_path_buf),
            known,
        })
    }

    /// Its full name, with the version of the release found: `wasi:http/proxy@0.2.12`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Loads the world into `types`: the id of its component type.
    pub(crate) fn load(&self, types: &mut Types) -> Result<WorldId, String> {
        let package = Package::from_bytes("target", None, self.package.clone(), types)
            .map_err(|e| format!("{e:#}"))?;
        let top = &types[package.ty()];
        // wit-component exports each world of the package as a world type whose one
        // export is the component type of a component targeting it (as `wac targets`
        // reads it).
        let base = |name: &str| name.split('@').next().unwrap_or_default().to_owned();
        let ours = base(&self.name);
        let world = (top.exports.iter())
            .find(|(key, _)| base(key) == ours || ours.ends_with(&format!("/{key}")))
            .map(|(_, kind)| *kind);
        let Some(ItemKind::Type(Type::World(world))) = world else {
            return Err(format!("the encoded package has no world `{}`", self.name));
        };
        match types[world].exports.values().next() {
            Some(ItemKind::Component(id)) => Ok(*id),
            _ => Err(format!(
                "world `{}` is not encoded as wac reads it",
                self.name
            )),
        }
    }
}

/// The built-in WASI packages, 0.2 and 0.3, parsed into one [`Resolve`].
fn builtin() -> Result<Resolve, TargetError> {
    let mut resolve = Resolve::new();
    for (file, text) in WASI_0_2.iter().chain(WASI_0_3) {
        resolve
            .push_str(file, text)
            .map_err(|e| wit_error(Path::new(file), &e))?;
    }
    Ok(resolve)
}

/// The WIT at `path` parsed beside the built-in WASI packages, so that its worlds may use
/// and include them without a copy in its `deps/`; or, when its `deps/` bring their own
/// copies of those packages, alone.
fn with_wit(builtin: &Resolve, path: &Path) -> Result<Resolve, TargetError> {
    let mut beside = builtin.clone();
    let Err(first) = beside.push_path(path) else {
        return Ok(beside);
    };
    let mut alone = Resolve::new();
    match alone.push_path(path) {
        Ok(_) => Ok(alone),
        Err(_) => Err(wit_error(path, &first)),
    }
}

fn wit_error(path: &Path, error: &impl std::fmt::Display) -> TargetError {
    TargetError::Wit {
        path: path.to_path_buf(),
        message: format!("{error:#}"),
    }
}

/// The package and full name of the newest world of `resolve` that `wanted` names; every
/// world seen is added to `known`.
fn find_world(
    resolve: &Resolve,
    wanted: &WorldName<'_>,
    known: &mut Vec<String>,
) -> Option<(PackageId, String)> {
    let mut best: Option<(PackageId, &semver::Version, String)> = None;
    for (_, world) in &resolve.worlds {
        let Some(id) = world.package else { continue };
        let package = &resolve.packages[id].name;
        let full = match &package.version {
            Some(v) => format!("{}:{}/{}@{v}", package.namespace, package.name, world.name),
            None => format!("{}:{}/{}", package.namespace, package.name, world.name),
        };
        known.push(full.clone());
        let same = format!("{}:{}", package.namespace, package.name) == wanted.package
            && world.name == wanted.world;
        if !same || !wanted.accepts(package.version.as_ref()) {
            continue;
        }
        static NONE: semver::Version = semver::Version::new(0, 0, 0);
        let version = package.version.as_ref().unwrap_or(&NONE);
        if best.as_ref().is_none_or(|(_, v, _)| version > *v) {
            best = Some((id, version, full));
        }
    }
    best.map(|(id, _, full)| (id, full))
}
