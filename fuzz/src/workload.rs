//! Target `workload`: the workload file, as arbitrary bytes, or (when the first byte is
//! 0x01, which no TOML file starts with) as TOML written from an arbitrary structure of
//! plausible names read from the rest, parsed and
//! resolved. Component files are never read: each `path` is replaced by the bytes of the
//! fixture of the same file name (or, by the path's length, another fixture, an empty file
//! or garbage), so that no input can make the resolver read the machine's files.

use crate::{check, fixtures::fixtures};
use arbitrary::{Arbitrary, Unstructured};
use compose_resolver::{ComponentSource, Workload, resolve};
use std::fmt::Write;

/// Parses and resolves the workload written by `data`.
pub fn workload(data: &[u8]) {
    let text = match data.split_first() {
        Some((1, rest)) => Doc::arbitrary_take_rest(Unstructured::new(rest))
            .map_or_else(|_| String::new(), |d| d.to_toml()),
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let workload = match Workload::parse("workload.toml", text.clone(), ".") {
        Ok(workload) => in_memory(workload),
        Err(error) => return check::resolve_error(&error, Some(&text)),
    };
    match resolve(&workload) {
        Ok(plan) => check::plan(&plan),
        Err(error) => check::resolve_error(&error, Some(&text)),
    }
}

/// The workload with every component file replaced by bytes in memory.
fn in_memory(mut workload: Workload) -> Workload {
    let fixtures = &fixtures().components;
    for decl in workload.components.values_mut() {
        let ComponentSource::Path(path) = &decl.source.value else {
            continue;
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let bytes: std::sync::Arc<[u8]> =
            match fixtures.iter().find(|f| Some(&f.file) == name.as_ref()) {
                Some(f) => f.bytes.clone(),
                None => match path.as_os_str().len() % (fixtures.len() + 2) {
                    0 => Vec::new().into(),
                    1 => b"\0asm garbage".to_vec().into(),
                    n => fixtures[n - 2].bytes.clone(),
                },
            };
        let name = path.display().to_string();
        decl.source.value = ComponentSource::Bytes { name, bytes };
    }
    workload
}

/// A word of the workload: mostly a name of the fixtures or a name of the file format,
/// sometimes an arbitrary string.
#[derive(Debug)]
struct Word(String);

/// Names that matter to the file format besides those of the fixtures.
const WORDS: &[&str] = &[
    "host",
    "api",
    "API",
    "Api",
    "api_v2",
    "Bad_Name",
    "",
    "wasi:cli/*@0.2.0",
    "wasi:*@0.2.0",
    "acme:*",
    "*",
    "a:b/c@1.2",
    "a:b/c@1.0.0-rc.1",
    "frontend.wasm",
    "kv-memory.wasm",
    "team-a-postgres",
    "x",
    "x-1",
];

impl<'a> Arbitrary<'a> for Word {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let names = &fixtures().names;
        Ok(Word(match u.int_in_range(0..=9u8)? {
            0..=4 => u.choose(names)?.clone(),
            5..=7 => u.choose(WORDS)?.to_string(),
            _ => String::arbitrary(u)?,
        }))
    }
}

#[derive(Debug, Arbitrary)]
enum Target {
    Name(Word),
    Host,
    Table(Word, Option<Word>),
}

#[derive(Debug, Arbitrary)]
struct Comp {
    name: Word,
    path: Word,
    imports: Vec<(Word, Target)>,
    eager: Option<bool>,
}

/// A workload file's structure, written out by [`Doc::to_toml`].
#[derive(Debug, Arbitrary)]
struct Doc {
    name: Word,
    interfaces: Option<Vec<Word>>,
    backends: Vec<(Word, Word)>,
    components: Vec<Comp>,
    exports: Option<Vec<(Word, Target)>>,
}

fn quote(word: &Word) -> String {
    serde_json::to_string(&word.0).expect("strings serialise")
}

fn target(t: &Target) -> String {
    match t {
        Target::Name(n) => quote(n),
        Target::Host => "\"host\"".into(),
        Target::Table(c, None) => format!("{{ component = {} }}", quote(c)),
        Target::Table(c, Some(e)) => {
            format!("{{ component = {}, export = {} }}", quote(c), quote(e))
        }
    }
}

impl Doc {
    fn to_toml(&self) -> String {
        let mut out = format!("name = {}\n", quote(&self.name));
        if let Some(interfaces) = &self.interfaces {
            let list: Vec<String> = interfaces.iter().map(quote).collect();
            let backends: Vec<String> = (self.backends.iter())
                .map(|(l, i)| format!("{} = {}", quote(l), quote(i)))
                .collect();
            let _ = write!(
                out,
                "[host]\ninterfaces = [{}]\nbackends = {{ {} }}\n",
                list.join(", "),
                backends.join(", ")
            );
        }
        for c in &self.components {
            let _ = writeln!(
                out,
                "[components.{}]\npath = {}",
                quote(&c.name),
                quote(&c.path)
            );
            let imports: Vec<String> = (c.imports.iter())
                .map(|(k, t)| format!("{} = {}", quote(k), target(t)))
                .collect();
            let _ = writeln!(out, "imports = {{ {} }}", imports.join(", "));
            if let Some(eager) = c.eager {
                let _ = writeln!(
                    out,
                    "instantiate = \"{}\"",
                    if eager { "eager" } else { "lazy" }
                );
            }
        }
        if let Some(exports) = &self.exports {
            out += "[exports]\n";
            for (name, t) in exports {
                let _ = writeln!(out, "{} = {}", quote(name), target(t));
            }
        }
        out
    }
}
