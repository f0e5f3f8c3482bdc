//! How `compose resolve` scales with the shape of a workload (issue 9): 1,000, 10,000 and
//! 100,000 components as
//!
//! - `chain`: each component explicitly bound to the one before (no diagnostics);
//! - `fan_out`: one provider serving N importers by name, each importer's `run` exported as
//!   `out-<i>` (no diagnostics);
//! - `labels`: N backends named by `implements` labels, imported by hubs of 100 labels each;
//! - `warnings`: N components nothing uses (N `unused-component` warnings);
//! - `errors`: N components whose import nothing serves (N `unsatisfied-import` errors).
//!
//! `memory/*` resolves a workload built in code (`Workload::new(..).with_component(..)`,
//! every component's bytes in memory and read separately); `text/*` parses the workload
//! file, resolves it (component files are read once each) and does what `compose resolve`
//! does with the diagnostics: renders each with miette and writes the JSON problems
//! (line and column). `text/*` of the `warnings` and `errors` shapes stops at
//! `COMPOSE_BENCH_TEXT_DIAGNOSTICS_MAX` components (default all): set it to 10,000 to
//! measure a resolver whose diagnostics cost quadratic time (100,000 would take hours).
//!
//! Run: `cargo bench -p compose-resolver --bench shapes`. With
//! `COMPOSE_SHAPES_DIR=<dir>` set, it writes every text workload (and its component files)
//! under `<dir>/<shape>-<n>/` instead, for `scripts/bench-resolve.sh`.

use compose_resolver::{ComponentDecl, Workload, resolve};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn main() {
    if let Ok(dir) = std::env::var("COMPOSE_SHAPES_DIR") {
        for shape in SHAPES {
            for n in SIZES {
                write_workload(Path::new(&dir), shape, n);
            }
        }
        return;
    }
    divan::main();
}

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const SHAPES: [Shape; 5] = [
    Shape::Chain,
    Shape::FanOut,
    Shape::Labels,
    Shape::Warnings,
    Shape::Errors,
];
const API: &str = "bench:s/api@0.1.0";
const LABELS_PER_HUB: usize = 100;

#[derive(Debug, Clone, Copy)]
enum Shape {
    Chain,
    FanOut,
    Labels,
    Warnings,
    Errors,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Chain => "chain",
            Shape::FanOut => "fan-out",
            Shape::Labels => "labels",
            Shape::Warnings => "warnings",
            Shape::Errors => "errors",
        }
    }
}

/// A component with instance imports (`name` or `label implements I`) of `get: func(u32) -> u32`
/// and the instance exports `exports`, each with a real `get`.
fn component(imports: &[String], exports: &[&str]) -> Arc<[u8]> {
    let ty = r#"(instance (export "get" (func (param "x" u32) (result u32))))"#;
    let mut wat = String::from("(component\n");
    for import in imports {
        match import.split_once(" implements ") {
            Some((label, i)) => writeln!(wat, r#"(import "{label}" (implements "{i}") {ty})"#),
            None => writeln!(wat, r#"(import "{import}" {ty})"#),
        }
        .unwrap();
    }
    wat += r#"(core module $m (func (export "get") (param i32) (result i32) local.get 0))
(core instance $i (instantiate $m))
(func $get (param "x" u32) (result u32) (canon lift (core func $i "get")))
(instance $api (export "get" (func $get)))
"#;
    for export in exports {
        writeln!(wat, r#"(export "{export}" (instance $api))"#).unwrap();
    }
    wat += ")";
    wat::parse_str(&wat)
        .expect("the generated component parses")
        .into()
}

/// A generated component: its name, its file (index into [`Generated::files`]) and an
/// explicit binding as `(import, component)`.
type GeneratedComponent = (String, usize, Option<(String, String)>);

/// One generated workload: its component files, its components and its `[exports]` as
/// `(name, component, export)`.
struct Generated {
    files: Vec<(String, Arc<[u8]>)>,
    components: Vec<GeneratedComponent>,
    exports: Option<Vec<(String, String, String)>>,
}

fn generate(shape: Shape, n: usize) -> Generated {
    let provider = component(&[], &[API]);
    let client = component(&[API.to_owned()], &["run"]);
    let mut g = Generated {
        files: vec![("provider.wasm".into(), provider)],
        components: Vec::new(),
        exports: None,
    };
    match shape {
        Shape::Chain => {
            g.files
                .push(("link.wasm".into(), component(&[API.to_owned()], &[API])));
            g.components.push(("c0".into(), 0, None));
            for i in 1..n {
                let binding = Some((API.to_owned(), format!("c{}", i - 1)));
                g.components.push((format!("c{i}"), 1, binding));
            }
        }
        Shape::FanOut => {
            g.files.push(("client.wasm".into(), client));
            g.components.push(("p".into(), 0, None));
            for i in 1..n {
                g.components.push((format!("c{i}"), 1, None));
            }
            let exports = (1..n).map(|i| (format!("out-c{i}"), format!("c{i}"), "run".into()));
            g.exports = Some(exports.collect());
        }
        Shape::Labels => {
            let hubs = (n / (LABELS_PER_HUB + 1)).max(1);
            for h in 0..hubs {
                let labels: Vec<String> = (0..LABELS_PER_HUB)
                    .map(|l| format!("b{h}-x{l} implements {API}"))
                    .collect();
                g.files
                    .push((format!("hub{h}.wasm"), component(&labels, &["run"])));
                g.components.push((format!("hub{h}"), h + 1, None));
                for l in 0..LABELS_PER_HUB {
                    g.components.push((format!("b{h}-x{l}"), 0, None));
                }
            }
            let exports =
                (0..hubs).map(|h| (format!("out-hub{h}"), format!("hub{h}"), "run".into()));
            g.exports = Some(exports.collect());
        }
        Shape::Warnings => {
            g.components
                .extend((0..n).map(|i| (format!("c{i}"), 0, None)));
            g.exports = Some(Vec::new());
        }
        Shape::Errors => {
            let orphan = component(&["bench:s/missing@0.1.0".to_owned()], &["run"]);
            g.files.push(("orphan.wasm".into(), orphan));
            g.components
                .extend((0..n).map(|i| (format!("c{i}"), 1, None)));
            g.exports = Some(Vec::new());
        }
    }
    g
}

impl Generated {
    /// The workload in code, each component's bytes in memory.
    fn in_memory(&self) -> Workload {
        let mut workload = Workload::new("shapes");
        for (name, file, binding) in &self.components {
            let (file_name, bytes) = &self.files[*file];
            let mut decl = ComponentDecl::from_bytes(file_name, bytes.clone());
            if let Some((import, server)) = binding {
                let target = compose_resolver::BindingTarget::Component {
                    component: server.clone(),
                    export: None,
                };
                decl = decl.with_binding(import, target);
            }
            workload = workload.with_component(name, decl);
        }
        for (name, component, export) in self.exports.iter().flatten() {
            workload = workload.with_export(name, component, Some(export.clone()));
        }
        if self.exports.as_ref().is_some_and(Vec::is_empty) {
            workload.exports = Some(Default::default());
        }
        workload
    }

    /// The workload file's text.
    fn to_toml(&self) -> String {
        let mut out = String::from("name = \"shapes\"\n");
        for (name, file, binding) in &self.components {
            writeln!(
                out,
                "\n[components.{name}]\npath = \"{}\"",
                self.files[*file].0
            )
            .unwrap();
            if let Some((import, server)) = binding {
                writeln!(out, "imports = {{ \"{import}\" = \"{server}\" }}").unwrap();
            }
        }
        if let Some(exports) = &self.exports {
            out += "\n[exports]\n";
            for (name, component, export) in exports {
                writeln!(
                    out,
                    "\"{name}\" = {{ component = \"{component}\", export = \"{export}\" }}"
                )
                .unwrap();
            }
        }
        out
    }
}

/// Writes the text workload `shape` of `n` components under `dir/<shape>-<n>/`.
fn write_workload(dir: &Path, shape: Shape, n: usize) -> PathBuf {
    let generated = generate(shape, n);
    let dir = dir.join(format!("{}-{n}", shape.name()));
    std::fs::create_dir_all(&dir).expect("the output folder can be made");
    for (name, bytes) in &generated.files {
        std::fs::write(dir.join(name), bytes).expect("writable");
    }
    let path = dir.join("workload.toml");
    std::fs::write(&path, generated.to_toml()).expect("writable");
    path
}

/// What `compose resolve` does with a workload file: parse, resolve, render every
/// diagnostic with miette and write the JSON (line and column of each problem).
fn resolve_text(path: &Path) -> usize {
    let outcome = Workload::from_file(path).and_then(|w| resolve(&w));
    let (diagnostics, json) = match &outcome {
        Ok(plan) => (&plan.warnings, plan.to_json()),
        Err(error) => (&error.diagnostics, error.to_json()),
    };
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let mut rendered = String::new();
    for d in diagnostics {
        handler.render_report(&mut rendered, d).expect("renders");
    }
    rendered.len() + json.to_string().len()
}

fn text_dir() -> PathBuf {
    std::env::temp_dir().join(format!("compose-shapes-{}", std::process::id()))
}

fn text_skipped(shape: Shape, n: usize) -> bool {
    let max: usize = std::env::var("COMPOSE_BENCH_TEXT_DIAGNOSTICS_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    matches!(shape, Shape::Warnings | Shape::Errors) && n > max
}

macro_rules! shape_benches {
    ($module:ident, $shape:expr) => {
        mod $module {
            use super::*;

            #[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
            fn memory(bencher: divan::Bencher, n: usize) {
                let workload = generate($shape, n).in_memory();
                bencher.bench(|| resolve(&workload).map(|p| p.components.len()).unwrap_or(0));
            }

            #[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
            fn text(bencher: divan::Bencher, n: usize) {
                if text_skipped($shape, n) {
                    return;
                }
                let path = write_workload(&text_dir(), $shape, n);
                bencher.bench(|| resolve_text(&path));
            }
        }
    };
}

shape_benches!(chain, Shape::Chain);
shape_benches!(fan_out, Shape::FanOut);
shape_benches!(labels, Shape::Labels);
shape_benches!(warnings, Shape::Warnings);
shape_benches!(errors, Shape::Errors);
