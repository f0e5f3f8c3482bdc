//! Lists every kind of `Problem` as `KINDS` in `$OUT_DIR/kinds.rs`: each variant's code
//! (its `#[diagnostic(code("…"))]` attribute in src/diagnostic.rs), whether it is a
//! warning (`severity(Warning)`) and its doc comment. `Problem::code` returns the code as
//! the `&'static str` written there, and docs/diagnostics.md is generated from the list,
//! so that the attributes stay the one place where a kind of problem is described.

use std::fmt::Write;

fn main() {
    println!("cargo::rerun-if-changed=src/diagnostic.rs");
    let text = std::fs::read_to_string("src/diagnostic.rs").expect("src/diagnostic.rs reads");
    let mut out = String::from(
        "/// Every kind of problem, in the order declared.\nconst KINDS: &[Kind] = &[\n",
    );
    for (code, warning, doc) in kinds(&text) {
        writeln!(
            out,
            "    Kind {{ code: {code:?}, warning: {warning}, doc: {doc:?} }},"
        )
        .unwrap();
    }
    out.push_str("];\n");
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("kinds.rs");
    std::fs::write(path, out).expect("OUT_DIR is writable");
}

/// `(code, is a warning, doc comment)` of every `#[diagnostic(…)]` attribute, on one line
/// or as rustfmt wraps it, with the `///` lines right above it.
fn kinds(text: &str) -> Vec<(String, bool, String)> {
    let mut kinds = Vec::new();
    let mut doc: Vec<&str> = Vec::new();
    let mut attribute: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(open) = attribute.as_mut() {
            open.push_str(line);
        } else if line.starts_with("#[diagnostic(") {
            attribute = Some(line.to_owned());
        } else if let Some(comment) = line.strip_prefix("///") {
            doc.push(comment.trim());
            continue;
        } else {
            if !line.starts_with("#[") {
                doc.clear();
            }
            continue;
        }
        let Some(done) = attribute.take_if(|a| a.ends_with(")]")) else {
            continue;
        };
        let (_, rest) = done
            .split_once("code(\"")
            .expect("a diagnostic attribute has a code");
        let code = rest[..rest.find('"').expect("the code's string closes")].to_owned();
        kinds.push((code, done.contains("severity(Warning)"), doc.join(" ")));
        doc.clear();
    }
    kinds
}
