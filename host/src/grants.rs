//! Deny by default: each component sees only the environment variables and directories
//! its grants allow ([`compose_resolver::Grants`], the workload's `[allow]` and its own
//! `[components.NAME.allow]`), out of what the host offers ([`Offer`]: `--env`, `--dir`).
//!
//! Enforced at the components' own imports. When every component has the same grants,
//! one WASI context holds exactly them, and components may still be fused or composed.
//! When grants differ, the store-wide context holds only the workload's `[allow]`, and
//! each component that imports `wasi:cli/environment` or `wasi:filesystem/preopens`
//! (0.2.x or 0.3.x) gets definitions of its own
//! ([`compose_linker::WorkloadLinker::component_host`]) answering from a context built
//! for its grants. The rest of WASI is shared: a directory handle reaches only the
//! component it was given (or one it passes it to).
//!
//! wasmtime-wasi reads a context through a `fn` pointer over the store data, which cannot
//! tell which component calls; so the per-component definitions are closures, each
//! calling wasmtime-wasi's own implementation on that component's context.

use compose_linker::{LookupError, WorkloadLinker};
use compose_resolver::{Grants, Plan, PlannedComponent};
use std::path::PathBuf;
use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Linker, LinkerInstance, Lower, ResourceTable};
use wasmtime_wasi::cli::WasiCliCtxView;
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
use wasmtime_wasi::p2::bindings::cli::environment::Host as P2Environment;
use wasmtime_wasi::p2::bindings::filesystem::preopens::Host as P2Preopens;
use wasmtime_wasi::p3::bindings::cli::environment::Host as P3Environment;
use wasmtime_wasi::p3::bindings::filesystem::preopens::Host as P3Preopens;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

/// The WASI 0.2 release wasmtime-wasi 48 defines: per-component definitions shadow its
/// instances, so they use the same names (imports of older 0.2.x releases reach them by
/// Wasmtime's semver matching).
const P2: &str = "0.2.12";

/// The WASI 0.3 release wasmtime-wasi 48 defines.
const P3: &str = "0.3.0";

/// What the host offers a store's components; each sees the part its grants allow.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    /// Environment variables (`--env`), seen by the components granted their names.
    pub env: Vec<(String, String)>,
    /// Host folders by guest path (`--dir HOST::GUEST`): each replaces the folder of the
    /// grants of that guest path; a guest path no component is granted is an error.
    pub dirs: Vec<(PathBuf, String)>,
    /// The arguments every component sees (a command's program name first).
    pub args: Vec<String>,
    /// Whether the components read the host's standard input (else an empty one).
    pub stdin: bool,
}

impl Offer {
    /// The same offer with environment variable `name` = `value`.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The environment variables no component of `plan` is granted, by name: passing
    /// them does nothing, which the user should be told.
    pub fn ungranted_env<'a>(&'a self, plan: &Plan) -> Vec<&'a str> {
        let granted = |name: &str| plan.components.iter().any(|c| c.grants.allows_env(name));
        (self.env.iter())
            .map(|(name, _)| name.as_str())
            .filter(|name| !granted(name))
            .collect()
    }
}

/// Why a store's WASI contexts cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// A granted directory cannot be opened.
    #[error("cannot preopen `{}` as `{guest}` for `{component}`: {reason}", host.display())]
    Dir {
        /// The component (or `every component` for the workload's `[allow]`).
        component: String,
        /// The host folder.
        host: PathBuf,
        /// Its path in the guest.
        guest: String,
        /// Why.
        reason: String,
    },
    /// `--dir` offers a guest path that no component is granted.
    #[error(
        "no component is granted the directory `{guest}`: grant it with `dirs = [\"{}::{guest}\"]` in `[allow]` or `[components.NAME.allow]` (deny by default)",
        host.display()
    )]
    Ungranted {
        /// The host folder offered.
        host: PathBuf,
        /// The guest path offered.
        guest: String,
    },
}

/// The WASI contexts of the components with definitions of their own, by component
/// index; held in the store data beside the resource table.
#[derive(Default)]
pub struct OwnContexts {
    contexts: Vec<Option<WasiCtx>>,
}

/// What the per-component definitions need from the store data.
pub trait GrantsView: Send + 'static {
    /// The components' own contexts and the store's resource table.
    fn own(&mut self) -> (&mut OwnContexts, &mut ResourceTable);
}

/// Whether `plan`'s components get definitions (and contexts) of their own: their grants
/// differ.
fn per_component(plan: &Plan) -> bool {
    !plan.grants_are_uniform()
}

/// The grants the store-wide context holds: every component's, when they agree, else the
/// workload's `[allow]`.
fn store_wide(plan: &Plan) -> &Grants {
    match plan.components.first() {
        Some(first) if !per_component(plan) => &first.grants,
        _ => &plan.allow,
    }
}

/// The store-wide WASI context and the components' own ones for one store of `plan`: each
/// with the host's standard output and error, the offer's arguments (and standard input,
/// if it says so) and the granted part of its environment and directories.
///
/// # Errors
/// [`GrantError::Ungranted`] for an offered directory no component is granted;
/// [`GrantError::Dir`] when a granted directory cannot be opened.
pub fn contexts(plan: &Plan, offer: &Offer) -> Result<(WasiCtx, OwnContexts), GrantError> {
    if let Some((host, guest)) = (offer.dirs.iter())
        .find(|(_, guest)| !plan.components.iter().any(|c| grants_dir(&c.grants, guest)))
    {
        return Err(GrantError::Ungranted {
            host: host.clone(),
            guest: guest.clone(),
        });
    }
    let shared = context(store_wide(plan), offer, "every component")?;
    let mut own = OwnContexts::default();
    if per_component(plan) {
        for component in &plan.components {
            let needed = OWN.iter().any(|prefix| imports(component, prefix));
            own.contexts.push(match needed {
                true => Some(context(&component.grants, offer, &component.name)?),
                false => None,
            });
        }
    }
    Ok((shared, own))
}

fn grants_dir(grants: &Grants, guest: &str) -> bool {
    grants.dirs.iter().any(|d| d.guest == guest)
}

/// A context with the host's standard output and error, the offer's arguments and the
/// part of its environment and directories that `grants` allow (`who`, for errors).
fn context(grants: &Grants, offer: &Offer, who: &str) -> Result<WasiCtx, GrantError> {
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdout().inherit_stderr().args(&offer.args);
    if offer.stdin {
        builder.inherit_stdin();
    }
    for (name, value) in offer.env.iter().filter(|(n, _)| grants.allows_env(n)) {
        builder.env(name, value);
    }
    for dir in &grants.dirs {
        let host = (offer.dirs.iter())
            .find(|(_, guest)| *guest == dir.guest)
            .map_or(&dir.host, |(host, _)| host);
        let perms = if dir.write {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        builder
            .preopened_dir(host, &dir.guest, perms)
            .map_err(|e| GrantError::Dir {
                component: who.to_owned(),
                host: host.clone(),
                guest: dir.guest.clone(),
                reason: format!("{e:#}"),
            })?;
    }
    Ok(builder.build())
}

/// The interfaces whose per-component definitions answer from a component's own context,
/// each a release prefix; [`definers`] defines them, in the same order.
const OWN: [&str; 4] = [
    "wasi:cli/environment@0.2",
    "wasi:filesystem/preopens@0.2",
    "wasi:cli/environment@0.3",
    "wasi:filesystem/preopens@0.3",
];

/// The function that defines each interface of [`OWN`] for one component.
fn definers<T: GrantsView>() -> [Definer<T>; 4] {
    [
        define_environment,
        define_preopens,
        define_environment_p3,
        define_preopens_p3,
    ]
}

/// Defines one interface for the component whose context is the `usize`th.
type Definer<T> = fn(&mut Linker<T>, usize) -> wasmtime::Result<()>;

/// Whether `component` imports a release of the interface `prefix` names (`…@0.2` for
/// any 0.2.x).
pub(crate) fn imports(component: &PlannedComponent, prefix: &str) -> bool {
    (component.ty.imports.iter()).any(|i| i.name.starts_with(&format!("{prefix}.")))
}

/// Defines, for each component of `plan` that needs them (its grants differ from
/// another's), `wasi:cli/environment` and `wasi:filesystem/preopens` answering from its
/// own context. Call after WASI itself is defined in `linker`.
///
/// # Errors
/// [`LookupError::UnknownComponent`] only for a plan that does not match the linker's.
pub fn define_for_components<T: GrantsView>(
    linker: &mut WorkloadLinker<'_, T>,
    plan: &Plan,
) -> Result<(), LookupError> {
    if !per_component(plan) {
        return Ok(());
    }
    for (index, component) in plan.components.iter().enumerate() {
        let wanted: Vec<Definer<T>> = (OWN.iter().zip(definers::<T>()))
            .filter(|(prefix, _)| imports(component, prefix))
            .map(|(_, define)| define)
            .collect();
        if !wanted.is_empty() {
            linker.component_host(&component.name, move |linker| {
                wanted.iter().try_for_each(|define| define(linker, index))
            })?;
        }
    }
    Ok(())
}

/// The context of component `index`, with the table.
fn own_context<'a, T: GrantsView>(
    cx: &'a mut StoreContextMut<'_, T>,
    index: usize,
) -> wasmtime::Result<(&'a mut WasiCtx, &'a mut ResourceTable)> {
    let (own, table) = cx.data_mut().own();
    let ctx = own.contexts.get_mut(index).and_then(Option::as_mut);
    let ctx = ctx.ok_or_else(|| {
        wasmtime::format_err!("component {index} has no WASI context of its own in this store")
    })?;
    Ok((ctx, table))
}

fn define_environment<T: GrantsView>(linker: &mut Linker<T>, index: usize) -> wasmtime::Result<()> {
    let mut instance = linker.instance(&format!("wasi:cli/environment@{P2}"))?;
    wrap_cli(&mut instance, index, "get-environment", |v| {
        P2Environment::get_environment(v)
    })?;
    wrap_cli(&mut instance, index, "get-arguments", |v| {
        P2Environment::get_arguments(v)
    })?;
    wrap_cli(&mut instance, index, "initial-cwd", |v| {
        P2Environment::initial_cwd(v)
    })
}

/// Defines function `name` of `instance` (no parameters) as wasmtime-wasi's `f` on
/// component `index`'s own `wasi:cli` context.
fn wrap_cli<T: GrantsView, R>(
    instance: &mut LinkerInstance<'_, T>,
    index: usize,
    name: &str,
    f: fn(&mut WasiCliCtxView<'_>) -> wasmtime::Result<R>,
) -> wasmtime::Result<()>
where
    R: ComponentType + Lower + Send + Sync + 'static,
{
    instance.func_wrap(name, move |mut cx: StoreContextMut<'_, T>, (): ()| {
        Ok((f(&mut cli_view(&mut cx, index)?)?,))
    })
}

/// wasmtime-wasi's view of component `index`'s `wasi:cli` context.
fn cli_view<'a, T: GrantsView>(
    cx: &'a mut StoreContextMut<'_, T>,
    index: usize,
) -> wasmtime::Result<WasiCliCtxView<'a>> {
    let (ctx, table) = own_context(cx, index)?;
    Ok(WasiCliCtxView {
        ctx: ctx.cli(),
        table,
    })
}

fn define_preopens<T: GrantsView>(linker: &mut Linker<T>, index: usize) -> wasmtime::Result<()> {
    let mut instance = linker.instance(&format!("wasi:filesystem/preopens@{P2}"))?;
    instance.func_wrap(
        "get-directories",
        move |mut cx: StoreContextMut<'_, T>, (): ()| {
            Ok((P2Preopens::get_directories(&mut filesystem_view(
                &mut cx, index,
            )?)?,))
        },
    )?;
    Ok(())
}

/// wasmtime-wasi's view of component `index`'s `wasi:filesystem` context.
fn filesystem_view<'a, T: GrantsView>(
    cx: &'a mut StoreContextMut<'_, T>,
    index: usize,
) -> wasmtime::Result<WasiFilesystemCtxView<'a>> {
    let (ctx, table) = own_context(cx, index)?;
    Ok(WasiFilesystemCtxView {
        ctx: ctx.filesystem(),
        table,
    })
}

/// WASI 0.3's `wasi:cli/environment`, as [`define_environment`] for 0.2.
fn define_environment_p3<T: GrantsView>(
    linker: &mut Linker<T>,
    index: usize,
) -> wasmtime::Result<()> {
    let mut instance = linker.instance(&format!("wasi:cli/environment@{P3}"))?;
    wrap_cli(&mut instance, index, "get-environment", |v| {
        P3Environment::get_environment(v)
    })?;
    wrap_cli(&mut instance, index, "get-arguments", |v| {
        P3Environment::get_arguments(v)
    })?;
    wrap_cli(&mut instance, index, "get-initial-cwd", |v| {
        P3Environment::get_initial_cwd(v)
    })
}

/// WASI 0.3's `wasi:filesystem/preopens`, as [`define_preopens`] for 0.2.
fn define_preopens_p3<T: GrantsView>(linker: &mut Linker<T>, index: usize) -> wasmtime::Result<()> {
    let mut instance = linker.instance(&format!("wasi:filesystem/preopens@{P3}"))?;
    instance.func_wrap(
        "get-directories",
        move |mut cx: StoreContextMut<'_, T>, (): ()| {
            Ok((P3Preopens::get_directories(&mut filesystem_view(
                &mut cx, index,
            )?)?,))
        },
    )?;
    Ok(())
}
