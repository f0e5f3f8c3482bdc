//! The property, for one generated workload: if `resolve` accepts it, it composes, the
//! result validates and instantiates with only what `[host]` declares, the linker compiles
//! it (with its clusters fused, and composed whole), and calls through the linker and
//! through the composed component agree; if `resolve`
//! rejects it, every problem has a code and a span in the text and renders.

use compose_linker::{CompiledWorkload, LinkMode, WorkloadLinker, WorkloadState};
use compose_resolver::{Plan, Provider, ResolveError, Rule, Workload, names_match, resolve};
use compose_static::{ComposeOptions, compose};
use compose_tests::host;
use wasmtime::component::types::{Component as ComponentType, ComponentFunc, ComponentItem};
use wasmtime::component::{Component, InstancePre, Linker, Val};
use wasmtime::{Engine, Store};

/// What happened to a workload that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Resolved, composed, ran; `calls` calls were compared.
    Accepted { calls: usize },
    /// Rejected with good diagnostics.
    Rejected,
}

/// At most this many functions are called per workload (each in two fresh stores).
const MAX_CALLS: usize = 6;

/// Checks the workload file `text` (its component paths are absolute).
pub fn check(engine: &Engine, text: &str) -> Result<Verdict, String> {
    let workload = match Workload::parse("workload.toml", text.to_owned(), "/") {
        Ok(workload) => workload,
        Err(error) => return check_rejected(&error, text).map(|()| Verdict::Rejected),
    };
    match resolve(&workload) {
        Ok(plan) => {
            check_accepted(engine, &workload, &plan).map(|calls| Verdict::Accepted { calls })
        }
        Err(error) => check_rejected(&error, text).map(|()| Verdict::Rejected),
    }
}

/// Every problem has a code and a span inside the text, a line and column, and renders
/// with miette; the JSON lists every problem.
fn check_rejected(error: &ResolveError, text: &str) -> Result<(), String> {
    if error.errors().next().is_none() {
        return Err("a ResolveError without errors".into());
    }
    for d in &error.diagnostics {
        let code = d.problem.code();
        if !code.starts_with("compose::") {
            return Err(format!("problem `{d}` has the code `{code}`"));
        }
        let Some(span) = &d.span else {
            return Err(format!("{code} `{d}` has no span"));
        };
        if span.start > span.end || span.end > text.len() {
            return Err(format!(
                "{code} `{d}` has the span {span:?} outside the text"
            ));
        }
        if d.line_column().is_none() {
            return Err(format!("{code} `{d}` has no line and column"));
        }
        let mut rendered = String::new();
        miette::GraphicalReportHandler::new()
            .render_report(&mut rendered, d)
            .map_err(|e| format!("{code} `{d}` does not render: {e}"))?;
    }
    let json = error.to_json();
    if json["problems"].as_array().map(Vec::len) != Some(error.diagnostics.len()) {
        return Err("the JSON does not list every problem".into());
    }
    Ok(())
}

/// The host's store data for the linked workload.
struct Linked {
    workload: WorkloadState,
}

fn check_accepted(engine: &Engine, workload: &Workload, plan: &Plan) -> Result<usize, String> {
    check_declared(workload, plan)?;
    let bytes = compose(plan, &ComposeOptions::default()).map_err(|e| {
        format!(
            "resolve accepts, compose fails: {:#}",
            anyhow::Error::new(e)
        )
    })?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|e| format!("the composed component does not validate: {e}"))?;
    let component = Component::new(engine, &bytes)
        .map_err(|e| format!("the composed component does not compile: {e:#}"))?;
    let ty = component.component_type();
    check_imports(engine, plan, &ty)?;
    let serve = |name: &str| host_serves(workload, plan, name);
    let mut linker = Linker::<()>::new(engine);
    host::define(&mut linker, engine, &ty, serve).map_err(|e| format!("test host: {e:#}"))?;
    let pre = linker.instantiate_pre(&component).map_err(|e| {
        format!("the composed component does not link with only the workload's [host]: {e:#}")
    })?;
    let mut store = Store::new(engine, ());
    pre.instantiate(&mut store)
        .map_err(|e| format!("the composed component does not instantiate: {e:#}"))?;
    let functions = callable(engine, &ty);
    // Linked with its clusters fused (the default), and composed whole by the linker.
    for mode in [LinkMode::Clusters, LinkMode::Composed] {
        let mut linked = WorkloadLinker::<Linked>::new(engine, plan);
        linked.link_mode(mode);
        host::define(linked.host(), engine, &ty, serve).map_err(|e| format!("test host: {e:#}"))?;
        let compiled = linked.compile(|host| &mut host.workload).map_err(|e| {
            format!(
                "the linker does not compile the workload {mode}: {}",
                chain(&e)
            )
        })?;
        for (export, function, func_ty) in functions.iter().take(MAX_CALLS) {
            compare_call(&pre, &compiled, export, function.as_deref(), func_ty)
                .map_err(|e| format!("{mode}: {e}"))?;
        }
    }
    Ok(functions.len().min(MAX_CALLS))
}

/// Every import the plan leaves to the host is declared in `[host]` (else no host that
/// serves what the workload declares could run it).
fn check_declared(workload: &Workload, plan: &Plan) -> Result<(), String> {
    for h in plan.host_imports() {
        let name = &h.import.name;
        if !host::declared(workload, name, h.import.implements.as_deref()) {
            return Err(format!(
                "resolve accepts, but `{}` (imported by {}) is left to the host and `[host]` does not declare it",
                h.import.describe(),
                (h.importers.iter())
                    .map(|c| plan.component(*c).name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// The composed component imports only what the plan leaves to the host, and all of it.
fn check_imports(engine: &Engine, plan: &Plan, ty: &ComponentType) -> Result<(), String> {
    let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();
    let host: Vec<String> = plan
        .host_imports()
        .iter()
        .map(|h| h.import.name.clone())
        .collect();
    let extra: Vec<&String> = (imports.iter())
        .filter(|i| !host.iter().any(|h| names_match(h, i)))
        .collect();
    let missing: Vec<&String> = (host.iter())
        .filter(|h| !imports.iter().any(|i| names_match(h, i)))
        .collect();
    if extra.is_empty() && missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the composed component imports {imports:?}; the plan's host imports are {host:?}"
        ))
    }
}

/// Whether the test host serves the composed component's import `name`.
fn host_serves(workload: &Workload, plan: &Plan, name: &str) -> bool {
    let hosts = plan.host_imports();
    let implements = (hosts.iter())
        .find(|h| names_match(&h.import.name, name))
        .and_then(|h| h.import.implements.as_deref());
    host::declared(workload, name, implements)
}

/// The exported functions whose arguments can be made up: `(export, function in it, type)`.
fn callable(engine: &Engine, ty: &ComponentType) -> Vec<(String, Option<String>, ComponentFunc)> {
    let mut out = Vec::new();
    for (export, item) in ty.exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(f) => out.push((export.to_owned(), None, f)),
            ComponentItem::ComponentInstance(instance) => {
                for (name, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(f) = item.ty {
                        out.push((export.to_owned(), Some(name.to_owned()), f));
                    }
                }
            }
            _ => {}
        }
    }
    out.retain(|(_, _, f)| host::default_args(f).is_some());
    out
}

/// Calls one function with default arguments through the composed component and through
/// the linker, each in a fresh store: both return the same values, or both fail with the
/// same trap code.
fn compare_call(
    pre: &InstancePre<()>,
    compiled: &CompiledWorkload<Linked>,
    export: &str,
    function: Option<&str>,
    ty: &ComponentFunc,
) -> Result<(), String> {
    let args = host::default_args(ty).expect("callable");
    let what = match function {
        Some(f) => format!("{export}#{f}"),
        None => export.to_owned(),
    };
    let n = ty.results().len();

    let mut store = Store::new(pre.engine(), ());
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| format!("the composed component does not instantiate: {e:#}"))?;
    let mut index = instance.get_export_index(&mut store, None, export);
    if let Some(f) = function {
        index = index.and_then(|i| instance.get_export_index(&mut store, Some(&i), f));
    }
    let func = index
        .and_then(|i| instance.get_func(&mut store, i))
        .ok_or_else(|| format!("the composed component has no function {what}"))?;
    let mut results = vec![Val::Bool(false); n];
    let composed = func
        .call(&mut store, &args, &mut results)
        .map(|()| results)
        .map_err(|e| e.into_boxed_dyn_error());

    let mut store = Store::new(
        compiled.engine(),
        Linked {
            workload: compiled.new_state(),
        },
    );
    compiled
        .instantiate(&mut store)
        .map_err(|e| format!("the linked workload does not instantiate: {}", chain(&e)))?;
    let func = (match function {
        Some(f) => compiled.func(Some(export), f),
        None => compiled.func(None, export),
    })
    .map_err(|e| format!("the linker has no function {what}: {}", chain(&e)))?;
    let mut results = vec![Val::Bool(false); n];
    let linked = compiled
        .call(&mut store, &func, &args, &mut results)
        .map(|()| results);

    match (composed, linked) {
        (Ok(a), Ok(b)) if a.iter().chain(&b).any(host::has_handle) || a == b => Ok(()),
        (Ok(a), Ok(b)) => Err(format!(
            "{what}: the composed component returns {a:?}, the linker {b:?}"
        )),
        (Err(a), Err(b)) => match (compose_tests::trap_of(&*a), compose_tests::trap_of(&b)) {
            (Some(x), Some(y)) if x != y => Err(format!(
                "{what}: the composed component traps with {x:?}, the linker with {y:?}"
            )),
            _ => Ok(()),
        },
        (Ok(a), Err(b)) => Err(format!(
            "{what}: the composed component returns {a:?}, the linker fails: {}",
            chain(&b)
        )),
        (Err(a), Ok(b)) => Err(format!(
            "{what}: the composed component fails ({}), the linker returns {b:?}",
            chain(&*a)
        )),
    }
}

/// An error and its causes on one line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Which of issue 9's known classes of unsound acceptance a finding on `text` belongs to.
pub fn classify(text: &str, finding: &str) -> &'static str {
    const HOST: &str = "1: explicit \"host\" binding not checked against [host]";
    const MERGE: &str = "2: host imports of one name with unmergeable types";
    const NAME: &str = "3: invalid [exports] name";
    const CASE: &str = "4: [exports] names that differ only in case";
    // What the finding says first; then what the workload holds.
    for (says, class) in [
        ("[host]` does not declare it", HOST),
        ("cannot be merged", MERGE),
        ("conflicts with previous name", CASE),
        ("is not in kebab case", NAME),
    ] {
        if finding.contains(says) {
            return class;
        }
    }
    let Ok(workload) = Workload::parse("workload.toml", text.to_owned(), "/") else {
        return "other";
    };
    if let Some(exports) = &workload.exports {
        let names: Vec<&String> = exports.keys().collect();
        let invalid = |n: &&String| {
            wasmparser::names::ComponentName::new(n, 0).is_err()
                || finding.contains(&format!("export name `{n}` is not valid"))
        };
        if names.iter().any(invalid) {
            return NAME;
        }
        let lower: std::collections::HashSet<String> =
            names.iter().map(|n| n.to_lowercase()).collect();
        if lower.len() < names.len() {
            return CASE;
        }
    }
    if let Ok(plan) = resolve(&workload) {
        let unchecked_host = plan.components.iter().flat_map(|c| &c.bindings).any(|b| {
            b.rule == Rule::Explicit
                && !matches!(b.provider, Provider::Component { .. })
                && !host::declared(&workload, &b.import.name, b.import.implements.as_deref())
        });
        if unchecked_host {
            return HOST;
        }
    }
    "other"
}
