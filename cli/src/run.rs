//! `compose run`: links a workload at run time with `compose-linker`, with WASI 0.2 (from
//! `wasmtime-wasi`, like `wasmtime run`) as the host interfaces, calls one export and
//! prints its result in WAVE syntax.
//!
//! The call expression follows `wasmtime run --invoke`: `name(arg, ...)` with WAVE values,
//! where `name` is a function the workload exports under a plain name, or a function inside
//! an exported interface, written either the component model's way,
//! `acme:app/handler@0.1.0#get("a", "k")` (the interface may also be given by its short
//! name, `handler#get(...)`), or Wasmtime's way, `handler.get(...)` /
//! `acme:app/handler.get@0.1.0(...)`.
//!
//! Host backends: `compose run` serves every `[host] backends` label that implements
//! `acme:kv/store@0.1.x` with a built-in in-memory key-value store (empty at start, one per
//! label); any other backend, and any `[host] interfaces` entry outside WASI 0.2, is an
//! error naming it before anything runs.

use crate::report;
use compose_linker::{CompiledWorkload, WorkloadLinker, WorkloadState};
use compose_resolver::{HostPattern, Plan, Workload, names_match, resolve};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;
use wasmtime::component::{Val, wasm_wave};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

/// Arguments of `compose run`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload file (`workload.toml`).
    workload: PathBuf,
    /// The call: `name(args)`, `interface#name(args)` or `interface.name(args)`, with WAVE
    /// values (`"text"`, `42`, `some("x")`, `[1, 2]`, `{field: 1}`).
    #[arg(long, value_name = "CALL")]
    invoke: String,
    /// Call an export of this component directly, rather than an export of the workload.
    #[arg(long, value_name = "NAME")]
    component: Option<String>,
    /// Pass an environment variable to the components (`NAME=VALUE`, or `NAME` to pass the
    /// host's value).
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,
}

/// The store data of `compose run`.
struct RunHost {
    workload: WorkloadState,
    wasi: WasiCtx,
    table: ResourceTable,
    /// The in-memory key-value backends, by label.
    kv: HashMap<String, BTreeMap<String, String>>,
}

impl WasiView for RunHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The packages of WASI 0.2 that `wasmtime-wasi` serves (p2, sync).
const WASI_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// The interface `compose run`'s built-in backends implement.
const KV_STORE: &str = "acme:kv/store@0.1.0";

/// Runs the call; exit status 0 on success, 1 on any error.
pub fn run(args: Args) -> ExitCode {
    let workload = match Workload::from_file(&args.workload) {
        Ok(workload) => workload,
        Err(error) => return report::resolve_error(&error),
    };
    let plan = match resolve(&workload) {
        Ok(plan) => plan,
        Err(error) => return report::resolve_error(&error),
    };
    report::diagnostics(&plan.warnings);
    match execute(&args, &workload, &plan) {
        Ok(Some(result)) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(error) => report::failure(&error),
    }
}

fn execute(args: &Args, workload: &Workload, plan: &Plan) -> anyhow::Result<Option<String>> {
    let backends = check_host(workload)?;
    let call = Call::parse(&args.invoke)?;
    let engine = Engine::new(&compose_linker::config_for(plan)).map_err(anyhow_error)?;
    let mut linker = WorkloadLinker::<RunHost>::new(&engine, plan);
    wasmtime_wasi::p2::add_to_linker_sync(linker.host()).map_err(anyhow_error)?;
    for label in backends {
        linker.backend(&label.clone(), |kv| define_kv(kv, label))?;
    }
    let compiled: CompiledWorkload<RunHost> = linker.compile(|host| &mut host.workload)?;

    let func = match &args.component {
        Some(component) => {
            compiled.component_func(component, call.interface.as_deref(), &call.function)?
        }
        None => compiled.func(call.interface.as_deref(), &call.function)?,
    };
    let types: Vec<_> = func.ty().params().map(|(_, ty)| ty).collect();
    let untyped = wasm_wave::untyped::UntypedFuncCall::parse(&call.expression)
        .map_err(|e| anyhow::anyhow!("invalid call expression `{}`: {e}", args.invoke))?;
    let params: Vec<Val> = untyped.to_wasm_params(types.iter()).map_err(|e| {
        anyhow::anyhow!(
            "invalid arguments for {}: expected {}: {e}",
            func.name(),
            wasm_wave::wasm::DisplayFunc(func.ty().clone())
        )
    })?;

    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio();
    for entry in &args.env {
        match entry.split_once('=') {
            Some((name, value)) => wasi.env(name, value),
            None => match std::env::var(entry) {
                Ok(value) => wasi.env(entry, value),
                Err(_) => &mut wasi,
            },
        };
    }
    let host = RunHost {
        workload: compiled.new_state(),
        wasi: wasi.build(),
        table: ResourceTable::new(),
        kv: HashMap::new(),
    };
    let mut store = Store::new(&engine, host);
    compiled.instantiate(&mut store)?;
    let mut results = vec![Val::Bool(false); func.ty().results().len()];
    compiled.call(&mut store, &func, &params, &mut results)?;
    match results.first() {
        Some(result) => {
            Ok(Some(wasm_wave::to_string(result).map_err(|e| {
                anyhow::anyhow!("cannot print the result in WAVE: {e}")
            })?))
        }
        None => Ok(None),
    }
}

/// Checks that `compose run` can serve everything `[host]` declares; returns the labels
/// of the backends it serves with the built-in key-value store.
fn check_host(workload: &Workload) -> anyhow::Result<Vec<String>> {
    let mut unserved = Vec::new();
    for pattern in &workload.host.interfaces {
        if !is_wasi_p2(&pattern.value) {
            unserved.push(format!("interface `{}`", pattern.value));
        }
    }
    let mut labels = Vec::new();
    for (label, backend) in &workload.host.backends {
        if names_match(&backend.interface.value, KV_STORE) {
            labels.push(label.clone());
        } else {
            unserved.push(format!(
                "backend `{label}` (implements `{}`)",
                backend.interface.value
            ));
        }
    }
    if unserved.is_empty() {
        Ok(labels)
    } else {
        anyhow::bail!(
            "`compose run` cannot serve what the workload's [host] declares: {}; it serves WASI 0.2 \
             ({}) and in-memory backends implementing {KV_STORE}",
            unserved.join(", "),
            WASI_PACKAGES
                .iter()
                .map(|p| format!("wasi:{p}/*@0.2"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Whether a `[host] interfaces` entry lies within WASI 0.2 as `wasmtime-wasi` serves it.
fn is_wasi_p2(pattern: &str) -> bool {
    let version_ok = |version: Option<&str>| {
        version
            .is_some_and(|v| semver::Version::parse(v).is_ok_and(|v| v.major == 0 && v.minor == 2))
    };
    match HostPattern::parse(pattern) {
        Some(HostPattern::Exact(name)) => {
            let Some(rest) = name.strip_prefix("wasi:") else {
                return false;
            };
            let Some((package, rest)) = rest.split_once('/') else {
                return false;
            };
            let version = rest.split_once('@').map(|(_, v)| v);
            WASI_PACKAGES.contains(&package) && version_ok(version)
        }
        Some(HostPattern::Wildcard {
            namespace,
            package,
            version,
        }) => {
            namespace == "wasi"
                && package
                    .as_deref()
                    .is_none_or(|p| WASI_PACKAGES.contains(&p))
                && version_ok(version.as_deref())
        }
        None => false,
    }
}

/// Defines the built-in in-memory `acme:kv/store` backend for `label`.
fn define_kv(
    kv: &mut wasmtime::component::LinkerInstance<'_, RunHost>,
    label: String,
) -> wasmtime::Result<()> {
    let (get_label, set_label, keys_label) = (label.clone(), label.clone(), label);
    kv.func_wrap(
        "get",
        move |cx: StoreContextMut<'_, RunHost>, (key,): (String,)| {
            let value = cx
                .data()
                .kv
                .get(&get_label)
                .and_then(|m| m.get(&key))
                .cloned();
            Ok((value,))
        },
    )?;
    kv.func_wrap(
        "set",
        move |mut cx: StoreContextMut<'_, RunHost>, (key, value): (String, String)| {
            let map = cx.data_mut().kv.entry(set_label.clone()).or_default();
            map.insert(key, value);
            Ok(())
        },
    )?;
    kv.func_wrap("keys", move |cx: StoreContextMut<'_, RunHost>, (): ()| {
        let keys: Vec<String> = cx
            .data()
            .kv
            .get(&keys_label)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        Ok((keys,))
    })
}

/// A parsed `--invoke` expression: the interface (if any), the function, and the call
/// rewritten as `function(args)` for WAVE.
#[derive(Debug, PartialEq)]
struct Call {
    interface: Option<String>,
    function: String,
    expression: String,
}

impl Call {
    fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let invalid = |why: &str| {
            anyhow::anyhow!(
                "invalid call expression `{text}`: {why} (expected `name(args)`, \
                 `interface#name(args)` or `interface.name(args)`, with WAVE values)"
            )
        };
        let open = text.find('(').ok_or_else(|| invalid("no `(`"))?;
        let (head, args) = text.split_at(open);
        if let Some((interface, function)) = head.rsplit_once('#') {
            if interface.is_empty() || function.is_empty() {
                return Err(invalid("an empty interface or function name"));
            }
            let expression = format!("{function}{args}");
            // Check the syntax of the rest now, for a clear error.
            wasm_wave::untyped::UntypedFuncCall::parse(&expression)
                .map_err(|e| invalid(&e.to_string()))?;
            return Ok(Self {
                interface: Some(interface.to_owned()),
                function: function.to_owned(),
                expression,
            });
        }
        let call = wasm_wave::untyped::UntypedFuncCall::parse(text)
            .map_err(|e| invalid(&e.to_string()))?;
        let item = call.item_name().map_err(|e| invalid(&format!("{e:#}")))?;
        Ok(Self {
            interface: item.instance_name(),
            expression: format!("{}{args}", item.name),
            function: item.name,
        })
    }
}

/// Wasmtime's error as an `anyhow` error with its chain of causes.
fn anyhow_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(error.into_boxed_dyn_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_expressions() {
        let call = Call::parse(r#"acme:app/handler@0.1.0#get("a", "k")"#).unwrap();
        assert_eq!(call.interface.as_deref(), Some("acme:app/handler@0.1.0"));
        assert_eq!(call.function, "get");
        assert_eq!(call.expression, r#"get("a", "k")"#);
        let call = Call::parse(r#"handler.get("a", "k")"#).unwrap();
        assert_eq!(call.interface.as_deref(), Some("handler"));
        assert_eq!(call.function, "get");
        let call = Call::parse("acme:app/handler.greet@0.1.0(\"x\")").unwrap();
        assert_eq!(call.interface.as_deref(), Some("acme:app/handler@0.1.0"));
        assert_eq!(call.function, "greet");
        let call = Call::parse("run()").unwrap();
        assert_eq!(call.interface, None);
        assert!(Call::parse("get").is_err());
        assert!(Call::parse("#get()").is_err());
        assert!(Call::parse("handler#get(\"a\"").is_err());
    }

    #[test]
    fn wasi_patterns() {
        assert!(is_wasi_p2("wasi:cli/*@0.2.0"));
        assert!(is_wasi_p2("wasi:cli/environment@0.2.3"));
        assert!(is_wasi_p2("wasi:*@0.2.0"));
        assert!(!is_wasi_p2("wasi:http/*@0.2.0"));
        assert!(!is_wasi_p2("wasi:cli/*@0.3.0"));
        assert!(!is_wasi_p2("acme:kv/store@0.1.0"));
    }
}
